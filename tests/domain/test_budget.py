"""Budget rules as pure functions: no database."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.budget import (
    LedgerFigures,
    burn_percent,
    burn_rate_per_day,
    crossed_thresholds,
    days_elapsed,
    forecast_run_out_date,
    parse_thresholds,
    projected_spend,
    runs_out_before_due,
    summarise,
)

D = Decimal
START = date(2026, 12, 1)


def test_days_elapsed_counts_the_first_day_and_is_never_zero() -> None:
    assert days_elapsed(START, START) == 1
    assert days_elapsed(START, date(2026, 12, 10)) == 10
    assert days_elapsed(START, date(2026, 11, 20)) == 1  # a start date in the future


def test_burn_percent_rounds_down_and_needs_a_budget() -> None:
    assert burn_percent(D("2500.00"), D("10000.00")) == D("25.0")
    assert burn_percent(D("9999.99"), D("10000.00")) == D("99.9")
    assert burn_percent(D("12000.00"), D("10000.00")) == D("120.0")
    assert burn_percent(D("100.00"), None) is None
    assert burn_percent(D("100.00"), D("0")) is None


def test_burn_rate_is_spend_per_calendar_day_to_the_cent() -> None:
    assert burn_rate_per_day(D("1000.00"), 3) == D("333.33")
    assert burn_rate_per_day(D("1000.00"), 6) == D("166.67")
    assert burn_rate_per_day(D("0.00"), 1) == D("0.00")


def test_forecast_run_out_date() -> None:
    today = date(2026, 12, 10)
    # 1,000 over 10 days = 100/day; 500 left lasts 5 more days.
    assert forecast_run_out_date(D("1500"), D("1000"), 10, today) == date(2026, 12, 15)
    # A part day still counts as the day the money runs out.
    assert forecast_run_out_date(D("1550"), D("1000"), 10, today) == date(2026, 12, 16)
    assert forecast_run_out_date(D("1000"), D("1000"), 10, today) == today
    assert forecast_run_out_date(D("900"), D("1000"), 10, today) == today
    assert forecast_run_out_date(D("1000"), D("0"), 10, today) is None
    assert forecast_run_out_date(None, D("1000"), 10, today) is None
    # A trickle against a huge budget stays a date (or None past the calendar's end).
    assert forecast_run_out_date(D("1000000000"), D("0.01"), 1, today) is None


def test_runs_out_before_due() -> None:
    assert runs_out_before_due(date(2027, 1, 1), date(2027, 2, 1))
    assert not runs_out_before_due(date(2027, 2, 1), date(2027, 2, 1))
    assert not runs_out_before_due(None, date(2027, 2, 1))
    assert not runs_out_before_due(date(2027, 1, 1), None)


def test_projected_spend_at_the_due_date() -> None:
    assert projected_spend(D("1000"), 10, date(2026, 12, 10), date(2026, 12, 20)) == D("2000.00")
    assert projected_spend(D("1000"), 10, date(2026, 12, 10), date(2026, 12, 1)) == D("1000.00")
    assert projected_spend(D("1000"), 10, date(2026, 12, 10), None) is None


def test_thresholds() -> None:
    assert parse_thresholds("50,75,90,100") == [50, 75, 90, 100]
    assert parse_thresholds(" 90, 50,x,") == [50, 90]
    assert crossed_thresholds(D("80.0"), [50, 75, 90, 100]) == [50, 75]
    assert crossed_thresholds(D("99.9"), [100]) == []
    assert crossed_thresholds(None, [50]) == []


def test_summarise_adds_expenses_and_time_to_the_cent() -> None:
    figures = LedgerFigures(
        currency="EUR",
        budget=D("10000.00"),
        start_date=START,
        due_date=date(2027, 1, 31),
        by_category=(("travel", D("250.10")), ("software", D("1200.00"))),
        by_person=(("bob", D("4.50"), D("540.00")), ("cat", D("2.00"), D("0.00"))),
    )
    summary = summarise(figures, date(2026, 12, 10))
    assert summary.expenses == D("1450.10")
    assert summary.time_cost == D("540.00")
    assert summary.hours == D("6.50")
    assert summary.spent == D("1990.10")
    assert summary.remaining == D("8009.90")
    assert summary.burn_percent == D("19.9")
    assert summary.days_elapsed == 10
    assert summary.burn_rate_per_day == D("199.01")
    # 8,009.90 left at 199.01/day lasts 40.25 days -> the 41st day after today.
    assert summary.forecast_run_out == date(2026, 12, 10) + timedelta(days=41)
    assert summary.runs_out_before_due
    assert summary.by_category[0] == ("software", D("1200.00"))
    assert summary.by_person[0][0] == "bob"
    # At 199.01/day until 2027-01-31 it spends 12,338.62: 2,338.62 over.
    assert summary.projected_at_due == D("12338.62")
    assert summary.forecast_overrun == D("2338.62")
    assert not summary.over_budget


def test_summarise_without_budget_or_spend() -> None:
    summary = summarise(LedgerFigures("USD", None, START, None), START)
    assert summary.spent == D("0.00") and summary.remaining is None
    assert summary.burn_percent is None and summary.forecast_run_out is None
    assert not summary.runs_out_before_due and summary.burn_rate_per_day == D("0.00")


@settings(max_examples=60)
@given(
    budget=st.decimals(min_value=1, max_value=10**7, places=2),
    spent=st.decimals(min_value=D("0.01"), max_value=10**7, places=2),
    days=st.integers(min_value=1, max_value=2000),
)
def test_forecast_is_the_first_day_the_money_is_gone(
    budget: Decimal, spent: Decimal, days: int
) -> None:
    today = date(2026, 12, 10)
    run_out = forecast_run_out_date(budget, spent, days, today)
    if run_out is None:  # only when it lies beyond the calendar's last day
        assert (budget - spent) * days / spent > (date.max - today).days
        return
    assert run_out >= today
    ahead = (run_out - today).days
    # Spend by then, spent * (days + ahead) / days, reaches the budget; a day earlier not.
    assert spent * (days + ahead) >= budget * days
    if ahead > 0:
        assert spent * (days + ahead - 1) < budget * days
