"""Microsoft Teams on Bot Framework. botbuilder is imported only inside this package, so
that a move to its successor SDK touches nothing else."""

from adapters.teams.app import mount_teams

__all__ = ["mount_teams"]
