"""Commands: export (to be written)."""
