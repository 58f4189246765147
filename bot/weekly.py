"""The weekly report occurrence: the client report into the client side and the internal
report into the team side. Built by the reports module one project at a time, so each
report is claimed and written in a transaction of its own (claim + outbox rows together)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.schedule import Occurrence
from bot.outbox import enqueue
from bot.report_data import build_report
from storage.models import ChannelLink, OccurrenceClaim, Project

log = logging.getLogger("liaison.due")
SIDES = (("client", "client"), ("team", "internal"))


async def post_weekly_report(
    sessions: async_sessionmaker[AsyncSession], occurrence: Occurrence, now: datetime
) -> tuple[str, int]:
    """Claim one weekly report and queue it: (claim outcome, messages queued)."""
    try:
        async with sessions() as session, session.begin():
            claim = OccurrenceClaim(
                key=occurrence.key,
                project_id=occurrence.project_id,
                due_at=occurrence.due_at,
                claimed_at=now,
                outcome="queued",
            )
            session.add(claim)
            await session.flush()  # the claim first: a second process stops here
            project = await session.get(Project, occurrence.project_id)
            assert project is not None and occurrence.day is not None
            links = {
                link.side: link
                for link in await session.scalars(
                    select(ChannelLink).where(ChannelLink.project_id == project.id)
                )
            }
            queued = 0
            for side, audience in SIDES:
                link = links.get(side)
                if link is None:
                    continue
                message = await build_report(session, project, occurrence.day, audience)
                enqueue(
                    session,
                    project_id=project.id,
                    platform=link.platform,
                    tenant=link.tenant,
                    channel_id=link.channel_id,
                    target_kind="channel",
                    message=message,
                    now=now,
                    occurrence_key=occurrence.key,
                )
                queued += 1
            claim.outcome = "queued" if queued else "empty"
            return claim.outcome, queued
    except IntegrityError:
        return "taken", 0
    except Exception:
        log.exception("could not build the weekly report %s", occurrence.key)
        await _record_error(sessions, occurrence, now)
        return "error", 0


async def _record_error(
    sessions: async_sessionmaker[AsyncSession], occurrence: Occurrence, now: datetime
) -> None:
    try:
        async with sessions() as session, session.begin():
            session.add(
                OccurrenceClaim(
                    key=occurrence.key,
                    project_id=occurrence.project_id,
                    due_at=occurrence.due_at,
                    claimed_at=now,
                    outcome="error",
                )
            )
    except IntegrityError:
        pass
