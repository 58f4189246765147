"""The engine through the console adapter, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import types

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.engine.engine import Engine
from bot.engine.registry import ANYONE, command
from bot.messages import Text
from bot.requests import Actor, Place, Request
from storage.models import ChannelLink, Membership, Person, ProcessedEvent, Project
from tests.harness import Harness

NEW = 'project new "Acme Site" client:"Acme Corp" budget:50k due:2027-03-01 tz:Europe/Berlin'


async def count(bot: Harness, model: type) -> int:
    async with bot.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def test_project_new_makes_the_asker_pm_and_the_channel_its_team_side(bot: Harness) -> None:
    out = await bot.say("ann", NEW)
    assert "Project Acme Site started" in out
    assert "USD 50,000.00" in out
    async with bot.sessions() as session:
        project = await session.scalar(select(Project))
        assert project is not None and project.timezone == "Europe/Berlin"
        role = await session.scalar(select(Membership.role))
        link = await session.scalar(select(ChannelLink))
    assert role == "pm"
    assert link is not None and (link.channel_id, link.side) == ("team", "team")


async def test_status_finds_the_project_from_the_channel_or_the_askers_only_project(
    bot: Harness,
) -> None:
    await bot.say("ann", NEW)
    in_channel = await bot.say("ann", "status")
    in_dm = await bot.say("ann", "status", channel=None)
    assert "Acme Site: status" in in_channel and "Acme Site: status" in in_dm
    assert "Due: 2027-03-01" in in_channel


async def test_project_is_named_when_the_asker_runs_several(bot: Harness) -> None:
    await bot.say("ann", NEW)
    await bot.say("ann", 'project new "Beta App" client:"Beta"', channel="beta-team")
    out = await bot.say("ann", "status", channel=None)
    assert "several projects" in out
    out = await bot.say("ann", 'status project:"Beta App"', channel=None)
    assert "Beta App: status" in out


async def test_client_side_link_and_client_view_hides_the_budget(bot: Harness) -> None:
    await bot.say("ann", NEW)
    out = await bot.say("ann", "project link client", channel="acme-shared")
    assert "shared with Acme Corp" in out
    team_view = await bot.say("ann", "status")
    client_view = await bot.say("carol", "status", channel="acme-shared", external=True)
    assert "50,000" in team_view
    assert "Acme Site: status" in client_view and "50,000" not in client_view
    assert "Budget" not in client_view


async def test_an_external_actor_is_a_client_even_in_the_team_channel(bot: Harness) -> None:
    await bot.say("ann", NEW)
    out = await bot.say("eve", "status", external=True)
    assert "50,000" not in out
    refused = await bot.say("eve", "project set country:DE", external=True)
    assert "is for the project's PM" in refused


async def test_unknown_commands_and_bad_arguments_change_nothing(bot: Harness) -> None:
    out = await bot.say("ann", "projet new")
    assert "I don't know the command `projet`" in out
    out = await bot.say("ann", 'project new "X" client:"Y" due:someday')
    assert "can't read `someday` as a date" in out and "Usage: project new" in out
    out = await bot.say("ann", 'project new "X" client:"Y" budget:-5')
    assert "negative" in out
    out = await bot.say("ann", 'project new "X" client:"Y" tz:Mars/Base')
    assert "time zone" in out
    out = await bot.say("ann", 'project new "X" client:"Y" surplus words')
    assert "I did not understand" in out
    out = await bot.say("ann", "status " + "x" * 10_000)
    assert "10,007 characters" in out
    out = await bot.say("ann", "status\x07")
    assert "control characters" in out
    assert await count(bot, Project) == 0
    assert await count(bot, Person) == 0


async def test_a_repeated_event_is_answered_once(bot: Harness) -> None:
    actor = Actor("console", "local", "ann", "ann")
    place = Place("console", "local", "team", "channel")
    request = Request(actor, place, text=NEW, event_id="Ev1")
    first = await bot.engine.handle(request)
    second = await bot.engine.handle(request)
    assert first.messages and "started" in first.messages[0].plain_text()
    assert second.messages == ()
    assert await count(bot, Project) == 1
    assert await count(bot, ProcessedEvent) == 1


async def test_a_failed_command_can_be_retried_with_the_same_event_id(bot: Harness) -> None:
    actor = Actor("console", "local", "ann", "ann")
    place = Place("console", "local", "team", "channel")
    bad = await bot.engine.handle(Request(actor, place, text="status", event_id="Ev2"))
    assert "no project here" in bad.messages[0].plain_text()
    assert await count(bot, ProcessedEvent) == 0


def _exploding_module() -> types.ModuleType:
    module = types.ModuleType("exploding")

    @command("explode", usage="explode", summary="fails", area="test", roles=ANYONE,
             needs_project=False)  # fmt: skip
    async def explode(ctx, args):  # noqa: ANN001, ANN202
        ctx.session.add(
            Project(
                tenant_id=ctx.tenant.id,
                name="half",
                client_name="x",
                start_date=ctx.today,
                created_at=ctx.now,
            )  # fmt: skip
        )
        await ctx.session.flush()
        raise RuntimeError("boom")

    module.explode = explode  # type: ignore[attr-defined]
    return module


async def test_an_unexpected_error_is_logged_with_an_id_and_rolled_back(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    engine = Engine(sessions=bot.sessions, clock=bot.clock, modules=[_exploding_module()])
    request = Request(
        Actor("console", "local", "ann", "ann"), Place("console", "local", "t"), text="explode"
    )
    with caplog.at_level(logging.ERROR, logger="liaison.engine"):
        reply = await engine.handle(request)
    text = reply.messages[0].plain_text()
    assert "something went wrong" in text
    incident = text.split("error id ")[1][:8]
    assert any(getattr(r, "incident", None) == incident for r in caplog.records)
    assert "boom" in caplog.text
    assert await count(bot, Project) == 0
    assert await count(bot, Person) == 0


async def test_help_lists_commands_and_explains_one(bot: Harness) -> None:
    out = await bot.say("ann", "help")
    assert "project new" in out and "status" in out
    out = await bot.say("ann", "help project new")
    assert 'Usage: project new "Name"' in out
    out = await bot.say("ann", "help nothing")
    assert "There is no command" in out


async def test_the_pm_prefix_and_buttons_route_like_typed_commands(bot: Harness) -> None:
    await bot.say("ann", NEW)
    assert "Acme Site: status" in await bot.say("ann", "pm status")
    assert "Acme Site: status" in await bot.say("ann", "/pm status")


async def test_a_handler_may_not_send_internal_text_to_a_client(bot: Harness) -> None:
    module = types.ModuleType("leaky")

    @command("leak", usage="leak", summary="", area="t", roles=ANYONE)
    async def leak(ctx, args):  # noqa: ANN001, ANN202
        from bot.messages import Message

        return Message((Text("internal margin 40%"),), audience="internal")

    module.leak = leak  # type: ignore[attr-defined]
    await bot.say("ann", NEW)
    engine = Engine(sessions=bot.sessions, clock=bot.clock, modules=[module])
    request = Request(
        Actor("console", "other-org", "eve", "eve", external=True),
        Place("console", "local", "team"),
        text="leak",
    )
    reply = await engine.handle(request)
    assert "margin" not in reply.messages[0].plain_text()
    assert "something went wrong" in reply.messages[0].plain_text()


LINES = st.one_of(
    st.text(max_size=200),
    st.lists(
        st.sampled_from(
            [
                "project",
                "new",
                "link",
                "client",
                "team",
                "status",
                "help",
                "set",
                '"A b"',
                "client:x",
                "due:fri",
                "budget:5k",
                "tz:UTC",
                "@bob",
                "<@U1|x>",
                '"',
                "due:",
                'project:"Nope"',
                "country:DE",
                "days:mon-fri",
                "thresholds:50,x",
            ]
        ),  # fmt: skip
        max_size=8,
    ).map(" ".join),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(line=LINES)
async def test_random_lines_never_cause_an_unexpected_error(bot: Harness, line: str) -> None:
    out = await bot.say("ann", line)
    assert "something went wrong" not in out
