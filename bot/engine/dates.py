"""Dates as people type them. The parser's fast path (bot.engine.parsing.parse_date: ISO dates and
our keywords) answers first; then the forms here (`eom`, `end of week`, `in 10 working
days`, `this friday`, numeric `12/24` by the asker's locale); then `dateparser`, imported
on first need, for the rest (`Mar 15`, `15 March`, `1st of March`).

Commands read dates through CommandContext.read_date, which knows the asker's day, locale
and the project's working calendar; `date_in_words` is how every reply says a date."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from bot.engine.parsing import WEEKDAYS, parse_date
from bot.errors import UserError

MAX_DATE_TEXT = 40  # longer than any date anyone types: refused before any library sees it
# Regions whose people write the month first (12/24 is 24 December); all others day first.
MONTH_FIRST_REGIONS = frozenset({"US", "PH", "FM", "MH", "PW", "GU", "AS", "PR", "VI", "UM"})
NUMERIC_RE = re.compile(r"^(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2}|\d{4}))?$")
WORKING_RE = re.compile(r"^in (\d{1,3}) (?:working|business|work) days?$")
END_OF = {
    "eom": "month", "end of month": "month", "end of the month": "month",
    "eow": "week", "end of week": "week", "end of the week": "week",
    "eoy": "year", "end of year": "year", "end of the year": "year",
}  # fmt: skip
DATE_HELP = "Try 2026-12-04, fri, Mar 15, end of month or in 3 days."


@dataclass(frozen=True, slots=True)
class DateRead:
    day: date
    # A numeric date both readings of which are real dates (3/4): say which one was taken.
    ambiguous: bool = False


def month_first(locale: str | None) -> bool:
    """`en-US` (and no locale at all) writes 12/24; `en-GB`, `de-DE` write 24/12."""
    if not locale:
        return True
    region = re.split(r"[-_]", locale.strip())[1:2]
    return (region[0].upper() in MONTH_FIRST_REGIONS) if region else locale.lower() == "en"


def read_date(
    text: str,
    today: date,
    *,
    locale: str | None = None,
    add_working_days: Callable[[date, int], date] | None = None,
) -> DateRead:
    """The date `text` names, read in the asker's day and locale; a UserError otherwise."""
    if len(text) > MAX_DATE_TEXT:
        raise UserError(f"I can't read `{text[:MAX_DATE_TEXT]}…` as a date. {DATE_HELP}")
    try:
        return DateRead(parse_date(text, today))
    except UserError as fast_path_miss:
        value = " ".join(text.lower().replace("-", " ").split())
        found = _our_forms(value, today, locale, add_working_days) or _library(value, today)
        if found is None:
            raise UserError(f"I can't read `{text}` as a date. {DATE_HELP}") from fast_path_miss
        return found


def _our_forms(
    value: str,
    today: date,
    locale: str | None,
    add_working_days: Callable[[date, int], date] | None,
) -> DateRead | None:
    if value in END_OF:
        return DateRead(end_of(END_OF[value], today))
    working = WORKING_RE.match(value)
    if working:
        count = int(working.group(1))
        return DateRead(add_working_days(today, count)) if add_working_days else None
    if value.startswith("this ") and value[5:] in WEEKDAYS:
        return DateRead(parse_date(value[5:], today))
    numeric = NUMERIC_RE.match(value)
    if numeric:
        return _numeric(value, numeric, today, locale)
    return None


def end_of(unit: str, today: date) -> date:
    if unit == "week":  # the working week's end: Friday (today, if today is Friday)
        return today + timedelta(days=(4 - today.weekday()) % 7)
    if unit == "year":
        return date(today.year, 12, 31)
    next_month = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    return next_month - timedelta(days=1)


def _numeric(text: str, match: re.Match[str], today: date, locale: str | None) -> DateRead:
    first, second, year_text = int(match.group(1)), int(match.group(2)), match.group(3)
    year = None if year_text is None else int(year_text) + (2000 if len(year_text) == 2 else 0)
    preferred = (first, second) if month_first(locale) else (second, first)
    readings = [r for r in (preferred, preferred[::-1]) if _real(year or today.year, *r)]
    if not readings:
        raise UserError(f"`{text}` is not a real date.")
    month, day = readings[0]
    ambiguous = len(readings) == 2 and first != second
    if year is not None:
        return DateRead(date(year, month, day), ambiguous)
    this_year = date(today.year, month, day) if _real(today.year, month, day) else None
    if this_year is not None and this_year >= today:
        return DateRead(this_year, ambiguous)
    return DateRead(_next_real(today.year + 1, month, day), ambiguous)


def _real(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _next_real(year: int, month: int, day: int) -> date:
    while not _real(year, month, day):  # 29 February: the next leap year
        year += 1
    return date(year, month, day)


def _library(value: str, today: date) -> DateRead | None:
    if not re.search(r"[a-z]", value) or not re.search(r"\d|" + _MONTHS_RE, value):
        # Numbers alone are read above; words without a month or a number are not a date
        # dateparser should guess at (`blue`, `soonish`).
        return None
    parsed = _dateparser()(
        value,
        languages=["en"],
        settings={
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": datetime(today.year, today.month, today.day),
            "PREFER_DAY_OF_MONTH": "first",
            "REQUIRE_PARTS": ["month", "day"],
            "STRICT_PARSING": False,
        },
    )
    return DateRead(parsed.date()) if parsed is not None else None


_MONTHS_RE = r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b"


@cache
def _dateparser() -> Callable[..., Any]:
    """dateparser takes a while to import: only the first date off the fast path pays it."""
    import dateparser

    return dateparser.parse


def date_in_words(day: date) -> str:
    """`Thu 24 Dec 2026`: how every reply that sets a date says it."""
    return f"{day:%a} {day.day} {day:%b %Y}"
