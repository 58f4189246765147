"""Commands: decisions (to be written)."""
