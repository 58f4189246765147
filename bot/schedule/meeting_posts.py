"""From due client-meeting occurrences to outgoing messages: the agenda (the client's to the
client side and to the addresses that asked for agendas, the prep note to the team side)
and a client's action-item reminders (the client side). Reads only what the due-step has
loaded; no I/O.

Room: schedule."""

from __future__ import annotations

from collections.abc import Sequence

from bot.delivery.mailing_list import client_email, email_target
from bot.domain.meetings import AGENDA_KIND
from bot.domain.schedule import Occurrence
from bot.schedule.load import Content, Schedule
from bot.schedule.posts import Builder, Built, Outgoing, one, side
from bot.views.meeting_notes import action_reminder, client_agenda, team_prep

ACTION_PREFIX = "action-"


def agenda(schedule: Schedule, content: Content, group: Sequence[Occurrence]) -> Built:
    o = group[0]
    assert o.day is not None
    pid = o.project_id
    project = schedule.projects[pid]
    meeting = schedule.meetings[pid]
    data = content.agendas.data[pid]
    built = Built()
    client = client_agenda(project.name, project.timezone, o.day, meeting, data)
    for side_name, message in (
        ("client", client),
        ("team", team_prep(project.name, project.timezone, o.day, meeting, data)),
    ):
        target = side(schedule, pid, side_name)
        if target is not None:
            built.outgoing.append(Outgoing(target, message, o.key, pid))
    emailed = client_email(client)
    for address in content.agendas.emails.get(pid, []):
        built.outgoing.append(Outgoing(email_target(pid, address), emailed, o.key, pid))
    return built


def action_reminders(schedule: Schedule, content: Content, group: Sequence[Occurrence]) -> Built:
    """A project's client action items due the next working day or today: one message."""
    o = group[0]
    actions = {a.number: a for a in schedule.client_actions.get(o.project_id, [])}
    due = [
        (x.kind.removeprefix(ACTION_PREFIX), actions[x.subject_id])
        for x in group
        if x.subject_id in actions
    ]
    if not due:
        return Built()
    message = action_reminder(schedule.projects[o.project_id].name, due)
    return one(side(schedule, o.project_id, "client"), message, o)


def meeting_builder(o: Occurrence) -> Builder | None:
    if o.kind == AGENDA_KIND:
        return agenda
    if o.kind.startswith(ACTION_PREFIX):
        return action_reminders
    return None
