"""What is due when: the pure rules on real zone data (DST nights, a half-hour zone),
public holidays, away days and the grace period. No database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from bot.domain.occurrences import (
    OwnedTask,
    PromptSent,
    budget_marks,
    checkins,
    deadline_reminders,
    huddle_followups,
    huddle_prompts,
    milestone_notices,
    weekly_reports,
)
from bot.domain.schedule import (
    HuddleTimes,
    Member,
    MilestoneDue,
    Occurrence,
    ProjectTimes,
    Window,
    local_instant,
    parse_key,
)

EVERY_DAY = "1,2,3,4,5,6,7"
Rule = Callable[[Window], list[Occurrence]]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def run_every_minute(
    rule: Rule, start: datetime, end: datetime, step: int = 1
) -> list[tuple[datetime, Occurrence]]:
    """Run `rule` every `step` minutes like the scheduler, claiming keys like the database
    does; what was posted, and when."""
    claimed: set[str] = set()
    posted = []
    now = start
    while now <= end:
        for occurrence in rule(Window(now)):
            if occurrence.key not in claimed:
                claimed.add(occurrence.key)
                if occurrence.state == "post":
                    posted.append((now, occurrence))
        now += timedelta(minutes=step)
    return posted


DST_NIGHTS = [
    # zone, day, local time, expected UTC instant (and why)
    ("America/New_York", "2026-03-08", "02:30", "2026-03-08T07:30"),  # gap: 03:30 EDT
    ("America/New_York", "2026-03-08", "09:00", "2026-03-08T13:00"),  # EDT from today
    ("America/New_York", "2026-11-01", "01:30", "2026-11-01T05:30"),  # twice: first, EDT
    ("America/New_York", "2026-11-01", "09:00", "2026-11-01T14:00"),  # EST from today
    ("Europe/Berlin", "2026-03-29", "02:30", "2026-03-29T01:30"),  # gap: 03:30 CEST
    ("Europe/Berlin", "2026-03-29", "09:00", "2026-03-29T07:00"),
    ("Europe/Berlin", "2026-10-25", "02:30", "2026-10-25T00:30"),  # twice: first, CEST
    ("Europe/Berlin", "2026-10-25", "09:00", "2026-10-25T08:00"),
    ("Australia/Sydney", "2026-10-04", "02:30", "2026-10-03T16:30"),  # gap: 03:30 AEDT
    ("Australia/Sydney", "2026-04-05", "02:30", "2026-04-04T15:30"),  # twice: first, AEDT
    ("Australia/Sydney", "2026-04-05", "09:00", "2026-04-04T23:00"),  # AEST from today
    ("Asia/Kolkata", "2026-03-08", "09:00", "2026-03-08T03:30"),  # +05:30, no DST
]


@pytest.mark.parametrize(("zone", "day", "at", "expected"), DST_NIGHTS)
def test_a_check_in_on_a_dst_night_posts_once_at_the_right_instant(
    zone: str, day: str, at: str, expected: str
) -> None:
    project = ProjectTimes(1, zone, EVERY_DAY, checkin_time=at)
    target = date.fromisoformat(day)
    start = local_instant(target, "00:00", zone) - timedelta(hours=1)
    end = local_instant(target, "12:00", zone) + timedelta(hours=1)
    posted = run_every_minute(lambda w: checkins(project, w), start, end)
    on_the_day = [(when, o) for when, o in posted if o.day == target]
    assert len(on_the_day) == 1
    when, occurrence = on_the_day[0]
    assert occurrence.due_at == utc(expected) == when
    assert occurrence.key == f"checkin:project=1:{day}"


def test_huddle_prompts_follow_each_members_own_zone_across_dst() -> None:
    project = ProjectTimes(1, "America/New_York", EVERY_DAY)
    huddle = HuddleTimes("09:30", 120)
    members = [Member(10, "America/New_York"), Member(11, "Asia/Kolkata"), Member(12, None)]
    start, end = utc("2026-03-07T00:00"), utc("2026-03-09T00:00")
    posted = run_every_minute(lambda w: huddle_prompts(project, huddle, members, w), start, end)
    sunday = {o.person_id: o.due_at for _, o in posted if o.day == date(2026, 3, 8)}
    saturday = {o.person_id: o.due_at for _, o in posted if o.day == date(2026, 3, 7)}
    assert sunday == {
        10: utc("2026-03-08T13:30"),  # 09:30 EDT
        11: utc("2026-03-08T04:00"),  # 09:30 IST
        12: utc("2026-03-08T13:30"),  # no zone: the project's
    }
    assert saturday[10] == utc("2026-03-07T14:30")  # 09:30 EST, the day before
    assert len(posted) == len(set(o.key for _, o in posted))


def test_public_holidays_and_weekends_skip_check_ins_huddles_and_move_deadlines() -> None:
    project = ProjectTimes(1, "Europe/Berlin", country="DE")
    huddle = HuddleTimes("09:30", 120)
    members = [Member(10)]
    week = utc("2026-12-23T00:00"), utc("2026-12-29T12:00")
    checked = run_every_minute(lambda w: checkins(project, w), *week, step=30)
    asked = run_every_minute(lambda w: huddle_prompts(project, huddle, members, w), *week, step=30)
    assert sorted({o.day.isoformat() for _, o in checked if o.day}) == [
        "2026-12-23",
        "2026-12-24",  # not a public holiday in Germany
        "2026-12-28",
        "2026-12-29",
    ]  # 25th (Christmas, a Friday), the weekend: nothing
    assert {o.day for _, o in asked} == {o.day for _, o in checked}
    no_country = ProjectTimes(2, "Europe/Berlin")
    assert date(2026, 12, 25) in {
        o.day for _, o in run_every_minute(lambda w: checkins(no_country, w), *week, step=30)
    }


def test_people_away_are_not_asked_and_get_no_deadline_reminders() -> None:
    project = ProjectTimes(1, "UTC")
    huddle = HuddleTimes("09:30", 120)
    away = Member(10, away_from=date(2026, 12, 1), away_until=date(2026, 12, 2))
    here = Member(11)
    days = utc("2026-12-01T00:00"), utc("2026-12-03T12:00")
    asked = run_every_minute(
        lambda w: huddle_prompts(project, huddle, [away, here], w), *days, step=30
    )
    assert sorted((o.person_id, o.day.isoformat()) for _, o in asked if o.day) == [
        (10, "2026-12-03"),
        (11, "2026-12-01"),
        (11, "2026-12-02"),
        (11, "2026-12-03"),
    ]
    tasks = [OwnedTask(5, 1, date(2026, 12, 2), away), OwnedTask(6, 1, date(2026, 12, 2), here)]
    reminded = run_every_minute(lambda w: deadline_reminders(project, tasks, w), *days, step=30)
    assert sorted((o.subject_id, o.kind) for _, o in reminded) == [
        (5, "deadline-overdue"),  # back on the 3rd: told it is overdue
        (6, "deadline-before"),
        (6, "deadline-overdue"),
        (6, "deadline-today"),
    ]


def test_deadline_reminders_the_working_day_before_the_morning_of_and_first_overdue() -> None:
    project = ProjectTimes(1, "Europe/Berlin", country="DE", checkin_time="08:30")
    owner = Member(10, "America/New_York")
    monday = OwnedTask(5, 1, date(2026, 12, 28), owner)  # after Christmas and a weekend
    saturday = OwnedTask(6, 1, date(2026, 12, 5), owner)
    span = utc("2026-12-03T00:00"), utc("2027-01-01T00:00")
    posted = run_every_minute(
        lambda w: deadline_reminders(project, [monday, saturday], w), *span, step=30
    )
    got = sorted(
        (o.subject_id, o.kind, o.day.isoformat(), o.due_at.isoformat()) for _, o in posted if o.day
    )
    assert got == [
        (5, "deadline-before", "2026-12-24", "2026-12-24T13:30:00+00:00"),  # 08:30 in New York
        (5, "deadline-overdue", "2026-12-29", "2026-12-29T13:30:00+00:00"),
        (5, "deadline-today", "2026-12-28", "2026-12-28T13:30:00+00:00"),
        (6, "deadline-before", "2026-12-04", "2026-12-04T13:30:00+00:00"),
        (6, "deadline-overdue", "2026-12-07", "2026-12-07T13:30:00+00:00"),  # no Saturday DM
    ]


def test_milestones_three_working_days_before_and_the_client_side_when_sign_off_is_due() -> None:
    project = ProjectTimes(1, "UTC")
    plain = MilestoneDue(3, 1, date(2026, 12, 9), needs_client=False)  # a Wednesday
    signoff = MilestoneDue(4, 1, date(2026, 12, 14), needs_client=True)  # a Monday
    span = utc("2026-12-01T00:00"), utc("2026-12-15T00:00")
    posted = run_every_minute(
        lambda w: milestone_notices(project, [plain, signoff], w), *span, step=30
    )
    assert sorted((o.subject_id, o.kind, o.day.isoformat()) for _, o in posted if o.day) == [
        (3, "milestone-team", "2026-12-04"),
        (4, "milestone-client", "2026-12-09"),
        (4, "milestone-team", "2026-12-09"),
    ]


def test_weekly_report_on_its_weekday_and_time_in_the_project_zone() -> None:
    project = ProjectTimes(1, "Australia/Sydney", report_weekday=5, report_time="15:00")
    span = utc("2026-11-30T00:00"), utc("2026-12-14T00:00")
    posted = run_every_minute(lambda w: weekly_reports(project, w), *span, step=30)
    assert [(o.day.isoformat(), o.due_at) for _, o in posted if o.day] == [
        ("2026-12-04", utc("2026-12-04T04:00")),  # 15:00 AEDT
        ("2026-12-11", utc("2026-12-11T04:00")),
    ]


def test_grace_late_occurrences_post_once_older_ones_are_skipped() -> None:
    project = ProjectTimes(1, "UTC", checkin_time="09:00")
    grace = timedelta(minutes=120)
    on_time = checkins(project, Window(utc("2026-12-01T09:00"), grace))
    late = checkins(project, Window(utc("2026-12-01T10:59"), grace))
    too_late = checkins(project, Window(utc("2026-12-01T11:01"), grace))
    today = "checkin:project=1:2026-12-01"
    assert [o.state for o in on_time if o.key == today] == ["post"]
    assert [o.state for o in late if o.key == today] == ["post"]
    assert [o.state for o in too_late if o.key == today] == ["skip"]
    before = checkins(project, Window(utc("2026-12-01T08:59"), grace))
    assert today not in {o.key for o in before}
    short = checkins(project, Window(utc("2026-12-01T09:20"), timedelta(minutes=15)))
    assert [o.state for o in short if o.key == today] == ["skip"]


def test_huddle_reminder_and_digest_follow_when_prompts_actually_went_out() -> None:
    project = ProjectTimes(1, "Europe/Berlin")
    huddle = HuddleTimes("09:30", 120)
    members = [Member(10), Member(11, "America/New_York")]
    day = date(2026, 12, 1)
    sent = [PromptSent(1, 10, day, utc("2026-12-01T08:45"))]  # 15 minutes late
    span = utc("2026-12-01T08:00"), utc("2026-12-02T00:00")
    posted = run_every_minute(lambda w: huddle_followups(project, huddle, members, sent, w), *span)
    got = {(o.kind, o.person_id): o.due_at for _, o in posted}
    assert got == {
        ("huddle-reminder", 10): utc("2026-12-01T10:15"),  # 30 minutes before its close
        # the digest waits for the New York member's window: 09:30 EST + 2h
        ("huddle-digest", None): utc("2026-12-01T16:30"),
    }
    assert parse_key("huddle-reminder:project=1:person=10:2026-12-01")[1]["person"] == "10"


def test_budget_marks_warn_once_per_crossing_and_re_arm_on_a_new_budget() -> None:
    window = Window(utc("2026-12-01T10:00"))
    first = budget_marks(1, Decimal("50000"), [50, 75], False, set(), window)
    assert [parse_key(o.key)[1]["mark"] for o in first] == ["50", "75"]
    again = budget_marks(1, Decimal("50000"), [50, 75], True, {"50", "75"}, window)
    assert [parse_key(o.key)[1]["mark"] for o in again] == ["forecast"]
    assert budget_marks(1, Decimal("50000"), [50, 75], True, {"50", "75", "forecast"}, window) == []
    raised = budget_marks(1, Decimal("60000"), [50], False, set(), window)
    assert [o.key for o in raised] == ["budget:project=1:mark=50:budget=60000.00"]
