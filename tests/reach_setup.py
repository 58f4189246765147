"""The served application (`create_app`, on 127.0.0.1) with the console harness driving the
same runtime's engine on a fixed clock: for calendar feeds and email, where a command
makes a link that something outside the chat then opens."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict

from adapters.runtime import Runtime, build_runtime
from adapters.server import create_app
from bot.settings import load_settings
from tests.harness import FixedClock, Harness

PUBLIC_URL = "https://liaison.example.com"
LINK = re.compile(re.escape(PUBLIC_URL) + r"/(calendar|unsubscribe)/[A-Za-z0-9_.-]+")


@dataclass
class Reach:
    bot: Harness
    runtime: Runtime
    url: str
    http: aiohttp.ClientSession

    async def open(
        self, link: str, *, method: str = "GET", headers: dict[str, str] | None = None, **kw: Any
    ) -> tuple[int, bytes, CIMultiDict[str]]:
        """Fetch a public link (as a calendar app or mail client would) from the server."""
        assert link.startswith(PUBLIC_URL), link
        target = self.url + link.removeprefix(PUBLIC_URL)
        async with self.http.request(method, target, headers=headers or {}, **kw) as response:
            return response.status, await response.read(), response.headers.copy()


def link_in(text: str, kind: str = "calendar") -> str:
    links = [m.group(0) for m in LINK.finditer(text) if m.group(1) == kind]
    assert len(links) == 1, text
    return links[0]


@asynccontextmanager
async def reach_world(db_url: str, **settings: Any) -> AsyncIterator[Reach]:
    clock = FixedClock()
    options = {"database_url": db_url, "public_url": PUBLIC_URL, "scheduler": "off"}
    runtime = build_runtime(load_settings(**(options | settings)), clock=clock)
    server = TestServer(create_app(runtime), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            bot = Harness(runtime.sessions, clock, runtime.engine)
            yield Reach(bot, runtime, str(server.make_url("")).rstrip("/"), http)
    finally:
        await server.close()
        await runtime.close()
