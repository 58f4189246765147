"""The extractors, over payloads shaped like Slack's documented ones."""

from __future__ import annotations

import pytest

from adapters.slack import inbound
from adapters.slack.identity import SlackUser, split_tenant, tenant_key, user_from_info
from bot.requests import Action
from tests.fakes.slack_events import fixture


@pytest.mark.parametrize(
    ("name", "user", "channel", "kind"),
    [
        ("slash_command", "U0ANN", "C0TEAM", "channel"),
        ("app_mention", "U0ANN", "C0TEAM", "channel"),
        ("message_im", "U0ANN", "D0ANN", "dm"),
        ("app_home_opened", "U0ANN", "D0ANN", "dm"),
        ("block_actions", "U0CAROL", "C0SHARED", "channel"),
        ("message_shortcut", "U0ANN", "C0TEAM", "channel"),
        ("view_submission", "U0ANN", None, "channel"),
    ],
)
def test_who_and_where(name: str, user: str, channel: str | None, kind: str) -> None:
    payload = fixture(name)
    assert inbound.extract_user_id(payload) == user
    assert inbound.extract_channel_id(payload) == channel
    assert inbound.extract_place_kind(payload) == kind


def test_a_slash_command_from_a_dm() -> None:
    payload = {**fixture("slash_command"), "channel_id": "D0ANN", "channel_name": "directmessage"}
    assert inbound.extract_place_kind(payload) == "dm"
    assert inbound.extract_channel_name(payload) is None


def test_the_actors_own_team() -> None:
    assert inbound.extract_actor_team(fixture("block_actions")) == "T0CLIENT"
    assert inbound.extract_actor_team(fixture("slash_command")) == "T0001"
    mention = fixture("app_mention")
    mention["event"]["user_team"] = "T0CLIENT"
    assert inbound.extract_actor_team(mention) == "T0CLIENT"


def test_event_ids() -> None:
    assert inbound.extract_event_id(fixture("app_mention")) == "Ev0MENTION01"
    command = fixture("slash_command")
    assert inbound.extract_event_id(command) == f"command:{command['trigger_id']}"
    actions = fixture("block_actions")
    assert inbound.extract_event_id(actions) == f"block_actions:{actions['trigger_id']}"


def test_command_text_unescapes_and_keeps_mentions() -> None:
    payload = fixture("slash_command")
    payload["text"] = 'task add "Fix &lt;b&gt; &amp; more" <@U0BOB|bob> in <#C0TEAM|team>'
    assert inbound.extract_command_text(payload) == (
        'task add "Fix <b> & more" <@U0BOB|bob> in #team'
    )
    payload["text"] = ""
    assert inbound.extract_command_text(payload) == "help"


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("<https://example.com>", "https://example.com"),
        ("<https://example.com|example.com>", "https://example.com"),
        ("<https://example.com/x|the doc>", "the doc (https://example.com/x)"),
        ("<mailto:a@b.co|a@b.co>", "a@b.co"),
        ("<!here> <!subteam^S1|@devs>", "@here @devs"),
        ("<!date^1392734382^{date}|Feb 18, 2014>", "Feb 18, 2014"),
    ],
)
def test_markup_is_made_plain(text: str, plain: str) -> None:
    assert inbound.clean_text(text) == plain


def test_the_bots_mention_is_dropped_wherever_it_stands() -> None:
    payload = fixture("app_mention")
    assert inbound.extract_event_text(payload, "UBOT") == "status"
    payload["event"]["text"] = "hey <@UBOT|liaison> status please <@U0BOB>"
    text = inbound.extract_event_text(payload, "UBOT")
    assert text.split() == ["hey", "status", "please", "<@U0BOB>"]


def test_a_button_press_is_its_action_without_the_uniqueness_suffix() -> None:
    assert inbound.extract_action(fixture("block_actions")) == Action("change approve", "1")
    select = fixture("block_actions")
    select["actions"] = [
        {
            "type": "static_select",
            "action_id": "task assign|3",
            "selected_option": {"value": "4 <@U0BOB>"},
        }
    ]
    assert inbound.extract_action(select) == Action("task assign", "4 <@U0BOB>")


def test_form_fields_and_metadata() -> None:
    view = fixture("view_submission")["view"]
    view["state"]["values"]["owner"] = {"input": {"type": "users_select", "selected_user": "U1"}}
    view["state"]["values"]["due"] = {"input": {"type": "datepicker", "selected_date": None}}
    assert inbound.extract_form_fields(view) == {"title": "Send the mockups", "owner": "U1"}
    assert inbound.extract_metadata(view) == {"c": "C0TEAM"}
    assert inbound.extract_metadata({"private_metadata": "not json"}) == {}


def test_shortcut_text_is_readable() -> None:
    assert inbound.extract_shortcut_text(fixture("message_shortcut")) == (
        "Can @U0BOB send the mockups (https://example.com/mockups) by Friday & cc @channel?"
    )


def test_tenants() -> None:
    assert tenant_key(None, "T1") == "T1"
    assert tenant_key("E1", "T1") == "E1:T1"
    assert split_tenant("E1:T1") == ("E1", "T1")
    assert split_tenant("T1") == (None, "T1")
    assert split_tenant("E1") == ("E1", None)


def test_who_is_external() -> None:
    ann = SlackUser("U1", "T1", None, "Ann")
    carol = SlackUser("U2", "T9", None, "Carol")
    assert not ann.is_external_to(None, "T1")
    assert carol.is_external_to(None, "T1")
    assert SlackUser("U3", "T1", None, "Guest", is_stranger=True).is_external_to(None, "T1")
    # Enterprise Grid: another workspace of the same organisation is not external.
    grid = SlackUser("U4", "T2", "E1", "Gina")
    assert not grid.is_external_to("E1", "T1")
    assert grid.is_external_to("E2", "T1")


def test_user_from_users_info() -> None:
    user = user_from_info(
        {
            "id": "U1",
            "team_id": "T1",
            "name": "ann",
            "real_name": "Ann Real",
            "tz": "Asia/Tokyo",
            "profile": {"display_name": "", "real_name": "Ann Real"},
            "enterprise_user": {"enterprise_id": "E1"},
            "is_stranger": True,
        }
    )
    assert user == SlackUser("U1", "T1", "E1", "Ann Real", "Asia/Tokyo", True)


def test_a_form_buttons_spec_is_read_defensively() -> None:
    good = Action("liaison.form", '{"a":"huddle answer","v":"x","s":"Send","f":[["q1","Q",true]]}')
    assert inbound.form_spec(good)["a"] == "huddle answer"
    for value in ("not json", "[]", '{"a": "x"}'):
        assert inbound.form_spec(Action("liaison.form", value)) == {"a": "help", "v": "", "f": []}
