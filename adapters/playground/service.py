"""The playground as an adapter of the engine: a line typed or a button pressed on the page
becomes a `Request`, the engine answers, and the answer goes into the transcript.

It keeps its own clock (real time plus however far the page has travelled) and stamps it
on every request as `received_at`, so time travel never moves the clock of Slack or Teams
running in the same process."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.playground.people import (
    PLATFORM,
    TEAM_CHANNEL,
    build_request,
    places_of,
    speaker_named,
)
from adapters.playground.transcript import PlaygroundDeliverer, Transcript
from bot.clock import Clock, utc_now
from bot.delivery.workers import deliver_pending
from bot.engine.engine import Engine
from bot.engine.parsing import parse_clock, parse_date
from bot.errors import UserError
from bot.messages import Reply
from bot.requests import Action, Request
from bot.views.drawing import draw_reply
from storage.models import ChannelLink, Project

# Runs the scheduler's due-step for one instant (claims what is due, fills the outbox).
DueStep = Callable[[async_sessionmaker[AsyncSession], datetime], Awaitable[object]]


@dataclass
class PlaygroundClock:
    base: Clock = utc_now
    offset: timedelta = timedelta(0)

    def __call__(self) -> datetime:
        return self.base() + self.offset

    def travel_to(self, instant: datetime) -> None:
        if instant <= self():
            raise UserError("The playground only travels forward in time.")
        self.offset = instant - self.base()


@dataclass
class Playground:
    engine: Engine
    sessions: async_sessionmaker[AsyncSession]
    due_step: DueStep | None = None
    clock: PlaygroundClock = field(default_factory=PlaygroundClock)
    transcript: Transcript = field(default_factory=Transcript)
    # One conversation at a time, so the transcript reads in the order things happened.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # False leaves posts in the outbox for a playground served later (`liaison demo`).
    deliver_posts: bool = True

    def __post_init__(self) -> None:
        self._stamp: datetime | None = None
        self.deliverer = PlaygroundDeliverer(self.transcript, self._delivery_time)

    def _delivery_time(self) -> datetime:
        return self._stamp or self.clock()

    async def say(
        self, user_id: str, place: str, text: str, *, at: datetime | None = None
    ) -> Reply:
        """Run a typed line; `at` backdates it (the demo tells a project's first weeks)."""
        speaker = speaker_named(user_id)
        async with self.lock:
            at = at or self.clock()
            request = build_request(speaker, place, at=at, text=text)
            self.transcript.add_said(place, speaker.name, text, at)
            return await self._answer(user_id, place, request, at)

    async def press(
        self,
        user_id: str,
        place: str,
        action_id: str,
        value: str = "",
        fields: dict[str, str] | None = None,
    ) -> Reply:
        speaker = speaker_named(user_id)
        async with self.lock:
            at = self.clock()
            action = Action(action_id, value, dict(fields or {}))
            request = build_request(speaker, place, at=at, action=action)
            label = f"(pressed {action_id} {value}".rstrip() + ")"
            self.transcript.add_said(place, speaker.name, label, at)
            return await self._answer(user_id, place, request, at)

    async def _answer(self, user_id: str, place: str, request: Request, at: datetime) -> Reply:
        reply = await draw_reply(await self.engine.handle(request))
        for message in reply.messages:
            self.transcript.add_message(place, message, at, kind="reply", asker=user_id)
        if self.deliver_posts:
            await self._deliver(at)
        return reply

    async def deliver(self) -> int:
        """Deliver the playground's pending posts as of the playground's clock."""
        async with self.lock:
            return await self._deliver(self.clock())

    async def _deliver(self, at: datetime) -> int:
        self._stamp = at
        try:
            return await deliver_pending(self.sessions, {PLATFORM: self.deliverer}, at)
        finally:
            self._stamp = None

    def feed(self, user_id: str, after: int = 0) -> list[dict[str, object]]:
        places = places_of(speaker_named(user_id))
        return [e.to_json() for e in self.transcript.visible_to(user_id, places, after)]

    # --- time travel ---------------------------------------------------------------------

    async def project_zone(self) -> str:
        """The zone of the project whose team side is the playground's team channel."""
        async with self.sessions() as session:
            zone = await session.scalar(
                select(Project.timezone)
                .join(ChannelLink, ChannelLink.project_id == Project.id)
                .where(ChannelLink.platform == PLATFORM, ChannelLink.channel_id == TEAM_CHANNEL)
            )
        return zone or "UTC"

    async def instant(self, day: str, clock_time: str) -> datetime:
        """`tomorrow` + `09:00` in the project's zone, as an aware UTC datetime."""
        zone = ZoneInfo(await self.project_zone())
        local_now = self.clock().astimezone(zone)
        when = parse_date(day, local_now.date())
        hour, minute = (int(part) for part in parse_clock(clock_time).split(":"))
        local = datetime(when.year, when.month, when.day, hour, minute, tzinfo=zone)
        return local.astimezone(UTC)

    async def travel(self, day: str, clock_time: str) -> tuple[datetime, int]:
        """Move the playground's clock to that instant, run the scheduler's due-step there,
        and deliver what it produced; returns the instant and how many posts arrived."""
        if self.due_step is None:
            raise UserError("The scheduler is not available in this process.")
        at = await self.instant(day, clock_time)
        async with self.lock:
            self.clock.travel_to(at)
            await self.due_step(self.sessions, at)
            return at, await self._deliver(at)
