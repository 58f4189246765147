"""Time in one place: aware UTC now, and local dates in a zone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def local_date(moment: datetime, zone: str | None) -> date:
    return moment.astimezone(ZoneInfo(zone or "UTC")).date()
