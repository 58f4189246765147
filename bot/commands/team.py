"""Commands: team (to be written)."""
