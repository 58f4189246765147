"""A client project set up over HTTP with correctly signed Slack requests, for the system
security tests: everything the world holds was put there through `/slack/events`.

People: Ann (PM), Bob (member, rate 1,337/h), Erin (a colleague added with the client
role), Zed (a colleague on no project), all of workspace T0001; Carol, of the client's
organisation T0CLIENT, reaching us through Slack Connect. Channels: C0TEAM (the team side)
and C0SHARED (the client side, shared with Carol's organisation).

Internal facts carry markers that must never reach a client: an internal risk and its
mitigation, the budget, a rate, spend, a time note, a decision and its reason, a huddle
answer."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from storage.models import Delivery
from tests.fakes.slack_api import FakeSlackApi
from tests.served_app import ServedApp
from tests.slack_requests import SlackUser

TEAM = "T0001"
CLIENT_TEAM = "T0CLIENT"
ANN = SlackUser("U0ANN", TEAM, "Ann")
BOB = SlackUser("U0BOB", TEAM, "Bob")
ERIN = SlackUser("U0ERIN", TEAM, "Erin")
ZED = SlackUser("U0ZED", TEAM, "Zed")
CAROL = SlackUser("U0CAROL", CLIENT_TEAM, "Carol", team_domain="acme-corp")
TEAM_CHANNEL = "C0TEAM"
SHARED_CHANNEL = "C0SHARED"

# Internal facts, and how each shows when rendered (amounts are formatted with commas).
MARKERS = (
    "INTERNAL-RISK-ZEBRA",
    "INTERNAL-MITIGATION-OKAPI",
    "INTERNAL-SPEND-NARWHAL",
    "INTERNAL-NOTE-WOMBAT",
    "INTERNAL-DECISION-IBEX",
    "INTERNAL-WHY-TAPIR",
    "INTERNAL-HUDDLE-MARMOT",
    "48,765",
    "48765",
    "1,337",
    "1337",
    "4,321.99",
    "4321.99",
)

SETUP: tuple[tuple[SlackUser, str, str], ...] = (
    (ANN, TEAM_CHANNEL, 'project new "Acme Site" client:"Acme Corp" budget:48765 due:2027-06-30'),
    (ANN, TEAM_CHANNEL, "team add <@U0BOB|bob> role:member rate:1337/h"),
    (ANN, TEAM_CHANNEL, "team add <@U0ERIN|erin> role:client"),
    (ANN, SHARED_CHANNEL, "project link client"),
    (
        ANN,
        TEAM_CHANNEL,
        'risk add "INTERNAL-RISK-ZEBRA" likelihood:high impact:high '
        'mitigation:"INTERNAL-MITIGATION-OKAPI"',
    ),
    (ANN, TEAM_CHANNEL, 'risk add "Hosting may slip" likelihood:low impact:low client'),
    (ANN, TEAM_CHANNEL, 'spend 4321.99 "INTERNAL-SPEND-NARWHAL"'),
    (BOB, TEAM_CHANNEL, 'log 3h "INTERNAL-NOTE-WOMBAT"'),
    (ANN, TEAM_CHANNEL, 'decision "INTERNAL-DECISION-IBEX" why:"INTERNAL-WHY-TAPIR"'),
    (ANN, TEAM_CHANNEL, 'milestone add "Beta launch" due:2027-02-01 client'),
    (ANN, TEAM_CHANNEL, 'task add "Build the site" <@U0BOB|bob> due:2027-01-15 milestone:1'),
    (ANN, TEAM_CHANNEL, 'change "Extra page" cost:900 days:2'),
    (CAROL, SHARED_CHANNEL, 'request "A logo please"'),
    (ANN, TEAM_CHANNEL, "huddle set time:09:30"),
    (BOB, TEAM_CHANNEL, 'huddle answer "INTERNAL-HUDDLE-MARMOT" "today" "none"'),
)
FAILED = ("went wrong", "Usage:", " is for ")


def add_people(api: FakeSlackApi) -> None:
    for user in (ANN, BOB, ERIN, ZED):
        api.add_user(user.user_id, user.name, tz="Europe/Berlin")
    api.add_user(CAROL.user_id, CAROL.name, team_id=CLIENT_TEAM, tz="America/New_York")
    api.add_channel(TEAM_CHANNEL, "acme-site-team")
    api.add_channel(SHARED_CHANNEL, "acme-shared", is_ext_shared=True)


async def set_up_project(app: ServedApp) -> None:
    for user, channel, line in SETUP:
        reply = await app.slash(user, line, channel_id=channel)
        assert reply.status == 200, (line, reply)
        assert not any(mark in reply.text for mark in FAILED), (line, reply.text)


@asynccontextmanager
async def project_world(db_url: str) -> AsyncIterator[ServedApp]:
    async with FakeSlackApi() as api:
        add_people(api)
        async with ServedApp.start(db_url, api) as app:
            await set_up_project(app)
            yield app


@dataclass(frozen=True)
class Seen:
    """Everything one person could see: what they were answered, what was posted where
    they are, and outbox rows waiting for those places."""

    texts: tuple[str, ...]

    def leaks(self) -> list[tuple[str, str]]:
        return [(m, t[:300]) for t in self.texts for m in MARKERS if m in t]


async def seen_by(app: ServedApp, user: SlackUser, keys: set[str], places: set[str]) -> Seen:
    texts: list[str] = []
    for call in app.api.calls:
        if _shown_to(call.method, call.args, user, keys, places):
            shown = {k: v for k, v in call.args.items() if k != "key"}  # our own counter
            texts.append(json.dumps(shown, ensure_ascii=False))
    async with app.runtime.sessions() as session:
        rows = await session.scalars(select(Delivery).where(Delivery.channel_id.in_(places)))
        texts += [json.dumps(row.message, ensure_ascii=False) for row in rows]
    return Seen(tuple(texts))


def _shown_to(
    method: str, args: dict[str, Any], user: SlackUser, keys: set[str], places: set[str]
) -> bool:
    if method == "response_url":
        return args.get("key") in keys
    if method == "chat.postEphemeral":
        return args.get("user") == user.user_id
    if method.startswith(("chat.", "views.")):
        return args.get("channel") in places or args.get("user_id") == user.user_id
    return False
