"""`liaison forget --platform slack --user U123`: the operator erases a person everywhere
(bot.commands.erasure, with no limit of scope). Each tenant that met them gets an audit entry that
says it happened, under the pseudonym, and learns that its data changed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.commands.erasure import Erased, Scope, erase_person
from bot.engine.reply_cache import Generations, tenant_key
from storage.changes import announce, take_revision
from storage.models import Acquaintance, AuditEntry, Person, Tenant


async def forget_person(
    sessions: async_sessionmaker[AsyncSession], platform: str, user_id: str, now: datetime
) -> Erased | None:
    """Erase the person with this platform id; None if nobody has it."""
    async with sessions() as session, session.begin():
        person = await session.scalar(
            select(Person).where(Person.platform == platform, Person.external_id == user_id)
        )
        if person is None:
            return None
        tenants = list(
            (
                await session.scalars(
                    select(Tenant)
                    .join(Acquaintance, Acquaintance.tenant_id == Tenant.id)
                    .where(Acquaintance.person_id == person.id)
                    .order_by(Tenant.id)
                )
            ).all()
        )
        # A notice from this process, which keeps no replies: every server hears it.
        notices = Generations()
        for tenant in tenants:  # first, as every writer does: one lock order
            await take_revision(session, tenant.id)
            # A person's name shows in every project: the tenant changed as a whole.
            await announce(session, notices.notice(tenant_key(tenant.platform, tenant.external_id)))
        erased = await erase_person(session, person, Scope())
        session.add_all(
            AuditEntry(
                tenant_id=tenant.id,
                project_id=None,
                person_id=None,
                at=now,
                platform=tenant.platform,
                channel_id=None,
                command="forget",
                line=f"forget @{erased.pseudonym} (by the operator)",
            )
            for tenant in tenants
        )
    return erased
