"""What a project's end says: the final report (team), the closing summary with the final
survey (client, built from client-safe facts only: titles, days and each approved change's
own agreed price), the retrospective prompt and the retrospective's answers (team).

Room: views."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from bot.domain.closeout_rules import FinalFigures, percent_of
from bot.domain.schedule import zone as zone_info
from bot.messages import (
    Block,
    Context,
    Facts,
    Field,
    Form,
    Heading,
    Item,
    Items,
    Message,
    Text,
)
from storage.models import ChangeRequest, RetroAnswer

NO_PULSE = "no pulse yet"
SURVEY_FIELDS = (
    Field("satisfaction", "How satisfied are you with the project? (1-5)", multiline=False),
    Field("recommend", "How likely are you to recommend us? (0-10)", multiline=False),
    Field("comment", "Anything you would like to add? (optional)"),
)
RETRO_FIELDS = (
    Field("went_well", "What went well?"),
    Field("would_change", "What would you change?"),
)


def money(currency: str, amount: Decimal) -> str:
    return f"{currency} {amount:,.2f}"


def final_report(f: FinalFigures) -> Message:
    blocks: list[Block] = [
        Heading(f"Final report: {f.name}"),
        Context(f"Internal. Closed on {f.delivered_on}."),
        Heading("Budget"),
        Facts(_budget_facts(f)),
        Heading("Schedule"),
        Facts(_schedule_facts(f)),
        Heading("Delivery"),
        Facts(_delivery_facts(f)),
        Heading("Time logged"),
        Items(
            tuple(Item(f"{p.name}: {p.hours:.2f}h", "info") for p in f.time),
            empty="No time was logged.",
        ),
        Heading("Client"),
        Facts(_client_facts(f)),
    ]
    return Message(tuple(blocks), audience="internal")


def _budget_facts(f: FinalFigures) -> tuple[tuple[str, str], ...]:
    spent = ("Spent", money(f.currency, f.spent))
    if f.budget is None or f.variance is None:
        return (("Budget", "none set"), spent)
    variance = f.variance
    word = "under budget" if variance >= 0 else "over budget"
    return (
        ("Budget", money(f.currency, f.budget)),
        spent,
        ("Variance", f"{money(f.currency, abs(variance))} {word}"),
    )


def _schedule_facts(f: FinalFigures) -> tuple[tuple[str, str], ...]:
    delivered = ("Delivered", f.delivered_on.isoformat())
    if f.due_date is None or f.days_late is None:
        return (("Due", "no due date"), delivered)
    late = f.days_late
    verdict = (
        "on the due date"
        if late == 0
        else (f"{late} days late" if late > 0 else f"{-late} days early")
    )
    return (("Due", f.due_date.isoformat()), delivered, ("Against the due date", verdict))


def _delivery_facts(f: FinalFigures) -> tuple[tuple[str, str], ...]:
    delivered = f.on_time + f.late
    facts = [
        ("Milestones on time", f"{f.on_time} of {delivered} ({percent_of(f.on_time, delivered)}%)"),
        ("Milestones late", f"{f.late} of {delivered} ({percent_of(f.late, delivered)}%)"),
    ]
    if f.undelivered:
        facts.append(("Milestones not delivered", str(f.undelivered)))
    facts += [
        ("Tasks done", f"{f.tasks_done} ({f.tasks_open} left open)"),
        (
            "Changes approved",
            f"{f.changes_approved}: {money(f.currency, f.changes_cost)}, {f.changes_days} days",
        ),
        ("Hours logged", f"{f.hours:.2f}h"),
    ]
    return tuple(facts)


def _client_facts(f: FinalFigures) -> tuple[tuple[str, str], ...]:
    # The pulse (issue 14 part 1) lands separately; until it does there is none to average.
    facts = [("Pulse average", NO_PULSE)]
    s = f.survey
    if s is None:
        return (*facts, ("Final survey", "no answer yet"))
    facts += [
        ("Final survey", f"{s.answers} answer{'s' if s.answers != 1 else ''}"),
        ("Satisfaction", f"{s.satisfaction} of 5"),
        ("Would recommend", f"{s.recommend} of 10"),
    ]
    facts += [(f"Comment from {who}", text) for who, text in s.comments]
    return tuple(facts)


def closing_summary(
    project_name: str,
    client_name: str,
    closed_on: date,
    signed_off: Sequence[str],
    changes: Sequence[ChangeRequest],
    currency: str,
) -> Message:
    """For the client: what was delivered and agreed, a thank-you and the final survey."""
    blocks: list[Block] = [
        Heading(f"{project_name} is complete"),
        Text(f"Thank you, {client_name}, for working with us on {project_name}."),
        Heading("Deliverables signed off"),
        Items(tuple(Item(t, "done") for t in signed_off), empty="No deliverables were signed off."),
        Heading("Approved scope changes"),
        Items(
            tuple(
                Item(f"{c.title}: {c.days} days, {money(currency, c.cost)}", "done")
                for c in changes
            ),
            empty="No scope changes.",
        ),
        Heading("One last question"),
        Text(
            "How satisfied are you with the project (1-5), and how likely are you to "
            'recommend us (0-10)? Answer here, or type `survey 5 9 "a comment"` (the '
            "comment is optional)."
        ),
        Form(SURVEY_FIELDS, "Send", "survey"),
        Context(f"Closed on {closed_on}."),
    ]
    return Message(tuple(blocks), audience="client")


def retro_prompt(project_name: str, until: datetime, zone: str) -> Message:
    local = until.astimezone(zone_info(zone))
    return Message(
        (
            Heading(f"Retrospective: {project_name}"),
            Text(
                f'Answer by {local:%a %d %b %H:%M} here, or type `retro "what went well" '
                f'"what you would change" project:"{project_name}"`.'
            ),
            Form(RETRO_FIELDS, "Send", "retro", f'project:"{project_name}"'),
            Context("Your answers go to the team channel together; never to the client."),
        ),
        audience="internal",
    )


def retro_digest(project_name: str, answers: Sequence[tuple[str, RetroAnswer]]) -> Message:
    items: list[Item] = []
    for who, a in answers:
        items.append(Item(f"{who}, went well: {a.went_well}", "done"))
        items.append(Item(f"{who}, would change: {a.would_change}", "info"))
    return Message(
        (
            Heading(f"Retrospective: {project_name}"),
            Items(tuple(items), empty="Nobody answered the retrospective."),
        ),
        audience="internal",
    )
