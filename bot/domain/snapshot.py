"""A project at one moment, as plain data: what health, reports and the client view read.

`bot.views.snapshots` fills it from the database in a fixed number of statements, for one
project or many."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from bot.domain.budget import BudgetSummary
from bot.domain.pulse import PulsePoint
from bot.domain.working_days import WorkCalendar

LEVELS = {1: "low", 2: "medium", 3: "high"}
HIGH_RISK_SCORE = 6  # likelihood x impact: high x medium and above


@dataclass(frozen=True, slots=True)
class MilestoneFacts:
    number: int
    title: str
    due: date
    client_signoff: bool  # a deliverable the client sees and signs off
    done: bool
    signed_off: bool
    open_tasks: int = 0
    overdue_tasks: int = 0
    blocked_tasks: int = 0
    late_tasks: int = 0  # open tasks due after the milestone itself


@dataclass(frozen=True, slots=True)
class TaskFacts:
    number: int
    title: str
    owner: str | None
    due: date | None
    status: str
    blocked_reason: str | None = None


@dataclass(frozen=True, slots=True)
class TaskTotals:
    open: int = 0
    done: int = 0
    overdue: int = 0
    blocked: int = 0
    done_this_week: int = 0


@dataclass(frozen=True, slots=True)
class RiskFacts:
    number: int
    title: str
    likelihood: int
    impact: int
    client_visible: bool
    mitigation: str | None = None
    owner: str | None = None
    review_on: date | None = None

    @property
    def score(self) -> int:
        return self.likelihood * self.impact

    @property
    def high(self) -> bool:
        return self.score >= HIGH_RISK_SCORE


@dataclass(frozen=True, slots=True)
class RequestFacts:
    number: int
    text: str
    status: str  # open | task | change | answered
    raised_on: date  # in the project's zone
    answer: str | None = None
    task_due: date | None = None
    task_done: bool = False
    change_number: int | None = None
    change_status: str | None = None


@dataclass(frozen=True, slots=True)
class ChangeFacts:
    number: int
    title: str
    price: Decimal  # what the client is asked to pay for it
    days: int
    status: str  # pending | approved | declined
    decided_on: date | None = None
    decided_by: str | None = None
    on_behalf: bool = False
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class DecisionFacts:
    title: str
    decided_by: str
    decided_on: date


@dataclass(frozen=True, slots=True)
class ProjectSnapshot:
    name: str
    client_name: str
    currency: str
    today: date
    due_date: date | None
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    milestones: tuple[MilestoneFacts, ...] = ()
    tasks: TaskTotals = field(default_factory=TaskTotals)
    attention: tuple[TaskFacts, ...] = ()  # overdue or blocked open tasks, first ones only
    risks: tuple[RiskFacts, ...] = ()  # open ones, highest score first (status: high ones)
    requests: tuple[RequestFacts, ...] = ()  # unanswered, and answered in the last weeks
    changes: tuple[ChangeFacts, ...] = ()
    decisions: tuple[DecisionFacts, ...] = ()  # this week's
    budget: BudgetSummary | None = None  # internal loads only; totals, no breakdowns
    pulse: tuple[PulsePoint, ...] = ()  # internal loads only: the last pulses, oldest first


def client_part(snapshot: ProjectSnapshot) -> ProjectSnapshot:
    """The same snapshot as a client load reads it: no budget, no internal task list, no
    decisions, and only the risks shared with the client."""
    return replace(
        snapshot,
        attention=(),
        decisions=(),
        budget=None,
        pulse=(),
        risks=tuple(r for r in snapshot.risks if r.client_visible),
    )
