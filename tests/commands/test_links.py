"""Links to the project's documents through the console: http(s) only, labels kept as
text, client-flagged links in the client status and nothing else shown to the client."""

from __future__ import annotations

from storage.models import DocumentLink
from tests.harness import Harness
from tests.project_setup import client_says, count, kickoff


async def test_links_are_added_listed_shown_to_the_client_and_removed(bot: Harness) -> None:
    await kickoff(bot)
    out = await bot.say("ann", 'link add "SOW" https://docs.example/sow?v=2 client')
    assert "Link 1 added, shown to the client too" in out
    out = await bot.say("bob", 'link add "Margin sheet" https://docs.example/internal')
    assert "Link 2 added, for the team only" in out
    listed = await bot.say("ann", "links")
    assert "1. SOW: https://docs.example/sow?v=2 (client)" in listed
    assert "2. Margin sheet: https://docs.example/internal" in listed
    status = await client_says(bot, "status")
    assert "SOW: https://docs.example/sow?v=2" in status
    assert "Margin sheet" not in status and "internal" not in status
    assert "Margin sheet" not in await bot.say("ann", "status", channel="acme-shared")
    assert "Margin sheet" not in await bot.say("ann", "links", channel="acme-shared")
    assert "is for the delivery team" in await client_says(bot, "links")
    assert "removed" in await bot.say("ann", "link remove 2")
    assert await count(bot, DocumentLink) == 1
    assert "There is no link 2" in await bot.say("ann", "link remove 2")


async def test_only_web_addresses_are_kept(bot: Harness) -> None:
    await kickoff(bot)
    for line in (
        'link add "x" javascript:alert(1)',
        'link add "x" JAVASCRIPT://example.com/%0aalert(1)',
        'link add "x" data:text/html,hi',
        'link add "x" ftp://files.example/a',
        'link add "x" https://',
        'link add "x" "https://a.example/<script>"',
        'link add "x"',
    ):
        out = await bot.say("ann", line)
        assert "Usage: link add" in out, (line, out)
    assert await count(bot, DocumentLink) == 0
    assert "is for the delivery team" in await client_says(bot, 'link add "x" https://a.example')
    assert await count(bot, DocumentLink) == 0


async def test_a_label_is_text_not_markup(bot: Harness) -> None:
    await kickoff(bot)
    await bot.say("ann", 'link add "<!channel> *SOW*" https://docs.example/sow client')
    async with bot.sessions() as session:
        from sqlalchemy import select

        stored = await session.scalar(select(DocumentLink.label))
    assert stored == "<!channel> *SOW*"
