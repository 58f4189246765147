"""The Teams Deliverer: the outbox posts through `continue_conversation` with the stored
conversation reference; failures become DeliveryErrors the outbox knows how to treat."""

from __future__ import annotations

from botbuilder.core import CloudAdapterBase, TurnContext
from botbuilder.schema import ConversationReference
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.teams import inbound, references
from adapters.teams.auth import ServiceUrls, TokenCredentialFactory
from adapters.teams.render import render_activities
from adapters.teams.transport import (
    delivery_error,
    post_activities,
    status_of,
    update_activity,
)
from bot.delivery.vocabulary import DeliveryError, Sent, Target
from bot.messages import Message


class TeamsDeliverer:
    platform = inbound.PLATFORM

    def __init__(
        self,
        *,
        adapter: CloudAdapterBase,
        sessions: async_sessionmaker[AsyncSession],
        app_id: str | None,
        allowed: ServiceUrls,
        credentials: TokenCredentialFactory | None = None,
    ) -> None:
        self.allowed = allowed
        self.adapter = adapter
        self.sessions = sessions
        self.app_id = app_id or None
        self.credentials = credentials
        # Consecutive 429s per conversation, for backoff when Teams gives no Retry-After.
        self._throttled: dict[str, int] = {}

    async def deliver(
        self, target: Target, message: Message, *, thread_id: str | None = None
    ) -> Sent:
        reference = await self._reference(target)
        if thread_id:
            # Teams addresses a reply thread in a channel as `<channel>;messageid=<root>`.
            reference.conversation.id = f"{reference.conversation.id};messageid={thread_id}"
        activities = render_activities(message)
        ids: list[str | None] = []

        async def post(context: TurnContext) -> None:
            connector = context.turn_state[self.adapter.BOT_CONNECTOR_CLIENT_KEY]
            ids.extend(await post_activities(connector, reference, activities))

        try:
            await self.adapter.continue_conversation(reference, post, bot_app_id=self.app_id)
        except Exception as error:  # every failure is mapped: nothing is dropped silently
            raise self._failure(target, error) from error
        self._throttled.pop(target.channel_id, None)
        return Sent(message_id=ids[0] if ids else None)

    async def update(self, target: Target, message: Message, *, message_id: str) -> Sent:
        """Edit a posted activity in place with the first activity `message` renders to."""
        reference = await self._reference(target)
        activity = render_activities(message)[0]

        async def edit(context: TurnContext) -> None:
            connector = context.turn_state[self.adapter.BOT_CONNECTOR_CLIENT_KEY]
            await update_activity(connector, reference, message_id, activity)

        try:
            await self.adapter.continue_conversation(reference, edit, bot_app_id=self.app_id)
        except Exception as error:
            failure = self._failure(target, error)
            # A message that cannot be edited says nothing about the conversation itself.
            if failure.unreachable:
                failure = DeliveryError(failure.reason, permanent=True)
            raise failure from error
        return Sent(message_id=message_id)

    async def _reference(self, target: Target) -> ConversationReference:
        async with self.sessions() as session:
            row = await references.reference_for(session, target.channel_id)
        if row is None or not row.reference:
            raise DeliveryError(
                "Liaison has no conversation reference here: it was never added to it",
                unreachable=True,
            )
        if not row.reachable:
            raise DeliveryError(row.unreachable_reason or "unreachable", unreachable=True)
        reference = ConversationReference().deserialize(row.reference)
        if self.app_id and not self.allowed.allowed(reference.service_url):
            # Our token would go with the post: never to a host that is not Microsoft's.
            raise DeliveryError(
                f"the conversation's serviceUrl {reference.service_url!r} is not a Microsoft "
                "Bot Connector host nor listed in LIAISON_TEAMS_SERVICE_URLS",
                permanent=True,
            )
        return reference

    def _failure(self, target: Target, error: Exception) -> DeliveryError:
        status = status_of(error)
        if status == 401 and self.credentials is not None:
            self.credentials.forget_tokens()
        throttled = self._throttled.get(target.channel_id, 0)
        if status == 429:
            self._throttled[target.channel_id] = throttled + 1
        return delivery_error(error, throttled_before=throttled)
