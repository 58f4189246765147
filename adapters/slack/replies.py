"""Sending an engine Reply back where the request came from: through the slash command's
acknowledgement and `response_url`, or the Web API (`chat.postMessage`, ephemeral replies
with `chat.postEphemeral`), with images and files uploaded after the text."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient, WebhookResponse

from adapters.slack.deliver import upload
from adapters.slack.identity import Directory
from adapters.slack.pictures import Shown, shown_key
from adapters.slack.render import SlackMessage, Upload, escape, render, shown_again
from bot.messages import Chart, Reply, Visibility
from bot.requests import PlaceKind

log = logging.getLogger("liaison.slack")

Respond = Callable[..., Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class ResponseUrl:
    """Posts to one response_url over the process's kept connections to Slack
    (adapters.slack.clients.KeptConnections). Bolt's own `respond` opens an aiohttp session,
    and so a new connection (TLS included), for every post: each slow command's answer
    and each follow-up part would pay for a handshake."""

    url: str
    session: aiohttp.ClientSession | None  # None (not open yet): a session of its own

    async def __call__(self, **message: Any) -> WebhookResponse:
        return await AsyncWebhookClient(self.url, session=self.session).send_dict(message)


def over_kept_connections(
    respond: Respond | None, session: aiohttp.ClientSession | None
) -> Respond | None:
    """Bolt's `respond` for a request, as a poster over the kept session if it has a
    response_url (anything else, as it is)."""
    url = getattr(respond, "response_url", None)
    return ResponseUrl(url, session) if isinstance(url, str) and url else respond


@dataclass(frozen=True, slots=True)
class Part:
    """One Slack message of a reply, and who may see it."""

    visibility: Visibility
    message: SlackMessage

    def as_response(self) -> dict[str, Any]:
        """The body of a slash command acknowledgement or a response_url post."""
        return {
            "text": self.message.text,
            "blocks": self.message.blocks or None,
            "response_type": "ephemeral" if self.visibility == "ephemeral" else "in_channel",
        }


@dataclass(frozen=True, slots=True)
class Planned:
    parts: list[Part]
    uploads: list[tuple[Visibility, Upload]]


def plan(reply: Reply) -> Planned:
    parts: list[Part] = []
    uploads: list[tuple[Visibility, Upload]] = []
    for message in reply.messages:
        rendered = render(message)
        parts.extend(Part(message.visibility, m) for m in rendered.messages)
        uploads.extend((message.visibility, u) for u in rendered.uploads)
    return Planned(parts, uploads)


@dataclass
class Destination:
    """Where a reply goes: the conversation, the asker, and a response_url if any."""

    client: AsyncWebClient
    user_id: str
    channel_id: str | None
    directory: Directory  # where the bot's direct message with the asker is kept
    kind: PlaceKind = "channel"
    respond: Respond | None = None
    thread_ts: str | None = None
    bot_user_id: str = ""  # the bot's side of that direct message

    async def send(self, planned: Planned, *, skip: int = 0) -> None:
        """Send every part but the first `skip` (already sent in an acknowledgement)."""
        for part in planned.parts[skip:]:
            await self.send_part(part)
        for visibility, item in planned.uploads:
            await self.send_upload(visibility, item)

    async def send_part(self, part: Part) -> None:
        if self.respond is not None:
            await self.respond(**part.as_response(), replace_original=False)
            return
        message = part.message
        if part.visibility == "ephemeral" and self.kind == "channel" and self.channel_id:
            await self.client.chat_postEphemeral(
                channel=self.channel_id,
                user=self.user_id,
                text=message.text,
                blocks=message.blocks or None,
                thread_ts=self.thread_ts,
            )
            return
        await self.client.chat_postMessage(
            channel=self.channel_id or self.user_id,
            text=message.text,
            blocks=message.blocks or None,
            thread_ts=self.thread_ts,
            unfurl_links=False,
        )

    async def send_upload(self, visibility: Visibility, item: Upload) -> None:
        """Files cannot be ephemeral: one meant for the asker alone goes to their DM."""
        direct = visibility == "ephemeral" or self.channel_id is None
        try:
            channel = (
                await self.directory.direct_message(self.client, self.bot_user_id, self.user_id)
                if direct
                else self.channel_id
            )
            shown = self._shown(channel, item)
            if shown is None or not await self._show_again(channel, item, shown):
                await self._upload(channel, item, shown)
        except (SlackApiError, aiohttp.ClientError) as error:
            log.warning("upload of %s failed: %s", item.filename, error)
            if direct:
                self.directory.forget_direct_message(self.bot_user_id, self.user_id)
            note = SlackMessage(
                f"I could not attach {escape(item.filename)} here ({_reason(error)}). "
                "Invite me to the channel with `/invite`, or ask me in a direct message.",
                [],
            )
            await self.send_part(Part("ephemeral", note))
        except BrokenProcessPool:  # the drawing process died twice over (bot.views.drawing)
            log.error("drawing %s failed: the drawing process stopped", item.filename)
            note = SlackMessage(
                f"I could not draw {escape(item.filename)} just now. Ask again in a minute.", []
            )
            await self.send_part(Part("ephemeral", note))

    def _shown(self, channel: str, item: Upload) -> Shown | None:
        """How a chart is known among those shown in this conversation (not a file)."""
        if not isinstance(item.content, Chart):
            return None
        return shown_key(self.bot_user_id, channel, item.content)

    async def _show_again(self, channel: str, item: Upload, shown: Shown) -> bool:
        """Show a chart uploaded to this conversation before by its file id
        (adapters.slack.pictures); False if there is none, or Slack refused it."""
        file_id = self.directory.charts.file_id(shown)
        if file_id is None:
            return False
        again = shown_again(file_id, item.title)  # a chart's title is its alt text
        try:
            await self.client.chat_postMessage(
                channel=channel, text=again.text, blocks=again.blocks, thread_ts=self.thread_ts
            )
        except SlackApiError as error:  # the file is gone: deleted, or no longer shared
            log.info("showing %s again failed: %s", file_id, _reason(error))
            self.directory.charts.forget(shown)
            return False
        return True

    async def _upload(self, channel: str, item: Upload, shown: Shown | None) -> None:
        file_ids = await upload(self.client, channel, [item], self.thread_ts)
        if shown is not None and file_ids:
            self.directory.charts.remember(shown, file_ids[0])


def _reason(error: Exception) -> str:
    if isinstance(error, SlackApiError) and isinstance(error.response.data, dict):
        return str(error.response.data.get("error", "refused"))
    return "Slack could not be reached"
