"""Sweep specs, planning, simulator backends, executors and the results store."""
