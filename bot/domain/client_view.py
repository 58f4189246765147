"""The client-safe projection of a project. Pure.

It is built field by field from the snapshot, copying only what a client may read: the
deliverables they see and sign off, dates, the scope they approved, what waits on them,
their own requests, the risks shared with them and an overall health assessed from those.
It never holds costs, rates, margins, spend, the budget, internal tasks, internal risks or
internal notes; nothing here is made by deleting words from an internal text.

Change prices are deliberately left out too: the only amount a client ever reads is the
price on a change they are asked to approve (the approval card and `changes`), never in
status or reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.domain.health import Health, assess_for_client, milestone_at_risk
from bot.domain.snapshot import LEVELS as RISK_LEVELS
from bot.domain.snapshot import MilestoneFacts, ProjectSnapshot, RequestFacts, RiskFacts


@dataclass(frozen=True, slots=True)
class Deliverable:
    title: str
    due: date
    state: str  # late | at risk | on track | awaiting your sign-off | signed off


@dataclass(frozen=True, slots=True)
class ScopeChange:
    number: int
    title: str
    days: int
    approved_on: date | None


@dataclass(frozen=True, slots=True)
class SharedRisk:
    title: str
    rating: str
    mitigation: str | None


@dataclass(frozen=True, slots=True)
class RequestState:
    number: int
    text: str
    state: str


@dataclass(frozen=True, slots=True)
class ClientView:
    project: str
    client: str
    today: date
    due_date: date | None
    health: Health
    deliverables: tuple[Deliverable, ...]
    approved_scope: tuple[ScopeChange, ...]
    waiting_on_client: tuple[str, ...]
    requests: tuple[RequestState, ...]
    risks: tuple[SharedRisk, ...]

    @property
    def next_deliverables(self) -> tuple[Deliverable, ...]:
        upcoming = [d for d in self.deliverables if d.state not in ("signed off",)]
        return tuple(upcoming[:3])


def deliverable_state(m: MilestoneFacts, today: date) -> str:
    if m.done:
        return "signed off" if m.signed_off else "awaiting your sign-off"
    if m.due < today:
        return "late"
    return "at risk" if milestone_at_risk(m) else "on track"


def request_state(r: RequestFacts) -> str:
    if r.status == "answered":
        return f"answered: {r.answer}" if r.answer else "answered"
    if r.status == "task":
        if r.task_done:
            return "done"
        return f"planned for {r.task_due}" if r.task_due else "being worked on"
    if r.status == "change" and r.change_number is not None:
        if r.change_status == "pending":
            return f"needs your approval as change {r.change_number}"
        return f"{r.change_status} as change {r.change_number}"
    return "received; the team will get back to you"


def shared_risk(r: RiskFacts) -> SharedRisk:
    rating = f"likelihood {RISK_LEVELS[r.likelihood]}, impact {RISK_LEVELS[r.impact]}"
    return SharedRisk(r.title, rating, r.mitigation)


def waiting_on_client(snapshot: ProjectSnapshot) -> tuple[str, ...]:
    waiting = [
        f'Approve or decline change {c.number}: "{c.title}" (type `changes` to see it)'
        for c in snapshot.changes
        if c.status == "pending"
    ]
    waiting += [
        f'Sign off "{m.title}"'
        for m in snapshot.milestones
        if m.client_signoff and m.done and not m.signed_off
    ]
    return tuple(waiting)


def client_view(snapshot: ProjectSnapshot) -> ClientView:
    today = snapshot.today
    deliverables = tuple(
        Deliverable(m.title, m.due, deliverable_state(m, today))
        for m in sorted(snapshot.milestones, key=lambda m: (m.due, m.number))
        if m.client_signoff
    )
    approved = tuple(
        ScopeChange(c.number, c.title, c.days, c.decided_on)
        for c in snapshot.changes
        if c.status == "approved"
    )
    return ClientView(
        project=snapshot.name,
        client=snapshot.client_name,
        today=today,
        due_date=snapshot.due_date,
        health=assess_for_client(snapshot),
        deliverables=deliverables,
        approved_scope=approved,
        waiting_on_client=waiting_on_client(snapshot),
        requests=tuple(RequestState(r.number, r.text, request_state(r)) for r in snapshot.requests),
        risks=tuple(shared_risk(r) for r in snapshot.risks if r.client_visible),
    )
