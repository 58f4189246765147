"""Team and roles through the console, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from storage.models import Base, Membership, Person
from tests.harness import Harness

NEW = 'project new "Acme Site" client:"Acme Corp" budget:50k due:2027-03-01'


async def dump(bot: Harness) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: equal before and after means nothing was written."""
    async with bot.sessions() as session:
        tables = {}
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).all()
            tables[table.name] = sorted((tuple(r) for r in rows), key=repr)
        return tables


async def start(bot: Harness) -> None:
    await bot.say("ann", NEW)
    await bot.say("ann", "project link client", channel="acme-shared")


async def roles(bot: Harness) -> dict[str, tuple[str, Decimal | None]]:
    async with bot.sessions() as session:
        rows = await session.execute(
            select(Person.display_name, Membership.role, Membership.hourly_rate).join(
                Membership, Membership.person_id == Person.id
            )
        )
        return {name: (role, rate) for name, role, rate in rows}


async def test_team_add_with_role_and_rate_and_list(bot: Harness) -> None:
    await start(bot)
    out = await bot.say("ann", "team add @bob @cat rate:120/h")
    assert "bob: added as member at USD 120.00/h" in out
    assert "cat: added as member at USD 120.00/h" in out
    await bot.say("ann", "team add @dan role:pm rate:$95.50")
    await bot.say("ann", "team add @carol role:client")
    assert await roles(bot) == {
        "ann": ("pm", None),
        "bob": ("member", Decimal("120.00")),
        "cat": ("member", Decimal("120.00")),
        "dan": ("pm", Decimal("95.50")),
        "carol": ("client", None),
    }
    out = await bot.say("bob", "team")
    assert "ann (PM) · no rate" in out
    assert "bob (member) · USD 120.00/h" in out
    assert "dan (PM) · USD 95.50/h" in out
    assert out.index("ann (PM)") < out.index("bob (member)") < out.index("carol (client)")


async def test_a_client_sees_names_and_roles_but_never_rates(bot: Harness) -> None:
    await start(bot)
    await bot.say("ann", "team add @bob rate:120/h")
    await bot.say("carol", "team", channel="acme-shared", external=True)
    out = await bot.say("carol", "team", channel="acme-shared", external=True)
    assert "bob (member)" in out and "ann (PM)" in out
    assert "120" not in out and "/h" not in out and "USD" not in out and "zone" not in out
    # A member with the client role gets the client view too, even in the team channel.
    await bot.say("ann", "team add @dora role:client")
    out = await bot.say("dora", "team")
    assert "bob (member)" in out and "120" not in out
    # The PM adding a rate from the client channel gets no rate echoed there.
    out = await bot.say("ann", "team add @bob rate:130/h", channel="acme-shared")
    assert "bob: now member" in out and "130" not in out
    assert (await roles(bot))["bob"] == ("member", Decimal("130.00"))


async def test_someone_from_another_organisation_is_stored_as_a_client(bot: Harness) -> None:
    await start(bot)
    await bot.say("eve", "team", channel="acme-shared", external=True)  # eve is now known
    out = await bot.say("ann", "team add @eve role:pm")
    assert "from another organisation, so a client" in out
    assert (await roles(bot))["eve"] == ("client", None)
    refused = await bot.say("eve", "team add @zed", external=True)
    assert "is for the project's PM" in refused and "you are a client" in refused


async def test_changing_a_role_and_the_last_pm_rule(bot: Harness) -> None:
    await start(bot)
    await bot.say("ann", "team add @bob")
    before = await dump(bot)
    out = await bot.say("ann", "team remove @ann")
    assert "last PM" in out
    out = await bot.say("ann", "team add @ann role:member")
    assert "no PM left" in out
    assert await dump(bot) == before
    await bot.say("ann", "team add @bob role:pm")
    out = await bot.say("ann", "team remove @ann")
    assert "ann is no longer on Acme Site" in out
    assert await roles(bot) == {"bob": ("pm", None)}


async def test_team_remove_mentions_open_tasks(bot: Harness) -> None:
    await start(bot)
    await bot.say("ann", "team add @bob")
    await bot.say("ann", 'task add "Wireframes" @bob due:2026-12-10')
    out = await bot.say("ann", "team remove @bob")
    assert "no longer on Acme Site" in out and "1 open task" in out
    assert "bob" not in await roles(bot)


async def test_members_and_clients_may_not_change_the_team(bot: Harness) -> None:
    await start(bot)
    await bot.say("ann", "team add @bob")
    before = await dump(bot)
    out = await bot.say("bob", "team add @cat role:pm")
    assert "is for the project's PM; you are on the team" in out
    out = await bot.say("bob", "team remove @ann")
    assert "is for the project's PM" in out
    out = await bot.say("carol", "team remove @bob", channel="acme-shared", external=True)
    assert "is for the project's PM" in out
    assert await dump(bot) == before


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("team add", "Name who to add"),
        ("team add @bob role:boss", "not a role"),
        ("team add @bob rate:-5", "negative"),
        ("team add @bob rate:abc/h", "can't read"),
        ("team add @bob rate:EUR120/h", "kept in USD"),
        ("team add @bob rate:50000/h", "more than I can believe"),
        ("team add @bob role:client rate:100", "Clients have no hourly rate"),
        ("team add @bob hello", "I did not understand"),
        ("team remove", "Name who to remove"),
        ("team remove @nobody", "nobody is not on Acme Site"),
        ("me tz:Mars/Base", "time zone"),
        ("away soonish", "as a date"),
        ("away 2026-11-01..2026-11-20", "in the past"),
        ("away 2027-01-02..2026-12-24", "ends before it starts"),
        ("away", "Missing the days"),
    ],
)
async def test_bad_team_input_says_why_with_usage_and_writes_nothing(
    bot: Harness, line: str, message: str
) -> None:
    await start(bot)
    await bot.say("ann", "me")
    before = await dump(bot)
    out = await bot.say("ann", line)
    assert message in out
    assert "Usage: " + line.split()[0] in out
    assert await dump(bot) == before


async def test_me_sets_the_zone_and_away_and_back(bot: Harness) -> None:
    await start(bot)
    await bot.say("ann", "team add @bob rate:100/h")
    out = await bot.say("bob", "me tz:Europe/Berlin")
    assert "Time zone: Europe/Berlin" in out
    out = await bot.say("bob", "away 2026-12-24..2027-01-02", channel=None)
    assert "away 2026-12-24..2027-01-02" in out
    async with bot.sessions() as session:
        bob = await session.scalar(select(Person).where(Person.display_name == "bob"))
        assert bob is not None and bob.timezone == "Europe/Berlin"
        assert (bob.away_from, bob.away_until) == (date(2026, 12, 24), date(2027, 1, 2))
    out = await bot.say("ann", "team")
    assert "bob (member) · USD 100.00/h · Europe/Berlin · away 2026-12-24..2027-01-02" in out
    out = await bot.say("bob", "back")
    assert "no longer marked away" in out
    out = await bot.say("ann", "team")
    assert "away" not in out
    # A client may set their own zone too.
    out = await bot.say("carol", "me tz:America/New_York", channel="acme-shared", external=True)
    assert "America/New_York" in out


# Who may run what: every command of team, plan and budget for every kind of asker.
MATRIX = {
    "team add @zed": {"pm"},
    "team remove @cat": {"pm"},
    "team": {"pm", "member", "client"},
    "me tz:Europe/Paris": {"pm", "member", "client", "outsider"},
    "away 2026-12-24": {"pm", "member", "client", "outsider"},
    "back": {"pm", "member", "client", "outsider"},
    'milestone add "Gamma" due:2027-02-01': {"pm"},
    "milestone due 1 2027-02-02": {"pm"},
    "milestone done 1": {"pm"},
    "milestone signoff 1 on-behalf": {"pm", "client"},
    "milestones": {"pm", "member", "client"},
    'task add "T" @bob due:fri': {"pm"},
    "task assign 1 @bob": {"pm"},
    "task due 1 fri": {"pm"},
    'task block 1 "why"': {"pm", "member"},
    "task reopen 1": {"pm", "member"},
    "task done 1": {"pm", "member"},
    "tasks": {"pm", "member"},
    "budget set 60k": {"pm"},
    'spend 10 "Fonts"': {"pm"},
    "log 1h": {"pm", "member"},
    "budget": {"pm", "member"},
}
ASKERS = {
    "pm": ("ann", "team", False),
    "member": ("bob", "team", False),
    "client": ("carol", "acme-shared", True),
    "client-role member": ("dora", "team", False),
    "outsider": ("zed", "team", False),
}


@pytest.mark.parametrize("asker", list(ASKERS))
async def test_role_matrix(bot: Harness, asker: str) -> None:
    await start(bot)
    await bot.say("ann", "team add @bob @cat rate:100/h")
    await bot.say("ann", "team add @dora role:client")
    await bot.say("ann", 'milestone add "Beta" due:2027-01-15 client')
    await bot.say("ann", 'task add "Wireframes" @bob due:fri')
    who, channel, external = ASKERS[asker]
    role = "client" if asker.startswith("client") else asker
    for line, allowed in MATRIX.items():
        before = await dump(bot)
        out = await bot.say(who, line, channel=channel, external=external)
        if role in allowed:
            assert " is for " not in out, (asker, line, out)
        else:
            assert " is for " in out, (asker, line, out)
            assert await dump(bot) == before, (asker, line)


async def test_a_client_of_one_project_can_start_their_own_project(bot: Harness) -> None:
    """A colleague added as a client (not from another organisation) becomes the new
    project's PM; the reply is the PM's, not refused as an internal message to a client."""
    await start(bot)
    await bot.say("ann", "team add @dave role:client")
    out = await bot.say("dave", 'project new "Dave Site" client:"Dave Co" budget:10k', channel=None)
    assert "something went wrong" not in out, out
    assert "Project Dave Site started" in out and "USD 10,000.00" in out, out
    assert "Dave Site" in await bot.say("dave", "projects", channel=None)


async def test_a_typed_name_never_finds_a_namesake_in_another_workspace(bot: Harness) -> None:
    """`@bob` typed without the picker is looked up in the asker's own workspace only: a
    bob of another workspace is not added, and gets no DM with the project's name."""
    from bot.requests import Actor, Place, Request
    from storage.models import Delivery

    async def say(actor: Actor, place: Place, line: str) -> str:
        reply = await bot.engine.handle(Request(actor, place, text=line))
        return "\n".join(m.plain_text() for m in reply.messages)

    bob = Actor("slack", "TOTHER", "UBOB", "bob")
    await say(bob, Place("slack", "TOTHER", "DBOB", "dm"), "projects")
    ann = Actor("slack", "THOME", "UANN", "ann")
    team = Place("slack", "THOME", "CTEAM", "channel")
    await say(ann, team, 'project new "Secret Site" client:"Acme"')
    out = await say(ann, team, "team add @bob rate:100/h")
    assert "I don't know @bob yet" in out, out
    async with bot.sessions() as session:
        assert (await session.scalars(select(Membership.person_id))).all() == [
            (await session.scalar(select(Person.id).where(Person.external_id == "UANN")))
        ]
        assert (await session.scalars(select(Delivery.channel_id))).all() == []


async def test_being_external_is_decided_per_tenant_not_by_the_last_request(
    bot: Harness,
) -> None:
    """carol is a client from another organisation here; speaking to the bot in her own
    organisation (where she is one of its own) must not make her our team member."""
    from bot.requests import Actor, Place, Request

    await bot.say("ann", 'project new "Acme Site" client:"Acme Corp"')
    await bot.say("carol", "help", channel="acme-shared", external=True)  # met here: external
    at_home = Request(
        Actor("console", "other-org", "carol", "carol"), Place("console", "other-org", "dm:c")
    )
    await bot.engine.handle(at_home)
    out = await bot.say("ann", "team add @carol role:member")
    assert "from another organisation, so a client" in out
    assert "carol (client)" in await bot.say("ann", "team")
