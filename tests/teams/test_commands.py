"""Commands through Teams end to end: HTTP in, engine, Adaptive Cards out, on both databases."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from sqlalchemy import select

from adapters.teams.render import MAX_ACTIVITY_BYTES
from storage.models import (
    Acquaintance,
    ChangeRequest,
    Conversation,
    HuddleAnswer,
    Person,
    Project,
)
from tests.fakes.bot_connector import Post
from tests.teams_support import (
    OTHER_TENANT,
    PEOPLE,
    SHARED_CHANNEL,
    TEAM_CHANNEL,
    TeamsService,
    event,
    teams_service,
    text_of,
)

NEW = 'project new "Acme Site" client:"Acme Corp" budget:50k due:2027-03-01 tz:Europe/Berlin'
CAROL = {"tenantId": OTHER_TENANT}


@pytest.fixture
async def teams(db_url: str) -> AsyncIterator[TeamsService]:
    async with teams_service(db_url) as service:
        yield service


async def _project(teams: TeamsService) -> None:
    assert "Project Acme Site started" in text_of(await teams.say("ann", NEW))
    linked = await teams.say("ann", "project link client", channel=SHARED_CHANNEL)
    assert "shared with Acme Corp" in text_of(linked)


def _ok(posts: list[Post]) -> str:
    """Each reply is a valid card activity under the size limit; their text."""
    assert posts, "no reply"
    for post in posts:
        assert post.card is not None and post.card["version"] == "1.5"
        assert post.activity["text"]
        assert len(json.dumps(post.activity).encode()) < MAX_ACTIVITY_BYTES
    text = text_of(posts)
    assert "something went wrong" not in text
    return text


async def test_status_three_ways_in_a_channel_and_in_a_personal_chat(
    teams: TeamsService,
) -> None:
    await _project(teams)
    mentioned = _ok(await teams.say("ann", "status"))
    prefixed = _ok(await teams.say("ann", "pm status", mention=False))
    typed = _ok(await teams.say("ann", "@Liaison status", mention=False))
    personal = _ok(await teams.say("ann", "status", channel=None))
    for text in (mentioned, prefixed, typed, personal):
        assert "Acme Site: status" in text and "50,000" in text
    assert await teams.say("ann", "nice work everyone", mention=False) == []


async def test_replies_go_to_the_thread_of_the_message(teams: TeamsService) -> None:
    await _project(teams)
    (reply,) = await teams.say("ann", "status")
    assert reply.conversation_id.startswith(f"{TEAM_CHANNEL};messageid=")
    assert reply.reply_to is not None


async def test_a_project_run_through_teams(teams: TeamsService) -> None:
    """Commands of every area, with Teams @mentions of people, each answered with a card."""
    await _project(teams)
    added = _ok(await teams.say("ann", "team add <at>Bob Stone</at>", mentions=("bob",)))
    # Until Bob speaks, his name is what the mention could carry through the parser.
    assert "Bob_Stone" in added
    task = _ok(
        await teams.say(
            "ann",
            'task add "Wireframes" <at>Bob Stone</at> due:2026-12-04 est:8h',
            mentions=("bob",),
        )
    )
    assert "Wireframes" in task
    mine = _ok(await teams.say("bob", "tasks mine", channel=None))
    assert "Wireframes" in mine  # Bob's own messages map to the person the mention made
    assert "Bob Stone" in _ok(await teams.say("ann", "team"))
    for line in (
        "help",
        "help task add",
        "projects",
        "team",
        "tasks",
        'milestone add "Beta" due:2027-01-15 client',
        "milestones",
        'spend 1200 "Stock photos" design',
        "budget",
        'risk add "Vendor API late" likelihood:high impact:medium',
        "risks",
        'decision "Use Stripe" why:"Fees"',
        "decisions",
        "changes",
        "requests",
        "report",
        "export tasks",
    ):
        _ok(await teams.say("ann", line))
    refused = _ok(await teams.say("bob", "budget set 99"))
    assert "PM" in refused
    usage = _ok(await teams.say("ann", "task add"))
    assert "Usage" in usage


async def test_a_change_request_is_approved_from_its_card(teams: TeamsService) -> None:
    await _project(teams)
    asked = _ok(await teams.say("ann", 'change "Blog section" cost:4000 days:5'))
    assert "sent to Acme Corp" in asked
    assert await teams.deliver() == 1
    card_post = teams.connector.posts[-1]
    assert card_post.conversation_id == SHARED_CHANNEL and card_post.reply_to is None
    approve = next(
        action
        for element in card_post.card["body"]  # type: ignore[index]
        if element["type"] == "ActionSet"
        for action in element["actions"]
        if action["title"] == "Approve"
    )
    # Carol, from the client's own tenant, presses Approve in the shared channel.
    replies = await teams.press(approve["data"], who="carol", channel=SHARED_CHANNEL, **CAROL)
    assert "approved" in _ok(replies).lower()
    async with teams.runtime.sessions() as session:
        project = await session.scalar(select(Project))
        change = await session.scalar(select(ChangeRequest))
        carol = await session.scalar(select(Person).where(Person.external_id == PEOPLE["carol"][0]))
        assert carol is not None and project is not None
        met = await session.scalar(
            select(Acquaintance).where(
                Acquaintance.person_id == carol.id, Acquaintance.tenant_id == project.tenant_id
            )
        )
    assert project.budget == Decimal("54000")
    assert change is not None and change.status == "approved"
    assert met is not None and met.external and change.decided_by_id == carol.id
    # Pressing it again (a second click, a retry) does not approve twice.
    again = await teams.press(approve["data"], who="carol", channel=SHARED_CHANNEL, **CAROL)
    assert "already approved" in _ok(again)


async def test_a_huddle_is_answered_from_its_card_in_a_personal_chat(
    teams: TeamsService,
) -> None:
    await _project(teams)
    await teams.say("ann", "team add <at>Bob Stone</at>", mentions=("bob",))
    _ok(await teams.say("bob", "projects", channel=None))  # Bob's personal chat with Liaison
    started = _ok(await teams.say("ann", "huddle now"))
    assert "Bob Stone" in started
    before = len(teams.connector.posts)
    assert await teams.deliver() >= 1
    delivered = teams.connector.posts[before:]
    prompt = next(p for p in delivered if p.conversation_id == "a:personal-bob")
    assert prompt.reply_to is None
    container = next(e for e in prompt.card["body"] if e["type"] == "Container")  # type: ignore[index]
    inputs = [e for e in container["items"] if e["type"] == "Input.Text"]
    (send,) = container["items"][-1]["actions"]
    assert len(inputs) >= 2 and send["data"]["action_id"] == "huddle answer"
    answers = {inputs[0]["id"]: "Shipped the login page", inputs[1]["id"]: "Tests"}
    replies = await teams.press({**send["data"], **answers}, who="bob", channel=None)
    assert "noted" in _ok(replies)
    async with teams.runtime.sessions() as session:
        answer = await session.scalar(select(HuddleAnswer))
    assert answer is not None and answer.answers[:2] == ["Shipped the login page", "Tests"]


async def test_the_pm_cannot_approve_from_the_card_without_on_behalf(
    teams: TeamsService,
) -> None:
    await _project(teams)
    await teams.say("ann", 'change "Blog section" cost:4000 days:5')
    replies = await teams.press(
        {"action_id": "change approve", "value": "1"}, who="ann", channel=SHARED_CHANNEL
    )
    assert "on-behalf" in _ok(replies)


async def test_a_guest_gets_only_the_client_view(teams: TeamsService) -> None:
    await _project(teams)
    internal = _ok(await teams.say("ann", "status"))
    guest = _ok(await teams.say("gus", "status", userRole="guest"))
    stranger = _ok(await teams.say("carol", "status", **CAROL))
    assert "50,000" in internal and "Budget" in internal
    for view in (guest, stranger):
        assert "Acme Site: status" in view
        assert "50,000" not in view and "Budget" not in view
    refused = _ok(await teams.say("gus", "budget", userRole="guest"))
    assert "50,000" not in refused


async def test_every_activity_refreshes_the_conversation_reference(
    teams: TeamsService,
) -> None:
    await _project(teams)
    moved = "https://smba.trafficmanager.net/emea/"
    status = await teams.post(
        event("bot_added_to_team", service_url=moved, id="f:update-1"),
    )
    assert status == 201
    async with teams.runtime.sessions() as session:
        row = await session.scalar(
            select(Conversation).where(Conversation.channel_id == TEAM_CHANNEL)
        )
    assert row is not None and row.reference is not None
    assert row.reference["serviceUrl"] == moved
    assert row.reference["conversation"]["id"] == TEAM_CHANNEL
    assert row.reference["bot"]["id"].startswith("28:") and row.reference["activityId"] is None
    await teams.say("ann", "status")
    async with teams.runtime.sessions() as session:
        refreshed = await session.scalar(
            select(Conversation.reference).where(Conversation.channel_id == TEAM_CHANNEL)
        )
    assert refreshed is not None and refreshed["serviceUrl"] == teams.connector.url


async def test_a_personal_chat_is_remembered_with_its_person(teams: TeamsService) -> None:
    status = await teams.post(
        event("bot_added_personal", service_url=teams.connector.url, id="f:added-personal")
    )
    assert status == 201
    assert "Hi, I'm Liaison" in text_of(teams.connector.take())
    # The recorded personal chat is Megan's (not one of PEOPLE).
    activity = event("personal_message", service_url=teams.connector.url, text="projects")
    assert await teams.post(activity) == 201
    async with teams.runtime.sessions() as session:
        row = await session.scalar(select(Conversation).where(Conversation.kind == "dm"))
        megan = await session.scalar(select(Person).where(Person.display_name == "Megan Bowen"))
    assert row is not None and megan is not None and row.person_id == megan.id
    assert row.reference is not None and row.reference["user"]["id"] == megan.external_id


async def test_the_bot_greets_once_when_added_and_again_after_removal(
    teams: TeamsService,
) -> None:
    url = teams.connector.url
    assert await teams.post(event("bot_added_to_team", service_url=url)) == 201
    greeting = teams.connector.take()
    assert len(greeting) == 1 and "project new" in text_of(greeting)
    assert greeting[0].conversation_id == TEAM_CHANNEL and greeting[0].reply_to is None
    # The same update again (a retry, a second install event): no second greeting.
    assert await teams.post(event("bot_added_to_team", service_url=url, id="f:again")) == 201
    assert teams.connector.take() == []
    assert await teams.post(event("bot_removed_from_team", service_url=url)) == 201
    async with teams.runtime.sessions() as session:
        row = await session.scalar(
            select(Conversation).where(Conversation.channel_id == TEAM_CHANNEL)
        )
    assert row is not None and not row.reachable and "removed" in (row.unreachable_reason or "")
    assert teams.connector.take() == []
    assert await teams.post(event("bot_added_to_team", service_url=url, id="f:back")) == 201
    assert "Hi, I'm Liaison" in text_of(teams.connector.take())


async def test_the_budgets_burn_up_is_drawn_into_its_card(teams: TeamsService) -> None:
    """Commands leave their charts undrawn; Teams shows a picture in the card itself, so it
    is drawn before the reply is sent."""
    await _project(teams)
    _ok(await teams.say("ann", 'spend 1200 "Stock photos" design'))
    (post,) = await teams.say("ann", "budget")
    assert post.card is not None
    images = [e for e in post.card["body"] if e.get("type") == "Image"]
    assert len(images) == 1 and images[0]["altText"].startswith("Budget burn-up")
    assert images[0]["url"].startswith("data:image/png;base64,iVBORw0KGgo")
