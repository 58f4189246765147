"""The playground's HTTP API: a real adapter of the engine, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from adapters.cli import main
from adapters.playground import playground_decision
from adapters.playground.people import with_mentions
from adapters.playground.render import render_html
from adapters.playground.routes import STATIC
from bot.messages import (
    Actions,
    Button,
    Context,
    Facts,
    Field,
    File,
    Form,
    Heading,
    Image,
    Item,
    Items,
    Message,
    Text,
)
from bot.settings import load_settings
from tests.harness import FixedClock
from tests.playground_app import NO_PLATFORMS, buttons_in, html_of, playground_app

FORM_RE = re.compile(r'<form class="card-form" data-action-id="([^"]*)" data-value="([^"]*)">')
NEW = 'project new "Acme Site" client:"Acme Corp" budget:50k due:2027-03-01 tz:Europe/Berlin'


async def kickoff(app) -> None:  # noqa: ANN001
    for place, line in (("team", NEW), ("client", "project link client")):
        reply = await app.say("ann", place, line)
        assert not reply["failed"], reply


async def test_the_page_and_its_files_need_nothing_from_the_internet(db_url: str) -> None:
    async with playground_app(db_url) as app:
        page = await app.client.get("/")
        html = await page.text()
        assert page.status == 200 and "Liaison playground" in html
        assert '<script src="/playground/static/app.js">' in html
        script = await app.client.get("/playground/static/app.js")
        assert script.status == 200
    for path in STATIC.iterdir():
        text = path.read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text, path.name


async def test_a_typed_command_is_answered_by_the_engine_as_html_and_json(db_url: str) -> None:
    async with playground_app(db_url) as app:
        reply = await app.say("ann", "team", NEW)
        assert reply["failed"] is False
        [message] = reply["messages"]
        assert message["message"]["blocks"][0] == {
            "type": "Heading",
            "text": "Project Acme Site started",
        }
        assert "<h3>Project Acme Site started</h3>" in message["html"]
        assert "<dt>Budget</dt><dd>USD 50,000.00</dd>" in message["html"]
        feed = await app.feed("ann")
        assert [(e["kind"], e["place"], e["author"]) for e in feed] == [
            ("said", "team", "Ann"),
            ("reply", "team", "Liaison"),
        ]
        # The request carried the playground's clock and platform.
        assert feed[0]["at"] == "2026-12-01T10:00:00+00:00"
        status = await app.say("ann", "dm:ann", "status")
        assert "Acme Site: status" in status["messages"][0]["text"]


async def test_what_people_type_is_escaped_on_the_page(db_url: str) -> None:
    async with playground_app(db_url) as app:
        reply = await app.say("ann", "team", 'project new "<img src=x onerror=alert(1)>" client:X')
        html = html_of(reply)
        assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img src=x" not in html
        said = (await app.feed("ann"))[0]
        escaped = "project new &quot;&lt;img src=x onerror=alert(1)&gt;&quot; client:X"
        assert said["html"] == f'<div class="said">{escaped}</div>'


async def test_an_ephemeral_reply_is_only_in_the_askers_feed(db_url: str) -> None:
    async with playground_app(db_url) as app:
        await kickoff(app)
        await app.say("ann", "team", "team add @bob rate:100/h")
        reply = await app.say("bob", "team", "log 2h")
        assert reply["messages"][0]["visibility"] == "ephemeral"
        mine = [e for e in await app.feed("bob") if e["only_for"]]
        assert [e["text"] for e in mine] == ["Logged 2h: USD 200.00."]
        assert all("Logged 2h" not in e["text"] for e in await app.feed("ann"))


async def test_the_client_sees_the_shared_channel_only_and_no_amount(db_url: str) -> None:
    async with playground_app(db_url) as app:
        await kickoff(app)
        internal = await app.say("ann", "team", "status")
        assert "50,000" in html_of(internal)
        client = await app.say("carol", "client", "status")
        assert client["messages"][0]["audience"] == "client"
        assert "Acme Site" in html_of(client)
        carol_sees = await app.feed("carol")
        assert {e["place"] for e in carol_sees} == {"client"}
        assert all("50,000" not in e["html"] and "USD" not in e["html"] for e in carol_sees)
        # Carol cannot speak in a channel she is not in.
        response = await app.client.post(
            "/playground/api/say", json={"as": "carol", "place": "team", "text": "status"}
        )
        assert response.status == 400


async def test_a_button_on_a_post_runs_its_action_for_whoever_presses_it(db_url: str) -> None:
    async with playground_app(db_url) as app:
        await kickoff(app)
        await app.say("ann", "team", 'change "Add a blog" cost:4000 days:5')
        [card] = [e for e in await app.feed("carol") if e["kind"] == "post"]
        assert card["place"] == "client" and card["audience"] == "client"
        buttons = buttons_in(card["html"])
        approve = next(b for b in buttons if b[2] == "Approve")
        reply = await app.press("carol", "client", approve[0], approve[1])
        assert reply["failed"] is False
        assert "approved" in html_of(reply).lower()
        feed = await app.feed("carol")
        assert (
            feed[-2]["kind"] == "said"
            and feed[-2]["text"] == f"(pressed {approve[0]} {approve[1]})"
        )
        changes = await app.say("ann", "team", "changes")
        assert "approved" in html_of(changes).lower()
        # The team heard about it through the outbox, in the team channel.
        team_posts = [e for e in await app.feed("ann") if e["kind"] == "post"]
        assert any(e["place"] == "team" and "approved" in e["text"].lower() for e in team_posts)


async def test_a_refused_button_press_says_why_and_changes_nothing(db_url: str) -> None:
    async with playground_app(db_url) as app:
        await kickoff(app)
        await app.say("ann", "team", "team add @bob")
        await app.say("ann", "team", 'change "Add a blog" cost:4000 days:5')
        reply = await app.press("bob", "team", "change approve", "1")
        assert reply["failed"] is True
        changes = await app.say("ann", "team", "changes")
        assert "pending" in html_of(changes).lower()


async def test_the_api_answers_only_json_from_its_own_page(db_url: str) -> None:
    async with playground_app(db_url) as app:
        body = {"as": "ann", "place": "team", "text": "help"}
        other = await app.client.post(
            "/playground/api/say", json=body, headers={"Origin": "http://evil.example"}
        )
        assert other.status == 403
        form = await app.client.post("/playground/api/say", data=body)
        assert form.status == 415
        nobody = await app.client.post("/playground/api/say", json={**body, "as": "mallory"})
        assert nobody.status == 400
        same = await app.client.post(
            "/playground/api/say",
            json=body,
            headers={"Origin": str(app.client.make_url("")).rstrip("/")},
        )
        assert same.status == 200
        assert await app.feed("ann") != []


async def test_the_demo_is_made_of_commands_and_made_once(db_url: str) -> None:
    async with playground_app(db_url) as app:
        status, result = await app.post_json("demo", {})
        assert status == 200 and result["ok"] and result["steps"] > 30
        budget = await app.say("ann", "team", "budget")
        html = html_of(budget)
        # 1,800 + 2,400 + 3,200 spent, and Dana's 36h at 85 and Bob's 32h at 95 logged.
        assert "USD 13,500.00 (USD 7,400.00 spend, USD 6,100.00 time)" in html
        assert '<img class="chart" alt="Budget burn-up of Acme Website' in html
        for line, expected in (
            ("risks", "Payment provider API not ready in time"),
            ("requests", "Please add our new logo to the header"),
            ("changes", "Add a blog section"),
            ("tasks", "Payment integration"),
        ):
            assert expected in html_of(await app.say("ann", "team", line)), line
        again, second = await app.post_json("demo", {})
        assert again == 409 and "already a project" in second["error"]


def test_mentions_of_the_roster_become_platform_mentions() -> None:
    line = 'team add @bob @Dana @zed "ask @bob" x@bob'
    assert with_mentions(line) == 'team add <@bob|Bob> <@dana|Dana> @zed "ask @bob" x@bob'


@pytest.mark.parametrize(
    ("settings", "served"),
    [
        ({}, True),
        ({"LIAISON_HOST": "::1"}, True),
        ({"LIAISON_HOST": "0.0.0.0"}, False),
        ({"LIAISON_HOST": "0.0.0.0", "LIAISON_PLAYGROUND": "1"}, False),
        ({"SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-1"}, False),
        ({"MICROSOFT_APP_ID": "app"}, False),
        ({"MICROSOFT_APP_ID": "app", "LIAISON_PLAYGROUND": "1"}, True),
        ({"LIAISON_PLAYGROUND": "0"}, False),
    ],
)
def test_when_the_playground_is_served(settings: dict[str, str], served: bool) -> None:
    decision, why = playground_decision(load_settings(**{**NO_PLATFORMS, **settings}))
    assert decision is served, why


async def test_serve_says_whether_the_playground_is_on(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="liaison.playground")
    creds = {"MICROSOFT_APP_ID": "app", "MICROSOFT_APP_PASSWORD": "pw"}
    async with playground_app(db_url, **creds) as app:
        assert (await app.client.get("/")).status == 404
    assert "set LIAISON_PLAYGROUND=1 to serve it anyway" in caplog.text
    caplog.clear()
    async with playground_app(db_url) as app:
        assert (await app.client.get("/")).status == 200
    assert "Playground: on at http://127.0.0.1:3978/" in caplog.text


def test_liaison_demo_fills_the_database_the_playground_shows(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    monkeypatch.setenv("LIAISON_DATABASE_URL", db_url)
    assert main(["demo"]) == 0
    assert 'Created the demo project "Acme Website"' in capsys.readouterr().out
    assert main(["demo"]) == 1
    assert "already a project" in capsys.readouterr().err

    async def waiting_posts() -> list[dict[str, Any]]:
        # The demo is told around today, the real one: so is the playground that shows it
        # (a fixed day would find the demo's posts not yet due once the real day passes it).
        async with playground_app(db_url, FixedClock(datetime.now(UTC))) as app:
            return [e for e in await app.feed("carol") if e["kind"] == "post"]

    # The approval card waited in the outbox until a playground was there to show it.
    posts = asyncio.run(waiting_posts())
    assert [p["place"] for p in posts] == ["client"]
    assert "Add a blog section" in posts[0]["text"]


async def test_time_travel_runs_the_schedulers_due_step_and_the_posts_arrive(
    db_url: str,
) -> None:
    async with playground_app(db_url) as app:
        await kickoff(app)
        status, result = await app.post_json("travel", {"day": "tomorrow", "time": "09:00"})
        # 09:00 in the project's zone (Berlin, UTC+1 in December).
        assert status == 200 and result["now"] == "2026-12-02T08:00:00+00:00"
        assert result["posts"] >= 1
        posts = [e for e in await app.feed("ann") if e["kind"] == "post"]
        checkin = [p for p in posts if p["place"] == "team"]
        assert checkin and checkin[0]["text"].startswith(
            ("All clear for Acme Site", "Good morning")
        )
        assert checkin[0]["at"] == "2026-12-02T08:00:00+00:00"
        # What is typed next happens at the new time; the engine's own clock did not move.
        await app.say("ann", "team", "status")
        assert (await app.feed("ann"))[-1]["at"] == "2026-12-02T08:00:00+00:00"
        assert app.runtime.engine.clock().isoformat() == "2026-12-01T10:00:00+00:00"
        state = await (await app.client.get("/playground/api/state?as=ann")).json()
        assert state["zone"] == "Europe/Berlin" and state["can_travel"] is True
        # A minute later the check-in is not posted again, and the past is out of reach.
        again, later = await app.post_json("travel", {"day": "2026-12-02", "time": "09:01"})
        assert again == 200 and later["posts"] == 0
        back, refused = await app.post_json("travel", {"day": "2026-12-01", "time": "09:00"})
        assert back == 400 and "forward" in refused["error"]


def test_every_block_of_the_neutral_model_has_an_html_form() -> None:
    message = Message(
        blocks=(
            Heading("Budget of <Acme>"),
            Text("Run `budget set 5k` *now*"),
            Facts((("Spent", "USD 1.00"),)),
            Items((Item("Wireframes", "overdue"), Item("Logo", "done"))),
            Items((), empty="No risks."),
            Actions((Button("Approve", "change approve", "3", "primary"),)),
            Image(b"\x89PNG-bytes", 'A "chart"'),
            File("tasks.csv", b"a,b\n"),
            Form((Field("done", "Done since yesterday?"),), "Send", "huddle answer", "7"),
            Context("small print"),
        ),
        visibility="ephemeral",
    )
    html = render_html(message)
    assert html.startswith('<div class="msg ephemeral audience-internal">')
    assert "<h3>Budget of &lt;Acme&gt;</h3>" in html
    assert "<p>Run <code>budget set 5k</code> <b>now</b></p>" in html
    assert '<dl class="facts"><dt>Spent</dt><dd>USD 1.00</dd></dl>' in html
    assert (
        '<li class="item status-overdue"><span class="status">overdue</span> Wireframes</li>'
        in html
    )
    assert '<p class="empty">No risks.</p>' in html
    assert buttons_in(html) == [("change approve", "3", "Approve")]
    assert (
        '<img class="chart" alt="A &quot;chart&quot;" src="data:image/png;base64,iVBORy1ieXRlcw==">'
        in html
    )
    assert '<a class="file" download="tasks.csv" href="data:text/csv;base64,YSxiCg==">' in html
    assert '<form class="card-form" data-action-id="huddle answer" data-value="7">' in html
    assert '<textarea name="done" rows="2"></textarea>' in html
    assert '<p class="small">small print</p>' in html


async def test_a_form_in_a_direct_message_submits_its_fields(db_url: str) -> None:
    async with playground_app(db_url) as app:
        await kickoff(app)
        await app.say("ann", "team", "team add @bob")
        await app.say("bob", "dm:bob", "me")  # Liaison now has a direct line to Bob
        await app.say("ann", "team", "huddle now")
        [prompt] = [e for e in await app.feed("bob") if e["kind"] == "post"]
        assert prompt["place"] == "dm:bob"
        form = FORM_RE.search(prompt["html"])
        assert form is not None
        action_id, value = form.group(1), unescape(form.group(2))
        body = {
            "as": "bob",
            "place": "dm:bob",
            "action_id": action_id,
            "value": value,
            "fields": {"q1": "Wireframes", "q2": "Logo", "q3": "none"},
        }
        status, reply = await app.post_json("action", body)
        assert status == 200 and reply["failed"] is False, reply
        assert "Thanks, noted" in reply["messages"][0]["text"]


async def test_dns_rebinding_a_page_at_another_host_name_is_refused_everywhere(
    db_url: str,
) -> None:
    """A page at attacker.example whose name now resolves to 127.0.0.1: its requests are
    same-origin with the page (Origin and Host agree), so only the Host itself tells."""
    async with playground_app(db_url) as app:
        port = app.client.port
        page = {"Host": f"attacker.example:{port}", "Origin": f"http://attacker.example:{port}"}
        say = {"as": "ann", "place": "team", "text": NEW}
        for method, path, body in (
            ("GET", "/", None),
            ("GET", "/playground/static/app.js", None),
            ("GET", "/playground/api/state?as=ann", None),
            ("GET", "/playground/api/feed?as=ann", None),
            ("POST", "/playground/api/say", say),
            ("POST", "/playground/api/action", {**say, "action_id": "help", "value": ""}),
            ("POST", "/playground/api/travel", {"day": "tomorrow", "time": "09:00"}),
            ("POST", "/playground/api/demo", {}),
        ):
            response = await app.client.request(method, path, json=body, headers=page)
            assert response.status == 421, (path, await response.text())
        # Nothing was said or made; the same machine by another port is refused too.
        assert await app.feed("ann") == []
        other_port = {"Host": f"127.0.0.1:{port + 1}"}
        assert (await app.client.get("/", headers=other_port)).status == 421
        # /healthz is not the playground's and answers whatever the Host.
        assert (await app.client.get("/healthz", headers=page)).status == 200


async def test_the_playground_answers_each_loopback_name_with_its_port(db_url: str) -> None:
    async with playground_app(db_url) as app:
        port = app.client.port
        for name in ("127.0.0.1", "localhost", "LOCALHOST", "[::1]"):
            host = {"Host": f"{name}:{port}", "Origin": f"http://{name}:{port}"}
            assert (await app.client.get("/", headers=host)).status == 200, name
            reply = await app.client.post(
                "/playground/api/say",
                json={"as": "ann", "place": "team", "text": "help"},
                headers=host,
            )
            assert reply.status == 200, name
