"""Working days of a project: its weekdays minus its country's public holidays. Pure."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

MAX_SHIFT = 3660  # days; a guard against a calendar without any working day


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    weekdays: frozenset[int] = frozenset({1, 2, 3, 4, 5})  # ISO weekdays
    holidays: Container[date] = field(default_factory=frozenset)

    @classmethod
    def of(cls, working_days: str, country: str | None, years: range) -> WorkCalendar:
        """The calendar of a project's stored settings ("1,2,3,4,5", "DE")."""
        weekdays = frozenset(int(d) for d in working_days.split(",") if d.strip().isdigit())
        return cls(weekdays or frozenset({1, 2, 3, 4, 5}), public_holidays(country, years))

    def is_working(self, day: date) -> bool:
        return day.isoweekday() in self.weekdays and day not in self.holidays

    def add(self, start: date, days: int) -> date:
        """The date `days` working days after `start` (0: `start` itself)."""
        day, left = start, days
        for _ in range(MAX_SHIFT):
            if left <= 0:
                return day
            day += timedelta(days=1)
            if self.is_working(day):
                left -= 1
        raise ValueError("no working days in this calendar")

    def between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (0 when end <= start)."""
        count, day = 0, start
        for _ in range(min(MAX_SHIFT, max(0, (end - start).days))):
            day += timedelta(days=1)
            count += self.is_working(day)
        return count


@lru_cache(maxsize=256)
def public_holidays(country: str | None, years: range) -> frozenset[date]:
    if not country:
        return frozenset()
    import holidays

    try:
        return frozenset(holidays.country_holidays(country, years=list(years)).keys())
    except NotImplementedError:
        return frozenset()
