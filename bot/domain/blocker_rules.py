"""Huddle blocker items, the rules: a blocker's age in working days, the day an unresolved
one is escalated, and whether a blocker said again is one already followed. Pure: plain
data in, answers out. `bot.commands.blocker_items` records the items from huddle answers; the
due-step (`bot.domain.occurrences.blocker_escalations`) and the blocker commands read
these rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from bot.domain.working_days import WorkCalendar

DEFAULT_ESCALATE_DAYS = 2
MAX_ESCALATE_DAYS = 20


@dataclass(frozen=True, slots=True)
class OpenBlocker:
    """An unresolved blocker, as the due-step reads it."""

    id: int
    number: int
    first_day: date


# Cached: a morning's due-step asks both for every open blocker of every project, and the
# projects share a few calendars and days.
@lru_cache(maxsize=65536)
def blocker_age(cal: WorkCalendar, first_day: date, today: date) -> int:
    """Working days since the blocker was first said (0 on that day)."""
    return cal.between(first_day, today)


@lru_cache(maxsize=65536)
def escalation_day(cal: WorkCalendar, first_day: date, escalate_days: int) -> date:
    """The working day on which the blocker is `escalate_days` working days old."""
    return cal.add(first_day, escalate_days)


def normalised(text: str) -> str:
    return " ".join(text.lower().split()).rstrip(".!")


def same_blocker(said_before: str, said_now: str) -> bool:
    """The same person repeating a blocker (case, spacing and a full stop aside)."""
    return normalised(said_before) == normalised(said_now)


def age_label(days: int) -> str:
    if days == 0:
        return "new today"
    return f"{days} working day{'s' if days != 1 else ''}"
