"""System-level models built on characterized cells: S-AC networks and regression,
stochastic computing with switching devices, AIMC tiles with the fixed-point NMPU."""
