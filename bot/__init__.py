"""The conversation engine: commands, domain rules, the scheduler and the outbox."""
