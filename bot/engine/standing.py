"""One person's kept reply as another's answer, for the reads that never read who asks.

A `status`, `tasks`, `budget` or `risks` asked with no arguments (registered `shared`)
reads its project and the day, never the asker: its reply depends only on the place (the
channel, its project and side, whether it is shared with another organisation) and on
the asker's standing there (their role on the project, their side, the zone their dates
are in, their locale). In a busy channel ten people ask the same thing between two
writes; keyed by the person (bot.engine.reply_cache), each computed it afresh.

A standing is known without reading only from the rows remembered for this person and
channel (bot.engine.remembered), current by the reply cache's rule; a person with none
remembered is keyed as themselves, as before. A reply computed under a standing is kept
only if the asker's standing, as its transaction read it, is the one it was keyed by: a
change between the two (a role changed meanwhile) keeps nothing. So a guest, a
non-member, a client or someone of another workspace is only ever answered with a reply
computed for someone who stands exactly where they stand, and authorised as they are."""

from __future__ import annotations

from collections.abc import Hashable
from datetime import datetime

from bot.engine.context import CommandContext
from bot.engine.remembered import Place
from bot.engine.reply_cache import QUARTER_HOUR
from bot.requests import Request
from storage.models import Membership, Person, Project

Standing = tuple[Hashable, ...]


def _standing(
    me: Person, project: Project | None, side: str | None, membership: Membership | None
) -> Standing | None:
    if project is None:
        return None
    role = membership.role if membership is not None else None
    return (project.id, side, role, me.timezone, me.member_role, me.home_tenant)


def standing_remembered(place: Place) -> Standing | None:
    """The standing of the person the rows were remembered for, in their channel."""
    return _standing(place.me, place.project, place.link.side, place.membership)


def standing_read(ctx: CommandContext) -> Standing | None:
    """The asker's standing as this command's transaction read it."""
    return _standing(ctx.me, ctx.project, ctx.side, ctx.membership)


def shared_key(text: str, request: Request, standing: Standing, now: datetime) -> Hashable:
    """The reply cache's key for everyone of this standing in this place: the request's
    place and all it says about the asker except who they are."""
    actor = request.actor
    quarter = int(now.timestamp()) // QUARTER_HOUR
    return (
        "shared", text, request.place, standing, quarter,
        actor.platform, actor.tenant, actor.external, actor.timezone, actor.locale,
    )  # fmt: skip
