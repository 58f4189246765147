"""Commands: changes (to be written)."""
