"""Technologies, model cards and netlist text."""
