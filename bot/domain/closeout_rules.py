"""The figures of a project's end, pure: what the final report says about budget, dates,
milestones, changes and time, and the final survey's ranges. Inputs come from
`bot.views.closeout_data` (one project's rows, read at closing or with `report final`); the
messages in `bot.views.closeout_messages` show them. Money is exact `Decimal`, to the cent.

Room: domain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

CENT = Decimal("0.01")
SATISFACTION = range(1, 6)
RECOMMEND = range(0, 11)
RETRO_WORKING_DAYS = 3


@dataclass(frozen=True, slots=True)
class MilestoneEnd:
    due: date
    delivered: date | None  # the local day it was marked done; None if never


@dataclass(frozen=True, slots=True)
class PersonTime:
    name: str
    hours: Decimal


@dataclass(frozen=True, slots=True)
class SurveyFigures:
    answers: int
    satisfaction: Decimal  # averages, to one decimal
    recommend: Decimal
    comments: tuple[tuple[str, str], ...]  # (who, comment)


@dataclass(frozen=True, slots=True)
class FinalFigures:
    name: str
    currency: str
    budget: Decimal | None
    spent: Decimal
    due_date: date | None
    delivered_on: date  # the day of closing
    milestones: tuple[MilestoneEnd, ...]
    tasks_done: int
    tasks_open: int
    changes_approved: int
    changes_cost: Decimal
    changes_days: int
    time: tuple[PersonTime, ...]
    survey: SurveyFigures | None = None

    @property
    def variance(self) -> Decimal | None:
        """Budget minus spent: positive is under budget, negative over."""
        if self.budget is None:
            return None
        return (self.budget - self.spent).quantize(CENT)

    @property
    def days_late(self) -> int | None:
        """Calendar days delivered after the due date (negative: early)."""
        if self.due_date is None:
            return None
        return (self.delivered_on - self.due_date).days

    @property
    def on_time(self) -> int:
        return sum(1 for m in self.milestones if m.delivered is not None and m.delivered <= m.due)

    @property
    def late(self) -> int:
        return sum(1 for m in self.milestones if m.delivered is not None and m.delivered > m.due)

    @property
    def undelivered(self) -> int:
        return sum(1 for m in self.milestones if m.delivered is None)

    @property
    def hours(self) -> Decimal:
        return sum((p.hours for p in self.time), Decimal("0.00"))


def percent_of(part: int, whole: int) -> int:
    """A whole percentage, rounded half up; 0 of nothing is 0%."""
    if whole == 0:
        return 0
    return int((Decimal(part) * 100 / whole).quantize(Decimal("1"), rounding="ROUND_HALF_UP"))


def average(values: list[int]) -> Decimal:
    return (Decimal(sum(values)) / len(values)).quantize(Decimal("0.1"))


def survey_error(satisfaction: int, recommend: int) -> str | None:
    """Why a survey answer is out of range, or None."""
    if satisfaction not in SATISFACTION:
        return f"Satisfaction is 1 to 5; {satisfaction} is out of range."
    if recommend not in RECOMMEND:
        return f"How likely you are to recommend us is 0 to 10; {recommend} is out of range."
    return None
