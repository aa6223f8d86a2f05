* An NMOS current mirror of sky130 device wrappers (X instances), for Monte Carlo through
* them; sizes in um (sky130's .option scale=1u).
.subckt mirror130 a out vdd gnd params: w=4 l=2
xm1 a a gnd gnd sky130_fd_pr__nfet_01v8 w={w} l={l}
xm2 out a gnd gnd sky130_fd_pr__nfet_01v8 w={w} l={l}
.ends mirror130
