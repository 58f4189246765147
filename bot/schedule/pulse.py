"""Asking the client side for a pulse outside the schedule (`pulse now`, a client sign-off):
the occurrence claim, the pulse row and the question in the outbox, in the caller's
transaction. The scheduled pulse is the due-step's (`bot.schedule.posts.pulse`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import local_date
from bot.delivery import outbox
from bot.domain.pulse import DEFAULT_EVERY_WEEKS, DEFAULT_WEEKDAY
from bot.domain.schedule import occurrence_key
from bot.views.pulse_notes import question
from storage.models import ChannelLink, OccurrenceClaim, Project, Pulse, PulseConfig
from storage.upsert import insert_ignore


async def config_of(
    session: AsyncSession, project: Project, *, create: bool = False
) -> PulseConfig:
    """The project's pulse settings; the defaults (on) when none were set."""
    config = await session.get(PulseConfig, project.id)
    if config is None:
        config = PulseConfig(
            project_id=project.id,
            enabled=True,
            every_weeks=DEFAULT_EVERY_WEEKS,
            weekday=DEFAULT_WEEKDAY,
            after_signoff=True,
        )
        if create:
            session.add(config)
    return config


async def current_pulse(session: AsyncSession, project_id: int) -> Pulse | None:
    """The latest pulse: the one answers count for until the next is asked."""
    return await session.scalar(
        select(Pulse)
        .where(Pulse.project_id == project_id)
        .order_by(Pulse.asked_at.desc(), Pulse.id.desc())
        .limit(1)
    )


async def ask_pulse(session: AsyncSession, project: Project, now: datetime) -> Pulse | None:
    """Ask today's pulse unless it was asked (one a day, claimed like the scheduled one) or
    the project has no client side."""
    link = await session.scalar(
        select(ChannelLink).where(
            ChannelLink.project_id == project.id, ChannelLink.side == "client"
        )
    )
    if link is None:
        return None
    day = local_date(now, project.timezone)
    key = occurrence_key("pulse", project.id, day)
    claimed = await insert_ignore(
        session,
        OccurrenceClaim,
        {
            "key": key,
            "project_id": project.id,
            "due_at": now,
            "claimed_at": now,
            "outcome": "queued",
        },
        ["key"],
    )
    if claimed is None:
        return None
    asked = Pulse(project_id=project.id, asked_on=day, asked_at=now)
    session.add(asked)
    outbox.enqueue(
        session,
        project_id=project.id,
        platform=link.platform,
        tenant=link.tenant,
        channel_id=link.channel_id,
        target_kind="channel",
        message=question(project.name, day),
        now=now,
        occurrence_key=key,
    )
    await session.flush()
    return asked


async def ask_after_signoff(session: AsyncSession, project: Project, now: datetime) -> None:
    config = await config_of(session, project)
    if config.enabled and config.after_signoff:
        await ask_pulse(session, project, now)
