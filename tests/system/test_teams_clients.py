"""A client actor in Microsoft Teams (a guest, or someone from another tenant) cannot reach
internal data through any command typed or any Adaptive Card submit, forged ones included
(any action id, any value, any form field), over HTTP to /api/messages."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.commands import ALL_MODULES
from bot.engine.registry import Registry
from storage.models import Delivery
from tests.teams_support import (
    EMULATOR,
    OTHER_TENANT,
    SHARED_CHANNEL,
    TEAM_CHANNEL,
    TeamsService,
    message,
    teams_service,
    text_of,
)

COMMANDS = [spec.name for spec in Registry.from_modules(ALL_MODULES).all()]
MARKERS = ("INTERNAL-RISK-ZEBRA", "INTERNAL-SPEND-NARWHAL", "INTERNAL-DECISION-IBEX", "48,765")
PROBES = ("risks all", "report internal", "export spend", "export risks", "budget", "decisions")
GUEST = {"userRole": "guest"}
STRANGER = {"tenantId": OTHER_TENANT}


@pytest.fixture
async def teams(db_url: str) -> AsyncIterator[TeamsService]:
    async with teams_service(db_url) as service:
        for line, channel in (
            ('project new "Acme Site" client:"Acme" budget:48765', TEAM_CHANNEL),
            ('risk add "INTERNAL-RISK-ZEBRA" likelihood:high impact:high', TEAM_CHANNEL),
            ('spend 10 "INTERNAL-SPEND-NARWHAL"', TEAM_CHANNEL),
            ('decision "INTERNAL-DECISION-IBEX"', TEAM_CHANNEL),
            ("project link client", SHARED_CHANNEL),
        ):
            replies = text_of(await service.say("ann", line, channel=channel))
            assert "Usage" not in replies and "went wrong" not in replies, (line, replies)
        yield service


async def test_guests_and_other_tenants_reach_no_internal_data_in_teams(
    teams: TeamsService,
) -> None:
    seen: list[str] = []
    for who, sender, channel in (("gus", GUEST, SHARED_CHANNEL), ("carol", STRANGER, None)):
        for line in (*COMMANDS, *PROBES):
            seen.append(text_of(await teams.say(who, line, channel=channel, **sender)))
    for who, sender, channel in (("carol", STRANGER, TEAM_CHANNEL), ("gus", GUEST, None)):
        for action in (*COMMANDS, *PROBES):
            name, _, value = action.partition(" ")
            submit = {"action_id": name, "value": value or "1", "field.q1": "x"}
            seen.append(text_of(await teams.press(submit, who=who, channel=channel, **sender)))
    async with teams.runtime.sessions() as session:
        queued = await session.scalars(
            select(Delivery.message).where(Delivery.channel_id.contains(SHARED_CHANNEL))
        )
        seen += [json.dumps(message, ensure_ascii=False) for message in queued]
    assert any("Acme Site" in text for text in seen)  # the clients were answered
    assert [(m, t[:200]) for t in seen for m in MARKERS if m in t] == []


async def test_the_team_sees_those_facts_in_teams(teams: TeamsService) -> None:
    shown = text_of(await teams.say("ann", "risks", channel=TEAM_CHANNEL))
    shown += text_of(await teams.say("ann", "decisions", channel=TEAM_CHANNEL))
    assert "INTERNAL-RISK-ZEBRA" in shown and "INTERNAL-DECISION-IBEX" in shown


async def test_the_emulator_endpoint_is_not_served_on_a_public_address(db_url: str) -> None:
    async with teams_service(db_url, LIAISON_HOST="0.0.0.0", **EMULATOR) as service:
        activity = message("help", who="ann", channel=None, service_url=service.connector.url)
        assert await service.post(activity) == 404
        assert service.connector.posts == []
