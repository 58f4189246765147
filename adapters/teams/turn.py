"""One Bot Framework turn: remember the conversation, run the engine, reply with cards."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime

from botbuilder.core import TurnContext
from botbuilder.schema import ConversationReference
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.teams import inbound, members, private, references
from adapters.teams.auth import ServiceUrls
from adapters.teams.render import render_activities
from adapters.teams.transport import delivery_error, post_activities
from bot.delivery import outbox
from bot.engine.engine import Engine
from bot.messages import Context, Heading, Message, Reply, Text
from bot.views.drawing import draw_reply

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
        allowed: ServiceUrls,
    ) -> None:
        self.engine = engine
        self.sessions = sessions
        self.clock = clock
        self.connector_key = connector_key
        self.allowed = allowed

    async def run(
        self, context: TurnContext, activity: inbound.Activity, *, authenticated: bool
    ) -> None:
        now = self.clock()
        # Our token goes with every call to the connector: only to Microsoft's hosts.
        reachable = not authenticated or self.allowed.allowed(activity.get("serviceUrl"))
        if not reachable:
            log.warning("Teams: the activity's serviceUrl is not a Bot Connector host; no reply")
        reply = Reply()
        role: str | None = None
        if activity.get("type") == "message":
            request = inbound.to_request(activity, received_at=now)
            if request is not None:
                if authenticated:
                    role = await self._member_role(context, activity, reachable=reachable)
                    request = members.with_role(request, role)
                reply = await draw_reply(await self.engine.handle(request))
        if not authenticated:
            # The emulator: answer in the turn, keep nothing anyone could post to later.
            if inbound.bot_added(activity):
                reply = Reply.of(greeting())
            await self._send(context, activity, reply.messages, now, remember=False)
            return
        # After the engine, which creates the person of a direct chat on first contact.
        async with self.sessions() as session, session.begin():
            before = await references.remember(session, activity, now)
            if role is not None:
                await members.cache_role(session, inbound.actor_of(activity).user_id, role)
        if inbound.bot_added(activity) and (before is None or not before.reachable):
            reply = Reply.of(greeting())
        if reachable:
            await self._send(context, activity, reply.messages, now, remember=True)

    async def _member_role(
        self, context: TurnContext, activity: inbound.Activity, *, reachable: bool
    ) -> str | None:
        """The sender's member role, from the cache or (once) from Teams."""
        user_id = inbound.actor_of(activity).user_id
        async with self.sessions() as session:
            role = await members.cached_role(session, user_id)
        if role is None and reachable:
            role = await members.fetch_role(context.turn_state[self.connector_key], activity)
        return role

    async def _send(
        self,
        context: TurnContext,
        activity: inbound.Activity,
        messages: tuple[Message, ...],
        now: datetime,
        *,
        remember: bool,
    ) -> None:
        if not messages:
            return
        connector = context.turn_state[self.connector_key]
        reference = TurnContext.get_conversation_reference(context.activity)
        reference.activity_id = None
        reply_to = activity.get("id") if activity.get("type") == "message" else None
        private_chat: ConversationReference | None = None
        for index, message in enumerate(messages):
            target, thread = reference, reply_to
            if private.is_private_here(message, activity):
                private_chat = private_chat or await private.open_private_chat(
                    connector, activity, reference
                )
                if private_chat is None:
                    message = private.withheld()
                else:
                    target, thread = private_chat, None
            try:
                await post_activities(
                    connector, target, render_activities(message), reply_to=thread
                )
            except Exception as error:  # every failure is logged and, if it may pass, queued
                if remember:
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
                if private.is_private_here(message, activity):
                    # Queued, it would be posted in the channel: it is for one person only.
                    continue
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
