"""Command handlers, one module per area; the composition root builds the registry from these.
May import: the shared vocabulary, domain, engine, views, delivery, schedule."""

from types import ModuleType

from bot.commands import (
    budget,
    calendar,
    changes,
    decisions,
    email,
    export,
    forget,
    help,
    history,
    huddle,
    huddle_blockers,
    huddle_roster,
    huddle_stats,
    outbox,
    plan,
    projects,
    pulse,
    reports,
    requests,
    risks,
    team,
    waiting,
)

ALL_MODULES: list[ModuleType] = [
    help,
    projects,
    team,
    plan,
    budget,
    risks,
    decisions,
    changes,
    requests,
    reports,
    huddle,
    huddle_roster,
    huddle_blockers,
    huddle_stats,
    outbox,
    export,
    history,
    forget,
    waiting,
    pulse,
    calendar,
    email,
]
