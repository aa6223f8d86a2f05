"""Metrics against ideal functions, bias-collapse analysis and characterization plots."""
