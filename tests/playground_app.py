"""The real `create_app` with its playground, served on 127.0.0.1 in the test's process,
and a small client for the playground's JSON API."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from adapters.playground.routes import PLAYGROUND_KEY
from adapters.playground.service import Playground
from adapters.runtime import Runtime, build_runtime
from adapters.server import create_app
from bot.settings import load_settings
from tests.harness import FixedClock

# No platform credentials, whatever the environment of the test run holds.
NO_PLATFORMS = {
    "LIAISON_SCHEDULER": "off",
    "LIAISON_HOST": "127.0.0.1",
    "LIAISON_PLAYGROUND": "",
    "SLACK_SIGNING_SECRET": "",
    "SLACK_BOT_TOKEN": "",
    "SLACK_CLIENT_ID": "",
    "MICROSOFT_APP_ID": "",
}
BUTTON_RE = re.compile(r'data-action-id="([^"]*)" data-value="([^"]*)">([^<]*)</button>')


@dataclass
class PlaygroundApp:
    runtime: Runtime
    client: TestClient
    clock: FixedClock

    @property
    def playground(self) -> Playground:
        return self.client.server.app[PLAYGROUND_KEY]

    async def say(self, who: str, place: str, text: str) -> dict[str, Any]:
        response = await self.client.post(
            "/playground/api/say", json={"as": who, "place": place, "text": text}
        )
        assert response.status == 200, await response.text()
        return await response.json()

    async def press(self, who: str, place: str, action_id: str, value: str) -> dict[str, Any]:
        body = {"as": who, "place": place, "action_id": action_id, "value": value}
        response = await self.client.post("/playground/api/action", json=body)
        assert response.status == 200, await response.text()
        return await response.json()

    async def feed(self, who: str, after: int = 0) -> list[dict[str, Any]]:
        response = await self.client.get(f"/playground/api/feed?as={who}&after={after}")
        assert response.status == 200, await response.text()
        return (await response.json())["entries"]

    async def post_json(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        response = await self.client.post(f"/playground/api/{path}", json=body)
        return response.status, await response.json()


def html_of(reply: dict[str, Any]) -> str:
    return "\n".join(m["html"] for m in reply["messages"])


def buttons_in(html: str) -> list[tuple[str, str, str]]:
    """(action id, value, label) of each button, read from the page's HTML."""
    return BUTTON_RE.findall(html)


@asynccontextmanager
async def playground_app(
    db_url: str, clock: FixedClock | None = None, **settings: str
) -> AsyncIterator[PlaygroundApp]:
    clock = clock or FixedClock()
    values = {**NO_PLATFORMS, "LIAISON_DATABASE_URL": db_url, **settings}
    runtime = build_runtime(load_settings(**values), clock=clock)
    client = TestClient(TestServer(create_app(runtime), host="127.0.0.1"))
    await client.start_server()
    try:
        yield PlaygroundApp(runtime, client, clock)
    finally:
        await client.close()
        await runtime.close()
