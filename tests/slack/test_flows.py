"""Slow commands, forms in modals, and attachments, with a few test-only commands."""

from __future__ import annotations

import asyncio
import json
import types
from collections.abc import AsyncIterator
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from decimal import Decimal

import pytest

from bot.engine.context import CommandContext
from bot.engine.parsing import Args
from bot.engine.registry import ANYONE, command
from bot.messages import Chart, Field, File, Form, Image, Message, Text
from bot.views import drawing
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_events import fixture
from tests.fakes.slack_world import SlackWorld, populate, slack_world

gate = types.SimpleNamespace(event=None)


@command(
    "slow report",
    usage="slow report",
    summary="Slow",
    area="test",
    roles=ANYONE,
    needs_project=False,
)
async def slow_report(ctx: CommandContext, args: Args) -> Message:
    assert gate.event is not None
    await gate.event.wait()
    return ctx.whisper(Text("Here is the slow report."))


@command("form", usage="form", summary="A form", area="test", roles=ANYONE, needs_project=False)
async def survey(ctx: CommandContext, args: Args) -> Message:
    form = Form(
        (Field("yesterday", "What did you do?"), Field("blockers", "Blockers?", False)),
        submit_label="Send",
        action_id="form answer",
        value="7",
    )
    return ctx.say(Text("Please answer"), form)


@command(
    "form answer",
    usage="form answer N",
    summary="Answer",
    area="test",
    roles=ANYONE,
    needs_project=False,
)
async def survey_answer(ctx: CommandContext, args: Args) -> Message:
    number = args.number("survey")
    return ctx.say(Text(f"Survey {number}: {ctx.fields['yesterday']} / {ctx.fields['blockers']}"))


@command(
    "chart",
    usage="chart [private]",
    summary="Files",
    area="test",
    roles=ANYONE,
    needs_project=False,
)
async def chart(ctx: CommandContext, args: Args) -> Message:
    blocks = (
        Text("Burn-up"),
        Image(b"\x89PNG-chart", "burn-up chart", "burn.png"),
        File("tasks.csv", b"number,title\n1,A\n"),
    )
    return ctx.whisper(*blocks) if args.flag("private") else ctx.say(*blocks)


@command(
    "burn", usage="burn", summary="A chart to draw", area="test", roles=ANYONE,
    needs_project=False,
)  # fmt: skip
async def burn(ctx: CommandContext, args: Args) -> Message:
    day = drawing.Point(date(2026, 11, 2), Decimal(1200))
    series = drawing.BurnUp("USD", (day,), (), (), None, None, day.day)
    picture = Chart("burn-up", drawing.burn_up_data(series, "Acme"), "burn-up")
    return ctx.say(Text("Budget"), picture)


EXTRA = types.ModuleType("slack_test_commands")
for handler in (slow_report, survey, survey_answer, chart, burn):
    setattr(EXTRA, handler.__name__, handler)


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[SlackWorld]:
    async with slack_world(db_url, modules=[EXTRA]) as world:
        yield world


async def test_a_slow_command_is_acknowledged_then_answered_by_response_url(
    db_url: str,
) -> None:
    gate.event = asyncio.Event()
    async with slack_world(db_url, modules=[EXTRA], fast_reply=0.2) as world:
        await world.command("projects")  # the first request also meets Slack (auth.test)
        slow_url = world.api.response_url("slow")
        ack = await world.command("slow report", response_url=slow_url, follow=False)
        assert ack == {}  # acknowledged in time, with nothing to show yet
        assert [c for c in world.api.calls_to("response_url") if c.args["key"] == "slow"] == []
        gate.event.set()
        calls = await world.api.wait_for(
            "response_url", 1 + len(world.api.calls_to("response_url"))
        )
        (answer,) = [c for c in calls if c.args["key"] == "slow"]
        assert answer.args["response_type"] == "ephemeral"
        assert answer.args["text"] == "Here is the slow report."
        assert answer.args["blocks"][0]["text"]["text"] == "Here is the slow report."


async def test_no_task_polls_for_the_acknowledgement(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """By default Bolt runs a listener as a task of its own and looks every 10 ms for its
    acknowledgement: CPU for each request in flight, and up to 10 ms on each answer. Ours
    acknowledge before they return (what follows goes on by itself), so Bolt answers
    Slack the moment the listener returns."""
    polls = 0
    real_sleep = asyncio.sleep

    async def counted_sleep(delay: float, *args: object, **kwargs: object) -> object:
        nonlocal polls
        polls += delay == 0.01
        return await real_sleep(delay, *args, **kwargs)

    gate.event = asyncio.Event()
    async with slack_world(db_url, modules=[EXTRA], fast_reply=2.0) as world:
        await world.command("projects")  # the first request also meets Slack (auth.test)
        monkeypatch.setattr(asyncio, "sleep", counted_sleep)
        asyncio.get_running_loop().call_later(0.2, gate.event.set)
        ack = await world.command("slow report", follow=False)
        assert ack["text"] == "Here is the slow report."  # in the acknowledgement
        assert polls == 0


def slow_authorization(api: FakeSlackApi) -> None:
    populate(api)
    api.delays["auth.test"] = 0.6  # Bolt's authorization meets Slack before our listener runs


async def test_the_reply_deadline_counts_from_the_requests_arrival(db_url: str) -> None:
    """Slack's 3 seconds start when the request arrives: time spent before our listener
    runs comes out of them, so a reply that is not ready by then is acknowledged empty and
    answered through the response_url."""
    async with slack_world(
        db_url, modules=[EXTRA], fast_reply=0.5, configure=slow_authorization
    ) as world:
        url = world.api.response_url("first")
        ack = await world.command("help", response_url=url, follow=False)
        assert ack == {}
        (answer,) = await world.api.wait_for("response_url")
        assert answer.args["key"] == "first" and answer.args["blocks"]


async def test_a_form_opens_as_a_modal_and_its_submission_runs_the_action(
    world: SlackWorld,
) -> None:
    ack = await world.command("form")
    (button,) = [e for b in ack["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert button["text"]["text"] == "Send"
    payload = fixture("block_actions")
    payload["user"].update(id="U0ANN", team_id="T0001")
    payload["team"]["id"] = "T0001"
    payload["channel"]["id"] = payload["container"]["channel_id"] = "C0TEAM"
    payload["actions"] = [{**button, "block_id": "b", "type": "button", "action_ts": "1.1"}]
    await world.slack.interaction(payload)
    (opened,) = await world.api.wait_for("views.open")
    view = opened.json_arg("view")
    assert [b["block_id"] for b in view["blocks"]] == ["yesterday", "blocker".rstrip() + "s"]
    assert view["blocks"][0]["element"]["multiline"] is True
    assert view["blocks"][1]["element"]["multiline"] is False

    submission = fixture("view_submission")
    submission["view"].update(
        callback_id=view["callback_id"],
        private_metadata=view["private_metadata"],
        blocks=view["blocks"],
    )
    submission["view"]["state"]["values"] = {
        "yesterday": {"input": {"type": "plain_text_input", "value": "Wrote <!here> copy"}},
        "blockers": {"input": {"type": "plain_text_input", "value": "none"}},
    }
    response = await world.slack.interaction(submission)
    assert response.status == 200
    (posted,) = await world.api.wait_for("chat.postMessage")
    assert posted.args["channel"] == "C0TEAM"
    assert posted.args["text"] == "Survey 7: Wrote &lt;!here&gt; copy / none"


async def test_images_and_files_are_uploaded_to_the_channel(world: SlackWorld) -> None:
    ack = await world.command("chart")
    assert ack["response_type"] == "in_channel"
    assert "burn-up chart (attached)" in ack["text"]
    done = (await world.api.wait_for("files.completeUploadExternal", 2))[0]
    assert done.args["channel_id"] == "C0TEAM"
    assert set(world.api.uploads.values()) == {b"\x89PNG-chart", b"number,title\n1,A\n"}


class GatedDrawings(drawing.Drawn):
    """Drawings that wait for the test's word."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()

    async def png_elsewhere(self, chart: Chart) -> bytes:
        await self.gate.wait()
        return await super().png_elsewhere(chart)


async def test_a_chart_is_drawn_after_the_answer_and_uploaded(
    world: SlackWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer does not wait for its picture: the acknowledgement carries the text while
    the chart is still undrawn; the picture follows as an upload."""
    drawings = GatedDrawings()
    monkeypatch.setattr(drawing, "DRAWN", drawings)
    ack = await asyncio.wait_for(world.command("burn"), 5)
    assert "Budget" in ack["text"] and "burn-up (attached)" in ack["text"]
    assert drawings.drawings == 0 and world.api.calls_to("files.completeUploadExternal") == []
    drawings.gate.set()
    done = (await world.api.wait_for("files.completeUploadExternal", 1))[0]
    assert done.args["channel_id"] == "C0TEAM" and drawings.drawings == 1
    (png,) = world.api.uploads.values()
    assert png.startswith(b"\x89PNG")


def _shown_files(api: FakeSlackApi) -> list[tuple[str, str]]:
    """(channel, file id) of each image block posted that names an uploaded file."""
    shown = []
    for call in api.calls_to("chat.postMessage"):
        blocks = call.args.get("blocks") or []
        blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
        shown.extend(
            (call.args["channel"], b["slack_file"]["id"]) for b in blocks if "slack_file" in b
        )
    return shown


async def _uploaded_ids(api: FakeSlackApi, count: int) -> list[tuple[str, str]]:
    """(channel, file id) of the first `count` completed uploads, once there are as many."""
    done = await api.wait_for("files.completeUploadExternal", count)
    return [(c.args["channel_id"], f["id"]) for c in done for f in json.loads(c.args["files"])]


async def test_a_chart_shown_in_a_conversation_before_is_shown_again_by_its_file(
    world: SlackWorld,
) -> None:
    """The same chart asked for again in the same conversation is one chat.postMessage
    whose image block names the file uploaded before (`slack_file`): not three more
    upload calls and a second copy in the channel's files. Another conversation gets an
    upload of its own; a file a person deleted is uploaded afresh."""
    await world.command("burn")
    [(channel, file_id)] = await _uploaded_ids(world.api, 1)
    assert channel == "C0TEAM"
    await world.command("burn")
    await world.api.wait_for("chat.postMessage", 1, where=lambda c: "slack_file" in str(c.args))
    assert _shown_files(world.api) == [("C0TEAM", file_id)]
    assert len(world.api.calls_to("files.getUploadURLExternal")) == 1

    await world.command("burn", channel="C0SHARED")
    assert (await _uploaded_ids(world.api, 2))[1][0] == "C0SHARED"

    world.api.delete_file(file_id)
    await world.command("burn")
    [*_, (channel, fresh_id)] = await _uploaded_ids(world.api, 3)
    assert channel == "C0TEAM" and fresh_id != file_id
    await world.command("burn")
    await world.api.wait_for("chat.postMessage", 3, where=lambda c: "slack_file" in str(c.args))
    assert _shown_files(world.api)[-1] == ("C0TEAM", fresh_id)
    assert len(world.api.calls_to("files.getUploadURLExternal")) == 3


class FailingDrawings(drawing.Drawn):
    async def png_elsewhere(self, chart: Chart) -> bytes:
        raise BrokenProcessPool("the drawing process died twice")


async def test_a_chart_that_cannot_be_drawn_is_reported_to_the_asker(
    world: SlackWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The text was answered already; the asker is told the picture is missing."""
    monkeypatch.setattr(drawing, "DRAWN", FailingDrawings())
    ack = await world.command("burn")
    assert "Budget" in ack["text"]
    (note,) = await world.api.wait_for("response_url", 1)
    assert note.args["text"].startswith("I could not draw ")
    assert note.args["response_type"] == "ephemeral"
    assert world.api.calls_to("files.completeUploadExternal") == []


async def test_a_private_file_goes_to_the_askers_dm(world: SlackWorld) -> None:
    ack = await world.command("chart private")
    assert ack["response_type"] == "ephemeral"
    calls = await world.api.wait_for("files.completeUploadExternal", 2)
    assert {c.args["channel_id"] for c in calls} == {"DU0ANN"}
    assert world.api.calls_to("conversations.open")[0].args["users"] == "U0ANN"


async def test_the_askers_dm_is_opened_once_for_their_private_files(world: SlackWorld) -> None:
    """conversations.open is rate limited like any call: a person's DM is kept, not opened
    again for every private chart. A failed upload to it opens it afresh next time."""
    for expected_uploads in (1, 2):
        await world.command("chart private")
        await world.api.wait_for("files.completeUploadExternal", expected_uploads)
    assert len(world.api.calls_to("conversations.open")) == 1
    await world.command("chart private", user="U0BOB")
    await world.api.wait_for("files.completeUploadExternal", 3)
    assert [c.args["users"] for c in world.api.calls_to("conversations.open")] == [
        "U0ANN",
        "U0BOB",
    ]
    world.api.fail_next(error="channel_not_found", method="files.completeUploadExternal")
    await world.command("chart private")
    assert "I could not attach" in (await world.api.wait_for("response_url", 1))[0].args["text"]
    await world.command("chart private")
    await world.api.wait_for("files.completeUploadExternal", 5)
    assert len(world.api.calls_to("conversations.open")) == 3


async def test_a_failed_upload_is_reported_to_the_asker(world: SlackWorld) -> None:
    world.api.fail_next(error="not_in_channel", method="files.completeUploadExternal", times=2)
    await world.command("chart")
    notes = await world.api.wait_for("response_url", 2)
    assert all("I could not attach" in n.args["text"] for n in notes)
    assert "not_in_channel" in notes[0].args["text"]


async def test_calls_to_slack_reuse_one_kept_open_connection(world: SlackWorld) -> None:
    """Every Web API call of the process goes through one session whose connections are
    kept open: a user lookup, a chart's upload steps and a delivery do not each open one."""
    await world.command("chart", user="U0ANN")
    await world.api.wait_for("files.completeUploadExternal", 1)  # one call at a time
    await world.command("chart", user="U0BOB")
    await world.api.wait_for("files.completeUploadExternal", 2)
    calls = [c for c in world.api.calls if c.connection is not None]
    assert {"users.info", "files.getUploadURLExternal"} <= {c.method for c in calls}
    # At most two at once: an upload of two files asks for both upload URLs together.
    assert len(calls) >= 9 and len({c.connection for c in calls}) <= 2, [
        (c.method, c.connection) for c in calls
    ]


async def test_answers_through_response_url_reuse_the_kept_connection(db_url: str) -> None:
    """Bolt's `respond` opens a session, and a new connection, for each post: a slow
    command's answer goes through the process's kept connections instead."""
    async with slack_world(db_url, modules=[EXTRA], fast_reply=0.0) as world:
        world.runtime.engine.reply_cache = False  # each one computed: none ready at once
        for _ in range(4):
            answer = await world.command("projects", user="U0ANN")  # each one too slow
            assert "project" in answer["text"].lower(), answer
        posts = [c for c in world.api.calls_to("response_url") if c.connection is not None]
        assert len(posts) == 4
        assert len({c.connection for c in posts}) == 1, [c.connection for c in posts]
