"""Driving the Teams adapter over HTTP: recorded activities, edited per test, posted to
/api/messages of the real aiohttp application, with replies landing at a fake connector."""

from __future__ import annotations

import copy
import itertools
import json
import shutil
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from adapters.runtime import Runtime, build_runtime
from adapters.server import create_app
from bot.delivery.workers import deliver_pending
from bot.settings import load_settings
from tests.fakes.bot_connector import FakeBotConnector, FakeBotFrameworkKeys, Post
from tests.harness import FixedClock

FIXTURES = Path(__file__).parent / "fixtures" / "teams"
APP_ID = "9c5b1f3e-0d5a-4f0e-8a39-2b1a4c7d6e01"
BOT_ID = f"28:{APP_ID}"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OTHER_TENANT = "0d4a5b6c-1111-4222-8333-944455556666"
TEAM_CHANNEL = "19:aebd0ad4d6ab42c8b9ed19c251c2fc37@thread.tacv2"
SHARED_CHANNEL = "19:malejcou081i20ojmlcau0@thread.tacv2"
PEOPLE = {
    "ann": ("29:1ann-6N86roXr5pjPrCJVIz6xHh5Qxj", "Ann Lee"),
    "bob": ("29:1bob-9FkeP0aQ2l3mZ7yT0pQ8sD1wXc", "Bob Stone"),
    "carol": ("29:1carol-5TgH7jK9lM2nB4vC6xZ8aQ1w", "Carol Client"),
    "gus": ("29:1gus-2WsX4eDc6RfV8tGb0YhN3uJm5Ik", "Gus Guest"),
}
_ids = itertools.count(1_700_000_000_000)
# The Bot Framework Emulator's way in: no app id, unauthenticated, loopback only.
EMULATOR: dict[str, Any] = {"MICROSOFT_APP_ID": None, "LIAISON_TEAMS_EMULATOR": "1"}


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def message(
    text: str,
    *,
    who: str = "ann",
    channel: str | None = TEAM_CHANNEL,
    mention: bool = True,
    service_url: str,
    mentions: tuple[str, ...] = (),
    **sender: Any,
) -> dict[str, Any]:
    """A user's message: in a channel (the bot @mentioned first), or personal (None).
    `mentions` names people whose `<at>Name</at>` in the text Teams resolved."""
    user_id, name = PEOPLE[who]
    if channel is None:
        activity = fixture("personal_message")
        activity["conversation"]["id"] = f"a:personal-{who}"
        activity["text"] = text
    else:
        activity = fixture("channel_mention")
        activity["conversation"]["id"] = f"{channel};messageid={next(_ids)}"
        activity["channelData"]["channel"]["id"] = channel
        activity["channelData"]["teamsChannelId"] = channel
        activity["text"] = f"<at>Liaison</at> {text}" if mention else text
        if not mention:
            activity["entities"] = [e for e in activity["entities"] if e["type"] != "mention"]
    for person in mentions:
        person_id, person_name = PEOPLE[person]
        activity.setdefault("entities", []).append(
            {
                "type": "mention",
                "mentioned": {"id": person_id, "name": person_name},
                "text": f"<at>{person_name}</at>",
            }
        )
    activity["id"] = str(next(_ids))
    activity["from"] = {"id": user_id, "name": name, **sender}
    activity["serviceUrl"] = service_url
    return activity


def submit(
    value: dict[str, Any], *, who: str, channel: str | None, service_url: str, **sender: Any
) -> dict[str, Any]:
    """An Adaptive Card Action.Submit press, as Teams delivers it (a message with `value`),
    in a channel or (None) in the person's personal chat."""
    activity = fixture("card_submit")
    user_id, name = PEOPLE[who]
    activity["id"] = f"f:{next(_ids)}"
    if channel is None:
        activity["conversation"] = {
            "conversationType": "personal",
            "tenantId": TENANT,
            "id": f"a:personal-{who}",
        }
        activity["channelData"] = {"tenant": {"id": TENANT}, "source": {"name": "message"}}
    else:
        activity["conversation"]["id"] = f"{channel};messageid={next(_ids)}"
        activity["channelData"]["channel"]["id"] = channel
    activity["from"] = {"id": user_id, "name": name, **sender}
    activity["value"] = value
    activity["serviceUrl"] = service_url
    return activity


def event(name: str, *, service_url: str, **changes: Any) -> dict[str, Any]:
    activity = copy.deepcopy(fixture(name))
    activity.update(changes)
    activity["serviceUrl"] = service_url
    return activity


@dataclass
class TeamsService:
    runtime: Runtime
    client: TestClient
    connector: FakeBotConnector
    clock: FixedClock
    # Signs every post like the Bot Framework channel does (None: the test's own settings).
    keys: FakeBotFrameworkKeys | None = None

    async def post(
        self, activity: dict[str, Any], *, token: str | None = None, unsigned: bool = False
    ) -> int:
        if token is None and self.keys is not None and not unsigned:
            signed = self.keys.token(app_id=APP_ID, service_url=activity.get("serviceUrl"))
            token = f"Bearer {signed}"
        headers = {"Authorization": token} if token else {}
        async with self.client.post("/api/messages", json=activity, headers=headers) as response:
            return response.status

    async def say(self, who: str, text: str, **where: Any) -> list[Post]:
        """Post a message and return the replies it got."""
        before = len(self.connector.posts)
        activity = message(text, who=who, service_url=self.connector.url, **where)
        status = await self.post(activity)
        assert status in (200, 201), status
        return self.connector.posts[before:]

    async def press(self, value: dict[str, Any], **where: Any) -> list[Post]:
        before = len(self.connector.posts)
        status = await self.post(submit(value, service_url=self.connector.url, **where))
        assert status in (200, 201), status
        return self.connector.posts[before:]

    async def deliver(self) -> int:
        return await deliver_pending(self.runtime.sessions, self.runtime.deliverers, self.clock())


@asynccontextmanager
async def teams_service(db_url: str, **settings: Any) -> AsyncIterator[TeamsService]:
    """The real application on a migrated database, configured as a Teams bot whose
    activities the harness signs (fake signing keys; tokens from the fake connector, whose
    address LIAISON_TEAMS_SERVICE_URLS allows). Settings naming MICROSOFT_APP_ID (EMULATOR,
    or a test's own keys) replace that. A setting may be a function of the fake connector
    (its URLs are known only once it runs)."""
    clock = FixedClock()
    with ExitStack() as stack:
        keys = (
            None if "MICROSOFT_APP_ID" in settings else stack.enter_context(FakeBotFrameworkKeys())
        )
        async with FakeBotConnector() as connector:
            values = {
                "LIAISON_DATABASE_URL": db_url,
                "MICROSOFT_APP_ID": None,
                "MICROSOFT_APP_PASSWORD": None,
                "LIAISON_SCHEDULER": "off",
                "LIAISON_TEAMS_SERVICE_URLS": connector.url,
                **(_signed_by(keys, connector) if keys else {}),
                **{k: v(connector) if callable(v) else v for k, v in settings.items()},
            }
            runtime = build_runtime(load_settings(**values), clock=clock)
            client = TestClient(TestServer(create_app(runtime)))
            await client.start_server()
            try:
                yield TeamsService(runtime, client, connector, clock, keys)
            finally:
                await client.close()
                await runtime.close()


def _signed_by(keys: FakeBotFrameworkKeys, connector: FakeBotConnector) -> dict[str, Any]:
    return {
        "MICROSOFT_APP_ID": APP_ID,
        "MICROSOFT_APP_PASSWORD": "secret",
        "BOTFRAMEWORK_OPENID_METADATA_URL": keys.metadata_url,
        "BOTFRAMEWORK_LOGIN_URL": connector.login_url,
    }


def sqlite_copy(tmp_path: Path, template: Path) -> str:
    """A migrated SQLite database, for tests whose subject is HTTP, not storage."""
    path = tmp_path / "liaison.db"
    shutil.copy(template, path)
    return f"sqlite+aiosqlite:///{path}"


def text_of(posts: list[Post]) -> str:
    return "\n".join(p.card_text() for p in posts)
