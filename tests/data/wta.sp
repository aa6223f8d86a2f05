* A 2-input current-mode winner-take-all (Lazzaro et al., "Winner-take-all networks of O(N)
* complexity", NIPS 1988) on sactk's built-in c180 devices (nch, pch): input currents into
* a and b, the common node c drained by the bias current at ib, outputs sunk at oa and ob.
.subckt wta2 a b oa ob ib vdd gnd params: w=4 l=1
m1a a c gnd gnd nch w={w*1e-6} l={l*1e-6}
m1b b c gnd gnd nch w={w*1e-6} l={l*1e-6}
m2a oa a c gnd nch w={w*1e-6} l={l*1e-6}
m2b ob b c gnd nch w={w*1e-6} l={l*1e-6}
* the bias pin is the common node
rb ib c 1
.ends wta2
