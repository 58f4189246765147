"""Property-based input: the payload translators (Slack's extractors, Teams' activity
reader) over payloads of the platforms' documented shapes with any field missing and any
text in them, and command lines and form answers of any text sent as correctly signed
Slack requests to the real application: nothing crashes, nothing is half-written."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from adapters.slack import inbound as slack
from adapters.slack.views import FORM_CALLBACK
from adapters.teams import inbound as teams
from bot.requests import Request
from storage.models import Risk
from tests.served_app import BOOKKEEPING, ServedApp
from tests.system_world import ANN, BOB, CAROL, SHARED_CHANNEL, TEAM_CHANNEL, project_world

# Any text, surrogates included (they arrive through JSON escapes), and the odd characters
# people do type: RTL overrides, zero widths, combining marks, emoji sequences.
ODD = "\u202e\u200b\ufeff\u0301\u0000\x1b\u2028\U0001f469\u200d\U0001f467<>&\"'`*_~:@|"
any_text = st.text(
    # No lone surrogates: they cannot be encoded as UTF-8, so no HTTP body carries one.
    st.characters(codec="utf-8", exclude_categories=("Cc",)) | st.sampled_from(ODD),
    max_size=60,
)
ids = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=11)


def maybe(**fields: st.SearchStrategy) -> st.SearchStrategy[dict]:
    """A dict where each field may be missing."""
    return st.fixed_dictionaries({}, optional=fields)


slack_user = maybe(id=ids, username=any_text, name=any_text, team_id=ids)
slack_channel = maybe(id=ids, name=any_text)
slack_action = maybe(
    action_id=any_text,
    value=any_text,
    block_id=any_text,
    type=st.sampled_from(["button", "static_select"]),
    selected_option=maybe(value=any_text),
)
slack_view = maybe(
    id=ids,
    type=st.just("modal"),
    callback_id=any_text,
    private_metadata=any_text | st.builds(json.dumps, st.dictionaries(any_text, any_text)),
    state=maybe(
        values=st.dictionaries(
            any_text,
            st.dictionaries(
                any_text,
                maybe(
                    type=st.sampled_from(["plain_text_input", "datepicker", "users_select"]),
                    value=any_text,
                    selected_date=any_text,
                    selected_user=ids,
                ),
                max_size=2,
            ),
            max_size=3,
        )
    ),
)
slack_event = maybe(
    type=st.sampled_from(["app_mention", "message", "app_home_opened", "reaction_added"]),
    user=ids,
    text=any_text,
    channel=ids,
    channel_type=st.sampled_from(["im", "channel", "group", "app_home"]),
    thread_ts=any_text,
    team=ids,
    user_team=ids,
    tab=st.sampled_from(["home", "messages"]),
)
slack_payload = maybe(
    type=st.sampled_from(["block_actions", "view_submission", "message_action", "event_callback"]),
    user=slack_user,
    user_id=ids,
    user_name=any_text,
    team_id=ids,
    channel=slack_channel,
    channel_id=ids,
    channel_name=any_text,
    container=maybe(type=st.sampled_from(["message", "view"]), channel_id=ids),
    text=any_text,
    trigger_id=any_text,
    event_id=any_text,
    actions=st.lists(slack_action, max_size=2),
    view=slack_view,
    message=maybe(text=any_text, ts=any_text),
    event=slack_event,
)
EXTRACTORS = [
    getattr(slack, name)
    for name in dir(slack)
    if name.startswith("extract_") and name != "extract_event_text"
]


@settings(max_examples=150, deadline=None)
@given(payload=slack_payload, bot_user=st.none() | ids)
def test_slack_extractors_read_any_documented_payload(payload: dict, bot_user: str | None) -> None:
    for extract in EXTRACTORS:
        if extract is slack.extract_form_fields or extract is slack.extract_metadata:
            result = extract(payload.get("view") or {})
        else:
            result = extract(payload)
        assert result is None or isinstance(result, bool | str | dict | slack.Action), extract
    assert isinstance(slack.extract_event_text(payload, bot_user), str)
    assert isinstance(slack.extract_command_text(payload), str)


teams_account = maybe(id=any_text, name=any_text, tenantId=any_text, userRole=any_text)
teams_activity = maybe(
    type=st.sampled_from(["message", "conversationUpdate", "invoke", "typing"]),
    id=any_text,
    text=any_text,
    channelId=st.sampled_from(["msteams", "emulator"]),
    serviceUrl=any_text,
    localTimezone=any_text,
    **{"from": teams_account},
    recipient=teams_account,
    conversation=maybe(
        id=any_text,
        conversationType=st.sampled_from(["personal", "channel", "groupChat"]),
        tenantId=any_text,
        isGroup=st.booleans(),
        name=any_text,
    ),
    channelData=maybe(
        tenant=maybe(id=any_text),
        channel=maybe(id=any_text, name=any_text, membershipType=any_text),
        team=maybe(id=any_text, name=any_text),
    ),
    entities=st.lists(
        maybe(
            type=st.sampled_from(["mention", "clientInfo"]),
            mentioned=teams_account,
            text=any_text,
            timezone=any_text,
        ),
        max_size=3,
    ),
    value=st.none() | maybe(action_id=any_text, value=any_text, **{"field.q1": any_text}),
    membersAdded=st.lists(teams_account, max_size=2),
)


@settings(max_examples=200, deadline=None)
@given(activity=teams_activity)
def test_teams_activities_translate_to_a_request_or_nothing(activity: dict) -> None:
    request = teams.to_request(activity)
    assert request is None or isinstance(request, Request)
    if request is not None:
        assert isinstance(request.actor.user_id, str) and isinstance(request.place.channel_id, str)
        assert (request.text is None) != (request.action is None)
    teams.bot_added(activity), teams.bot_removed(activity)  # noqa: B018


# --- over HTTP -----------------------------------------------------------------------------

TEMPLATES = (
    "task add {q} <@U0BOB|bob> due:2027-01-15",
    "risk add {q} likelihood:high impact:low",
    "request {q}",
    "decision {q} why:{q}",
    "log 1h {q}",
    "spend 10 {q}",
    "milestone add {q} due:2027-03-01",
    "change {q} cost:10 days:1",
    "huddle answer {q} {q} {q}",
    "task block 1 {q}",
    "tasks {w}",
    "status {w}",
    "{w} {w}",
)
word = st.sampled_from(
    ["add", "1", "all", "due:2027-01-15", "due:", "likelihood:high", "cost:", "days:-1",
     "rate:abc/h", "tz:Mars/Olympus", "<@U0BOB|bob>", "<@U0NEW|new>", "client", "3h", "-1h",
     "$1e9", '""', '"', "mine", "overdue"])  # fmt: skip


def slack_escaped(text: str) -> str:
    """What Slack sends for typed text: `&`, `<`, `>` escaped; a quote inside a quoted
    title is typed as an apostrophe."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return '"' + text.replace('"', "'") + '"'


line = st.builds(
    lambda template, free, w: template.format(q=slack_escaped(free), w=w),
    st.sampled_from(TEMPLATES),
    any_text,
    word,
)
FAILED = ("Usage:", " is for ", "There is no ", "I don't know", "Sorry", "please type it again")


class Incidents(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(f"{record.name}: {record.getMessage()[:200]}")


@pytest.fixture
def incidents() -> Iterator[Incidents]:
    handler = Incidents()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[ServedApp]:
    async with project_world(db_url) as app:
        yield app


def _business(counts: dict[str, int]) -> dict[str, int]:
    return {table: n for table, n in counts.items() if table not in BOOKKEEPING}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=line, who=st.sampled_from(["pm", "member", "client"]))
async def test_any_command_line_over_slack_either_works_or_changes_nothing(
    world: ServedApp, incidents: Incidents, text: str, who: str
) -> None:
    user, channel = {
        "pm": (ANN, TEAM_CHANNEL),
        "member": (BOB, TEAM_CHANNEL),
        "client": (CAROL, SHARED_CHANNEL),
    }[who]
    before = await world.row_counts()
    reply = await world.slash(user, text, channel_id=channel)
    assert reply.status == 200
    assert incidents.seen == []
    if any(mark in reply.text for mark in FAILED) or not reply.text.strip():
        assert _business(await world.row_counts()) == _business(before), (text, reply.text)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(title=any_text)
async def test_a_title_of_any_text_is_stored_exactly_as_typed_or_refused(
    world: ServedApp, incidents: Incidents, title: str
) -> None:
    typed = title.replace('"', "'")
    before = await world.row_counts()
    line = f"risk add {slack_escaped(title)} likelihood:low impact:low"
    reply = await world.slash(ANN, line, channel_id=TEAM_CHANNEL)
    assert incidents.seen == []
    async with world.runtime.sessions() as session:
        newest = await session.scalar(select(Risk).order_by(Risk.id.desc()).limit(1))
    if "added" in reply.text:
        assert newest is not None and newest.title == typed.strip()
    else:
        assert _business(await world.row_counts()) == _business(before), reply.text


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(answers=st.lists(any_text, min_size=3, max_size=3), action=st.sampled_from(
    ["huddle answer", "request", "risk add", "decision", ""]))  # fmt: skip
async def test_any_form_answers_are_stored_whole_or_refused(
    world: ServedApp, incidents: Incidents, answers: list[str], action: str
) -> None:
    values = {
        f"q{n + 1}": {"a": {"type": "plain_text_input", "value": answer}}
        for n, answer in enumerate(answers)
    }
    status, _ = await world.submit(
        BOB,
        callback_id=FORM_CALLBACK,
        private_metadata=json.dumps({"a": action, "v": "", "c": TEAM_CHANNEL}),
        values=values,
    )
    assert status == 200
    assert incidents.seen == []
