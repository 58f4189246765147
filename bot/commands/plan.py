"""Commands: plan (to be written)."""
