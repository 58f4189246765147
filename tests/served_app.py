"""Correctly signed Slack requests over real HTTP, with replies to response URLs caught
by a fake Web API: `SlackClient` for any Liaison (a `liaison serve` process too), and
`ServedApp`, the real `create_app` application served in the test's own process on
127.0.0.1 (fast enough for property-based input).

    async with ServedApp.start(db_url, api) as served:
        reply = await served.slash(PM, "status", channel_id="CTEAM")    # -> SlackReply
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from adapters.runtime import Runtime, build_runtime
from adapters.server import create_app
from bot.settings import load_settings
from storage.models import Base
from tests.fakes.slack_api import FakeSlackApi
from tests.slack_requests import (
    SlackSigner,
    SlackUser,
    block_actions,
    slash_command,
    view_submission,
)

SIGNING_SECRET = "system-test-signing-secret-91ab"
BOT_TOKEN = "xoxb-system-test-token-5150"
# Identity bookkeeping a well-formed request may upsert before any rule runs (who spoke,
# where, in which tenant, which event): not business data. `acquaintances` is the tenant's
# side of `people` (it holds what was `Person.external`).
# Written by any well-formed request (who spoke, where, which event) or by an offer to
# run a near miss: not business data.
BOOKKEEPING = frozenset(
    {
        "tenants",
        "people",
        "acquaintances",
        "conversations",
        "processed_events",
        "pending_suggestions",
    }
)
_keys = itertools.count(1)


@dataclass
class SlackReply:
    """What the asker saw: the acknowledgement and anything posted to its response_url."""

    status: int
    ack: str
    later: list[dict[str, Any]]

    @property
    def text(self) -> str:
        later = [{k: v for k, v in p.items() if k != "key"} for p in self.later]
        parts = [self.ack, *(json.dumps(p, ensure_ascii=False) for p in later)]
        return "\n".join(parts)


@dataclass(kw_only=True)
class SlackClient:
    """Sends correctly signed Slack requests to the Liaison at `url`; replies posted to
    response URLs land in the fake Web API `api`."""

    url: str
    http: aiohttp.ClientSession
    api: FakeSlackApi
    signer: SlackSigner = field(default_factory=lambda: SlackSigner(SIGNING_SECRET))

    async def post(
        self, path: str, body: bytes | str, headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        async with self.http.post(self.url + path, data=body, headers=headers or {}) as response:
            return response.status, await response.text()

    async def signed(
        self, body: str | bytes, content_type: str = "application/x-www-form-urlencoded"
    ) -> tuple[int, str]:
        headers = self.signer.headers(body, content_type=content_type)
        return await self.post("/slack/events", body, headers)

    async def _reply(self, body: str, key: str, wait: float) -> SlackReply:
        status, ack = await self.signed(body)
        later = self._posted_to(key)
        if status == 200 and not ack.strip():
            # The reply comes later, through the response_url.
            deadline = asyncio.get_running_loop().time() + wait
            while not later and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.01)
                later = self._posted_to(key)
        return SlackReply(status, ack, later)

    def _posted_to(self, key: str) -> list[dict[str, Any]]:
        return [c.args for c in self.api.calls_to("response_url") if c.args.get("key") == key]

    async def slash(
        self, user: SlackUser, text: str, *, channel_id: str, wait: float = 10
    ) -> SlackReply:
        key = f"cmd-{next(_keys)}"
        body = slash_command(
            user, text, channel_id=channel_id, response_url=self.api.response_url(key)
        )
        return await self._reply(body, key, wait)

    async def press(
        self, user: SlackUser, action_id: str, value: str, *, channel_id: str, wait: float = 10
    ) -> SlackReply:
        key = f"act-{next(_keys)}"
        body = block_actions(
            user,
            channel_id=channel_id,
            action_id=action_id,
            value=value,
            response_url=self.api.response_url(key),
        )
        return await self._reply(body, key, wait)

    async def submit(
        self,
        user: SlackUser,
        *,
        callback_id: str,
        private_metadata: str,
        values: dict[str, dict[str, dict[str, Any]]],
    ) -> tuple[int, str]:
        return await self.signed(
            view_submission(
                user, callback_id=callback_id, private_metadata=private_metadata, values=values
            )
        )


@dataclass(kw_only=True)
class ServedApp(SlackClient):
    """The real application served in this process, and a SlackClient for it."""

    runtime: Runtime
    server: TestServer

    @classmethod
    @asynccontextmanager
    async def start(
        cls, db_url: str, api: FakeSlackApi, **settings: str
    ) -> AsyncIterator[ServedApp]:
        values = {
            "LIAISON_DATABASE_URL": db_url,
            "LIAISON_SCHEDULER": "off",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_API_URL": api.url,
            # /api/messages as the Bot Framework Emulator reaches it (unauthenticated).
            "LIAISON_TEAMS_EMULATOR": "1",
            **settings,
        }
        runtime = build_runtime(load_settings(**values))
        server = TestServer(create_app(runtime), host="127.0.0.1")
        await server.start_server()
        try:
            async with aiohttp.ClientSession() as http:
                url = str(server.make_url("")).rstrip("/")
                yield cls(url=url, http=http, api=api, runtime=runtime, server=server)
        finally:
            await server.close()
            await runtime.close()

    async def row_counts(self) -> dict[str, int]:
        """Rows in every table of ours: to show that nothing was (half-)written."""
        counts: dict[str, int] = {}
        async with self.runtime.sessions() as session:
            for table in Base.metadata.sorted_tables:
                counts[table.name] = int(
                    await session.scalar(select(func.count()).select_from(table)) or 0
                )
        return counts


async def settle(seconds: float = 0.05) -> None:
    """Let background work started by a request (response_url posts) run."""
    await asyncio.sleep(seconds)
