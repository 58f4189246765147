"""Recorded Bot Framework activities -> the engine's Request (no database, no HTTP)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from adapters.teams import inbound
from bot.requests import Action
from tests.teams_support import (
    BOT_ID,
    OTHER_TENANT,
    SHARED_CHANNEL,
    TEAM_CHANNEL,
    TENANT,
    fixture,
    message,
    submit,
)

URL = "https://smba.trafficmanager.net/amer/"


def _request(activity: dict[str, Any]) -> Any:
    request = inbound.to_request(activity)
    assert request is not None
    return request


def test_a_personal_message_is_a_dm_command_from_a_tenant_member() -> None:
    request = _request(fixture("personal_message"))
    assert request.text == "status"
    assert request.place.kind == "dm" and request.place.tenant == TENANT
    assert request.place.channel_id.startswith("a:17I0kl9EkpE1")
    assert request.actor.tenant == TENANT and not request.actor.external
    assert request.actor.name == "Megan Bowen"
    assert request.actor.timezone == "America/Los_Angeles"


@pytest.mark.parametrize("part", ["from", "conversation"])
def test_a_message_that_says_not_who_or_where_is_not_a_request(part: str) -> None:
    activity = fixture("personal_message")
    assert inbound.to_request(activity) is not None
    for broken in ({**activity, part: None}, {**activity, part: {"id": ""}}):
        assert inbound.to_request(broken) is None
    assert inbound.to_request({k: v for k, v in activity.items() if k != part}) is None


def test_a_channel_mention_is_removed_and_the_thread_belongs_to_its_channel() -> None:
    activity = fixture("channel_mention")
    request = _request(activity)
    assert request.text == "status"
    assert request.place.channel_id == TEAM_CHANNEL  # without ";messageid=..."
    assert request.place.kind == "channel"
    assert request.actor.timezone == "Europe/Berlin"


@pytest.mark.parametrize(
    ("text", "mention", "expected"),
    [
        ("status", True, "status"),
        ("pm status", True, "pm status"),
        ("pm status", False, "pm status"),
        ("@Liaison status", False, "@Liaison status"),
        ("liaison status", False, "liaison status"),
    ],
)
def test_the_ways_of_asking_for_status_in_a_channel(
    text: str, mention: bool, expected: str
) -> None:
    request = _request(message(text, mention=mention, service_url=URL))
    assert request.text == expected  # the engine drops "pm", "liaison", "@liaison"


def test_channel_chatter_that_does_not_address_the_bot_is_ignored() -> None:
    assert inbound.to_request(message("lunch at noon?", mention=False, service_url=URL)) is None
    assert inbound.to_request(message("<at>Liaison</at>", service_url=URL)) is None


def test_other_mentions_become_parser_mentions_with_the_teams_id() -> None:
    activity = message('task add "Wireframes" <at>Bob Stone</at> due:fri', service_url=URL)
    activity["entities"].append(
        {
            "type": "mention",
            "mentioned": {"id": "29:1bob", "name": "Bob Stone"},
            "text": "<at>Bob Stone</at>",
        }
    )
    assert _request(activity).text == 'task add "Wireframes" <@29:1bob|Bob_Stone> due:fri'


def test_an_at_tag_without_an_entity_is_plain_text() -> None:
    activity = message("status <at>everyone</at> &amp; more", service_url=URL)
    assert _request(activity).text == "status everyone & more"


def test_a_card_submit_is_an_action_with_its_form_fields() -> None:
    request = _request(fixture("card_submit"))
    assert request.action == Action("change approve", "1", {})
    assert request.text is None
    assert request.place.channel_id == SHARED_CHANNEL
    activity = submit(
        {
            "action_id": "huddle answer",
            "value": "2026-12-01",
            "field.q1": "Shipped the login page",
            "field.q2": "",
            "msteams": {"type": "messageBack"},
        },
        who="bob",
        channel=TEAM_CHANNEL,
        service_url=URL,
    )
    assert _request(activity).action == Action(
        "huddle answer", "2026-12-01", {"q1": "Shipped the login page", "q2": ""}
    )


def test_a_submit_without_our_action_id_is_not_an_action() -> None:
    activity = submit({"something": "else"}, who="bob", channel=TEAM_CHANNEL, service_url=URL)
    assert inbound.action_of(activity) is None
    assert inbound.to_request(activity) is None  # no text either


@pytest.mark.parametrize(
    "sender",
    [
        {"userRole": "guest"},
        {"userRole": "anonymous"},
        {"tenantId": OTHER_TENANT},
    ],
    ids=["guest", "anonymous", "other-tenant"],
)
def test_guests_and_people_from_other_tenants_are_external(sender: dict[str, str]) -> None:
    request = _request(message("status", who="gus", service_url=URL, **sender))
    assert request.actor.external
    assert request.place.tenant == TENANT  # the place stays the host's


def test_a_guest_flag_in_channel_data_and_shared_channel_members_count_too() -> None:
    activity = message("status", who="gus", service_url=URL)
    activity["channelData"]["userRole"] = "guest"
    assert _request(activity).actor.external
    shared = message("status", who="carol", channel=SHARED_CHANNEL, service_url=URL)
    shared["channelData"]["channel"]["membershipType"] = "shared"
    shared["channelData"]["membershipSource"] = {"sourceType": "team", "tenantId": OTHER_TENANT}
    request = _request(shared)
    assert request.actor.external and request.actor.tenant == OTHER_TENANT
    assert request.place.shared_externally


def test_members_of_the_host_tenant_are_not_external() -> None:
    activity = message("status", service_url=URL, tenantId=TENANT, userRole="user")
    assert not _request(activity).actor.external


def test_event_ids_are_qualified_by_conversation() -> None:
    one = message("status", service_url=URL)
    other = message("status", channel=SHARED_CHANNEL, service_url=URL)
    other["id"] = one["id"]
    assert inbound.event_id(one) != inbound.event_id(other)
    assert inbound.event_id(one) == inbound.event_id(dict(one))


def test_conversation_updates_say_when_the_bot_was_added_or_removed() -> None:
    added, removed = fixture("bot_added_to_team"), fixture("bot_removed_from_team")
    assert inbound.bot_added(added) and not inbound.bot_removed(added)
    assert inbound.bot_removed(removed) and not inbound.bot_added(removed)
    assert inbound.bot_added(fixture("bot_added_personal"))
    someone = fixture("bot_added_to_team")
    someone["membersAdded"] = [{"id": "29:1new-person"}]
    assert not inbound.bot_added(someone)
    assert inbound.to_request(added) is None
    assert added["recipient"]["id"] == BOT_ID


def test_botbuilder_is_imported_only_inside_adapters_teams() -> None:
    """So that moving to its successor SDK touches this one folder."""
    root = Path(__file__).resolve().parents[2]
    sdk = ("botbuilder", "botframework", "msrest")
    for package in ("bot", "adapters", "storage"):
        for path in (root / package).rglob("*.py"):
            if path.is_relative_to(root / "adapters" / "teams"):
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                assert not [n for n in names if n.split(".")[0] in sdk], path
