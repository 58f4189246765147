"""A small client project set up through the console, shared by the risk, change, request,
report and export tests. Team channel `team`, client channel `acme-shared`; ann is the PM,
bob a member (rate 100/h), carol a client from another organisation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from tests.harness import Harness

NEW = 'project new "Acme Site" client:"Acme Corp" budget:50k due:2027-03-01'
CLIENT = "acme-shared"


async def kickoff(bot: Harness, *, client_side: bool = True) -> None:
    for line in (NEW, "team add @bob role:member rate:100/h"):
        out = await bot.say("ann", line)
        assert "Usage" not in out, out
    if client_side:
        out = await bot.say("ann", "project link client", channel=CLIENT)
        assert "shared with Acme Corp" in out, out
    bot.take_posts()


async def client_says(bot: Harness, line: str) -> str:
    return await bot.say("carol", line, channel=CLIENT, external=True)


async def count(bot: Harness, model: type, **where: Any) -> int:
    async with bot.sessions() as session:
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return await session.scalar(query) or 0


async def row(bot: Harness, model: type, **where: Any) -> Any:
    async with bot.sessions() as session:
        query = select(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return await session.scalar(query)
