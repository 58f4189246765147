"""Status and weekly report messages, built from a snapshot. Client messages are built only
from `client_view`, so they cannot carry what the projection leaves out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.domain.budget import BudgetSummary, format_money
from bot.domain.client_view import ClientView, client_view, waiting_on_client
from bot.domain.health import Health, assess, plural
from bot.domain.snapshot import LEVELS, ChangeFacts, MilestoneFacts, ProjectSnapshot
from bot.messages import Block, Context, Facts, Heading, Item, Items, ItemStatus, Message
from bot.views.pulse_notes import pulse_trend_blocks

UPCOMING = 3
REPORT_RISKS = 5


def health_blocks(health: Health) -> list[Block]:
    items = tuple(Item(r.text, r.level) for r in health.reasons) or (
        Item("Nothing needs attention", "green"),
    )
    return [Facts((("Health", health.level.upper()),)), Items(items)]


def due_fact(snapshot: ProjectSnapshot) -> tuple[str, str] | None:
    if snapshot.due_date is None:
        return None
    left = (snapshot.due_date - snapshot.today).days
    when = f"{left} days left" if left >= 0 else f"{-left} days ago"
    return ("Due", f"{snapshot.due_date.isoformat()} ({when})")


def milestone_item(m: MilestoneFacts, today: date) -> Item:
    signoff = ", client sign-off" if m.client_signoff else ""
    status: ItemStatus = "done" if m.done else ("overdue" if m.due < today else "due")
    return Item(f"{m.title} (due {m.due}{signoff})", status)


def budget_facts(budget: BudgetSummary | None) -> list[Block]:
    if budget is None or budget.budget is None:
        return [Heading("Budget"), Context("No budget set: `budget set AMOUNT`.")]
    money = budget.currency
    pairs = [
        ("Budget", format_money(budget.budget, money)),
        ("Spent", format_money(budget.spent, money)),
        ("Remaining", format_money(budget.remaining or 0, money)),
        ("Burn", f"{budget.burn_percent}%"),
        ("Burn rate", f"{format_money(budget.burn_rate_per_day, money)} a day"),
    ]
    if budget.forecast_run_out:
        pairs.append(("Money runs out", budget.forecast_run_out.isoformat()))
    return [Heading("Budget"), Facts(tuple(pairs))]


def attention_items(snapshot: ProjectSnapshot) -> Items:
    items = []
    for t in snapshot.attention:
        owner = f" @{t.owner}" if t.owner else ""
        if t.status == "blocked":
            why = f": {t.blocked_reason}" if t.blocked_reason else ""
            items.append(Item(f"Task {t.number} {t.title}{owner} is blocked{why}", "blocked"))
        else:
            items.append(Item(f"Task {t.number} {t.title}{owner} was due {t.due}", "overdue"))
    items += [Item(text, "info") for text in waiting_on_client(snapshot)]
    return Items(tuple(items), empty="Nothing is blocked.")


def internal_status(snapshot: ProjectSnapshot) -> Message:
    upcoming = [m for m in snapshot.milestones if not m.done][:UPCOMING]
    facts = [("Client", snapshot.client_name)]
    facts += [f for f in [due_fact(snapshot)] if f]
    facts.append(("Tasks", f"{snapshot.tasks.open} open, {snapshot.tasks.done} done"))
    blocks: list[Block] = [Heading(f"{snapshot.name}: status"), Facts(tuple(facts))]
    blocks += health_blocks(assess(snapshot))
    blocks += [
        Heading("Next milestones"),
        Items(
            tuple(milestone_item(m, snapshot.today) for m in upcoming), empty="No open milestones."
        ),
        Heading("Blocked or waiting"),
        attention_items(snapshot),
    ]
    blocks += budget_facts(snapshot.budget)
    return Message(tuple(blocks), audience="internal")


def client_status(snapshot: ProjectSnapshot, links: Sequence[tuple[str, str]] = ()) -> Message:
    """`links`: the client-flagged document links, (label, url)."""
    view = client_view(snapshot)
    facts = [("Client", view.client)] + [f for f in [due_fact(snapshot)] if f]
    blocks: list[Block] = [Heading(f"{view.project}: status"), Facts(tuple(facts))]
    blocks += health_blocks(view.health)
    blocks += [
        Heading("Next deliverables"),
        Items(
            tuple(
                Item(f"{d.title} (due {d.due}): {d.state}", "due") for d in view.next_deliverables
            ),
            empty="No deliverables are scheduled.",
        ),
        Heading("Waiting on you"),
        Items(tuple(Item(w, "info") for w in view.waiting_on_client), empty="Nothing right now."),
    ]
    blocks += links_blocks(links)
    return Message(tuple(blocks), audience="client")


def links_blocks(links: Sequence[tuple[str, str]]) -> list[Block]:
    """Document links, (label, url), under their heading; nothing when there are none."""
    if not links:
        return []
    return [Heading("Links"), Items(tuple(Item(f"{k}: {u}", "info") for k, u in links))]


def internal_report(snapshot: ProjectSnapshot) -> Message:
    tasks = snapshot.tasks
    today = snapshot.today.isoformat()
    blocks: list[Block] = [
        Heading(f"Weekly report: {snapshot.name}"),
        Context(f"Internal. Week ending {today}, for the team."),
    ]
    blocks += health_blocks(assess(snapshot))
    progress = (
        ("Done this week", plural(tasks.done_this_week, "task")),
        ("Open", plural(tasks.open, "task")),
        ("Overdue", str(tasks.overdue)),
        ("Blocked", str(tasks.blocked)),
    )
    blocks += [Heading("Progress"), Facts(progress)]
    blocks += [
        Heading("Milestones"),
        Items(
            tuple(milestone_item(m, snapshot.today) for m in snapshot.milestones),
            empty="No milestones yet.",
        ),
        Heading("Blocked or waiting"),
        attention_items(snapshot),
        Heading("Top risks"),
        Items(
            tuple(
                Item(
                    f"Risk {r.number} {r.title} ({LEVELS[r.likelihood]} x {LEVELS[r.impact]})"
                    + ("" if r.client_visible else ", internal"),
                    "red" if r.high else "info",
                )
                for r in snapshot.risks[:REPORT_RISKS]
            ),
            empty="No open risks.",
        ),
        Heading("Scope"),
        Items(tuple(_change_item(snapshot, c) for c in snapshot.changes), empty="No changes."),
        Heading("Decisions this week"),
        Items(
            tuple(
                Item(f"{d.decided_on} {d.title} ({d.decided_by})", "info")
                for d in snapshot.decisions
            ),
            empty="None recorded.",
        ),
    ]
    blocks += pulse_trend_blocks(snapshot.pulse)
    blocks += budget_facts(snapshot.budget)
    return Message(tuple(blocks), audience="internal")


def _change_item(snapshot: ProjectSnapshot, change: ChangeFacts) -> Item:
    price = format_money(change.price, snapshot.currency)
    text = f"Change {change.number} {change.title}: {price}, {change.days} days, {change.status}"
    status: ItemStatus = "done" if change.status == "approved" else "open"
    return Item(text, "info" if change.status == "declined" else status)


def client_report(snapshot: ProjectSnapshot) -> Message:
    return client_report_of(client_view(snapshot))


def client_report_of(view: ClientView) -> Message:
    blocks: list[Block] = [
        Heading(f"Weekly update: {view.project}"),
        Context(f"For {view.client}, week ending {view.today}."),
    ]
    blocks += health_blocks(view.health)
    if view.due_date:
        blocks.append(Facts((("Delivery date", view.due_date.isoformat()),)))
    scope = tuple(
        Item(
            f"Change {c.number} {c.title} (+{c.days} working days), approved {c.approved_on}",
            "done",
        )
        for c in view.approved_scope
    )
    blocks += [
        Heading("Deliverables"),
        Items(
            tuple(Item(f"{d.title} (due {d.due}): {d.state}", "due") for d in view.deliverables),
            empty="No deliverables are scheduled yet.",
        ),
        Heading("Approved changes to the scope"),
        Items(scope, empty="None so far."),
        Heading("Waiting on you"),
        Items(tuple(Item(w, "info") for w in view.waiting_on_client), empty="Nothing right now."),
        Heading("Your requests"),
        Items(
            tuple(Item(f"Request {r.number} {r.text}: {r.state}", "info") for r in view.requests),
            empty="No open requests.",
        ),
    ]
    if view.risks:
        risks = tuple(
            Item(f"{r.title} ({r.rating})" + (f": {r.mitigation}" if r.mitigation else ""), "info")
            for r in view.risks
        )
        blocks += [Heading("Risks we are watching with you"), Items(risks)]
    return Message(tuple(blocks), audience="client")
