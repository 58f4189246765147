"""A fake Slack Web API that behaves like Slack under load: every call takes `latency`
seconds, and `chat.postMessage` accepts one message a second a channel, answering 429
with `Retry-After` otherwise. It counts each message it accepted by the marker in its
text (`bench-msg-<n>`), so duplicates and losses can be counted afterwards."""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import re
import time
from collections import Counter
from typing import Any

from aiohttp import web

MARKER = re.compile(r"bench-msg-(\d+)")


class RateLimitedSlack:
    def __init__(self, *, latency: float = 0.020, per_channel_interval: float = 1.0) -> None:
        self.latency = latency
        self.interval = per_channel_interval
        self.accepted: Counter[int] = Counter()
        self.limited = 0
        self.calls = 0
        self.last_accepted: float | None = None  # time.monotonic() of the last accepted post
        self._last: dict[str, float] = {}
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    async def __aenter__(self) -> RateLimitedSlack:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner:
            await self._runner.cleanup()

    def reset(self) -> None:
        self.accepted.clear()
        self.limited = self.calls = 0
        self.last_accepted = None
        self._last.clear()

    @property
    def duplicates(self) -> int:
        return sum(count - 1 for count in self.accepted.values() if count > 1)

    def losses(self, expected: range) -> int:
        return sum(1 for n in expected if n not in self.accepted)

    async def _api(self, request: web.Request) -> web.Response:
        self.calls += 1
        method = request.match_info["method"]
        body = await request.read()
        if method == "chat.postMessage":
            # The limit is judged on arrival, then the call takes its time, as at Slack.
            response = self._post(_arguments(request, body), body)
            await asyncio.sleep(self.latency)
            return response
        await asyncio.sleep(self.latency)
        if method == "auth.test":
            return web.json_response(
                {"ok": True, "team_id": "T0001", "user_id": "UBOT", "bot_id": "B0001"}
            )
        return web.json_response({"ok": True})

    def _post(self, args: dict[str, Any], body: bytes) -> web.Response:
        channel = str(args.get("channel"))
        now = time.monotonic()
        wait = self._last.get(channel, -math.inf) + self.interval - now
        if wait > 0:
            self.limited += 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        self._last[channel] = now
        self.last_accepted = now
        found = MARKER.search(body.decode(errors="replace"))
        if found:
            self.accepted[int(found.group(1))] += 1
        ts = f"1700000000.{next(self._ts):06d}"
        return web.json_response({"ok": True, "channel": channel, "ts": ts})


def _arguments(request: web.Request, body: bytes) -> dict[str, Any]:
    if request.content_type == "application/json" and body:
        return dict(json.loads(body))
    from urllib.parse import parse_qsl

    return dict(parse_qsl(body.decode(errors="replace")))
