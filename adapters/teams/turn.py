"""One Bot Framework turn: remember the conversation, run the engine, reply with cards."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime

from botbuilder.core import TurnContext
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.teams import inbound, references
from adapters.teams.render import render_activities
from adapters.teams.transport import delivery_error, post_activities
from bot.delivery import outbox
from bot.engine.engine import Engine
from bot.messages import Context, Heading, Message, Reply, Text

log = logging.getLogger("liaison.teams")


def greeting() -> Message:
    return Message(
        blocks=(
            Heading("Hi, I'm Liaison"),
            Text(
                "I keep a project's plan, budget, risks, changes and client requests, run the "
                "daily huddle, and post check-ins and status reports here."
            ),
            Text(
                'Start a project in your team\'s channel: `@Liaison project new "Name" '
                'client:"Client"`. In the channel you share with the client, run '
                "`@Liaison project link client`."
            ),
            Context("Type `help` (in a channel: `@Liaison help`) for everything I can do."),
        ),
        audience="client",
    )


class TeamsTurn:
    """The logic CloudAdapter runs for one inbound activity (its raw JSON kept at hand:
    the SDK's models drop fields that say who is a guest or from another tenant)."""

    def __init__(
        self,
        *,
        engine: Engine,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime],
        connector_key: str,
    ) -> None:
        self.engine = engine
        self.sessions = sessions
        self.clock = clock
        self.connector_key = connector_key

    async def run(self, context: TurnContext, activity: inbound.Activity) -> None:
        now = self.clock()
        reply = Reply()
        if activity.get("type") == "message":
            request = inbound.to_request(activity, received_at=now)
            if request is not None:
                reply = await self.engine.handle(request)
        # After the engine, which creates the person of a direct chat on first contact.
        async with self.sessions() as session, session.begin():
            before = await references.remember(session, activity, now)
        if inbound.bot_added(activity) and (before is None or not before.reachable):
            reply = Reply.of(greeting())
        await self._send(context, activity, reply.messages, now)

    async def _send(
        self,
        context: TurnContext,
        activity: inbound.Activity,
        messages: tuple[Message, ...],
        now: datetime,
    ) -> None:
        if not messages:
            return
        connector = context.turn_state[self.connector_key]
        reference = TurnContext.get_conversation_reference(context.activity)
        reference.activity_id = None
        reply_to = activity.get("id") if activity.get("type") == "message" else None
        for index, message in enumerate(messages):
            try:
                await post_activities(
                    connector, reference, render_activities(message), reply_to=reply_to
                )
            except Exception as error:  # every failure is logged and, if it may pass, queued
                await self._queue_unsent(activity, messages[index:], error, now)
                return

    async def _queue_unsent(
        self,
        activity: inbound.Activity,
        messages: tuple[Message, ...],
        error: Exception,
        now: datetime,
    ) -> None:
        failure = delivery_error(error)
        incident = uuid.uuid4().hex[:8]
        log.warning(
            "Teams reply failed: %s",
            failure.reason,
            extra={"incident": incident, "queued": not failure.permanent},
        )
        if failure.permanent:
            return
        place = inbound.place_of(activity)
        async with self.sessions() as session, session.begin():
            for message in messages:
                outbox.enqueue(
                    session,
                    project_id=None,
                    platform=inbound.PLATFORM,
                    tenant=place.tenant,
                    channel_id=place.channel_id,
                    target_kind=place.kind,
                    message=message,
                    now=now,
                )
