"""The two tiers of failure: what the user did wrong, and everything else."""


class UserError(Exception):
    """An expected failure whose message the user sees; nothing is written."""

    def __init__(self, message: str, usage: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage


class Refused(UserError):
    """The asker may not do this (role, audience or tenant)."""
