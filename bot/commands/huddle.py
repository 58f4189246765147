"""Commands: huddle (to be written)."""
