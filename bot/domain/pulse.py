"""The client satisfaction pulse: when it is asked, what its answers add up to, when the PM
is alerted and how it colours the project's health. Pure functions over plain data.

Inputs come from `bot.views.pulse_data` (the pulses and their answers) and the due-step's
schedule (the project's times and its pulse settings); the `pulse` command, the health
assessment and the internal weekly report read the outputs. Nothing here is client-safe:
averages, trends and reasons are internal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from bot.domain.schedule import Occurrence, ProjectTimes, Window, due_occurrence, local_instant

SCORES = range(1, 6)
LOW_SCORE = 2  # an answer of 2 or less alerts the PM
ALERT_DROP = Decimal("1.5")  # so does an average this much below the previous pulse's
AMBER_AT, RED_AT = Decimal("3"), Decimal("2")  # health, by the latest pulse's average
TREND_LENGTH = 6
DEFAULT_EVERY_WEEKS, DEFAULT_WEEKDAY = 2, 4  # every other Thursday
CADENCES = (1, 2, 4)


@dataclass(frozen=True, slots=True)
class PulseCadence:
    every_weeks: int = DEFAULT_EVERY_WEEKS
    weekday: int = DEFAULT_WEEKDAY  # ISO weekday
    anchor: date = date(2026, 1, 5)  # a Monday: the weeks are counted from the project's start


@dataclass(frozen=True, slots=True)
class PulsePoint:
    """One pulse: when it was asked and its answers' scores."""

    asked_on: date
    scores: tuple[int, ...] = ()

    @property
    def average(self) -> Decimal | None:
        return average(self.scores)


def average(scores: Sequence[int]) -> Decimal | None:
    if not scores:
        return None
    exact = Decimal(sum(scores)) / Decimal(len(scores))
    return exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def is_pulse_day(cadence: PulseCadence, day: date) -> bool:
    if day.isoweekday() != cadence.weekday:
        return False
    weeks = (day - cadence.anchor).days // 7
    return weeks % cadence.every_weeks == 0


def pulses_due(project: ProjectTimes, cadence: PulseCadence, window: Window) -> list[Occurrence]:
    """The pulse on its weekday every N weeks at the check-in time, in the project's zone;
    like the check-in, not on a day off or a public holiday."""
    found = []
    for day in window.days(project.zone):
        if not is_pulse_day(cadence, day) or not project.is_working(day):
            continue
        at = local_instant(day, project.checkin_time, project.zone)
        found.append(due_occurrence(window, "pulse", project.id, at, day))
    return [o for o in found if o]


def latest_two(points: Sequence[PulsePoint]) -> tuple[Decimal | None, Decimal | None]:
    """The latest answered pulse's average and the one before it."""
    answered = [p.average for p in points if p.average is not None]
    latest = answered[-1] if answered else None
    previous = answered[-2] if len(answered) > 1 else None
    return latest, previous


def alert_reason(score: int, current: Decimal | None, previous: Decimal | None) -> str | None:
    """Why an answer alerts the PM: a low score, or the pulse's average dropping."""
    if current is not None and previous is not None and previous - current >= ALERT_DROP:
        return f"client satisfaction {current}, down from {previous}"
    if score <= LOW_SCORE:
        return f"a client answered {score} of 5"
    return None


def health_level(latest: Decimal | None) -> str | None:
    if latest is None:
        return None
    if latest <= RED_AT:
        return "red"
    if latest <= AMBER_AT:
        return "amber"
    return None


def health_text(latest: Decimal, previous: Decimal | None) -> str:
    if previous is not None and previous != latest:
        way = "down" if previous > latest else "up"
        return f"client satisfaction {latest}, {way} from {previous}"
    return f"client satisfaction {latest}"
