"""The risk register and the decision log, through the console on both databases."""

from __future__ import annotations

from storage.models import Decision, Risk
from tests.conftest import ExecutedStatements
from tests.harness import Harness
from tests.project_setup import client_says, count, kickoff, row


async def test_risks_are_sorted_by_likelihood_times_impact(bot: Harness) -> None:
    await kickoff(bot)
    await bot.say("ann", 'risk add "Low one" likelihood:low impact:low')
    out = await bot.say(
        "ann",
        'risk add "Vendor API late" likelihood:high impact:medium '
        'mitigation:"Mock the API" owner:@bob review:2026-12-08',
    )
    assert "Risk 2 added: Vendor API late (likelihood high, impact medium, score 6" in out
    await bot.say("ann", 'risk add "Medium one" likelihood:medium impact:medium client')
    out = await bot.say("ann", "risks")
    order = [out.index(title) for title in ("Vendor API late", "Medium one", "Low one")]
    assert order == sorted(order)
    assert "Owner: bob" in out and "Mitigation: Mock the API" in out
    risk = await row(bot, Risk, number=2)
    assert (risk.likelihood, risk.impact, risk.client_visible) == (3, 2, False)
    assert str(risk.review_on) == "2026-12-08"


async def test_clients_see_only_the_risks_shared_with_them(bot: Harness) -> None:
    await kickoff(bot)
    await bot.say("ann", 'risk add "Key developer may leave" likelihood:high impact:high')
    await bot.say("ann", 'risk add "Content arrives late" likelihood:medium impact:high client')
    for out in (
        await client_says(bot, "risks"),
        await bot.say("ann", "risks", channel="acme-shared"),
        await client_says(bot, "risks all"),
    ):
        assert "Content arrives late" in out
        assert "Key developer" not in out
    assert "Key developer may leave" in await bot.say("ann", "risks")


async def test_a_risk_list_runs_a_statement_built_once_for_its_kind(
    bot: Harness, executed: ExecutedStatements
) -> None:
    """The team's list and the client's are two statements, each built once; the client's
    stays the one that keeps unshared risks out, however often the team's ran before."""
    await kickoff(bot)
    bot.engine.reply_cache = False  # every list is read, none answered from the cache
    await bot.say("ann", 'risk add "Key developer may leave" likelihood:high impact:high')
    await bot.say("ann", 'risk add "Content arrives late" likelihood:medium impact:high client')
    lists = []
    for ask in ("team", "team", "client", "client"):
        executed.clear()
        out = await (client_says(bot, "risks") if ask == "client" else bot.say("ann", "risks"))
        assert ("Key developer" in out) is (ask == "team") and "Content arrives late" in out
        (statement,) = executed.matching("FROM risks")
        lists.append(statement)
    team, team_again, client, client_again = lists
    assert team is team_again and client is client_again and team is not client


async def test_update_and_close_by_the_owner_or_the_pm(bot: Harness) -> None:
    await kickoff(bot)
    await bot.say("ann", "team add @dan role:member")
    await bot.say("ann", 'risk add "Hosting cost" likelihood:low impact:high owner:@bob')
    out = await bot.say("dan", "risk update 1 likelihood:high")
    assert "changed by its owner or the project's PM" in out
    out = await bot.say("bob", 'risk update 1 likelihood:high mitigation:"Reserve now" client')
    assert "likelihood high, impact high, score 9, shared with the client" in out
    risk = await row(bot, Risk, number=1)
    assert (risk.likelihood, risk.mitigation, risk.client_visible) == (3, "Reserve now", True)
    assert "changed by its owner" in await bot.say("dan", "risk close 1")
    assert "Risk 1 closed" in await bot.say("ann", "risk close 1")
    assert "No open risks" in await bot.say("ann", "risks")
    assert "Closed" in await bot.say("ann", "risks all")
    assert "already closed" in await bot.say("ann", "risk close 1")


BAD_RISKS = [
    ('risk add "X" impact:high', "Say the likelihood"),
    ('risk add "X" likelihood:often impact:high', "should be low, medium or high"),
    ("risk add likelihood:low impact:low", "Missing risk title"),
    ('risk add "X" likelihood:low impact:low owner:@stranger', "not on the delivery team"),
    ('risk add "X" likelihood:low impact:low owner:bob', "takes an @mention"),
    ('risk add "X" likelihood:low impact:low review:2020-01-01', "in the past"),
    ('risk add "X" likelihood:low impact:low review:someday', "can't read `someday`"),
    ('risk add "X" likelihood:low impact:low extra:1', "I did not understand"),
    ("risk update 9 likelihood:low", "There is no risk 9"),
    ("risk update 1", "Say what to change"),
    ("risk update 1 client internal", "either `client` or `internal`"),
    ("risk update one likelihood:low", "should be a number"),
    ("risk close", "Missing risk number"),
    ("risk close 7", "There is no risk 7"),
]


async def test_bad_risk_input_changes_nothing(bot: Harness) -> None:
    await kickoff(bot)
    await bot.say("ann", 'risk add "Existing" likelihood:low impact:low')
    for line, message in BAD_RISKS:
        out = await bot.say("ann", line)
        assert message in out, (line, out)
        assert "Usage: risk" in out, line
        assert await count(bot, Risk) == 1, line
        risk = await row(bot, Risk, number=1)
        assert (risk.likelihood, risk.impact, risk.status, risk.client_visible) == (
            1,
            1,
            "open",
            False,
        ), line


async def test_risks_are_not_managed_where_the_client_reads(bot: Harness) -> None:
    await kickoff(bot)
    out = await bot.say(
        "ann", 'risk add "Margin thin" likelihood:low impact:low', channel="acme-shared"
    )
    assert "shared with the client" in out
    out = await client_says(bot, 'risk add "Margin thin" likelihood:low impact:low')
    assert "is for the delivery team or the project's PM" in out
    assert await count(bot, Risk) == 0


async def test_decisions_are_a_dated_log_with_who_decided(bot: Harness) -> None:
    await kickoff(bot)
    out = await bot.say("ann", 'decision "Use Stripe" why:"Fees are lower"')
    assert "Decision 1 recorded: Use Stripe" in out
    bot.clock.advance(days=2)
    await bot.say("bob", 'decision "Host on Fly"')
    out = await bot.say("ann", "decisions")
    assert "2026-12-01 #1 Use Stripe (ann). Why: Fees are lower" in out
    assert "2026-12-03 #2 Host on Fly (bob)" in out
    assert out.index("Host on Fly") < out.index("Use Stripe")


async def test_decisions_stay_internal_and_bad_input_changes_nothing(bot: Harness) -> None:
    await kickoff(bot)
    assert "is for the delivery team or the project's PM" in await client_says(bot, "decisions")
    assert "internal" in await bot.say("ann", "decisions", channel="acme-shared")
    out = await bot.say("ann", "decision")
    assert "Missing the decision" in out and "Usage: decision" in out
    out = await bot.say("ann", 'decision "X" why:')
    assert "needs a value" in out
    assert await count(bot, Decision) == 0
