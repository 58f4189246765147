"""What a command handler gets: the request, its unit of work, who asks, where, for which
project, and small helpers to find people, number rows and post elsewhere."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Insert, Table, and_, bindparam, func, insert, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import local_date
from bot.delivery import outbox
from bot.domain.working_days import WorkCalendar
from bot.engine.dates import DateRead, date_in_words, month_first, read_date
from bot.engine.parsing import Mention
from bot.errors import Refused, UserError
from bot.messages import Audience, Block, Context, Message, Visibility
from bot.requests import Request
from storage.changes import WRITES_PROJECT
from storage.models import (
    Acquaintance,
    ChannelLink,
    Conversation,
    Membership,
    Person,
    Project,
    Tenant,
)
from storage.reads import as_loaded
from storage.secrets import SecretBox, opened_with, sealed_with

Numbered = TypeVar("Numbered")


@dataclass
class CommandContext:
    session: AsyncSession
    request: Request
    now: datetime
    tenant: Tenant
    me: Person
    project: Project | None = None
    side: str | None = None  # "team" | "client" when run in a linked channel
    membership: Membership | None = None
    usage: str = ""
    request_registry: Any = None
    fields: dict[str, str] = field(default_factory=dict)
    # This command took a writer's turn (the tenant's next revision, or its project's
    # turn): its commit changes the tenant's data.
    took_revision: bool = False
    # The turn it took is its project's (PostgreSQL; the tenant shared): it may write that
    # project's content and nothing else (see Engine).
    project_turn: bool = False
    # Identity (the asker's person or conversation row) was written: a tenant-wide change.
    identity_written: bool = False
    # The channel is read by a client whichever project a command names: a client side
    # (of this or another project) or a channel shared with another organisation.
    client_place: bool = False
    # LIAISON_PUBLIC_URL, for links that open outside the chat (calendar feeds).
    public_url: str | None = None
    # Seals the tokens of those links where they are stored (storage.secrets); None, the
    # tools and tests that run without LIAISON_SECRET_KEY, keeps them in clear.
    secrets: SecretBox | None = None
    # What the audit trail records for this command instead of its line (bot.engine.audit): a
    # line that names someone being erased must not outlive the erasure.
    audit_line: str | None = None
    # The projects a reply about no one project (`waiting`) was read from, when its command
    # read them anyway: the reply cache keeps it until one of them changes (without it the
    # engine reads the asker's memberships once more).
    read_from: frozenset[int] | None = None
    # How this tenant met each person asked about so far in this command (None: never),
    # so that resolving a mention and then checking its side read the row once.
    _met: dict[int, Acquaintance | None] = field(default_factory=dict, repr=False)
    # A mentioned person's membership (project id, row or None), read with the person.
    _memberships: dict[int, tuple[int, Membership | None]] = field(default_factory=dict, repr=False)

    # --- stored secrets ---------------------------------------------------------------

    def seal(self, value: str) -> str:
        return sealed_with(self.secrets, value)

    def unsealed(self, value: str) -> str:
        return opened_with(self.secrets, value)

    # --- who and where ----------------------------------------------------------------

    @property
    def role(self) -> str | None:
        """The effective role: an external actor is a client whatever anyone says. On the
        client side only they and people with a client membership act as the client: a
        colleague who is not on the project has no role there, whichever channel they sit in."""
        if self.request.actor.external:
            return "client"
        if self.membership:
            return self.membership.role
        return None

    @property
    def audience(self) -> Audience:
        if self.role == "client" or self.side == "client" or self.client_place:
            return "client"
        return "internal"

    @property
    def is_pm(self) -> bool:
        return self.role == "pm"

    @property
    def zone(self) -> str:
        """The asker's zone: theirs, else the platform's, else the project's, else UTC."""
        return (
            self.me.timezone
            or self.request.actor.timezone
            or (self.project.timezone if self.project else None)
            or "UTC"
        )

    @property
    def today(self) -> date:
        return local_date(self.now, self.zone)

    def read_date(self, text: str) -> DateRead:
        """A date as the asker typed it: their day, their locale, the project's working days."""
        return read_date(
            text, self.today, locale=self.request.actor.locale, add_working_days=self._add_working
        )

    def _add_working(self, start: date, days: int) -> date:
        """`days` working days after `start` by the project's calendar (Mon-Fri without one)."""
        project = self.project
        if project is None:
            return WorkCalendar().add(start, days)
        years = range(start.year, start.year + 2)
        return WorkCalendar.of(project.working_days, project.country, years).add(start, days)

    def date_said(self, read: DateRead, what: str) -> Context:
        """The small print that says a date just set in words, how a numeric one was read, and
        that it is already past: a past due date is taken (catching up on the plan), but said."""
        how = ""
        if read.ambiguous:
            order = "month/day" if month_first(self.request.actor.locale) else "day/month"
            how = f" (read as {order} for your locale; write {read.day.isoformat()} to be sure)"
        past = " — that is in the past" if read.day < self.today else ""
        return Context(f"{what.capitalize()}: {date_in_words(read.day)}{how}{past}.")

    @property
    def project_today(self) -> date:
        return local_date(self.now, self.the_project.timezone)

    @property
    def the_project(self) -> Project:
        if self.project is None:
            raise UserError(
                'Which project? Run this in a project\'s channel or add project:"Name".'
            )
        return self.project

    def role_label(self) -> str:
        return {"pm": "the PM", "member": "on the team", "client": "a client"}.get(
            self.role or "", "not on this project"
        )

    def fail(self, message: str) -> UserError:
        return UserError(message, self.usage)

    def refuse(self, message: str) -> Refused:
        return Refused(message)

    # --- replies ----------------------------------------------------------------------

    def say(self, *blocks: Block, visibility: Visibility = "in_channel") -> Message:
        return Message(blocks=blocks, audience=self.audience, visibility=visibility)

    def whisper(self, *blocks: Block) -> Message:
        """A reply only the asker sees."""
        return self.say(*blocks, visibility="ephemeral")

    # --- people -----------------------------------------------------------------------

    async def known_person(self, mention: Mention) -> Person | None:
        """The person a mention names among the people met in this tenant (writes nothing).
        Someone met only in another workspace or tenant is not known here."""
        found = await self._person_by_platform_id(mention)
        if found is not None and await self.acquaintance(found) is None:
            return None
        return found or await self._person_by_name(mention.name)

    async def person_for(self, mention: Mention) -> Person:
        """The person a mention names, among the people met in this tenant; someone the bot
        never met anywhere becomes a new record met here. Someone met only in another
        workspace or tenant is refused: a mention is text anyone can type, and it must not
        reach into another organisation's people."""
        platform = self.request.actor.platform
        if mention.user_id and mention.user_id == self.me.external_id:
            return self.me  # met here: this very request is theirs
        if mention.user_id:
            found = await self._person_by_platform_id(mention)
            if found is None:
                return await self._new_person(mention.user_id, mention.name)
            if await self.acquaintance(found) is None:
                raise self.fail(
                    f"I haven't met @{mention.name or mention.user_id} here yet. Ask them to "
                    "say something to me in this workspace first (for example `help`)."
                )
            return found
        found = await self._person_by_name(mention.name)
        if found:
            return found
        if platform != "console":
            raise self.fail(
                f"I don't know @{mention.name} yet. Mention them with the platform's @-picker."
            )
        return await self._new_person(mention.name, mention.name)

    async def _person_by_platform_id(self, mention: Mention) -> Person | None:
        if not mention.user_id:
            return None
        found = await self._people_where(
            Person.platform == self.request.actor.platform,
            Person.external_id == mention.user_id,
        )
        return found[0] if found else None

    async def _person_by_name(self, name: str) -> Person | None:
        platform = self.request.actor.platform
        met_here = select(Acquaintance.person_id).where(Acquaintance.tenant_id == self.tenant.id)
        rows = await self._people_where(
            Person.platform == platform,
            Person.id.in_(met_here),
            # A typed name is looked up in the asker's own organisation only: a
            # namesake in another workspace or tenant must never join the project.
            Person.home_tenant == self.request.actor.tenant,
            func.lower(Person.display_name) == name.lower(),
        )
        if len(rows) > 1:
            raise self.fail(f"More than one person is called {name}; use their @-mention.")
        if rows:
            return rows[0]
        found = await self._people_where(
            Person.platform == platform,
            Person.external_id == name,
            Person.id.in_(met_here),
        )
        return found[0] if found else None

    async def _people_where(self, *conditions: ColumnElement[bool]) -> list[Person]:
        """The people matching `conditions`, each read with how this tenant met them and
        their membership of this command's project: the next questions about a mentioned
        person (see acquaintance and membership_of), answered by the same statement."""
        met = and_(Acquaintance.person_id == Person.id, Acquaintance.tenant_id == self.tenant.id)
        query = select(Person, Acquaintance).outerjoin(Acquaintance, met).where(*conditions)
        project = self.project
        if project is not None:
            on_project = and_(
                Membership.person_id == Person.id, Membership.project_id == project.id
            )
            query = query.add_columns(Membership).outerjoin(Membership, on_project)
        people = []
        for row in (await self.session.execute(query)).all():
            person = row[0]
            self._met[person.id] = row[1]
            if project is not None:
                self._memberships[person.id] = (project.id, row[2])
            people.append(person)
        return people

    async def _new_person(self, external_id: str, name: str) -> Person:
        person = Person(
            platform=self.request.actor.platform,
            external_id=external_id,
            home_tenant=self.request.actor.tenant,
            display_name=name,
            created_at=self.now,
        )
        self.session.add(person)
        await self.session.flush()
        met = Acquaintance(
            person_id=person.id, tenant_id=self.tenant.id, external=False, met_at=self.now
        )
        self.session.add(met)
        await self.session.flush()
        self._met[person.id] = met
        return person

    async def acquaintance(self, person: Person) -> Acquaintance | None:
        """How this tenant met `person`, if it did."""
        if person.id not in self._met:
            self._met[person.id] = await self.session.scalar(
                select(Acquaintance).where(
                    Acquaintance.person_id == person.id, Acquaintance.tenant_id == self.tenant.id
                )
            )
        return self._met[person.id]

    async def is_external(self, person: Person) -> bool:
        """Whether `person` is from another organisation as this tenant sees them; someone
        it never met counts as external (a failed lookup decides for the client-safe side)."""
        if person is self.me:
            # How this tenant met the asker is written as this request says, or was checked
            # to say so (bot.engine.identity): the platform's word now, nothing to read.
            return self.request.actor.external
        met = await self.acquaintance(person)
        return met is None or met.external

    async def membership_of(self, person: Person) -> Membership | None:
        mine = self.membership
        if (
            person is self.me
            and mine is not None
            and mine.project_id == self.the_project.id
            and mine not in self.session.deleted
        ):
            return mine  # read when the project was found (bot.engine.engine)
        read = self._memberships.pop(person.id, None)  # with the person (one use)
        if read is not None and read[0] == self.the_project.id and self._unchanged(read[1]):
            return read[1]
        return await self.session.scalar(
            select(Membership).where(
                Membership.project_id == self.the_project.id, Membership.person_id == person.id
            )
        )

    def _unchanged(self, membership: Membership | None) -> bool:
        """Whether a membership read earlier in this command still holds: no membership
        was added or removed since (the session would know)."""
        if membership is not None and membership in self.session.deleted:
            return False
        return not any(isinstance(added, Membership) for added in self.session.new)

    async def pm_of_project(self) -> Person | None:
        return await self.session.scalar(
            select(Person)
            .join(Membership, Membership.person_id == Person.id)
            .where(Membership.project_id == self.the_project.id, Membership.role == "pm")
            .order_by(Membership.id)
            .limit(1)
        )

    # --- numbering --------------------------------------------------------------------

    async def add_numbered(self, model: type[Numbered], **values: Any) -> Numbered:
        """A new row of this project numbered after its highest (tasks, risks, changes and
        requests are numbered 1, 2, 3 within a project), written at once: the number is
        found in the statement that inserts the row, one round trip fewer while the writer
        holds its turn (the tenant's revision or the project's row, either of which keeps
        two writers from taking one number)."""
        project_id = self.the_project.id
        result = await self.session.execute(
            _numbered_insert(inspect(model).local_table),
            {"project_id": project_id, _NUMBERED_IN: project_id, **values},
            execution_options={WRITES_PROJECT: project_id},
        )
        # An INSERT ... RETURNING returns its row: in the session as if loaded, no SQL.
        return as_loaded(self.session, model, result.one()._mapping)

    async def add_row(self, model: type[Any], **values: Any) -> None:
        """A new row of this project that the command does not read back (an expense, a
        time entry), written at once by an INSERT built once per table: no object for the
        session's unit of work to flush (about a tenth of a `spend`'s serving time)."""
        project_id = self.the_project.id
        await self.session.execute(
            _plain_insert(inspect(model).local_table),
            {"project_id": project_id, **values},
            execution_options={WRITES_PROJECT: project_id},
        )

    async def numbered(self, model: type[Numbered], number: int, what: str) -> Numbered:
        row = await self.session.scalar(
            select(model).where(
                model.project_id == self.the_project.id,  # type: ignore[attr-defined]
                model.number == number,  # type: ignore[attr-defined]
            )
        )
        if row is None:
            raise self.fail(f"There is no {what} {number} in {self.the_project.name}.")
        return row

    # --- posting elsewhere ------------------------------------------------------------

    async def link_of(self, side: str) -> ChannelLink | None:
        return await self.session.scalar(
            select(ChannelLink).where(
                ChannelLink.project_id == self.the_project.id, ChannelLink.side == side
            )
        )

    async def post_to_side(self, side: str, message: Message) -> bool:
        """Queue `message` for the project's team or client channel; False if none is linked.

        Skipped when the command runs in that very channel: the reply is already there.
        """
        if side == "client" and message.audience != "client":
            raise ValueError("only client-audience messages may go to the client side")
        link = await self.link_of(side)
        if link is None:
            return False
        if link.platform == self.request.place.platform and (
            link.channel_id == self.request.place.channel_id
        ):
            return True
        outbox.enqueue(
            self.session,
            project_id=self.the_project.id,
            platform=link.platform,
            tenant=link.tenant,
            channel_id=link.channel_id,
            target_kind="channel",
            message=message,
            now=self.now,
        )
        return True

    async def project_tenant(self) -> Tenant:
        """The tenant the project belongs to (the asker's, without a project): the only
        one anything about the project is sent into."""
        if self.project is None or self.project.tenant_id == self.tenant.id:
            return self.tenant
        found = await self.session.get(Tenant, self.project.tenant_id)
        assert found is not None  # a foreign key
        return found

    async def direct_message(self, person: Person, message: Message) -> bool:
        """Queue a DM to `person` where the bot knows their direct conversation in the
        project's tenant (or the asker's, without a project): never into another workspace
        or tenant, whatever else the bot knows of them."""
        tenant = await self.project_tenant()
        conversation = await self.session.scalar(
            select(Conversation).where(
                Conversation.person_id == person.id,
                Conversation.kind == "dm",
                Conversation.platform == tenant.platform,
                Conversation.tenant == tenant.external_id,
                Conversation.reachable.is_(True),
            )
        )
        if conversation is None:
            return False
        outbox.enqueue(
            self.session,
            project_id=self.project.id if self.project else None,
            platform=conversation.platform,
            tenant=conversation.tenant,
            channel_id=conversation.channel_id,
            target_kind="dm",
            message=message,
            now=self.now,
        )
        return True


async def projects_of(
    session: AsyncSession, tenant: Tenant, person: Person, *, closed: bool = False
) -> list[Project]:
    """The projects `person` is on: the active ones, with `closed` the closed ones too."""
    query = (
        select(Project)
        .join(Membership, Membership.project_id == Project.id)
        .where(Project.tenant_id == tenant.id, Membership.person_id == person.id)
        .order_by(Project.id)
    )
    if not closed:
        query = query.where(Project.archived.is_(False))
    return list((await session.scalars(query)).all())


# The project a numbered row's number is counted in (named apart from the row's own
# project_id, which the INSERT's VALUES take).
_NUMBERED_IN = "numbered_in"


@cache
def _numbered_insert(table: Table) -> Insert:
    """INSERT ... VALUES (..., (SELECT coalesce(max(number), 0) + 1 ...)) RETURNING the
    row, built once per table: the values come as the execution's parameters, so neither
    the statement nor its cache key is built again for every task. A Core statement: the
    ORM's insert with parameters takes its bulk path, and annotates a new copy of the
    statement (a new cache key) every time."""
    following = (
        select(func.coalesce(func.max(table.c.number), 0) + 1)
        .where(table.c.project_id == bindparam(_NUMBERED_IN))
        .scalar_subquery()
    )
    return insert(table).values(number=following).returning(*table.c)


@cache
def _plain_insert(table: Table) -> Insert:
    """INSERT INTO the table, its columns named by the parameters it is run with."""
    return insert(table)
