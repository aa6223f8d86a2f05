* An NMOS current mirror of ASAP7 FinFETs (rvt), sized in fins: the user-cell path on a 7 nm
* node, run by VACASK (BSIM-CMG). Lengths in metres, SPICE suffixes allowed.
.subckt mirror7 a out vdd gnd params: nf=4 l=84n
m1 a a gnd gnd nmos_rvt l={l} nfin={nf}
m2 out a gnd gnd nmos_rvt l={l} nfin={nf}
.ends mirror7
