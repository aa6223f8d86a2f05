* A 5-transistor OTA (differential pair with a current-mirror load) on sactk's built-in c180
* devices, for tests of voltage inputs: gates inp and inn, the tail current sunk at pin tail,
* the output current read at out. In weak inversion its output is -I_tail tanh((vp - vn) /
* (2 n kT/q)) (Vittoz, "Weak inversion for ultimate low-power logic", 2005; Mead, "Analog VLSI
* and Neural Systems", 1989, ch. 5).
.subckt ota5 inp inn out tail vdd gnd params: w=8 l=2
m1 x inp s gnd nch w={w*1e-6} l={l*1e-6}
m2 out inn s gnd nch w={w*1e-6} l={l*1e-6}
m3 x x vdd vdd pch w={w*1e-6} l={l*1e-6}
m4 out x vdd vdd pch w={w*1e-6} l={l*1e-6}
rt tail s 1
.ends ota5
