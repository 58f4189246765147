"""A whole Slack set-up for tests: the real aiohttp app of `liaison serve` with Slack
mounted, its Web API pointed at a FakeSlackApi, and a sender of signed Slack requests.

People: Ann (U0ANN) and Bob (U0BOB) of the installing team T0001; Carol (U0CAROL) of the
client's organisation T0CLIENT, reaching us through Slack Connect. Channels: C0TEAM (the
team's) and C0SHARED (shared with the client, `is_ext_shared`)."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.runtime import Runtime, build_runtime
from adapters.server import create_app
from adapters.slack.app import mount_slack
from bot.delivery.workers import deliver_pending
from bot.engine.engine import Engine
from bot.settings import load_settings
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_events import SIGNING_SECRET, SlackSender
from tests.harness import FixedClock

BOT_TOKEN = "xoxb-test-token"
TEAM = "T0001"
CLIENT_TEAM = "T0CLIENT"


@dataclass
class SlackWorld:
    api: FakeSlackApi
    slack: SlackSender
    runtime: Runtime
    http: TestClient
    clock: FixedClock
    _keys: itertools.count = field(default_factory=lambda: itertools.count(1))

    async def command(
        self,
        text: str,
        *,
        user: str = "U0ANN",
        channel: str = "C0TEAM",
        follow: bool = True,
        **fields: str,
    ) -> dict[str, Any]:
        """Run `/pm text`: the acknowledgement's JSON or, when the command was too slow for
        it and `follow` is true, its first answer through the response_url."""
        names = {"C0TEAM": "acme-site-team", "C0SHARED": "acme-shared"}
        fields.setdefault("channel_name", names.get(channel, "directmessage"))
        known = self.api.users.get(user)
        fields.setdefault("team_id", known.team_id if known else TEAM)
        fields.setdefault("user_name", user.lower())
        key = f"{user}-{channel}-{next(self._keys)}"
        fields.setdefault("response_url", self.api.response_url(key))
        response = await self.slack.command(text, user_id=user, channel_id=channel, **fields)
        assert response.status == 200, await response.text()
        body = await response.text()
        if body or not follow:
            return json.loads(body) if body else {}
        (answer, *_) = await self.api.wait_for(
            "response_url", timeout=30, where=lambda call: call.args["key"] == key
        )
        return {k: v for k, v in answer.args.items() if k not in ("key", "replace_original")}

    async def deliver(self) -> int:
        return await deliver_pending(self.runtime.sessions, self.runtime.deliverers, self.clock())


def slack_settings(db_url: str, api: FakeSlackApi, **more: Any) -> Any:
    values: dict[str, Any] = {
        "LIAISON_DATABASE_URL": db_url,
        "LIAISON_SCHEDULER": "off",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": api.url,
        "SLACK_APP_TOKEN": None,
        "SLACK_CLIENT_ID": None,
        "SLACK_CLIENT_SECRET": None,
        "SLACK_COMMAND": "/pm",
    }
    values.update(more)
    return load_settings(**values)


def populate(api: FakeSlackApi) -> None:
    api.add_user("U0ANN", "Ann", tz="Europe/Berlin")
    api.add_user("U0BOB", "Bob", tz="America/New_York")
    api.add_user("U0CAROL", "Carol", team_id=CLIENT_TEAM, tz="Europe/London")
    api.add_channel("C0TEAM", "acme-site-team")
    api.add_channel("C0SHARED", "acme-shared", is_ext_shared=True)


@asynccontextmanager
async def slack_world(
    db_url: str,
    *,
    modules: list[ModuleType] | None = None,
    fast_reply: float | None = None,
    configure: Callable[[FakeSlackApi], None] = populate,
    **settings: Any,
) -> AsyncIterator[SlackWorld]:
    """The app as `liaison serve` builds it (create_app), or, with `modules` or
    `fast_reply`, an app with only Slack mounted on an engine with those command modules."""
    async with FakeSlackApi() as api:
        configure(api)
        clock = FixedClock()
        runtime = build_runtime(slack_settings(db_url, api, **settings), clock=clock)
        if modules is None and fast_reply is None:
            app = create_app(runtime)
        else:
            from bot.commands import ALL_MODULES

            runtime.engine = Engine(
                sessions=runtime.sessions, clock=clock, modules=[*ALL_MODULES, *(modules or [])]
            )
            app = web.Application()
            mount_slack(app, runtime, fast_reply=fast_reply if fast_reply is not None else 2.0)
        try:
            async with TestClient(TestServer(app)) as http:
                yield SlackWorld(api, SlackSender(http), runtime, http, clock)
        finally:
            await runtime.close()


def block_texts(blocks: list[dict]) -> str:
    """The readable text of Block Kit blocks: sections, fields and mrkdwn context."""
    found = []
    for block in blocks:
        if "text" in block:
            found.append(block["text"]["text"])
        found.extend(f["text"] for f in block.get("fields", []))
        found.extend(e.get("text", "") for e in block.get("elements", []) if e["type"] == "mrkdwn")
    return "\n".join(found)
