"""Malformed input on every endpoint of the real application, over real HTTP: invalid JSON,
wrong content types, bodies over 1 MB, missing fields, unknown event types. Slack bodies are
also sent correctly signed, so that they get past the signature check into the parsing.

Nothing may crash: no 500, no unhandled-exception log line, no engine incident, and
nothing written (a malformed request changes no table)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import aiohttp
import pytest

from tests.fakes.slack_api import FakeSlackApi
from tests.served_app import BOOKKEEPING, ServedApp
from tests.slack_requests import SlackUser, event_callback, slash_command

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
LIMIT = 1024 * 1024
USER = SlackUser("U0ANN", "T0001", "Ann")
DEMO = "/playground/api/demo"

BODIES: list[tuple[str, str | None, bytes]] = [
    ("empty", None, b""),
    ("empty json", JSON, b""),
    ("invalid json", JSON, b'{"type": '),
    ("json array", JSON, b"[]"),
    ("json null", JSON, b"null"),
    ("json string", JSON, b'"event_callback"'),
    ("json number out of range", JSON, b"1e999999"),
    ("json nested too deep", JSON, b"[" * 100_000),
    ("invalid utf-8 as json", JSON, b'\xff\xfe{"type": "message"}'),
    ("invalid utf-8 as form", FORM, b"text=\xff\xfe&command=%2Fpm"),
    ("form with broken escapes", FORM, b"payload=%zz&text=%"),
    ("form payload not json", FORM, b"payload=%7B"),
    ("form payload nested too deep", FORM, b"payload=" + b"%5B" * 50_000),
    ("form payload a list", FORM, urlencode({"payload": "[]"}).encode()),
    ("form payload a string", FORM, urlencode({"payload": '"x"'}).encode()),
    ("form payload under an escaped name", FORM, b"command=%2Fpm&%70ayload=%5B%5D"),
    ("form payload twice, the last a list", FORM, b"payload=%7B%7D&payload=%5B%5D"),
    ("form of separators", FORM, b"&&&==&"),
    ("multipart garbage", "multipart/form-data; boundary=zz", b"--zz\r\ngarbage\r\n--zz--"),
    ("xml", "application/xml", b"<activity type='message'/>"),
    ("plain text", "text/plain", b"pm status"),
    ("json with NUL", JSON, b'{"type": "message", "text": "a\\u0000b"}'),
    ("json with lone surrogate", JSON, b'{"type": "message", "text": "\\ud800"}'),
]


@pytest.fixture
async def served(db_url: str) -> AsyncIterator[ServedApp]:
    async with FakeSlackApi() as api:
        api.add_user(USER.user_id, USER.name)
        async with ServedApp.start(db_url, api, LIAISON_PLAYGROUND="1") as app:
            yield app


def endpoints(app: ServedApp) -> list[tuple[str, str]]:
    """(method, path) of every route the application serves."""
    found = set()
    for route in app.server.app.router.routes():  # type: ignore[union-attr]
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or info.get("prefix")
        if path:
            found.add((route.method, path.replace("{filename:.*}", "x").rstrip("/") or "/"))
    return sorted(found)


class Crashes(logging.Handler):
    """Collects what would mean a crash: unhandled errors and engine incidents."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name}: {record.getMessage()[:200]}")


@pytest.fixture
def crashes() -> AsyncIterator[Crashes]:
    handler = Crashes()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler  # type: ignore[misc]
    root.removeHandler(handler)


async def written(app: ServedApp, before: dict[str, int]) -> dict[str, tuple[int, int]]:
    after = await app.row_counts()
    return {
        table: (before[table], after[table])
        for table in before
        if table not in BOOKKEEPING and before[table] != after[table]
    }


async def test_the_application_serves_the_endpoints_under_test(served: ServedApp) -> None:
    paths = {path for _, path in endpoints(served)}
    assert {"/slack/events", "/api/messages", "/healthz", "/"} <= paths


async def test_every_endpoint_answers_malformed_bodies_without_a_server_error(
    served: ServedApp, crashes: Crashes
) -> None:
    before = await served.row_counts()
    failures = []
    routes = endpoints(served)
    methods = {"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}
    # The playground's demo button takes any JSON object and writes the demo project:
    # checked last, for its status only.
    paths = sorted({path for _, path in routes} - {DEMO}) + [DEMO]
    for path in paths:
        if path == DEMO:
            assert await written(served, before) == {}
        for method in sorted(methods):
            for name, content_type, body in BODIES:
                headers = {"Content-Type": content_type} if content_type else {}
                async with served.http.request(
                    method, served.url + path, data=body, headers=headers
                ) as response:
                    await response.read()
                    if response.status >= 500:
                        failures.append((method, path, name, response.status))
    assert failures == [], "\n".join(map(str, failures))
    assert crashes.records == []


async def test_malformed_slack_bodies_correctly_signed_do_not_crash(
    served: ServedApp, crashes: Crashes
) -> None:
    before = await served.row_counts()
    failures = []
    for name, content_type, body in BODIES:
        status, _ = await served.signed(body, content_type=content_type or FORM)
        if status >= 500:
            failures.append((name, status))
    assert failures == [], "\n".join(map(str, failures))
    assert crashes.records == []
    assert await written(served, before) == {}


async def test_a_payload_that_is_not_an_object_is_refused_however_it_is_named(
    served: ServedApp,
) -> None:
    """Refused with 400 before Bolt reads it: under a name with escapes (`%70ayload` is
    `payload` once decoded), and as the last of several (the one Bolt would read)."""
    for body in (b"command=%2Fpm&%70ayload=%5B%5D", b"payload=%7B%7D&payload=%5B%5D"):
        status, text = await served.signed(body, content_type=FORM)
        assert (status, "payload field must be a JSON object" in text) == (400, True), body


async def test_bodies_over_a_megabyte_are_refused_with_413(served: ServedApp) -> None:
    big = b"x" * (LIMIT + 1)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(17):
            yield b"y" * 65536  # 1.06 MB without a Content-Length

    posts = sorted({path for method, path in endpoints(served) if method == "POST"})
    assert "/slack/events" in posts and "/api/messages" in posts
    for path in posts:
        for content_type in (JSON, FORM):
            async with served.http.post(
                served.url + path, data=big, headers={"Content-Type": content_type}
            ) as response:
                # An endpoint may refuse a content type it never takes before reading.
                assert response.status in (413, 415), (path, content_type)
                if content_type == JSON:
                    assert response.status == 413, path
        async with served.http.post(
            served.url + path, data=chunks(), headers={"Content-Type": JSON}
        ) as response:
            assert response.status == 413, (path, "chunked")
    signed = slash_command(USER, "a" * LIMIT, channel_id="C1", response_url="http://x/")
    status, _ = await served.signed(signed)
    assert status == 413
    async with served.http.get(served.url + "/healthz", data=big) as response:
        assert response.status < 500


def _payload(data: dict[str, object]) -> str:
    return urlencode({"payload": json.dumps(data)})


SLACK_ODDITIES: list[tuple[str, str, str]] = [
    # (what, content type, body): Slack-shaped bodies with fields missing or unknown.
    *(
        (f"slash command without {field}", FORM, urlencode({
            k: v for k, v in {
                "team_id": "T0001", "user_id": "U0ANN", "channel_id": "C1", "command": "/pm",
                "text": "status", "response_url": "http://127.0.0.1:9/r", "trigger_id": "1.2",
            }.items() if k != field
        }))
        for field in ("team_id", "user_id", "channel_id", "command", "text", "response_url")
    ),
    ("slash command of another app", FORM, urlencode({
        "team_id": "T0001", "user_id": "U0ANN", "channel_id": "C1", "command": "/other",
        "text": "x", "trigger_id": "1.3"})),
    ("an envelope without an event", JSON, json.dumps({"type": "event_callback",
                                                       "team_id": "T0001"})),
    ("an unknown event type", JSON, event_callback(USER, {"type": "reaction_party"})),
    ("an app_mention without text or user", JSON, event_callback(USER, {"type": "app_mention",
                                                                        "channel": "C1"})),
    ("a DM without a channel", JSON, event_callback(USER, {"type": "message", "user": "U0ANN",
                                                         "channel_type": "im", "text": "help"})),
    ("app_home_opened without a tab", JSON, event_callback(USER, {"type": "app_home_opened",
                                                                 "user": "U0ANN"})),
    ("an unknown envelope type", JSON, json.dumps({"type": "unknown_envelope"})),
    ("an envelope without a type", JSON, json.dumps({"team_id": "T0001"})),
    ("url_verification without a challenge", JSON, json.dumps({"type": "url_verification"})),
    ("app_rate_limited", JSON, json.dumps({"type": "app_rate_limited", "team_id": "T0001",
                                           "minute_rate_limited": 1})),
    ("block_actions without actions", FORM, _payload({"type": "block_actions",
        "user": {"id": "U0ANN", "team_id": "T0001"}, "team": {"id": "T0001"}})),
    ("a button without a value", FORM, _payload({"type": "block_actions",
        "user": {"id": "U0ANN", "team_id": "T0001"}, "team": {"id": "T0001"},
        "actions": [{"action_id": "risks|1", "type": "button"}]})),
    ("a form button whose form is not JSON", FORM, _payload({"type": "block_actions",
        "user": {"id": "U0ANN", "team_id": "T0001"}, "team": {"id": "T0001"},
        "trigger_id": "1.5",
        "actions": [{"action_id": "liaison.form|1", "value": "{oops", "type": "button"}]})),
    ("view_submission without a view", FORM, _payload({"type": "view_submission",
        "user": {"id": "U0ANN", "team_id": "T0001"}, "team": {"id": "T0001"}})),
    ("view_submission of an unknown view", FORM, _payload({"type": "view_submission",
        "user": {"id": "U0ANN", "team_id": "T0001"}, "team": {"id": "T0001"},
        "view": {"type": "modal", "callback_id": "nobody.knows", "state": {"values": {}}}})),
    ("a form submit with broken metadata", FORM, _payload({"type": "view_submission",
        "user": {"id": "U0ANN", "team_id": "T0001"}, "team": {"id": "T0001"},
        "view": {"type": "modal", "callback_id": "liaison.form",
                 "private_metadata": "{not json", "state": {"values": {"x": {}}}}})),
    ("a shortcut without a message", FORM, _payload({"type": "message_action",
        "callback_id": "liaison.task_from_message", "trigger_id": "1.4",
        "user": {"id": "U0ANN", "team_id": "T0001"}, "team": {"id": "T0001"}})),
    ("view_closed", FORM, _payload({"type": "view_closed", "user": {"id": "U0ANN"},
                                    "team": {"id": "T0001"}, "view": {"type": "modal"}})),
    ("an unknown interaction", FORM, _payload({"type": "dialog_submission",
                                               "user": {"id": "U0ANN"}})),
]  # fmt: skip


async def test_signed_slack_bodies_with_missing_fields_or_unknown_types_do_not_crash(
    served: ServedApp, crashes: Crashes
) -> None:
    before = await served.row_counts()
    failures = []
    for what, content_type, body in SLACK_ODDITIES:
        status, _ = await served.signed(body, content_type=content_type)
        if status >= 500:
            failures.append((what, status))
    assert failures == [], "\n".join(map(str, failures))
    assert crashes.records == []
    assert await written(served, before) == {}


async def test_url_verification_still_answers_its_challenge(served: ServedApp) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "3eZbrw1aB"})
    status, text = await served.signed(body, content_type=JSON)
    assert status == 200 and "3eZbrw1aB" in text


TEAMS_ODDITIES: list[dict[str, object]] = [
    {},
    {"type": "message"},
    {"type": "message", "text": "help"},
    {"type": "message", "text": 5, "from": {"id": "29:1"}, "conversation": {"id": "a:1"}},
    {"type": "message", "from": "not an account", "conversation": ["x"], "text": "status"},
    {"type": "message", "text": "status", "entities": "nope", "from": {"id": "29:1"}},
    {"type": "message", "value": "not an object", "from": {"id": "29:1"}},
    {"type": "message", "value": {"action_id": 7}, "from": {"id": "29:1"}},
    {"type": "message", "value": {"action_id": "risks", "value": {"deep": [1]}}},
    {"type": "conversationUpdate", "membersAdded": "everyone"},
    {"type": "conversationUpdate", "membersRemoved": [{"id": None}]},
    {"type": "invoke", "name": "nobody/knows"},
    {"type": "someFutureType", "from": {"id": "29:1"}},
]


async def test_teams_activities_with_missing_or_odd_fields_do_not_crash(
    served: ServedApp, crashes: Crashes
) -> None:
    before = await served.row_counts()
    failures = []
    for activity in TEAMS_ODDITIES:
        async with served.http.post(
            served.url + "/api/messages", json=activity, timeout=aiohttp.ClientTimeout(20)
        ) as response:
            # 501 is Bot Framework's documented answer to an invoke a bot does not handle.
            unhandled_invoke = activity.get("type") == "invoke" and response.status == 501
            if response.status >= 500 and not unhandled_invoke:
                failures.append((activity, response.status))
    assert failures == [], "\n".join(map(str, failures))
    assert crashes.records == []
    assert await written(served, before) == {}


async def test_a_form_button_without_a_trigger_id_is_handled(
    served: ServedApp, crashes: Crashes
) -> None:
    button = {"action_id": "liaison.form|1", "value": "{}", "type": "button"}
    body = _payload(
        {"type": "block_actions", "user": {"id": "U0ANN"}, "team": {"id": "T0001"},
         "actions": [button]}
    )  # fmt: skip
    status, _ = await served.signed(body)
    assert status < 500
    assert crashes.records == []
