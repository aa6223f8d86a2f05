"""System-level models built on characterized cells (filled in by later issues)."""
