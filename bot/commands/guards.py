"""Small checks shared by the risk, decision, change, request and export commands."""

from __future__ import annotations

from datetime import date

from bot.engine.context import CommandContext
from bot.engine.parsing import Mention, tokenize
from bot.errors import UserError
from storage.models import Person


def team_side_only(ctx: CommandContext, what: str) -> None:
    """Internal data is never shown where a client reads (the client side, a client)."""
    if ctx.audience == "client":
        if ctx.role == "client":
            raise ctx.refuse(f"{what} are internal to the delivery team.")
        raise ctx.refuse(
            f"{what} are internal: this channel is shared with the client. "
            "Run this in the team channel or in a direct message with me."
        )


def mention_in(ctx: CommandContext, value: str, key: str) -> Mention:
    """The mention inside an option such as `owner:@bob` or `owner:<@U123|bob>`."""
    try:
        tokens = tokenize(value)
    except UserError:
        tokens = []
    if len(tokens) != 1 or tokens[0].mention is None:
        raise ctx.fail(f"`{key}:` takes an @mention, like `{key}:@sam`.")
    return tokens[0].mention


async def team_person(ctx: CommandContext, mention: Mention) -> Person:
    """Someone on the project's delivery team (PM or member), else a clear error."""
    person = await ctx.person_for(mention)
    membership = await ctx.membership_of(person)
    if (
        membership is None
        or membership.role not in ("pm", "member")
        or await ctx.is_external(person)
    ):
        raise ctx.fail(
            f"@{person.display_name} is not on the delivery team of {ctx.the_project.name}; "
            "add them first with `team add`."
        )
    return person


def future_date(ctx: CommandContext, value: str, what: str) -> date:
    day = ctx.read_date(value).day
    if day < ctx.today:
        raise ctx.fail(f"The {what} {day} is in the past.")
    return day
