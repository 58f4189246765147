"""Client requests: logged, acknowledged, shown to the team, turned into work or answered."""

from __future__ import annotations

from datetime import date

from bot.requests import Actor, Place, Request
from storage.models import ChangeRequest, ClientRequest, Person, Task
from tests.harness import Harness
from tests.project_setup import CLIENT, client_says, count, kickoff, row

LOGO = 'request "Please add the new logo"'


async def test_a_client_request_is_acknowledged_and_shown_to_the_team(bot: Harness) -> None:
    await kickoff(bot)
    out = await client_says(bot, LOGO)
    assert "I have logged your request as number 1" in out
    assert "passed it to the team" in out
    posts = bot.take_posts()
    assert posts.startswith("-> #team [internal]")
    assert "Client request 1 from carol" in posts and "Please add the new logo" in posts
    assert "request 1 to-task @owner" in posts
    request = await row(bot, ClientRequest, number=1)
    carol = await row(bot, Person, external_id="carol")
    assert (request.status, request.raised_by_id) == ("open", carol.id)
    assert "Request 1" in await bot.say("ann", "requests open")


async def test_the_pm_turns_a_request_into_a_task(bot: Harness) -> None:
    await kickoff(bot)
    await client_says(bot, LOGO)
    bot.take_posts()
    out = await bot.say("ann", "request 1 to-task @bob due:2026-12-04")
    assert "Request 1 is now task 1 for @bob, planned for 2026-12-04" in out
    posts = bot.take_posts()
    assert f"-> #{CLIENT} [client]" in posts
    assert "Your request 1 is being worked on, planned for 2026-12-04" in posts
    task = await row(bot, Task, number=1)
    bob = await row(bot, Person, external_id="bob")
    assert (task.title, task.owner_id, task.due_date) == (
        "Please add the new logo",
        bob.id,
        date(2026, 12, 4),
    )
    request = await row(bot, ClientRequest, number=1)
    assert (request.status, request.task_id) == ("task", task.id)
    assert "No requests" in await bot.say("ann", "requests open")
    assert "already being worked on" in await bot.say("ann", "request 1 to-task @bob")


async def test_the_pm_turns_a_request_into_a_change_the_client_approves(bot: Harness) -> None:
    await kickoff(bot)
    await client_says(bot, LOGO)
    bot.take_posts()
    out = await bot.say("ann", "request 1 to-change cost:1200 days:2")
    assert "Change 1 sent to Acme Corp for approval: Please add the new logo" in out
    assert "Price: USD 1,200.00" in bot.take_posts()
    change = await row(bot, ChangeRequest, number=1)
    request = await row(bot, ClientRequest, number=1)
    assert (change.client_request_id, request.status) == (request.id, "change")
    await client_says(bot, "change approve 1")
    assert "approved" in await client_says(bot, "requests")


async def test_the_answer_is_posted_to_the_client_side(bot: Harness) -> None:
    await kickoff(bot)
    await client_says(bot, 'request "When is the beta?"')
    bot.take_posts()
    out = await bot.say("ann", 'request 1 answer "Next Friday, 12 December"')
    assert "Request 1 answered" in out
    posts = bot.take_posts()
    assert posts.startswith(f"-> #{CLIENT} [client]")
    assert 'About your request 1 ("When is the beta?"): Next Friday, 12 December' in posts
    request = await row(bot, ClientRequest, number=1)
    assert (request.status, request.answer) == ("answered", "Next Friday, 12 December")
    assert request.resolved_at == bot.clock.now
    assert "already answered" in await bot.say("ann", 'request 1 answer "again"')
    listed = await client_says(bot, "requests")
    assert "answered: Next Friday" in listed


async def test_the_typed_long_forms_route_to_the_same_commands(bot: Harness) -> None:
    await kickoff(bot)
    await client_says(bot, LOGO)
    out = await bot.say("ann", 'request answer 1 "Done"')
    assert "Request 1 answered" in out


BAD_REQUESTS = [
    ("carol", "request", "Missing your request"),
    ("ann", "request 9 to-task @bob", "There is no request 9"),
    ("ann", "request 1 to-task", "Name the task's owner with an @mention"),
    ("ann", "request 1 to-task @stranger", "not on the delivery team"),
    ("ann", "request 1 to-task @bob due:whenever", "can't read `whenever`"),
    ("ann", "request 1 to-change cost:-1", "can't be negative"),
    ("ann", "request 1 to-change days:x", "working days from 0 to 365"),
    ("ann", "request 1 answer", "Missing the answer"),
    ("bob", "request 1 to-task @bob", "request N to-task` is for the project's PM"),
    ("bob", 'request "Me too"', "raised by the client"),
    ("carol", "request 1 to-task @bob", "is for the project's PM"),
    ("carol", 'request 1 answer "ok"', "is for the project's PM"),
    ("carol", "requests done", "I did not understand"),
]


async def test_bad_request_input_changes_nothing(bot: Harness) -> None:
    await kickoff(bot)
    await client_says(bot, LOGO)
    bot.take_posts()
    for who, line, message in BAD_REQUESTS:
        out = await (client_says(bot, line) if who == "carol" else bot.say(who, line))
        assert message in out, (who, line, out)
        assert await count(bot, ClientRequest) == 1, line
        assert (await row(bot, ClientRequest, number=1)).status == "open", line
        assert await count(bot, Task) == 0 and await count(bot, ChangeRequest) == 0, line
        assert bot.take_posts() == "", line


async def test_requests_of_one_tenant_are_invisible_to_another(bot: Harness) -> None:
    await kickoff(bot)
    await client_says(bot, 'request "Secret launch plan for Acme"')
    zed = Actor("console", "tenant-b", "zed", "zed")
    where = Place("console", "tenant-b", "b-team")
    await bot.engine.handle(Request(zed, where, 'project new "Beta" client:"B"'))
    for line in ("requests", 'request 1 answer "hello"', "request 1 to-task @zed"):
        reply = await bot.engine.handle(Request(zed, where, line))
        text = reply.messages[0].plain_text()
        assert "Secret launch" not in text
        assert "There is no request 1 in Beta" in text or "No requests" in text
    assert (await row(bot, ClientRequest, number=1)).status == "open"
