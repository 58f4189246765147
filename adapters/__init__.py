"""Platform adapters and the composition root."""
