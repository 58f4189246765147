"""Commands: budget (to be written)."""
