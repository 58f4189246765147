"""Replies only the asker may see. Teams has no ephemeral messages, so a private reply in a
channel or group chat goes to the asker's 1:1 chat with the bot (the Bot Connector's
create-conversation returns the existing one), or, when that cannot be had, is withheld
with a short public note. Nothing meant for one person is posted where others read it."""

from __future__ import annotations

import copy
import logging

from botbuilder.schema import ChannelAccount, ConversationParameters, ConversationReference
from botframework.connector.aio import ConnectorClient

from adapters.teams import inbound
from bot.messages import Context, Message

log = logging.getLogger("liaison.teams")


def withheld() -> Message:
    return Message(
        blocks=(
            Context(
                "I have a reply that only you should see, but I could not open a private "
                "chat with you. Message Liaison directly (in your chats) and ask there."
            ),
        ),
        audience="client",
    )


def is_private_here(message: Message, activity: inbound.Activity) -> bool:
    return message.visibility == "ephemeral" and not inbound.is_personal(activity)


async def open_private_chat(
    connector: ConnectorClient, activity: inbound.Activity, reference: ConversationReference
) -> ConversationReference | None:
    """A reference to the asker's 1:1 chat with the bot; None when Teams will not make one
    (the asker is from another tenant, blocked the bot, or the app is not installed)."""
    asker = inbound.actor_of(activity).user_id
    tenant = inbound.host_tenant(activity)
    parameters = ConversationParameters(
        is_group=False,
        bot=reference.bot,
        members=[ChannelAccount(id=asker)],
        tenant_id=tenant,
        channel_data={"tenant": {"id": tenant}},
    )
    try:
        created = await connector.conversations.create_conversation(parameters)
    except Exception as error:  # any failure: withhold, never fall back to the channel
        log.info("Teams: could not open a private chat: %s", type(error).__name__)
        return None
    if created is None or not created.id:
        return None
    private = copy.copy(reference)
    private.conversation = copy.copy(reference.conversation)
    private.conversation.id = created.id
    private.conversation.is_group = False
    private.conversation.conversation_type = "personal"
    private.conversation.name = None
    return private
