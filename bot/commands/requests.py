"""Commands: requests (to be written)."""
