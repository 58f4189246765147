"""Health, the client view and working days: pure functions over plain data."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.budget import LedgerFigures, summarise
from bot.domain.client_view import client_view
from bot.domain.health import assess, assess_for_client
from bot.domain.snapshot import (
    ChangeFacts,
    MilestoneFacts,
    ProjectSnapshot,
    RequestFacts,
    RiskFacts,
    TaskTotals,
)
from bot.domain.working_days import WorkCalendar
from bot.messages import message_to_dict
from bot.views.report_messages import client_report, client_status

TODAY = date(2026, 12, 1)  # a Tuesday


def snapshot(**changes: object) -> ProjectSnapshot:
    base = ProjectSnapshot(
        name="Acme Site",
        client_name="Acme",
        currency="USD",
        today=TODAY,
        due_date=date(2027, 3, 1),
    )
    return dataclasses.replace(base, **changes)


def budget(spent: str, total: str = "10000", start: date = date(2026, 11, 1)):  # noqa: ANN201
    figures = LedgerFigures(
        "USD", Decimal(total), start, date(2027, 3, 1), (("x", Decimal(spent)),)
    )
    return summarise(figures, TODAY)


def texts(health) -> list[str]:  # noqa: ANN001
    return [r.text for r in health.reasons]


def test_a_quiet_project_is_green() -> None:
    health = assess(snapshot(budget=budget("100")))
    assert health.level == "green" and health.reasons == ()


def test_each_rule_gives_its_reason_and_the_worst_level_wins() -> None:
    late = MilestoneFacts(1, "Alpha", TODAY - timedelta(days=3), False, False, False)
    risky = MilestoneFacts(2, "Beta", TODAY + timedelta(days=5), True, False, False, 3, 0, 1, 0)
    health = assess(
        snapshot(
            milestones=(late, risky),
            tasks=TaskTotals(open=5, overdue=2),
            risks=(RiskFacts(1, "Vendor", 3, 2, False),),
            budget=budget("6000"),
            requests=(RequestFacts(1, "Logo", "open", date(2026, 11, 25)),),
        )
    )
    assert health.level == "red"
    assert texts(health)[0] == 'Milestone "Alpha" is 3 days late'
    assert 'Milestone "Beta" (due 2026-12-06) is at risk: 1 blocked' in texts(health)
    assert "2 tasks overdue" in texts(health)
    assert any(t.startswith("At this burn rate the budget runs out on") for t in texts(health))
    assert '1 open high risk: "Vendor"' in texts(health)
    assert "Client request 1 has waited 4 working days for an answer" in texts(health)


def test_over_budget_is_red_and_a_forecast_overrun_amber() -> None:
    assert assess(snapshot(budget=budget("12000"))).reasons[0].text == (
        "Spend is over the budget by USD 2,000.00"
    )
    assert assess(snapshot(budget=budget("12000"))).level == "red"
    assert assess(snapshot(budget=budget("3000"))).level == "amber"


def test_risks_high_on_both_counts_are_red_lower_ones_do_not_count() -> None:
    assert assess(snapshot(risks=(RiskFacts(1, "A", 3, 3, False),))).level == "red"
    assert assess(snapshot(risks=(RiskFacts(1, "A", 2, 2, False),))).level == "green"


def test_the_client_health_ignores_money_internal_tasks_and_internal_risks() -> None:
    internal = MilestoneFacts(1, "QA", TODAY - timedelta(days=1), False, False, False)
    data = snapshot(
        milestones=(internal,),
        tasks=TaskTotals(open=3, overdue=3),
        risks=(RiskFacts(1, "Key person leaves", 3, 3, False),),
        budget=budget("50000"),
    )
    assert assess(data).level == "red"
    assert assess_for_client(data).level == "green"
    shared = dataclasses.replace(data, risks=(RiskFacts(2, "Content late", 3, 2, True),))
    assert texts(assess_for_client(shared)) == ['1 open high risk: "Content late"']


def test_client_view_holds_deliverables_scope_and_what_waits_on_the_client() -> None:
    data = snapshot(
        milestones=(
            MilestoneFacts(1, "Internal QA", TODAY, False, False, False),
            MilestoneFacts(2, "Beta", TODAY + timedelta(days=9), True, True, False),
            MilestoneFacts(3, "Launch", TODAY + timedelta(days=30), True, False, False, 2, 1, 0, 0),
        ),
        changes=(
            ChangeFacts(1, "Blog", Decimal("4000"), 5, "approved", TODAY, "carol"),
            ChangeFacts(2, "Dark mode", Decimal("777"), 1, "pending"),
        ),
        requests=(RequestFacts(4, "Logo", "task", TODAY, task_due=TODAY + timedelta(days=2)),),
        risks=(RiskFacts(1, "Secret", 3, 3, False), RiskFacts(2, "Shared", 1, 2, True, "Plan B")),
        budget=budget("100"),
    )
    view = client_view(data)
    assert [(d.title, d.state) for d in view.deliverables] == [
        ("Beta", "awaiting your sign-off"),
        ("Launch", "at risk"),
    ]
    assert [(c.number, c.days) for c in view.approved_scope] == [(1, 5)]
    assert view.waiting_on_client == (
        'Approve or decline change 2: "Dark mode" (type `changes` to see it)',
        'Sign off "Beta"',
    )
    assert view.requests[0].state == "planned for 2026-12-03"
    assert [r.title for r in view.risks] == ["Shared"]
    assert view.health.level == "amber"
    # Built from data: the projection has no field that could hold money.
    fields = {f.name for f in dataclasses.fields(view)}
    assert not fields & {"budget", "spent", "cost", "price", "rate", "margin"}
    for message in (client_report(data), client_status(data)):
        text = str(message_to_dict(message))
        assert message.audience == "client"
        assert "4000" not in text and "777" not in text and "Secret" not in text
        assert "Internal QA" not in text


def test_working_days_skip_weekends_and_holidays() -> None:
    calendar = WorkCalendar.of("1,2,3,4,5", "DE", range(2026, 2028))
    assert calendar.add(date(2026, 12, 23), 2) == date(2026, 12, 28)
    assert calendar.add(date(2026, 12, 23), 0) == date(2026, 12, 23)
    assert calendar.between(date(2026, 12, 23), date(2026, 12, 28)) == 2
    four_days = WorkCalendar(frozenset({1, 2, 3, 4}))
    assert four_days.add(date(2026, 12, 3), 1) == date(2026, 12, 7)  # Thu -> Mon


@settings(max_examples=60, deadline=None)
@given(
    start=st.dates(date(2026, 1, 1), date(2027, 12, 31)),
    days=st.integers(0, 60),
    weekdays=st.sets(st.integers(1, 7), min_size=1),
)
def test_adding_working_days_counts_back_the_same(
    start: date, days: int, weekdays: set[int]
) -> None:
    calendar = WorkCalendar(frozenset(weekdays))
    end = calendar.add(start, days)
    assert calendar.between(start, end) == days
    assert days == 0 or calendar.is_working(end)
