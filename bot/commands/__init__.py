"""Command handlers, one module per area. The engine's registry is built from these."""

from types import ModuleType

from bot import huddle_blockers, huddle_roster, huddle_stats
from bot.commands import (
    budget,
    changes,
    decisions,
    export,
    help,
    huddle,
    outbox_cmd,
    plan,
    projects,
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
    outbox_cmd,
    export,
    waiting,
]
