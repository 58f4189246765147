"""`waiting` (the Home tab's "what waits for me") and the shared-channel guards."""

from __future__ import annotations

from bot.requests import Actor, Place, Request
from tests.conftest import StatementCounter
from tests.harness import Harness

NEW = 'project new "Acme Site" client:"Acme" budget:10k due:2027-03-01'


async def test_waiting_lists_my_due_tasks_and_the_pms_open_requests(bot: Harness) -> None:
    await bot.say("ann", NEW)
    await bot.say("ann", "team add @bob role:member rate:100/h")
    await bot.say("ann", 'task add "Wireframes" @bob due:2026-12-02')
    await bot.say("ann", 'task add "Later" @bob due:2027-01-20')
    await bot.say("ann", "project link client", channel="acme-shared")
    await bot.say("carol", 'request "New logo please"', channel="acme-shared", external=True)

    bob = await bot.say("bob", "waiting", channel=None)
    assert "task 1 Wireframes, due 2026-12-02" in bob
    assert "Later" not in bob
    ann = await bot.say("ann", "waiting", channel=None)
    assert "client request 1 to answer: New logo please" in ann


async def test_waiting_shows_a_client_what_needs_their_decision_and_nothing_internal(
    bot: Harness,
) -> None:
    await bot.say("ann", NEW)
    await bot.say("ann", "team add @bob role:member rate:100/h")
    await bot.say("ann", 'task add "Wireframes" @bob due:2026-12-02')
    await bot.say("ann", "project link client", channel="acme-shared")
    await bot.say("ann", "team add @carol role:client")
    await bot.say("ann", 'change "Blog section" cost:4000 days:5')
    out = await bot.say("carol", "waiting", channel=None, external=True)
    assert "change 1 to approve: Blog section" in out
    assert "Wireframes" not in out and "4,000" not in out


async def test_a_channel_shared_with_another_organisation_is_never_a_team_side(
    bot: Harness,
) -> None:
    ann = Actor("console", "local", "ann", "ann")
    shared = Place("console", "local", "acme-connect", "channel", shared_externally=True)
    reply = await bot.engine.handle(Request(ann, shared, text=NEW))
    assert "shared with another organisation" in reply.messages[0].plain_text()
    await bot.say("ann", NEW)
    reply = await bot.engine.handle(Request(ann, shared, text="project link team"))
    assert "can't be the team side" in reply.messages[0].plain_text()
    reply = await bot.engine.handle(Request(ann, shared, text="project link client"))
    assert "shared with Acme" in reply.messages[0].plain_text()


async def test_waiting_in_the_client_channel_refuses_the_team_and_serves_the_client(
    bot: Harness,
) -> None:
    await bot.say("ann", NEW)
    await bot.say("ann", "team add @bob role:member rate:100/h")
    await bot.say("ann", 'task add "Wireframes" @bob due:2026-12-02')
    await bot.say("ann", "project link client", channel="acme-shared")
    await bot.say("ann", "team add @carol role:client")
    await bot.say("ann", 'change "Blog section" cost:4000 days:5')
    for who in ("ann", "bob"):
        out = await bot.say(who, "waiting", channel="acme-shared")
        assert "something went wrong" not in out, out
        assert "shared with the client" in out and "Wireframes" not in out, out
    out = await bot.say("zed", "waiting", channel="acme-shared")
    assert "Nothing waits for you" in out, out
    out = await bot.say("carol", "waiting", channel="acme-shared", external=True)
    assert "change 1 to approve: Blog section" in out, out


async def test_a_client_channel_never_shows_another_projects_internal_figures(
    bot: Harness,
) -> None:
    await bot.say("ann", NEW)
    await bot.say("ann", "project link client", channel="acme-shared")
    await bot.say("ann", 'project new "Other" client:"Other Co" budget:99k', channel=None)
    await bot.say("ann", 'spend 777 "hosting" project:"Other"', channel=None)
    for line in ('budget project:"Other"', 'status project:"Other"', 'tasks project:"Other"'):
        out = await bot.say("ann", line, channel="acme-shared")
        assert "(only you can see this)" in out and "another project's client" in out, out
        assert "777" not in out and "99,000" not in out, out
    assert "USD 777.00" in await bot.say("ann", 'budget project:"Other"', channel=None)


async def test_an_unlinked_channel_shared_with_another_organisation_gets_no_figures(
    bot: Harness,
) -> None:
    ann = Actor("console", "local", "ann", "ann")
    shared = Place("console", "local", "acme-connect", "channel", shared_externally=True)
    await bot.say("ann", NEW)
    for line in ("budget", "status"):
        reply = await bot.engine.handle(Request(ann, shared, text=line))
        text = "\n".join(m.plain_text() for m in reply.messages)
        assert "10,000" not in text and "something went wrong" not in text, text
        assert all(m.audience == "client" for m in reply.messages)
    reply = await bot.engine.handle(Request(ann, shared, text="project link client"))
    assert "shared with Acme" in reply.messages[0].plain_text()


async def test_waiting_reads_every_list_in_one_statement(
    bot: Harness, statements: StatementCounter
) -> None:
    """However many roles the asker has (PM here, team member there, client elsewhere),
    their tasks, the requests to answer and the decisions to make are one statement."""
    await bot.say("ann", NEW)
    await bot.say("ann", "team add @bob role:member rate:100/h")
    await bot.say("ann", 'task add "Wireframes" @bob due:2026-12-02')
    await bot.say("ann", "project link client", channel="acme-shared")
    await bot.say("carol", 'request "New logo please"', channel="acme-shared", external=True)
    await bot.say("bob", 'project new "Bobs" client:"B Co" budget:5k', channel="bobs")
    await bot.say("bob", "team add @ann role:client", channel="bobs")
    await bot.say("bob", 'change "Extra page" cost:900 days:2', channel="bobs")
    await bot.say("ann", 'project new "Third" client:"C Co" budget:5k', channel="third")
    await bot.say("ann", "team add @bob role:member", channel="third")
    await bot.say("ann", 'task add "Copy" @bob due:2026-12-01', channel="third")
    bot.engine.reply_cache = False
    for who in ("ann", "bob"):  # the first time in a DM records the conversation
        await bot.say(who, "waiting", channel=None)
    statements.reset()
    ann = await bot.say("ann", "waiting", channel=None)
    assert "client request 1 to answer: New logo please" in ann
    assert "change 1 to approve: Extra page" in ann
    # Who asks with where (a DM's link) in one, the project it would default to, the
    # memberships with the four lists they go by in one (five statements before; two
    # since the lists were one) and the harness's look for posts to deliver: 4, not 10.
    # (The reply cache takes the projects it was read from from the memberships read:
    # tests/engine/test_reply_cache.py.)
    assert statements.count == 4, statements.statements
    statements.reset()
    bob = await bot.say("bob", "waiting", channel=None)
    assert "task 1 Wireframes" in bob and "task 1 Copy, due 2026-12-01" in bob
    assert statements.count == 4, statements.statements
