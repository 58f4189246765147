"""Status and weekly report messages from snapshots (`bot.views.snapshots` reads them).

`build_report` and `build_status` serve the commands; the scheduler loads the snapshots of
every project whose report is due at once and builds each with `report_message`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.snapshot import ProjectSnapshot, client_part
from bot.messages import Audience, Message
from bot.views import report_messages as report_views
from bot.views.charts import attach, load_daily_spend, report_charts
from bot.views.link_data import load_links
from bot.views.mood_data import MoodDay, load_mood_days, mood_blocks
from bot.views.snapshots import calendar_of, load_snapshot, load_snapshots
from storage.models import Project

__all__ = [
    "build_report",
    "build_status",
    "calendar_of",
    "load_snapshot",
    "load_snapshots",
    "report_message",
]


def report_message(
    project: Project,
    snapshot: ProjectSnapshot,
    audience: Audience,
    daily_spend: Iterable[tuple[date, Decimal]] = (),
    mood: list[MoodDay] | None = None,
) -> Message:
    """The weekly report for the team (`internal`) or the client (`client`), with its charts
    still to draw (`bot.views.drawing`). Given an internal snapshot, the client report
    reads only its client part. The team's mood goes in the internal report only."""
    if audience == "client":
        snapshot = client_part(snapshot)
        message = report_views.client_report(snapshot)
    else:
        message = report_views.internal_report(snapshot)
        message = attach(message, *mood_blocks(project.name, mood or []))
    return attach(message, *report_charts(project, snapshot, audience, daily_spend))


async def build_report(
    session: AsyncSession, project: Project, today: date, audience: Audience
) -> Message:
    """The weekly status report for a command's reply, its charts drawn where it is shown
    (`bot.views.drawing.draw_reply`)."""
    snapshot = await load_snapshot(session, project, today, audience)
    daily = await load_daily_spend(session, project.id) if snapshot.budget is not None else []
    mood = None
    if audience == "internal":
        first = today - timedelta(days=27)
        mood = (await load_mood_days(session, [project.id], first, today)).get(project.id)
    return report_message(project, snapshot, audience, daily, mood)


async def build_status(
    session: AsyncSession, project: Project, today: date, audience: Audience
) -> Message:
    snapshot = await load_snapshot(session, project, today, audience, for_status=True)
    if audience == "client":
        links = await load_links(session, project.id, client_only=True)
        return report_views.client_status(snapshot, [(k.label, k.url) for k in links])
    return report_views.internal_status(snapshot)
