"""Commands: risks (to be written)."""
