"""Posting to Slack: the outbox's Deliverer, and the posting helpers replies share.

Failures become `DeliveryError`s the outbox understands: 429 carries Slack's Retry-After,
5xx and connection errors are retried with backoff, a channel that is gone or that the bot
was removed from is unreachable, and anything else Slack refuses is permanent."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import PLATFORM
from adapters.slack.clients import ClientSource, NoInstallation
from adapters.slack.render import Rendered, Upload, render
from bot.delivery.vocabulary import DeliveryError, Sent, Target
from bot.messages import Chart, Message
from bot.views.drawing import png_of

log = logging.getLogger("liaison.slack")

# The bot cannot post there until a person changes something in Slack.
UNREACHABLE = frozenset(
    {"channel_not_found", "not_in_channel", "is_archived", "user_not_found", "user_disabled"}
)
# Slack's own hiccups: worth another try later.
TRANSIENT = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}
)
DEFAULT_RETRY_AFTER = 1.0


class SlackDeliverer:
    platform = PLATFORM

    def __init__(self, clients: ClientSource) -> None:
        self.clients = clients

    async def deliver(
        self, target: Target, message: Message, *, thread_id: str | None = None
    ) -> Sent:
        try:
            client = await self.clients.for_tenant(target.tenant)
        except NoInstallation as error:
            raise DeliveryError(str(error), unreachable=True) from error
        with delivery_errors():
            first_ts = await post_rendered(client, target.channel_id, render(message), thread_id)
        return Sent(message_id=first_ts)

    async def update(self, target: Target, message: Message, *, message_id: str) -> Sent:
        """chat.update of the first part posted (a digest is one part; uploads stay)."""
        try:
            client = await self.clients.for_tenant(target.tenant)
        except NoInstallation as error:
            raise DeliveryError(str(error), unreachable=True) from error
        part = render(message).messages[0]
        with delivery_errors():
            await client.chat_update(
                channel=target.channel_id, ts=message_id, text=part.text, blocks=part.blocks
            )
        return Sent(message_id=message_id)


async def post_rendered(
    client: AsyncWebClient, channel: str, rendered: Rendered, thread_ts: str | None = None
) -> str | None:
    """Post every part of a rendered message in order, then its uploads; the first ts."""
    first_ts: str | None = None
    for part in rendered.messages:
        response = await client.chat_postMessage(
            channel=channel,
            text=part.text,
            blocks=part.blocks,
            thread_ts=thread_ts,
            unfurl_links=False,
            unfurl_media=False,
        )
        first_ts = first_ts or response.get("ts")
        # Posting to a user id lands in their DM; uploads need that conversation's id.
        channel = response.get("channel") or channel
    await upload(client, channel, rendered.uploads, thread_ts)
    return first_ts


async def upload(
    client: AsyncWebClient, channel: str, uploads: list[Upload], thread_ts: str | None = None
) -> list[str]:
    """Upload files to a conversation; the ids Slack gave them, in order."""
    if not uploads:
        return []
    # A chart is drawn now, after the text it belongs to was sent: a slash command's
    # answer does not wait for its picture.
    files: list[dict[str, Any]] = [
        {"content": await _drawn(u.content), "filename": u.filename, "title": u.title}
        for u in uploads
    ]
    done = await client.files_upload_v2(file_uploads=files, channel=channel, thread_ts=thread_ts)
    return [str(f["id"]) for f in done.get("files") or []]


async def _drawn(content: bytes | Chart) -> bytes:
    return content if isinstance(content, bytes) else await png_of(content)


class delivery_errors:  # noqa: N801 - used as `with delivery_errors():`
    """Translate Slack and connection failures into the outbox's DeliveryError."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type | None, error: BaseException | None, tb: object) -> None:
        if error is None:
            return
        if isinstance(error, SlackApiError):
            raise as_delivery_error(error) from error
        if isinstance(error, aiohttp.ClientError | TimeoutError):
            raise DeliveryError(f"could not reach Slack: {type(error).__name__}") from error


def as_delivery_error(error: SlackApiError) -> DeliveryError:
    response = error.response
    status = response.status_code
    data = response.data if isinstance(response.data, dict) else {}
    code = str(data.get("error") or f"HTTP {status}")
    if status == 429:
        return DeliveryError("rate limited by Slack", retry_after=_retry_after(response.headers))
    if status >= 500:
        return DeliveryError(f"Slack answered HTTP {status} ({code})")
    if code in UNREACHABLE:
        return DeliveryError(code, unreachable=True)
    if code in TRANSIENT:
        return DeliveryError(code)
    return DeliveryError(code, permanent=True)


def _retry_after(headers: Any) -> float:
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            try:
                return max(float(value), 0.0)
            except ValueError:
                break
    return DEFAULT_RETRY_AFTER
