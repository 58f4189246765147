import contextlib
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine.parsing import (
    Args,
    check_line,
    parse_clock,
    parse_date,
    parse_date_range,
    parse_duration,
    parse_money,
    parse_timezone,
    tokenize,
)
from bot.errors import UserError

THURSDAY = date(2026, 11, 26)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-04", date(2026, 12, 4)),
        ("today", THURSDAY),
        ("tomorrow", date(2026, 11, 27)),
        ("fri", date(2026, 11, 27)),
        ("thu", THURSDAY),
        ("Friday", date(2026, 11, 27)),
        ("next tuesday", date(2026, 12, 1)),
        ("next-thu", date(2026, 12, 3)),
        ("in 3 days", date(2026, 11, 29)),
        ("in 2 weeks", date(2026, 12, 10)),
        ("in 1 month", date(2026, 12, 26)),
    ],
)
def test_dates_are_read_relative_to_today(text: str, expected: date) -> None:
    assert parse_date(text, THURSDAY) == expected


@pytest.mark.parametrize("text", ["2026-02-30", "someday", "next fooday", "in x days", ""])
def test_bad_dates_are_user_errors(text: str) -> None:
    with pytest.raises(UserError):
        parse_date(text, THURSDAY)


def test_date_range() -> None:
    assert parse_date_range("2026-12-24..2027-01-02", THURSDAY) == (
        date(2026, 12, 24),
        date(2027, 1, 2),
    )
    with pytest.raises(UserError, match="ends before"):
        parse_date_range("2027-01-02..2026-12-24", THURSDAY)


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("12,500", "12500.00", None),
        ("$1.2k", "1200.00", "USD"),
        ("EUR 900", "900.00", "EUR"),
        ("900 eur", "900.00", "EUR"),
        ("\u20ac19.99", "19.99", "EUR"),
        ("1.5m", "1500000.00", None),
        ("0.10", "0.10", None),
    ],
)
def test_money_is_exact_decimal(text: str, amount: str, currency: str | None) -> None:
    money = parse_money(text)
    assert money.amount == Decimal(amount)
    assert isinstance(money.amount, Decimal)
    assert money.currency == currency


@pytest.mark.parametrize(
    "text",
    ["-5", "1,2", "12.345", "abc", "XYZ 100", "5e3", "0", "2000000000", "USD 5 EUR", "9" * 30],
)
def test_bad_money_is_a_user_error(text: str) -> None:
    with pytest.raises(UserError):
        parse_money(text)


@pytest.mark.parametrize(
    ("text", "hours"),
    [("90m", "1.50"), ("1.5h", "1.50"), ("1h30m", "1.50"), ("2d", "16.00"), ("3h", "3.00")],
)
def test_durations_in_hours(text: str, hours: str) -> None:
    assert parse_duration(text) == Decimal(hours)


def test_a_day_is_the_projects_working_day() -> None:
    assert parse_duration("2d", Decimal("7.5")) == Decimal("15.00")


@pytest.mark.parametrize("text", ["3", "h", "0h", "-1h", "500h", "3hours2"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(UserError):
        parse_duration(text)


def test_time_zones_and_clock_times() -> None:
    assert parse_timezone("Europe/Berlin") == "Europe/Berlin"
    for bad in ["Mars/Olympus", "../etc/passwd", "Europe/"]:
        with pytest.raises(UserError):
            parse_timezone(bad)
    assert parse_clock("9:30") == "09:30"
    assert parse_clock("3pm") == "15:00"
    with pytest.raises(UserError):
        parse_clock("25:00")


def test_tokens_quotes_options_and_mentions() -> None:
    tokens = tokenize('task add "Wire frames" @bob <@U42|carol> due:"next tuesday" est:8h client')
    kinds = [(t.kind, t.value) for t in tokens]
    assert kinds == [
        ("word", "task"),
        ("word", "add"),
        ("quoted", "Wire frames"),
        ("mention", "@bob"),
        ("mention", "<@U42|carol>"),
        ("option", "next tuesday"),
        ("option", "8h"),
        ("word", "client"),
    ]
    assert tokens[4].mention is not None and tokens[4].mention.user_id == "U42"


def test_a_platform_mention_may_carry_a_name_with_spaces() -> None:
    tokens = tokenize("team add <@29:1abc|Bob Stone> role:member")
    assert [t.kind for t in tokens] == ["word", "word", "mention", "option"]
    assert tokens[2].mention is not None and tokens[2].mention.name == "Bob Stone"
    assert tokens[2].mention.user_id == "29:1abc"


def test_unquoted_phrase_after_an_option() -> None:
    tokens = tokenize("task due 3 due:in 3 days")
    assert tokens[-1].key == "due" and tokens[-1].value == "in 3 days"


def test_args_report_leftovers_and_missing_parts() -> None:
    args = Args.parse('"Beta" due:fri extra', usage="milestone add")
    assert args.text("title") == "Beta"
    assert args.option("due") == "fri"
    with pytest.raises(UserError, match="extra"):
        args.done()
    with pytest.raises(UserError, match="not closed"):
        tokenize('task add "unclosed')


def test_check_line_refuses_long_and_control_text() -> None:
    with pytest.raises(UserError, match="characters"):
        check_line("x" * 10_000)
    with pytest.raises(UserError, match="control"):
        check_line("status\x00")
    assert check_line("  status  ") == "status"


@settings(max_examples=2000, deadline=None)
@given(st.text(max_size=300))
def test_the_parser_raises_only_user_errors(text: str) -> None:
    try:
        args = Args.parse(check_line(text))
        args.text()
        args.mentions()
        args.option("due")
        args.done()
    except UserError:
        pass


@settings(max_examples=1000, deadline=None)
@given(st.text(max_size=40))
def test_value_parsers_raise_only_user_errors(text: str) -> None:
    for parse in (
        lambda: parse_date(text, THURSDAY),
        lambda: parse_money(text),
        lambda: parse_duration(text),
        lambda: parse_timezone(text),
        lambda: parse_clock(text),
        lambda: parse_date_range(text, THURSDAY),
    ):
        with contextlib.suppress(UserError):
            parse()
