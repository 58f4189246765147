"""What client meetings say: the client agenda and the team's prep note, the minutes for each
side, a client's action-item reminder, and the meeting's settings. Built from plain data
(`bot.views.meeting_data`); no I/O.

The client agenda and the client minutes are built from the client-safe projection
(`client_view` of the snapshot's client part) and from client-shown rows only: no budget,
no price, no rate, no internal risk, no pulse, no internal note, no internal action item and
no decision (the decision log is the team's). The team's prep note adds, from the internal
snapshot, the budget, every open risk, the pulse trend and the overdue or blocked tasks.

Room: views."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.domain.budget import format_money
from bot.domain.client_view import client_view
from bot.domain.health import plural
from bot.domain.meetings import AGENDA_AHEAD, MeetingTimes
from bot.domain.snapshot import LEVELS, ProjectSnapshot, client_part
from bot.messages import Actions, Block, Button, Context, Facts, Heading, Item, Items, Message
from bot.views.meeting_data import ActionLine, AgendaData, MinutesData
from bot.views.notices import day_label
from bot.views.pulse_notes import pulse_trend_blocks
from bot.views.report_messages import attention_items, budget_facts, links_blocks, milestone_item

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _when(day: date, meeting: MeetingTimes, zone: str) -> str:
    return f"{day_label(day)}, {meeting.local_time} ({zone})"


def action_text(a: ActionLine, today: date | None = None) -> str:
    owner = f" @{a.owner}" if a.owner else " (no owner)"
    due = ""
    if a.due is not None:
        late = today is not None and not a.done and a.due < today
        due = f", due {a.due}" + (" (overdue)" if late else "")
    return f"{a.number}. {a.title}{owner}{due}"


def action_item(a: ActionLine, today: date | None = None, *, mark: bool = False) -> Item:
    text = action_text(a, today)
    if mark:
        text += "".join(
            f" ({m})" for m, on in (("client", a.client_owned), ("internal", a.internal)) if on
        )
    return Item(text, "done" if a.done else "open")


def client_actions(actions: Sequence[ActionLine]) -> list[ActionLine]:
    """What a client may read of the action items: the ones not kept internal."""
    return [a for a in actions if not a.internal]


def _age(raised: date, today: date) -> str:
    days = (today - raised).days
    return "today" if days <= 0 else plural(days, "day") + " ago"


def _open_requests(snapshot: ProjectSnapshot) -> Items:
    return Items(
        tuple(
            Item(
                f"Request {r.number} {r.text} (raised {_age(r.raised_on, snapshot.today)})", "open"
            )
            for r in snapshot.requests
            if r.status == "open"
        ),
        empty="No open requests.",
    )


def _questions(questions: Sequence[str]) -> list[Block]:
    return [
        Heading("Questions from the team"),
        Items(tuple(Item(q, "info") for q in questions), empty="None so far."),
    ]


def client_agenda(
    project_name: str, zone: str, day: date, meeting: MeetingTimes, data: AgendaData
) -> Message:
    snapshot = client_part(data.snapshot)
    view = client_view(snapshot)
    soon = snapshot.today + AGENDA_AHEAD
    mine = [a for a in client_actions(data.actions) if a.client_owned]
    blocks: list[Block] = [
        Heading(f"Agenda: {project_name} client meeting"),
        Context(f"{_when(day, meeting, zone)}, {meeting.length_minutes} minutes."),
        Heading("Milestones due in the next 14 days"),
        Items(
            tuple(
                Item(f"{d.title} (due {d.due}): {d.state}", "due")
                for d in view.deliverables
                if d.due <= soon and d.state not in ("signed off", "awaiting your sign-off")
            ),
            empty="None.",
        ),
        Heading("Waiting on your sign-off or approval"),
        Items(tuple(Item(w, "info") for w in view.waiting_on_client), empty="Nothing right now."),
        Heading("Your open requests"),
        _open_requests(snapshot),
        Heading("Your action items"),
        Items(tuple(action_item(a, snapshot.today) for a in mine), empty="None open."),
    ]
    if view.risks:
        risks = tuple(
            Item(f"{r.title} ({r.rating})" + (f": {r.mitigation}" if r.mitigation else ""), "info")
            for r in view.risks
        )
        blocks += [Heading("Risks we are watching with you"), Items(risks)]
    blocks += _questions(data.questions)
    blocks += links_blocks(data.client_links)
    return Message(tuple(blocks), audience="client")


def team_prep(
    project_name: str, zone: str, day: date, meeting: MeetingTimes, data: AgendaData
) -> Message:
    """The same agenda for the team, with what stays internal: every risk, the budget, the
    client pulse, overdue and blocked tasks, the change prices."""
    snapshot = data.snapshot
    soon = snapshot.today + AGENDA_AHEAD
    currency = snapshot.currency
    blocks: list[Block] = [
        Heading(f"Prep: {project_name} client meeting"),
        Context(
            f"Internal, for the team. {_when(day, meeting, zone)}. The client side got the "
            "agenda without the budget, internal risks, pulse and task list."
        ),
        Heading("Milestones due in the next 14 days"),
        Items(
            tuple(
                milestone_item(m, snapshot.today)
                for m in snapshot.milestones
                if not m.done and m.due <= soon
            ),
            empty="None.",
        ),
        Heading("Awaiting the client's sign-off"),
        Items(
            tuple(
                Item(f"{m.title} (due {m.due})", "info")
                for m in snapshot.milestones
                if m.client_signoff and m.done and not m.signed_off
            ),
            empty="None.",
        ),
        Heading("Changes awaiting the client's approval"),
        Items(
            tuple(
                Item(
                    f"Change {c.number} {c.title}: {format_money(c.price, currency)}, "
                    f"{plural(c.days, 'day')}",
                    "open",
                )
                for c in snapshot.changes
                if c.status == "pending"
            ),
            empty="None.",
        ),
        Heading("Open client requests"),
        _open_requests(snapshot),
        Heading("Open action items"),
        Items(
            tuple(action_item(a, snapshot.today, mark=True) for a in data.actions),
            empty="None open.",
        ),
        Heading("Risks"),
        Items(
            tuple(
                Item(
                    f"Risk {r.number} {r.title} ({LEVELS[r.likelihood]} x {LEVELS[r.impact]})"
                    + ("" if r.client_visible else ", internal"),
                    "red" if r.high else "info",
                )
                for r in snapshot.risks
            ),
            empty="No open risks.",
        ),
        *_questions(data.questions),
        Heading("Overdue, blocked or waiting"),
        attention_items(snapshot),
    ]
    blocks += pulse_trend_blocks(snapshot.pulse)
    blocks += budget_facts(snapshot.budget)
    return Message(tuple(blocks), audience="internal")


def minutes(project_name: str, day: date, data: MinutesData, audience: str) -> Message:
    """The minutes for the client (`client`: shown notes and action items only) or the team."""
    client = audience == "client"
    notes = [n for n in data.notes if not (client and n.internal)]
    actions = client_actions(data.actions) if client else list(data.actions)
    blocks: list[Block] = [
        Heading(f"Minutes: {project_name} client meeting, {day_label(day)}"),
        Heading("Notes"),
        Items(
            tuple(
                Item(n.text + ("" if client or not n.internal else " (internal)"), "info")
                for n in notes
            ),
            empty="No notes.",
        ),
        Heading("Action items"),
        Items(
            tuple(action_item(a, day, mark=not client) for a in actions), empty="No action items."
        ),
    ]
    if not client:
        blocks += [
            Heading("Decisions"),
            Items(tuple(Item(d, "info") for d in data.decisions), empty="None recorded."),
            Context("The client side got the notes and action items not marked internal."),
        ]
    return Message(tuple(blocks), audience="client" if client else "internal")


def action_reminder(project_name: str, due: Sequence[tuple[str, ActionLine]]) -> Message:
    """The client side, about the client's own action items due tomorrow or today."""
    items = tuple(
        Item(action_text(a) + (" (due today)" if phase == "today" else " (due next)"), "due")
        for phase, a in due
    )
    buttons = tuple(Button(f"Mark {a.number} done", "action done", str(a.number)) for _, a in due)
    return Message(
        (
            Heading(f"Action items due: {project_name}"),
            Items(items),
            Actions(buttons),
            Context("When done: " + ", ".join(f"`action done {a.number}`" for _, a in due)),
        ),
        audience="client",
    )


def meeting_facts(
    meeting: MeetingTimes, zone: str, upcoming: date | None, skipped: Sequence[date]
) -> Facts:
    every = "every week" if meeting.every_weeks == 1 else f"every {meeting.every_weeks} weeks"
    pairs = [
        ("When", f"{every} on {DAY_NAMES[meeting.weekday - 1]} at {meeting.local_time} ({zone})"),
        ("Length", f"{meeting.length_minutes} minutes"),
        ("Agenda", f"{meeting.agenda_minutes} minutes before, on working days"),
        ("Next", day_label(upcoming) + f" {upcoming.year}" if upcoming else "none planned"),
    ]
    if skipped:
        pairs.append(("Skipped", ", ".join(d.isoformat() for d in skipped)))
    return Facts(tuple(pairs))
