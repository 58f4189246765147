"""Change requests: the approval card, who may decide, what approval changes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from bot.messages import Actions, message_from_dict
from bot.requests import Action, Actor, Place, Request
from storage.models import ChangeRequest, ClientRequest, Delivery, Person, Project
from tests.harness import Harness
from tests.project_setup import CLIENT, client_says, count, kickoff, row

CHANGE = 'change "Add a blog section" cost:4000 days:5'


async def project(bot: Harness) -> Project:
    return await row(bot, Project, name="Acme Site")


async def test_the_card_goes_to_the_client_side_and_the_client_approves_by_button(
    bot: Harness,
) -> None:
    await kickoff(bot)
    out = await bot.say("ann", CHANGE)
    assert "Change 1 sent to Acme Corp for approval" in out
    card = bot.take_posts()
    assert card.startswith(f"-> #{CLIENT} [client]")
    assert "Change request 1: Add a blog section" in card
    assert "Price: USD 4,000.00" in card and "New delivery date: 2027-03-08" in card
    assert "[1] Approve  [2] Decline" in card
    assert "50,000" not in card

    listed = await client_says(bot, "changes")
    assert "[1] Approve 1  [2] Decline 1" in listed
    out = await client_says(bot, "click 1")
    assert "Change 1 approved by carol" in out and "delivery date is now 2027-03-08" in out
    assert "50,000" not in out and "54,000" not in out
    team_post = bot.take_posts()
    assert team_post.startswith("-> #team [internal]")
    assert "Budget: USD 50,000.00 -> USD 54,000.00" in team_post
    assert "Due: 2027-03-01 -> 2027-03-08" in team_post

    p = await project(bot)
    assert (p.budget, p.due_date) == (Decimal("54000.00"), date(2027, 3, 8))
    change = await row(bot, ChangeRequest, number=1)
    carol = await row(bot, Person, external_id="carol")
    assert (change.status, change.decided_by_id, change.decided_on_behalf) == (
        "approved",
        carol.id,
        False,
    )
    assert change.decided_at == bot.clock.now
    out = await client_says(bot, "click 1")
    assert "There is no button" in out or "already approved by carol" in out
    again = await client_says(bot, "change approve 1")
    assert "Change 1 was already approved by carol on 2026-12-01" in again
    assert (await project(bot)).budget == Decimal("54000.00")


async def test_the_button_on_the_posted_card_is_the_typed_command(bot: Harness) -> None:
    await kickoff(bot)
    await bot.say("ann", CHANGE)
    async with bot.sessions() as session:
        delivery = await session.scalar(select(Delivery).where(Delivery.channel_id == CLIENT))
    assert delivery is not None
    card = message_from_dict(delivery.message)
    decline = next(b for block in card.blocks if isinstance(block, Actions) for b in block.buttons
                   if b.label == "Decline")  # fmt: skip
    request = Request(
        Actor("console", "other-org", "carol", "carol", external=True),
        Place("console", "local", CLIENT),
        action=Action(decline.action_id, decline.value),
    )
    reply = await bot.engine.handle(request)
    assert "Change 1 declined by carol" in reply.messages[0].plain_text()
    assert reply.messages[0].audience == "client"
    assert (await row(bot, ChangeRequest, number=1)).status == "declined"
    assert (await project(bot)).budget == Decimal("50000.00")


async def test_a_pm_decides_only_on_behalf_and_a_member_never(bot: Harness) -> None:
    await kickoff(bot)
    await bot.say("ann", CHANGE)
    bot.take_posts()
    out = await bot.say("ann", "change approve 1")
    assert "add `on-behalf`" in out
    out = await bot.say("bob", "change approve 1 on-behalf")
    assert "Only the client decides on changes" in out
    out = await bot.say("bob", "change decline 1")
    assert "Only the client decides on changes" in out
    assert (await row(bot, ChangeRequest, number=1)).status == "pending"
    assert (await project(bot)).budget == Decimal("50000.00")

    out = await bot.say("ann", "change approve 1 on-behalf")
    assert "Change 1 approved: Add a blog section" in out
    assert "Decided by: ann on the client's behalf" in out
    posts = bot.take_posts()
    assert f"-> #{CLIENT} [client]" in posts and "approved by ann on the client's behalf" in posts
    change = await row(bot, ChangeRequest, number=1)
    assert change.decided_on_behalf is True
    assert (await project(bot)).due_date == date(2027, 3, 8)


async def test_decline_keeps_budget_and_date_and_records_why(bot: Harness) -> None:
    await kickoff(bot)
    await bot.say("ann", CHANGE)
    out = await client_says(bot, 'change decline 1 "too expensive"')
    assert "Change 1 declined by carol" in out and "scope stays as agreed" in out
    assert "Reason: too expensive" in bot.take_posts()
    change = await row(bot, ChangeRequest, number=1)
    assert (change.status, change.reason) == ("declined", "too expensive")
    p = await project(bot)
    assert (p.budget, p.due_date) == (Decimal("50000.00"), date(2027, 3, 1))
    assert "already declined" in await client_says(bot, "change approve 1")


async def test_changes_lists_pending_approved_and_declined(bot: Harness) -> None:
    await kickoff(bot)
    for line in (CHANGE, 'change "Dark mode" cost:1,500 days:2', 'change "Swap fonts" days:0'):
        await bot.say("ann", line)
    await client_says(bot, "change approve 1")
    await client_says(bot, 'change decline 2 "later"')
    out = await bot.say("ann", "changes")
    pending, approved, declined = (out.index(s) for s in ("*Pending*", "*Approved*", "*Declined*"))
    assert pending < out.index("Swap fonts") < approved < out.index("Add a blog") < declined
    assert declined < out.index("Dark mode: USD 1,500.00, +2 working days; declined by carol")
    client = await client_says(bot, "changes")
    # The client sees the price of each change (their price), never the budget.
    assert "USD 4,000.00" in client and "54,000" not in client and "50,000" not in client


async def test_approval_counts_the_projects_working_days(bot: Harness) -> None:
    await kickoff(bot)
    await bot.say("ann", "project set country:DE days:mon-fri due:2026-12-23")
    await bot.say("ann", 'change "Extra page" cost:100 days:2')
    # Thu 24th is a working day, Fri 25th a public holiday, then the weekend: Mon 28th.
    await bot.say("ann", "change approve 1 on-behalf")
    assert (await project(bot)).due_date == date(2026, 12, 28)


async def test_a_project_without_budget_or_client_side_still_takes_changes(bot: Harness) -> None:
    await bot.say("ann", 'project new "Bare" client:"B"')
    out = await bot.say("ann", 'change "More" cost:$250 days:3')
    assert "No client channel is linked" in out and "on-behalf" in out
    assert bot.take_posts() == ""
    await bot.say("ann", "change approve 1 on-behalf")
    p = await row(bot, Project, name="Bare")
    assert (p.budget, p.due_date) == (Decimal("250.00"), None)


BAD_CHANGES = [
    ('change "X" cost:-5', "can't be negative"),
    ('change "X" cost:lots', "can't read `lots`"),
    ('change "X" cost:"EUR 100"', "priced in USD"),
    ('change "X" cost:0.001', "fractions of a cent"),
    ('change "X" cost:5000000000', "more than I can believe"),
    ('change "X" days:-1', "working days from 0 to 365"),
    ('change "X" days:999', "working days from 0 to 365"),
    ('change "X" days:soon', "working days from 0 to 365"),
    ("change cost:5", "Missing what changes"),
    ("change approve", "Missing change number"),
    ("change approve 1x on-behalf", "should be a number"),
    ("change approve 9 on-behalf", "There is no change 9"),
    ("change approve 1 on-behalf now", "I did not understand"),
]


async def test_bad_change_input_changes_nothing(bot: Harness) -> None:
    await kickoff(bot)
    await bot.say("ann", CHANGE)
    bot.take_posts()
    for line, message in BAD_CHANGES:
        out = await bot.say("ann", line)
        assert message in out, (line, out)
        assert "Usage: change" in out, line
        assert await count(bot, ChangeRequest) == 1, line
        assert (await row(bot, ChangeRequest, number=1)).status == "pending"
        p = await project(bot)
        assert (p.budget, p.due_date) == (Decimal("50000.00"), date(2027, 3, 1)), line
        assert bot.take_posts() == "", line


async def test_clients_and_members_cannot_raise_changes(bot: Harness) -> None:
    await kickoff(bot)
    assert "is for the project's PM" in await client_says(bot, CHANGE)
    assert "is for the project's PM" in await bot.say("bob", CHANGE)
    assert "on-behalf` is for the PM" in await client_says(bot, "change approve 1 on-behalf")
    assert await count(bot, ChangeRequest) == 0


async def test_another_tenant_cannot_decide_a_change_by_guessing_its_number(
    bot: Harness,
) -> None:
    await kickoff(bot)
    await bot.say("ann", CHANGE)

    async def as_other(line: str, channel: str = "b-team", tenant: str = "tenant-b") -> str:
        actor = Actor("console", "tenant-b", "zed", "zed")
        reply = await bot.engine.handle(Request(actor, Place("console", tenant, channel), line))
        return "\n".join(m.plain_text() for m in reply.messages)

    assert "started" in await as_other('project new "Beta" client:"B" budget:1k')
    assert "There is no change 1 in Beta" in await as_other("change approve 1 on-behalf")
    assert "You have no project" in await as_other('changes project:"Acme Site"')
    # A request whose place is another tenant's channel id is not that channel.
    assert "There is no change 1 in Beta" in await as_other(
        "change approve 1 on-behalf", channel="team"
    )
    # Zed's request in Acme's own channel (the actor's tenant differs): not on the project.
    refused = await as_other("change approve 1 on-behalf", channel="team", tenant="local")
    assert "not on this project" in refused or "is for members" in refused
    assert (await row(bot, ChangeRequest, number=1)).status == "pending"
    assert (await project(bot)).budget == Decimal("50000.00")


async def test_a_colleague_not_on_the_project_cannot_act_as_the_client(bot: Harness) -> None:
    """The review's playground attack: an internal colleague who is not on the project
    approved a change in the shared channel and raised the budget."""
    await kickoff(bot)
    await bot.say("ann", CHANGE)
    await bot.say("ann", 'milestone add "Launch" due:2027-02-01 signoff')
    before = await project(bot)
    for line in (
        "change approve 1",
        "change decline 1",
        "milestone signoff 1",
        'request "More pages"',
    ):
        out = await bot.say("zoe", line, channel=CLIENT)  # our organisation, not on the team
        assert "went wrong" not in out
        assert "ask the project's PM to add you" in out or "not on" in out, (line, out)
    after = await project(bot)
    assert (after.budget, after.due_date) == (before.budget, before.due_date)
    change = await row(bot, ChangeRequest, number=1)
    assert change.status == "pending"
    assert await count(bot, ClientRequest) == 0
    # A colleague given the client role may; so may the client from the other organisation.
    await bot.say("ann", "team add @zoe role:client")
    out = await bot.say("zoe", "change approve 1", channel=CLIENT)
    assert "Change 1 approved by zoe" in out
