"""Blocker items from huddle answers: a non-empty blocker answer becomes an item numbered
per project; the same person saying the same blocker on a later day keeps the item (its
age counts on); changing today's answer changes today's new item, and clearing it (or
skipping) removes that item. Used by `huddle answer` and `huddle skip`, in their own
transaction."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.domain.blocker_rules import same_blocker
from bot.engine.context import CommandContext
from storage.models import HuddleBlocker


async def record_blocker(ctx: CommandContext, day: date, text: str | None) -> HuddleBlocker | None:
    """The item `text` (the day's blocker answer of the asker) is, or None without one."""
    mine = list(
        await ctx.session.scalars(
            select(HuddleBlocker)
            .where(
                HuddleBlocker.project_id == ctx.the_project.id,
                HuddleBlocker.author_id == ctx.me.id,
                HuddleBlocker.status != "resolved",
            )
            .order_by(HuddleBlocker.number)
        )
    )
    # An item first said today, untouched by anyone yet: today's answer may still change it.
    fresh = next((b for b in mine if b.first_day == day and b.status == "open"), None)
    if text is None:
        if fresh is not None:
            await ctx.session.delete(fresh)
        return None
    same = next((b for b in mine if same_blocker(b.text, text)), None)
    if same is not None:
        if fresh is not None and fresh is not same:
            await ctx.session.delete(fresh)
        same.last_day = max(same.last_day, day)
        return same
    if fresh is not None:
        fresh.text = text
        return fresh
    item = await ctx.add_numbered(
        HuddleBlocker,
        author_id=ctx.me.id,
        text=text,
        first_day=day,
        last_day=day,
        status="open",
        created_at=ctx.now,
    )
    return item
