"""Command handlers, one module per area. The engine's registry is built from these."""

from types import ModuleType

from bot.commands import (
    budget,
    changes,
    closeout,
    decisions,
    export,
    help,
    history,
    huddle,
    links,
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
    outbox_cmd,
    export,
    history,
    waiting,
    closeout,
    links,
]
