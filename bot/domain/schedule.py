"""What is due when: local wall-clock times in IANA zones, working days, public holidays,
away days, and the grace period after downtime. Pure functions over plain data.

A local time is turned into an instant with `fold=0` (PEP 495). On a DST night that
gives the behaviour people expect: a time that does not exist (02:30 on a spring-forward
night) lands just after the gap (03:30 new time), and a time that happens twice (01:30 on
a fall-back night) is its first occurrence. Each occurrence has one key per local day, so
whichever instant the rule picks, it is claimed, and posted, once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo

from bot.domain.working_days import WorkCalendar

State = Literal["post", "skip"]
# Followups (reminders, digests) are found from the claims of their prompts: the due-step
# reads claims this far back beyond its look-back. Huddle windows are at most this long.
MAX_WINDOW = timedelta(hours=12)


@lru_cache(maxsize=4096)
def clock_time(text: str) -> time:
    """`09:30` as a time; the settings are validated by the commands that store them."""
    hours, _, minutes = text.partition(":")
    return time(int(hours), int(minutes or 0))


@lru_cache(maxsize=512)
def zone(name: str | None) -> ZoneInfo:
    return ZoneInfo(name or "UTC")


@lru_cache(maxsize=65536)
def local_instant(day: date, at: str | time, zone_name: str | None) -> datetime:
    """The UTC instant of wall-clock `at` on `day` in the zone (fold=0, see above). Cached:
    a morning's due-step asks it for the same few days, times and zones again and again."""
    wall = at if isinstance(at, time) else clock_time(at)
    return datetime.combine(day, wall, tzinfo=zone(zone_name)).astimezone(UTC)


def local_day(moment: datetime, zone_name: str | None) -> date:
    return moment.astimezone(zone(zone_name)).date()


@lru_cache(maxsize=4096)
def calendar(working_days: str, country: str | None, year: int) -> WorkCalendar:
    """A project's calendar around `year` (cached: building holiday tables is slow)."""
    return WorkCalendar.of(working_days, country, range(year - 1, year + 2))


def is_away(day: date, away_from: date | None, away_until: date | None) -> bool:
    if away_from is None:
        return False
    return away_from <= day <= (away_until or away_from)


def working_days_before(cal: WorkCalendar, day: date, count: int) -> date:
    """The working day `count` working days before `day`."""
    found = day
    for _ in range(count):
        found -= timedelta(days=1)
        for _ in range(3660):
            if cal.is_working(found):
                break
            found -= timedelta(days=1)
    return found


def next_working_day(cal: WorkCalendar, day: date) -> date:
    return cal.add(day, 1)


@dataclass(frozen=True, slots=True)
class Window:
    """One run of the due-step: occurrences due in (now - lookback, now] are considered;
    those due within `grace` are posted (late ones once, late), older ones are skipped."""

    now: datetime
    grace: timedelta = timedelta(minutes=120)
    # Derived once: `state` runs for every occurrence of every project, `days` for every
    # rule of every project (by zone).
    _earliest: datetime = field(init=False, repr=False, compare=False)
    _posted_from: datetime = field(init=False, repr=False, compare=False)
    _days: dict[str | None, tuple[date, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_earliest", self.now - self.lookback)
        object.__setattr__(self, "_posted_from", self.now - self.grace)
        object.__setattr__(self, "_days", {})

    @property
    def lookback(self) -> timedelta:
        return self.grace + timedelta(days=1)

    @property
    def claims_since(self) -> datetime:
        """How far back the due-step must read claims (for dedupe and for followups)."""
        return self.now - self.lookback - MAX_WINDOW

    def state(self, due_at: datetime) -> State | None:
        if due_at > self.now or due_at <= self._earliest:
            return None
        return "post" if due_at >= self._posted_from else "skip"

    def days(self, zone_name: str | None) -> tuple[date, ...]:
        """Local days whose occurrences may fall in the window, with a day of margin each
        side for people whose zone is ahead of or behind the project's."""
        found = self._days.get(zone_name)
        if found is None:
            found = self._days[zone_name] = tuple(self._local_days(zone_name))
        return found

    def _local_days(self, zone_name: str | None) -> Iterator[date]:
        first = local_day(self.now - self.lookback, zone_name) - timedelta(days=1)
        last = local_day(self.now, zone_name) + timedelta(days=1)
        day = first
        while day <= last:
            yield day
            day += timedelta(days=1)


# --- the plain data the rules read ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProjectTimes:
    id: int
    zone: str
    working_days: str = "1,2,3,4,5"
    country: str | None = None
    checkin_time: str = "09:00"
    report_weekday: int = 5
    report_time: str = "15:00"

    def calendar(self, day: date) -> WorkCalendar:
        return calendar(self.working_days, self.country, day.year)

    def is_working(self, day: date) -> bool:
        return self.calendar(day).is_working(day)

    def is_holiday(self, day: date) -> bool:
        return day in self.calendar(day).holidays


@dataclass(frozen=True, slots=True)
class Member:
    person_id: int
    zone: str | None = None
    away_from: date | None = None
    away_until: date | None = None

    def away(self, day: date) -> bool:
        return is_away(day, self.away_from, self.away_until)


@dataclass(frozen=True, slots=True)
class Teammate:
    """Someone the due-step may message, with what its rules and messages read of them (the
    `Person` columns, as plain values: a morning reads a hundred thousand)."""

    id: int
    platform: str
    external_id: str
    display_name: str
    timezone: str | None = None
    away_from: date | None = None
    away_until: date | None = None


@dataclass(frozen=True, slots=True)
class HuddleTimes:
    local_time: str = "09:30"
    window_minutes: int = 120
    adhoc_date: date | None = None
    adhoc_at: datetime | None = None

    @property
    def window(self) -> timedelta:
        return min(timedelta(minutes=self.window_minutes), MAX_WINDOW)

    @property
    def reminder_lead(self) -> timedelta:
        """How long before the close the one reminder goes: 30 minutes, or half a short
        window."""
        return min(timedelta(minutes=30), self.window / 2)


@dataclass(frozen=True, slots=True)
class TaskDue:
    id: int
    project_id: int
    owner_id: int
    due_date: date


@dataclass(frozen=True, slots=True)
class MilestoneDue:
    id: int
    project_id: int
    due_date: date
    needs_client: bool  # a client sign-off still to come


class Occurrence(NamedTuple):
    """One thing due at one instant, claimed by its key. (A named tuple: a morning makes
    hundreds of thousands, and a tuple is made in a fraction of a frozen dataclass's time.)"""

    key: str
    kind: str
    project_id: int
    due_at: datetime
    day: date | None
    state: State
    person_id: int | None = None
    subject_id: int | None = None  # the task or milestone


def occurrence_key(kind: str, project_id: int, day: date | None, **parts: object) -> str:
    """`checkin:project=7:2026-12-01`; extra parts in the order given."""
    key = f"{kind}:project={project_id}"
    for name, value in parts.items():
        key += f":{name}={value}"
    return key if day is None else f"{key}:{day.isoformat()}"


def keys_by_part(
    kind: str, project_id: int, day: date | None, name: str
) -> Callable[[object], str]:
    """`occurrence_key(kind, project_id, day, name=value)` for many values, made cheaply."""
    head = f"{occurrence_key(kind, project_id, None)}:{name}="
    tail = "" if day is None else f":{day.isoformat()}"
    return lambda value: f"{head}{value}{tail}"


def parse_key(key: str) -> tuple[str, dict[str, str], date | None]:
    kind, *rest = key.split(":")
    parts: dict[str, str] = {}
    day = None
    for part in rest:
        name, sep, value = part.partition("=")
        if sep:
            parts[name] = value
        else:
            day = date.fromisoformat(part)
    return kind, parts, day


def due_occurrence(
    window: Window,
    kind: str,
    project_id: int,
    due_at: datetime,
    day: date | None,
    *,
    person_id: int | None = None,
    subject_id: int | None = None,
    **parts: object,
) -> Occurrence | None:
    state = window.state(due_at)
    if state is None:
        return None
    key = occurrence_key(kind, project_id, day, **parts)
    return Occurrence(key, kind, project_id, due_at, day, state, person_id, subject_id)
