"""Cell builders: one module per cell family (see circuits/base.py for the registry)."""
