"""From due occurrences to outgoing messages: who gets what, where. Reads only what the
due-step has loaded (no I/O), so building a thousand check-ins or weekly reports costs no
statement (and draws no chart: reports carry theirs undrawn, see `bot.views.charts`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from bot.delivery.mailing_list import email_target, weekly_email
from bot.delivery.outbox import person_target
from bot.delivery.vocabulary import Target
from bot.domain.blocker_rules import blocker_age, escalation_day
from bot.domain.schedule import Occurrence, Teammate, parse_key
from bot.messages import Message
from bot.schedule.load import Content, Schedule
from bot.views import closeout_messages, huddle_notes, notices, pulse_notes
from bot.views.reports import report_message
from storage.models import Project

CONTENT_KINDS = ("checkin", "huddle-prompt", "huddle-digest", "huddle-reminder")


@dataclass(slots=True)
class Outgoing:
    target: Target
    message: Message
    key: str
    project_id: int
    replies: list[Message] = field(default_factory=list)


@dataclass(slots=True)
class Built:
    outgoing: list[Outgoing] = field(default_factory=list)
    alarms: list[tuple[int, str, str]] = field(default_factory=list)  # project, mark, budget
    pulses: list[dict[str, object]] = field(default_factory=list)  # Pulse rows asked


Builder = Callable[[Schedule, Content, Sequence[Occurrence]], Built]
# Where each weekly report goes: the client report to the client side, the internal one to
# the team side.
REPORT_SIDES = (("client", "client"), ("team", "internal"))


def side(schedule: Schedule, project_id: int, name: str) -> Target | None:
    return schedule.sides.get((project_id, name))


def dm(schedule: Schedule, person: Teammate | None, project_id: int) -> Target | None:
    """A team member's direct messages in the project's tenant; never a client's (these
    messages are internal), never into another tenant."""
    if person is None or (project_id, person.id) not in schedule.insiders:
        return None
    tenant = schedule.tenants[project_id]
    return person_target(person, schedule.dms.get((person.id, tenant)), tenant)


def one(target: Target | None, message: Message | None, o: Occurrence) -> Built:
    if target is None or message is None:
        return Built()
    return Built([Outgoing(target, message, o.key, o.project_id)])


def person_zone(schedule: Schedule, person: Teammate, project: Project) -> str:
    return person.timezone or project.timezone


def checkin(schedule: Schedule, content: Content, group: Sequence[Occurrence]) -> Built:
    o = group[0]
    assert o.day is not None
    pid = o.project_id
    project = schedule.projects[pid]
    tasks = [
        (t, owner)
        for t, owner in schedule.tasks.get(pid, [])
        if t.status == "blocked" or (t.due_date is not None and t.due_date <= o.day)
    ]
    message = notices.checkin(
        project,
        o.day,
        tasks,
        huddle_notes.carried_blockers(content.answers.get(pid, []), o.day, schedule.names),
        content.requests.get(pid, []),
        content.changes.get(pid, []),
        content.risks.get(pid, []),
        schedule.budgets.get(pid),
    )
    escalated = escalated_on(schedule, pid, o.day)
    if escalated:
        message = huddle_notes.with_escalations(message, escalated)
    return one(side(schedule, pid, "team"), message, o)


def escalated_on(schedule: Schedule, project_id: int, day: date) -> list[huddle_notes.BlockerLine]:
    """Unresolved blockers whose escalation falls on `day` (the morning they go up)."""
    config = schedule.huddles.get(project_id)
    if config is None:
        return []
    project = schedule.projects[project_id]
    cal = schedule.times(project).calendar(day)
    return [
        huddle_notes.BlockerLine(
            b.number,
            schedule.names.get(b.author_id, "someone"),
            b.text,
            blocker_age(cal, b.first_day, day),
            False,
            b.status,
        )
        for b in schedule.blockers.get(project_id, [])
        if escalation_day(cal, b.first_day, config.escalate_days) == day
    ]


def blocker_escalation(schedule: Schedule, content: Content, group: Sequence[Occurrence]) -> Built:
    """The PM's direct message about a blocker that has waited too long."""
    o = group[0]
    assert o.day is not None
    number = int(parse_key(o.key)[1]["blocker"])
    found = [line for line in escalated_on(schedule, o.project_id, o.day) if line.number == number]
    if not found:
        return Built()
    message = huddle_notes.escalation(schedule.projects[o.project_id], found[0])
    return one(dm(schedule, schedule.pm_of(o.project_id), o.project_id), message, o)


def huddle_prompt(schedule: Schedule, content: Content, group: Sequence[Occurrence]) -> Built:
    o = group[0]
    assert o.day is not None and o.person_id is not None
    project = schedule.projects[o.project_id]
    person = schedule.people[o.person_id]
    target = dm(schedule, person, o.project_id)
    if target is None:
        return Built()
    config = schedule.huddles[o.project_id]
    tz = person_zone(schedule, person, project)
    previous = _previous_answer(content, o.project_id, person.id, o.day)
    if previous:  # pre-filled: this person's own prompt
        questions = huddle_notes.questions_of(config.questions)
        initial = huddle_notes.prefill_from_yesterday(questions, previous)
        if initial:
            closes = schedule.window.now + timedelta(minutes=config.window_minutes)
            message = huddle_notes.prompt(
                project, o.day, questions, closes, tz, initial, config.mood
            )
            return one(target, message, o)
    # Everyone else in the zone gets the same prompt: made once.
    key = ("huddle-prompt", project.id, o.day, tz)
    message = content.shared.get(key)
    if message is None:
        closes = schedule.window.now + timedelta(minutes=config.window_minutes)
        questions = huddle_notes.questions_of(config.questions)
        message = content.shared[key] = huddle_notes.prompt(
            project, o.day, questions, closes, tz, mood=config.mood
        )
    return one(target, message, o)


def _previous_answer(content: Content, project_id: int, person_id: int, day: date) -> list[str]:
    """The person's latest answers before `day` (answers are loaded oldest first)."""
    found: list[str] = []
    for answer in content.answers.get(project_id, []):
        if answer.person_id == person_id and answer.huddle_date < day and not answer.skipped:
            found = list(answer.answers)
    return found


def huddle_reminder(schedule: Schedule, content: Content, group: Sequence[Occurrence]) -> Built:
    o = group[0]
    assert o.day is not None and o.person_id is not None
    if o.person_id in schedule.optional.get(o.project_id, ()):
        return Built()  # optional people are asked once
    answered = any(  # an answer or a skip
        a.person_id == o.person_id and a.huddle_date == o.day
        for a in content.answers.get(o.project_id, [])
    )
    if answered:
        return Built()
    project = schedule.projects[o.project_id]
    config = schedule.huddles[o.project_id]
    person = schedule.people[o.person_id]
    times = schedule.huddle_times(o.project_id)
    assert times is not None
    questions = huddle_notes.questions_of(config.questions)
    tz = person_zone(schedule, person, project)
    closes = o.due_at + times.reminder_lead
    return one(
        dm(schedule, person, o.project_id),
        huddle_notes.reminder(project, o.day, questions, closes, tz, config.mood),
        o,
    )


def huddle_digest(schedule: Schedule, content: Content, group: Sequence[Occurrence]) -> Built:
    o = group[0]
    pid = o.project_id
    asked_ids = [p.person_id for p in schedule.prompts.get(pid, []) if p.day == o.day]
    if not asked_ids:
        return Built()
    project = schedule.projects[pid]
    config = schedule.huddles[pid]
    answers = [a for a in content.answers.get(pid, []) if a.huddle_date == o.day]
    asked = [schedule.people[i] for i in dict.fromkeys(asked_ids) if i in schedule.people]
    assert o.day is not None
    parent, replies = huddle_notes.digest(
        project,
        o.day,
        huddle_notes.questions_of(config.questions),
        answers,
        asked,
        schedule.names,
        schedule.optional.get(pid, set()),
        huddle_notes.blocker_lines(
            schedule.blockers.get(pid, []),
            o.day,
            schedule.names,
            schedule.times(project).calendar(o.day),
        ),
    )
    target = side(schedule, pid, "team")
    if target is None:
        return Built()
    return Built([Outgoing(target, parent, o.key, pid, replies)])


def deadlines(schedule: Schedule, content: Content, group: Sequence[Occurrence]) -> Built:
    """All of one owner's reminders in one project at one moment: one direct message."""
    o = group[0]
    tasks = {t.id: t for t, _ in schedule.tasks.get(o.project_id, [])}
    reminders = []
    for occurrence in group:
        task = tasks.get(occurrence.subject_id or 0)
        if task is not None:
            reminders.append((occurrence.kind.removeprefix("deadline-"), task))
    if not reminders:
        return Built()
    message = notices.deadline_reminder(schedule.projects[o.project_id], reminders)
    return one(dm(schedule, schedule.people.get(o.person_id or 0), o.project_id), message, o)


def milestone(schedule: Schedule, content: Content, group: Sequence[Occurrence]) -> Built:
    o = group[0]
    found = [m for m in schedule.milestones.get(o.project_id, []) if m.id == o.subject_id]
    if not found:
        return Built()
    project, m = schedule.projects[o.project_id], found[0]
    if o.kind == "milestone-client":
        return one(
            side(schedule, o.project_id, "client"), notices.milestone_for_client(project, m), o
        )
    open_tasks = sum(
        1
        for t, _ in schedule.tasks.get(o.project_id, [])
        if t.due_date is not None and t.due_date <= m.due_date
    )
    return one(
        side(schedule, o.project_id, "team"), notices.milestone_for_team(project, m, open_tasks), o
    )


def budget(schedule: Schedule, content: Content, group: Sequence[Occurrence]) -> Built:
    o = group[0]
    parts = [parse_key(x.key)[1] for x in group]
    marks = [p["mark"] for p in parts]
    summary = schedule.budgets[o.project_id]
    message = notices.budget_warning(schedule.projects[o.project_id], marks, summary)
    built = one(side(schedule, o.project_id, "team"), message, o)
    built.alarms = [(o.project_id, p["mark"], p["budget"]) for p in parts]
    return built


def weekly_report(schedule: Schedule, content: Content, group: Sequence[Occurrence]) -> Built:
    """The client report into the client side and the internal report into the team side,
    as of the report day."""
    o = group[0]
    data = content.reports[o.project_id]
    project = schedule.projects[o.project_id]
    built = Built()
    for side_name, audience in REPORT_SIDES:
        target = side(schedule, o.project_id, side_name)
        if target is not None:
            message = report_message(project, data.snapshot, audience, data.daily_spend, data.mood)
            built.outgoing.append(Outgoing(target, message, o.key, o.project_id))
    if data.emails:
        # By email only ever the client report, whatever else the project has.
        client = report_message(project, data.snapshot, "client", data.daily_spend)
        assert o.day is not None
        emailed = weekly_email(project, client, o.day)
        for address in data.emails:
            built.outgoing.append(
                Outgoing(email_target(o.project_id, address), emailed, o.key, o.project_id)
            )
    return built


def pulse(schedule: Schedule, content: Content, group: Sequence[Occurrence]) -> Built:
    """The question to the client side, and the pulse its answers count for."""
    o = group[0]
    assert o.day is not None
    target = side(schedule, o.project_id, "client")
    if target is None:
        return Built()
    built = one(target, pulse_notes.question(schedule.projects[o.project_id].name, o.day), o)
    built.pulses = [{"project_id": o.project_id, "asked_on": o.day, "asked_at": o.due_at}]
    return built


def retro(schedule: Schedule, content: Content, group: Sequence[Occurrence]) -> Built:
    """A closed project's retrospective answers, to its team side only."""
    o = group[0]
    closing = schedule.closings[o.project_id]
    answers = content.retros.get(o.project_id, [])
    return one(closing.team_side, closeout_messages.retro_digest(closing.project.name, answers), o)


BUILDERS: dict[str, Builder] = {
    "checkin": checkin,
    "huddle-prompt": huddle_prompt,
    "huddle-reminder": huddle_reminder,
    "huddle-digest": huddle_digest,
    "blocker-escalate": blocker_escalation,
    "deadline": deadlines,
    "milestone-team": milestone,
    "milestone-client": milestone,
    "budget": budget,
    "report": weekly_report,
    "pulse": pulse,
    "retro": retro,
}


def group_key(o: Occurrence) -> tuple[object, ...]:
    """Occurrences that become one message: an owner's deadlines at one moment, a
    project's client action items due at one moment, and the budget marks of one project
    crossed at once."""
    if o.kind.startswith("deadline-"):
        return ("deadline", o.project_id, o.person_id, o.due_at, o.state)
    if o.kind == "budget":
        return ("budget", o.project_id, o.state)
    if o.kind.startswith("action-"):  # a project's client action items due at one moment
        return ("action", o.project_id, o.due_at, o.state)
    return (o.key,)


def builder_for(o: Occurrence) -> Builder:
    return BUILDERS["deadline" if o.kind.startswith("deadline-") else o.kind]
