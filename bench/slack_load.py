"""Signed Slack slash commands as load: a command is done when its reply is available,
either in the acknowledgement's body or posted to its `response_url` (received here by a
small local server, as Slack would receive it)."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from tests.slack_requests import SlackSigner, SlackUser, slash_command

FAILURE_MARKS = ("went wrong", "Usage:", "I don't know the command")


class ResponseUrls:
    """Receives posts to response URLs: `url_for(key)`, then `await wait(key)`."""

    def __init__(self) -> None:
        self._waiting: dict[str, asyncio.Future[str]] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._keys = itertools.count(1)

    async def start(self) -> None:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post("/r/{key}", self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    def new(self) -> tuple[str, asyncio.Future[str]]:
        key = str(next(self._keys))
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._waiting[key] = future
        return f"http://127.0.0.1:{self.port}/r/{key}", future

    def forget(self, url: str) -> None:
        self._waiting.pop(url.rsplit("/", 1)[-1], None)

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.text()
        future = self._waiting.pop(request.match_info["key"], None)
        if future is not None and not future.done():
            future.set_result(body)
        return web.Response(text="ok")


def reply_text(body: str) -> str:
    """The visible text of a Slack reply body (ack or response_url): text plus blocks."""
    try:
        data = json.loads(body)
    except ValueError:
        return body
    return json.dumps(data, ensure_ascii=False) if isinstance(data, dict) else body


@dataclass
class SlashLoad:
    """Sends `/pm <text>` as `user` in `channel_id` to `base_url`/slack/events."""

    http: aiohttp.ClientSession
    signer: SlackSigner
    base_url: str
    user: SlackUser
    channel_id: str
    text: Callable[[int], str]
    receiver: ResponseUrls
    expect: str | None = None  # a substring every successful reply contains
    replies: list[str] = field(default_factory=list)
    keep_replies: int = 3
    # Who sends request `index`, where and what, (user, channel id, text), instead of
    # `user` sending `text` in `channel_id`.
    pick: Callable[[int], tuple[SlackUser, str, str]] | None = None

    async def __call__(self, index: int) -> bool:
        url, future = self.receiver.new()
        user, channel_id, text = (
            self.pick(index) if self.pick else (self.user, self.channel_id, self.text(index))
        )
        body = slash_command(user, text, channel_id=channel_id, response_url=url)
        try:
            async with self.http.post(
                self.base_url + "/slack/events", data=body, headers=self.signer.headers(body)
            ) as response:
                ack = await response.text()
                if response.status != 200:
                    return False
            reply = ack if ack.strip() else await asyncio.wait_for(future, 30)
        finally:
            self.receiver.forget(url)
        return self._judge(reply_text(reply))

    def _judge(self, reply: str) -> bool:
        if len(self.replies) < self.keep_replies:
            self.replies.append(reply)
        if any(mark in reply for mark in FAILURE_MARKS):
            return False
        return self.expect is None or self.expect in reply
