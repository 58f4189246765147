"""The rules of what is due at an instant: check-ins, huddles, deadline and milestone
reminders, weekly reports and budget warnings. Pure: plain data in, occurrences out."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from bot.domain.blocker_rules import OpenBlocker, escalation_day
from bot.domain.schedule import (
    HuddleTimes,
    Member,
    MilestoneDue,
    Occurrence,
    ProjectTimes,
    State,
    Window,
    due_occurrence,
    keys_by_part,
    local_day,
    local_instant,
    next_working_day,
    working_days_before,
)
from bot.domain.working_days import WorkCalendar

MILESTONE_NOTICE_DAYS = 3


def checkins(project: ProjectTimes, window: Window) -> list[Occurrence]:
    """The morning check-in, on the project's working days at its check-in time."""
    found = []
    for day in window.days(project.zone):
        if not project.is_working(day):
            continue
        at = local_instant(day, project.checkin_time, project.zone)
        found.append(due_occurrence(window, "checkin", project.id, at, day))
    return [o for o in found if o]


def weekly_reports(project: ProjectTimes, window: Window) -> list[Occurrence]:
    """The weekly report on its weekday (a weekday the PM chose, so only a public holiday
    skips it)."""
    found = []
    for day in window.days(project.zone):
        if day.isoweekday() != project.report_weekday or project.is_holiday(day):
            continue
        at = local_instant(day, project.report_time, project.zone)
        found.append(due_occurrence(window, "report", project.id, at, day))
    return [o for o in found if o]


# --- huddles ---------------------------------------------------------------------------------


def huddle_runs_on(project: ProjectTimes, huddle: HuddleTimes, day: date) -> bool:
    return huddle.adhoc_date == day or project.is_working(day)


def prompt_at(project: ProjectTimes, huddle: HuddleTimes, member: Member, day: date) -> datetime:
    """When `member` is asked on the huddle of `day`: the huddle time in their own zone, or
    the moment the PM ran `huddle now`."""
    return prompt_in(project, huddle, member.zone or project.zone, day)


def prompt_in(project: ProjectTimes, huddle: HuddleTimes, zone: str, day: date) -> datetime:
    """When the members in `zone` are asked on the huddle of `day`."""
    if huddle.adhoc_date == day and huddle.adhoc_at is not None:
        return huddle.adhoc_at
    return local_instant(day, huddle.local_time, zone)


def askable(project: ProjectTimes, huddle: HuddleTimes, members: Iterable[Member], day: date):
    """Who is asked on `day`: nobody on a non-working day or holiday, nobody away."""
    if not huddle_runs_on(project, huddle, day):
        return []
    return [m for m in members if not m.away(day)]


def huddle_prompts(
    project: ProjectTimes, huddle: HuddleTimes, members: Sequence[Member], window: Window
) -> list[Occurrence]:
    found = []
    for day in window.days(project.zone):
        if not huddle_runs_on(project, huddle, day):
            continue
        # Members in one zone are asked at one instant: most days' are outside the window,
        # so that is asked before whether each member is away.
        due_in: dict[str, tuple[datetime, State] | None] = {}
        key_of = keys_by_part("huddle-prompt", project.id, day, "person")
        for member in members:
            zone = member.zone or project.zone
            if zone not in due_in:
                due_in[zone] = prompt_due(project, huddle, zone, day, window)
            due = due_in[zone]
            if due is None or member.away(day):
                continue
            at, state = due
            person = member.person_id
            found.append(
                Occurrence(key_of(person), "huddle-prompt", project.id, at, day, state, person)
            )
    return found


def prompt_due(
    project: ProjectTimes, huddle: HuddleTimes, zone: str, day: date, window: Window
) -> tuple[datetime, State] | None:
    """When the members in `zone` are asked on the huddle of `day`, and whether that is
    posted or skipped; None when it is outside the window."""
    at = prompt_in(project, huddle, zone, day)
    state = window.state(at)
    if state == "post" and local_day(window.now, zone) > day:
        # Back after downtime: nobody is asked about a day already over for them.
        state = "skip"
    return None if state is None else (at, state)


@dataclass(frozen=True, slots=True)
class PromptSent:
    """A huddle prompt that was queued: who, for which huddle day, and when."""

    project_id: int
    person_id: int
    day: date
    sent_at: datetime


def huddle_followups(
    project: ProjectTimes,
    huddle: HuddleTimes,
    members: Sequence[Member],
    prompts: Sequence[PromptSent],
    window: Window,
) -> list[Occurrence]:
    """One reminder per asked person near the end of their window, and one digest when the
    last window closes. Counted from when prompts actually went out, so a late or ad-hoc
    huddle still gets its full window."""
    by_day: dict[date, list[PromptSent]] = defaultdict(list)
    for prompt in prompts:
        by_day[prompt.day].append(prompt)
    found = []
    for day, sent in by_day.items():
        for prompt in sent:
            at = prompt.sent_at + huddle.window - huddle.reminder_lead
            found.append(
                due_occurrence(
                    window,
                    "huddle-reminder",
                    project.id,
                    at,
                    day,
                    person_id=prompt.person_id,
                    person=prompt.person_id,
                )
            )
        expected = [
            prompt_at(project, huddle, m, day) for m in askable(project, huddle, members, day)
        ]
        last = max([p.sent_at for p in sent] + expected)
        found.append(due_occurrence(window, "huddle-digest", project.id, last + huddle.window, day))
    return [o for o in found if o]


# --- blockers --------------------------------------------------------------------------------


def blocker_escalations(
    project: ProjectTimes,
    blockers: Iterable[OpenBlocker],
    escalate_days: int,
    window: Window,
) -> list[Occurrence]:
    """An unresolved blocker is escalated once, at the check-in time of the working day on
    which it is `escalate_days` working days old (weekends and holidays do not count)."""
    found = []
    for blocker in blockers:
        cal = project.calendar(blocker.first_day)
        day = escalation_day(cal, blocker.first_day, escalate_days)
        at = local_instant(day, project.checkin_time, project.zone)
        found.append(
            due_occurrence(
                window,
                "blocker-escalate",
                project.id,
                at,
                day,
                subject_id=blocker.id,
                blocker=blocker.number,
            )
        )
    return [o for o in found if o]


# --- deadlines -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OwnedTask:
    id: int
    project_id: int
    due_date: date
    owner: Member


def deadline_reminders(
    project: ProjectTimes, tasks: Iterable[OwnedTask], window: Window
) -> list[Occurrence]:
    """A direct message to the owner the working day before, on the morning of the due date
    (when it is a working day), and on the first overdue working morning; at the project's
    check-in time in the owner's zone, never on a day they are away."""
    found = []
    for task in tasks:
        owner = task.owner
        zone = owner.zone or project.zone
        for kind, day in reminder_days(project.calendar(task.due_date), task.due_date):
            at = local_instant(day, project.checkin_time, zone)
            if window.state(at) is None or owner.away(day):
                continue  # most of them: another morning's
            found.append(
                due_occurrence(
                    window,
                    kind,
                    project.id,
                    at,
                    day,
                    person_id=owner.person_id,
                    subject_id=task.id,
                    task=task.id,
                    due=task.due_date.isoformat(),
                )
            )
    return [o for o in found if o]


@lru_cache(maxsize=4096)
def reminder_days(cal: WorkCalendar, due: date) -> tuple[tuple[str, date], ...]:
    """The deadline reminders of a task due on `due`, by kind and day (the same for every
    task due that day: worked out once)."""
    days = [("deadline-before", working_days_before(cal, due, 1))]
    if cal.is_working(due):
        days.append(("deadline-today", due))
    days.append(("deadline-overdue", next_working_day(cal, due)))
    return tuple(days)


def milestone_notices(
    project: ProjectTimes, milestones: Iterable[MilestoneDue], window: Window
) -> list[Occurrence]:
    """The team side 3 working days before a milestone; the client side too when the
    client still has to sign it off."""
    found = []
    for milestone in milestones:
        cal = project.calendar(milestone.due_date)
        day = working_days_before(cal, milestone.due_date, MILESTONE_NOTICE_DAYS)
        at = local_instant(day, project.checkin_time, project.zone)
        kinds = ["milestone-team"] + (["milestone-client"] if milestone.needs_client else [])
        for kind in kinds:
            found.append(
                due_occurrence(
                    window,
                    kind,
                    project.id,
                    at,
                    day,
                    subject_id=milestone.id,
                    milestone=milestone.id,
                    due=milestone.due_date.isoformat(),
                )
            )
    return [o for o in found if o]


# --- budget ----------------------------------------------------------------------------------


def budget_marks(
    project_id: int,
    budget: Decimal,
    crossed: Iterable[int],
    runs_out_early: bool,
    already: set[str],
    window: Window,
) -> list[Occurrence]:
    """Thresholds crossed (and the forecast running out before the due date) that have not
    warned yet for this budget amount. A raised budget is a new amount: it re-arms them."""
    marks = [str(t) for t in crossed] + (["forecast"] if runs_out_early else [])
    found = []
    for mark in marks:
        if mark in already:
            continue
        found.append(
            due_occurrence(
                window,
                "budget",
                project_id,
                window.now,
                None,
                mark=mark,
                budget=f"{budget:.2f}",
            )
        )
    return [o for o in found if o]
