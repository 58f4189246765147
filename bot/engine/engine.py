"""Engine.handle: dedupe, identify, route, authorise, run in one transaction, reply.

User errors roll back and answer with the command's usage; anything else is logged with a
correlation id, rolled back, and answered with a short apology carrying that id.

A command that writes first takes its tenant's next revision (storage.changes): writers
of one tenant take turns, and this and every other process learn that the tenant's data
changed: the projects it wrote to, or the tenant as a whole when a write may matter
beyond them. On PostgreSQL a command that writes its project's content alone (its spec's
`turn`) takes that project's turn instead, beside writers of the tenant's other
projects; should it reach beyond (someone new to remember, another project's rows), it
is undone and run again with the tenant's. Read-only commands take no turn; a `cached`
one may be answered from the reply cache (bot.engine.reply_cache) while what it read is
unchanged."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
import weakref
from collections.abc import Hashable, Iterable
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType
from typing import Any, Literal

from sqlalchemy import ColumnElement, FromClause, Insert, Select, and_, bindparam, select, true
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import join, outerjoin

from bot.clock import Clock, utc_now
from bot.engine import suggestions
from bot.engine.audit import audit_entry
from bot.engine.context import CommandContext, projects_of
from bot.engine.identity import Identities, Known
from bot.engine.in_flight import InFlight
from bot.engine.parsing import Args, check_line, tokenize
from bot.engine.recent_deliveries import RecentDeliveries
from bot.engine.registry import CommandSpec, Registry, Turn
from bot.engine.remembered import Place, RememberedPlaces
from bot.engine.reply_cache import Generations, Keep, ReadFrom, ReplyCache, tenant_key
from bot.engine.standing import Standing, shared_key, standing_read, standing_remembered
from bot.engine.understanding import Suggestion, answer_question, near_miss
from bot.errors import Refused, UserError
from bot.messages import Actions, Button, Context, Message, Reply, Text
from bot.metrics import UNKNOWN_COMMAND, Metrics
from bot.requests import Request
from storage.changes import (
    Write,
    announce,
    take_project_turn,
    take_revision,
    take_wrote,
    touched_projects,
    touched_tables,
)
from storage.db import REQUEST_CONNECTIONS
from storage.models import (
    Acquaintance,
    ChannelLink,
    Membership,
    Person,
    ProcessedEvent,
    Project,
    Tenant,
)
from storage.reading import WouldWrite, read_without_transaction
from storage.secrets import SecretBox
from storage.tables_read import counting_tables_read, counts_tables_read
from storage.upsert import insert_ignore

# The channel's link, its project and the asker's membership of it (each None if none).
LinkRow = tuple[ChannelLink | None, Project | None, Membership | None]

log = logging.getLogger("liaison.engine")

# The turn a writer takes (registry.Turn), or "held": on SQLite, the one write lock is
# held already (its delivery id was recorded first), which is the writer's turn there.
WriterTurn = Turn | Literal["held"]

# Words people put before a command out of habit: "pm status", "/pm status".
PREFIXES = ("/pm", "pm", "liaison", "@liaison")
MAX_BUTTON_VALUE = 1900  # Slack takes 2,000 characters in a button's value


class BeyondItsProject(Exception):
    """A writer holding its project's turn found it must write beyond that project: it is
    rolled back and runs again with the tenant's turn."""


class Repeated(Exception):  # noqa: N818 (not an error: a delivery seen before)
    """A writer found its delivery id recorded already, when it recorded it with its change
    notice (PostgreSQL, `_records_delivery_with_notice`): what it did is rolled back, and
    it answers nothing."""


class KeptOutOfDate(BeyondItsProject):
    """A project's writer found, once its turn was had, that the tenant changed while it
    waited (storage.changes `take_project_turn`): what it read with the tenant's row, and
    who asks and where as kept at that row's revision, may be out of date. It is rolled
    back and runs again with the same turn, reading them afresh (`recall_at` refuses rows
    kept at a revision older than the tenant's row then); a second time, with the
    tenant's."""


class Suggested(UserError):
    """Not a command as typed, but close to one: the reply offers the corrected line."""

    def __init__(self, message: str, suggestion: Suggestion) -> None:
        super().__init__(message)
        self.suggestion = suggestion


@dataclass(frozen=True, slots=True)
class Handled:
    reply: Reply
    changed: bool = False  # the tenant's data changed
    # What changed: these projects' content, or (None) anything in the tenant; and which
    # tables of it (None: any).
    projects: frozenset[int] | None = None
    tables: frozenset[str] | None = None
    repeat: bool = False  # a platform's retry of a delivery already handled
    # What a read-only reply was read from (see reply_cache.Keep).
    read: Keep = True


class Engine:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        modules: Iterable[ModuleType],
        clock: Clock = utc_now,
        generations: Generations | None = None,
        reply_cache: bool = True,
        metrics: Metrics | None = None,
        public_url: str | None = None,
        secrets: SecretBox | None = None,
    ) -> None:
        self.sessions = sessions
        self.secrets = secrets  # seals the link tokens stored (None: kept in clear)
        self.metrics = metrics or Metrics()
        # Where Liaison is reached from outside (LIAISON_PUBLIC_URL): calendar feed links.
        self.public_url = public_url
        # The command modules come from the composition root (`bot.commands.ALL_MODULES`):
        # the engine knows no command by name.
        self.registry = Registry.from_modules(modules)
        self.clock = clock
        # Until told otherwise (a PostgreSQL listener: adapters.runtime), only a SQLite
        # database, which one process owns, lets this process know of every change.
        self.generations = generations or Generations(trusted=_owned_by_one_process(sessions))
        self.replies = ReplyCache(self.generations, on_hit=self.metrics.reply_cache_hits.inc)
        # A reply is kept by the tables it read only where its statements are seen (an
        # engine made by storage.db.create_engine); elsewhere by its projects as a whole.
        self._tables_seen = counts_tables_read(sessions.kw.get("bind"))
        self.reply_cache = reply_cache
        self.identities = Identities()
        self.places = RememberedPlaces(self.generations)
        # SQLite has one writer at a time, and every command writes (its delivery id at
        # least). Its busy handler makes a waiting writer sleep and poll, so under load the
        # lock sits free while writers sleep: in this process they queue here instead,
        # each woken as the one before commits. Other processes still meet the busy handler.
        self._one_writer: asyncio.Lock | None = (
            asyncio.Lock() if _owned_by_one_process(sessions) else None
        )
        # PostgreSQL: the same, per tenant (or per channel, for a project's writers), for
        # commands that write; a lock no one holds or waits for is forgotten.
        self._writers: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        # Commands in a transaction at once (storage.db.REQUEST_CONNECTIONS): the others
        # wait here for a pooled connection rather than open one of their own.
        self._connections = asyncio.Semaphore(REQUEST_CONNECTIONS)
        self._specs = functools.lru_cache(maxsize=256)(self._find_spec)
        # Delivery ids of reads answered inline (see _may_skip_dedupe).
        self.recent = RecentDeliveries()
        # Requests being handled now: a graceful shutdown waits for them (adapters.serve).
        self.in_flight = InFlight()

    async def handle(self, request: Request) -> Reply:
        started = time.perf_counter()
        name, outcome = UNKNOWN_COMMAND, "failure"
        try:
            async with self.in_flight.track():
                reply, outcome = await self._handle(request)
            name = self._command_name(request)
            return reply
        finally:
            self.metrics.command_done(
                name, request.place.platform, outcome, time.perf_counter() - started
            )

    def _command_name(self, request: Request) -> str:
        """The registered name (a fixed vocabulary, safe as a metrics label)."""
        try:
            spec = self._spec_of(self._command_text(request))
        except UserError:
            return UNKNOWN_COMMAND
        return UNKNOWN_COMMAND if spec is None else spec.name

    async def _handle(self, request: Request) -> tuple[Reply, str]:
        """The reply and its outcome for metrics: ok, user_error or failure."""
        try:
            text = self._command_text(request)
            tenant = tenant_key(request.place.platform, request.place.tenant)
            cache_key = self._cache_key(request, text, tenant)
            if cache_key is None:
                reply, _ = await self._run(request, text, tenant, kept=False)
                return reply, "ok"
            key, standing = cache_key
            reply = await self.replies.answer(
                key,
                tenant,
                lambda: self._run(request, text, tenant, kept=True, standing=standing),
            )
            return reply, "ok"
        except Suggested as offer:
            return await self._offer(request, offer), "user_error"
        except UserError as error:
            return Reply((error_message(error, request),), failed=True), "user_error"
        except Exception:
            incident = uuid.uuid4().hex[:8]
            log.exception("command failed", extra={"incident": incident})
            sorry = Message(
                blocks=(
                    Text(f"Sorry, something went wrong on my side (error id {incident})."),
                    Context("Nothing was changed. Try again, or tell your admin this id."),
                ),
                audience="client",
                visibility="ephemeral",
            )
            return Reply((sorry,), failed=True), "failure"

    async def _run(
        self,
        request: Request,
        text: str,
        tenant: str,
        *,
        kept: bool,
        standing: Standing | None = None,
    ) -> tuple[Reply, Keep]:
        """The reply, in one transaction, and what it was read from if it may be kept for
        a repeat (False if it changed data or was a platform retry's). `kept`: whether the
        reply cache would keep it, and so needs to know what it was read from; `standing`:
        the asker's that it would be kept for, shared with everyone who has it
        (bot.engine.standing).

        A command that writes nothing, not even its delivery id, reads without a
        transaction where that saves round trips (storage.reading); should it write after
        all (someone new or changed to remember), it starts again in one."""
        run = functools.partial(self._run_once, request, text, tenant, kept, standing)
        if self._writes_nothing(request, text):
            try:
                return await run(reading=True)
            except WouldWrite:
                pass  # nothing was written: the reads are simply done again
        turn = self._turn_of(text)
        try:
            try:
                return await run(turn=turn)
            except KeptOutOfDate as stale:
                # The same turn: the tenant's would make the project writers waiting
                # meanwhile find the tenant changed too, and each run again.
                # What was kept is not used again: its revision is older than the row's.
                log.info("`%s` ran again: %s", text.split()[0], stale)
                return await run(turn=turn)
        except BeyondItsProject as beyond:
            log.info("`%s` ran again with the tenant's turn: %s", text.split()[0], beyond)
            return await run(turn="tenant")

    async def _run_once(
        self,
        request: Request,
        text: str,
        tenant: str,
        kept: bool,
        standing: Standing | None,
        *,
        reading: bool = False,
        turn: Turn = "tenant",
    ) -> tuple[Reply, Keep]:
        try:
            async with (
                self._writer_turn(tenant, text, request, turn),
                self._connections,
                self.sessions() as session,
                session.begin(),
            ):
                if reading:
                    await read_without_transaction(session)
                try:
                    with counting_tables_read() as tables_read:
                        handled = await self._handle_in_transaction(
                            session, request, text, turn, kept=kept, standing=standing
                        )
                except BaseException:
                    self.recent.forget(_delivery(request))  # not answered: it may come again
                    raise
        except Repeated:
            log.info("duplicate event %s ignored", request.event_id)
            return Reply(), False
        except BeyondItsProject:
            raise  # runs again (`_run`), and finds out then
        except Exception:
            # A copy of a delivery handled already may fail where the first did not (the
            # task it closes is closed now): it answers nothing, as a repeat does.
            if await self._is_a_repeat(request, text):
                log.info("duplicate event %s ignored", request.event_id)
                return Reply(), False
            raise
        if handled.changed:
            self.generations.changed(tenant, handled.projects, handled.tables)
        if handled.changed or handled.repeat:
            return handled.reply, False
        if isinstance(handled.read, frozenset) and self._tables_seen:  # as far as it read
            return handled.reply, ReadFrom(handled.read, frozenset(tables_read))
        return handled.reply, handled.read

    def _writer_turn(
        self, tenant: str, text: str | None, request: Request | None = None, turn: Turn = "tenant"
    ) -> AbstractAsyncContextManager[object]:
        """Wait here, in this process, for this command's turn to write. Writers queue in
        the database anyway (SQLite's one writer; the tenant's revision on PostgreSQL), and
        each statement of a writer holding the turn competes with every waiter's for this
        process's event loop: queued here, waiters start when their turn comes (about 1.5x
        the writes a second under load; bench/). A project's writer queues with the
        writers in its channel: which project it writes is read only once it has a turn in
        the database, and a channel is nearly always one project's."""
        if self._one_writer is not None:
            # A reader that knows who asks writes nothing (not even a delivery id, see
            # _may_skip_dedupe): it reads beside the writer, as WAL allows.
            if text is not None and request is not None and self._writes_nothing(request, text):
                return nullcontext()
            return self._one_writer
        spec = self._spec_of(text) if text is not None else None
        if spec is None or spec.reads_only:
            return nullcontext()
        key = tenant
        if turn == "project" and request is not None:
            key = f"{tenant} {request.place.channel_id}"
        return self._writers.setdefault(key, asyncio.Lock())

    def _turn_of(self, text: str) -> Turn:
        """The turn a command's write takes: its project's only on PostgreSQL (SQLite has
        one writer at a time whatever it writes; an unknown database gets the tenant's)
        when its spec says so."""
        spec = None if suggestions.is_yes(text) else self._spec_of(text)
        if spec is None or _dialect_of(self.sessions) != "postgresql":
            return "tenant"
        return spec.turn

    def _records_delivery_with_notice(self, request: Request, text: str) -> bool:
        """Whether this command records its delivery id in its change notice's statement
        (storage.changes.announce), not in one of its own first: a writer on PostgreSQL,
        one round trip fewer for every write. Every writer takes a revision, and every
        one that does announces. A delivery seen before runs to there, waiting for its
        turn as it would anyway, and is undone (`Repeated`); one that fails on the way
        answers nothing if the delivery was recorded (`_is_a_repeat`). Every writer
        takes its turn first and records its id last: one lock order."""
        return (
            request.event_id is not None
            and _dialect_of(self.sessions) == "postgresql"
            and not suggestions.is_yes(text)  # its command is known only once it runs
            and self._spec_of(text) is not None
            and not self._reads_only(text)
        )

    async def _is_a_repeat(self, request: Request, text: str) -> bool:
        """Whether a writer that failed was a copy of a delivery recorded already (by
        another copy of it); if that cannot be read, it was not, and its error stands."""
        if not self._records_delivery_with_notice(request, text):
            return False
        try:
            async with self.sessions() as session:
                found = await session.scalar(
                    select(ProcessedEvent.id).where(
                        ProcessedEvent.platform == request.place.platform,
                        ProcessedEvent.event_id == request.event_id,
                    )
                )
        except Exception:
            log.warning("could not look up delivery %s", request.event_id, exc_info=True)
            return False
        return found is not None

    def _may_skip_dedupe(self, request: Request, text: str) -> bool:
        """Whether this delivery's id may be remembered in this process only, not in the
        database (bot.engine.recent_deliveries): a read-only command answered in the
        acknowledgement. A reply that is posted, a button, a `yes` (it runs what was
        offered) or any write records its id in its transaction."""
        if not request.reply_inline or request.action is not None:
            return False
        return self._reads_only(text)

    def _writes_nothing(self, request: Request, text: str) -> bool:
        """A read-only command whose delivery id is not recorded. (Who asks is written only
        when new or changed: once a person and place, which then waits in the database.)"""
        if request.event_id is not None:
            return self._may_skip_dedupe(request, text)
        return self._reads_only(text)

    def _reads_only(self, text: str) -> bool:
        if suggestions.is_yes(text):
            return False  # it takes the offer, and may run a write
        spec = self._spec_of(text)
        return spec is not None and spec.reads_only

    def _spec_of(self, text: str) -> CommandSpec | None:
        """The command `text` runs, if any (memoised: a request asks several times)."""
        return self._specs(text)

    def _find_spec(self, text: str) -> CommandSpec | None:
        try:
            return self._route(text)[0]
        except UserError:
            return None

    async def _offer(self, request: Request, offer: Suggested) -> Reply:
        """Did you mean the whole corrected line? A *Run it* button, or type `yes`."""
        line = offer.suggestion.line
        tenant = tenant_key(request.place.platform, request.place.tenant)
        async with (
            self._writer_turn(tenant, None),
            self._connections,
            self.sessions() as session,
            session.begin(),
        ):
            await suggestions.remember(session, request, line, request.received_at or self.clock())
        blocks: list[Text | Actions | Context] = [Text(f"{offer.message} Did you mean `{line}`?")]
        if len(offer.suggestion.arguments) <= MAX_BUTTON_VALUE:
            name, arguments = offer.suggestion.name, offer.suggestion.arguments
            blocks.append(Actions((Button("Run it", name, arguments, "primary"),)))
        blocks.append(Context("Type `yes` to run it, or `help` for the list of commands."))
        message = Message(blocks=tuple(blocks), audience="client", visibility="ephemeral")
        return Reply((message,), failed=True)

    def _cache_key(
        self, request: Request, text: str, tenant: str
    ) -> tuple[Hashable, Standing | None] | None:
        """The reply cache's key if this request may be answered from it, and the standing
        it is shared by, if any. A platform's retry of a delivery whose reply is posted
        must be recognised as one, in the database, so only replies given inline may skip
        that."""
        if not self.reply_cache or request.action is not None:
            return None
        if request.event_id and not request.reply_inline:
            return None
        spec = self._spec_of(text)
        if spec is None or not spec.cached:
            return None
        now = request.received_at or self.clock()
        own = self.replies.key(text, request, now)
        # No arguments: nothing of the asker's. Their own reply kept (computed before who
        # they are was remembered) answers them as before.
        if spec.shared and text == spec.name:
            remembered = self.places.peek(request, tenant)
            standing = None if remembered is None else standing_remembered(remembered)
            if standing is not None and self.replies.get(own, tenant) is None:
                return shared_key(text, request, standing, now), standing
        return own, None

    def _command_text(self, request: Request) -> str:
        if request.action is not None:
            # Form answers are typed text too: the same checks as a line (a NUL byte, for
            # one, cannot be stored in PostgreSQL).
            for answer in request.action.fields.values():
                check_line(answer)
            # A button is its typed form: action id = command name, value = its arguments.
            return check_line(f"{request.action.action_id} {request.action.value}".strip())
        text = check_line(request.text or "")
        words = text.split(maxsplit=1)
        if words and words[0].lower() in PREFIXES:
            text = words[1] if len(words) > 1 else ""
        return text or "help"

    async def _handle_in_transaction(
        self,
        session: AsyncSession,
        request: Request,
        text: str,
        turn: Turn,
        *,
        kept: bool,
        standing: Standing | None = None,
    ) -> Handled:
        with_notice = self._records_delivery_with_notice(request, text)
        if (
            request.event_id
            and not with_notice
            and not await self._first_delivery(session, request, text)
        ):
            log.info("duplicate event %s ignored", request.event_id)
            return Handled(Reply(), repeat=True)
        # Remembering a delivery id changes nothing a command reads; on SQLite it took the
        # one write lock, which is the writer's turn there.
        taking: WriterTurn = turn
        if take_wrote(session) and self._one_writer is not None:
            taking = "held"
        if request.action is None and suggestions.is_yes(text):
            text = await self._offered(session, request)
        spec, args = self._route(text)
        ctx = await self._context(session, request, spec, args, taking)
        self._authorise(ctx, spec)
        refuse_if_closed(ctx, spec)
        try:
            result = await spec.handler(ctx, args)
            args.done()
        except UserError as error:
            # Parsers (dates, money) don't know the command: show its usage line anyway.
            if error.usage is None and not isinstance(error, Refused):
                error.usage = spec.usage
            raise
        await session.flush()  # changed attributes become statements now, or never seen
        projects, tables = touched_projects(session), touched_tables(session)
        if ctx.project_turn and not _only_its_project(projects, ctx):
            raise BeyondItsProject(spec.name)
        audit = None
        if take_wrote(session):
            if spec.reads_only:
                raise RuntimeError(f"`{spec.name}` is registered as read-only but wrote")
            # About ctx.project, or the tenant; written with the change notice below.
            audit = audit_entry(ctx, spec.name, ctx.audit_line or text)
            projects = _with(projects, ctx.project)
            if tables is not None:
                tables |= {audit.statement.table.name}
        reply = result if isinstance(result, Reply) else Reply.of(result)
        self._check_audience(ctx, reply)
        if ctx.took_revision:
            if ctx.identity_written:
                projects = None  # a person's name or zone shows in every project
            tenant = tenant_key(ctx.tenant.platform, ctx.tenant.external_id)
            notice = self.generations.notice(tenant, projects, tables)
            delivered = self._delivery_write(request) if with_notice else None
            if not await announce(session, notice, also=audit, delivered=delivered):
                raise Repeated(request.event_id)
            return Handled(reply, changed=True, projects=projects, tables=tables)
        if not (kept and spec.cached):
            return Handled(reply, read=False)
        if standing is not None and standing_read(ctx) != standing:
            return Handled(reply, read=False)  # not for those it would be kept for
        return Handled(reply, read=await self._read_from(ctx, spec))

    async def _read_from(self, ctx: CommandContext, spec: CommandSpec) -> frozenset[int]:
        """The projects a cached reply was read from: its own, or for a reply about no one
        project (`waiting`, `projects`), every project the asker is on. Which projects
        those are changes only with the tenant as a whole (storage.changes)."""
        if spec.cached == "project" and ctx.project is not None:
            return frozenset({ctx.project.id})
        if ctx.read_from is not None:
            return ctx.read_from
        mine = await ctx.session.scalars(
            select(Membership.project_id).where(Membership.person_id == ctx.me.id)
        )
        return frozenset(mine)

    async def _first_delivery(self, session: AsyncSession, request: Request, text: str) -> bool:
        if self._may_skip_dedupe(request, text):
            return self.recent.first(_delivery(request))
        inserted = await insert_ignore(
            session, ProcessedEvent, self._delivery_row(request), DELIVERY_KEYS
        )
        return inserted is not None

    def _delivery_row(self, request: Request) -> dict[str, Any]:
        return {
            "platform": request.place.platform,
            "event_id": request.event_id,
            "processed_at": self.clock(),
        }

    def _delivery_write(self, request: Request) -> Write:
        """The delivery id's INSERT ... ON CONFLICT DO NOTHING, for PostgreSQL's notice."""
        row = self._delivery_row(request)
        return Write(_delivery_insert(), {f"delivery_{name}": row[name] for name in row})

    async def _offered(self, session: AsyncSession, request: Request) -> str:
        """The line offered here lately, which a typed `yes` runs (the Run it button's form)."""
        now = request.received_at or self.clock()
        offered = await suggestions.take(session, request, now)
        if offered is None:
            raise UserError("There is nothing waiting for a yes here. Type `help` for the list.")
        await session.flush()  # the offer's deletion, now: not in the command's reads
        take_wrote(session)  # an offer taken is bookkeeping, like a delivery id
        return offered

    def _route(self, text: str) -> tuple[CommandSpec, Args]:
        tokens = tokenize(text)
        words: list[str] = []
        for token in tokens:
            if token.kind != "word":
                break
            words.append(token.value)
        spec, used = self.registry.find(words)
        if spec is not None:
            return spec, Args(tokens[used:], usage=spec.usage)
        question = answer_question(text, self.registry)
        if question is not None:
            spec = self.registry.get(question.name)
            assert spec is not None
            return spec, Args(tokenize(question.arguments), usage=spec.usage)
        # An action with an empty id and value (a forged or broken submit) has no words.
        first = words[0] if words else (text.split() or [""])[0]
        unknown = f"I don't know the command `{first[:40]}`."
        close = near_miss(text, self.registry)
        if close is not None:
            raise Suggested(unknown, close)
        raise UserError(f"{unknown} Type `help` for the list.")

    async def _context(
        self,
        session: AsyncSession,
        request: Request,
        spec: CommandSpec,
        args: Args,
        turn: WriterTurn = "tenant",
    ) -> CommandContext:
        now = request.received_at or self.clock()
        project_name = args.option("project")
        tenant = tenant_key(request.place.platform, request.place.tenant)
        generation = self.generations.now()  # before reading: see RememberedPlaces.keep
        # A reader asked again where it was asked before: who and where as remembered.
        recalled = None
        if spec.reads_only and project_name is None:
            recalled = self.places.recall(session, request, tenant)
        if recalled is not None:
            ctx = self._new_context(session, request, spec, now, recalled.tenant, recalled.me)
            found = (recalled.link, recalled.project, recalled.membership)
            await self._find_project(ctx, project_name, spec, found)
            return ctx
        ctx, where = await self._read_context(session, request, spec, now, turn)
        link, linked, membership = await self._find_project(ctx, project_name, spec, where)
        if ctx.project_turn:
            await self._take_project_turn(ctx)
        # A writer's rows too, once it commits: a change of its project's content (time
        # logged, a task closed) leaves them current for the person's next read; any
        # other change is the tenant's, and they are not (RememberedPlaces.peek).
        if project_name is None and link and not ctx.identity_written:
            place = Place(ctx.tenant, ctx.me, link, linked, membership)
            self.places.keep(session, request, tenant, generation, place)
        return ctx

    def _new_context(
        self,
        session: AsyncSession,
        request: Request,
        spec: CommandSpec,
        now: datetime,
        tenant: Tenant,
        me: Person,
        *,
        took: bool = False,
        identity_written: bool = False,
    ) -> CommandContext:
        return CommandContext(
            session=session,
            request=request,
            now=now,
            tenant=tenant,
            me=me,
            usage=spec.usage,
            request_registry=self.registry,
            fields=dict(request.action.fields) if request.action else {},
            took_revision=took,
            identity_written=identity_written,
            public_url=self.public_url,
            secrets=self.secrets,
        )

    async def _read_context(
        self,
        session: AsyncSession,
        request: Request,
        spec: CommandSpec,
        now: datetime,
        turn: WriterTurn = "tenant",
    ) -> tuple[CommandContext, LinkRow | None]:
        """The context with who asks read (and written, if new or changed), and the
        channel's link row if it was read with them (else None: `_find_project` reads it).
        A turn "held" already needs no revision: its statement would add a round trip."""
        took = not spec.reads_only
        shared = tenant = None
        if took and turn == "project":
            # The tenant shared: its project's turn is taken once the project is known.
            shared = tenant = await self.identities.tenant_sharing(session, request)
        if took and tenant is None and turn != "held":
            # Before any other write: one lock order for every command (no deadlock), and
            # this command's reads and numbering come after the last writer's.
            tenant = await self.identities.tenant_taking_revision(session, request, now)
        # A writer reads its person and place only once it holds its turn, after the last
        # writer's changes (or, for one project's, knows them unchanged since kept).
        recalled = None if shared is None else self._recall_at(session, request, shared)
        if recalled is not None:
            known = Known(shared, recalled.me)
            where: LinkRow | None = (recalled.link, recalled.project, recalled.membership)
        else:
            known, where = await self._who_and_where(session, request)
        if tenant is None:
            tenant = await self.identities.tenant(session, request, now, known)

        async def take_turn() -> None:
            """A reader about to write who asks (someone new, or changed): the revision
            first, as every writer takes it."""
            nonlocal took
            if shared is not None:
                raise BeyondItsProject("who asks is new or changed")
            if not took:
                await take_revision(session, tenant.id)
                took = True

        identities = self.identities
        me, person_written = await identities.person(
            session, request, tenant, now, known, before_write=take_turn
        )
        conversation_written = await identities.conversation(
            session, request, me, now, before_write=take_turn
        )
        await session.flush()  # a time zone learnt just now is identity's write too
        take_wrote(session)  # what identity wrote is counted by the revision taken
        written = person_written or conversation_written
        ctx = self._new_context(
            session, request, spec, now, tenant, me, took=took, identity_written=written
        )
        ctx.project_turn = shared is not None
        # The membership was read for the person as read: only theirs if that is `me`.
        return ctx, where if known.read_person is me else None

    def _recall_at(self, session: AsyncSession, request: Request, shared: Tenant) -> Place | None:
        """Who asks and where as kept for this person and channel, if read at the revision
        of the tenant shared now (bot.engine.remembered)."""
        tenant = tenant_key(request.place.platform, request.place.tenant)
        return self.places.recall_at(session, request, tenant, shared)

    async def _who_and_where(
        self, session: AsyncSession, request: Request
    ) -> tuple[Known, LinkRow | None]:
        """The remembered tenant with the person (remembered, or as stored if not) and the
        channel's link, its project and the person's membership of it, in one statement
        (two or three otherwise); nothing if the tenant is not remembered or is gone."""
        ids = self.identities.known_ids(request)
        if ids is None:
            return Known(), None
        place, actor = request.place, request.actor
        params = {
            "tenant_id": ids[0],
            "person_id": ids[1],
            "platform": place.platform,
            "channel_id": place.channel_id,
            "tenant": place.tenant,
        }
        if ids[1] is not None:
            row = (await session.execute(_who_and_where_rows(), params)).first()
            return (Known(), None) if row is None else (Known(row[0], row[1]), row[2:5])
        params |= {"actor_platform": actor.platform, "actor_id": actor.user_id}
        row = (await session.execute(_stored_who_and_where_rows(), params)).first()
        if row is None:
            return Known(), None
        return Known(row[0], stored=(row[1], row[2])), row[3:6]

    async def _find_project(
        self,
        ctx: CommandContext,
        name: str | None,
        spec: CommandSpec,
        found: LinkRow | None = None,
    ) -> LinkRow:
        """Set the context's project, side and membership; returns the channel's link row
        it went by (`found`, as remembered, or read now)."""
        session, place, required = ctx.session, ctx.request.place, spec.needs_project
        found = found or await self._channel_link(ctx)
        link, linked, my_membership = found
        ctx.client_place = place.shared_externally or (link is not None and link.side == "client")
        if link is not None and name is None:
            ctx.project = linked
            ctx.side = link.side
        elif name is not None:
            ctx.project = await self._project_named(ctx, name)
            if link is not None and link.side == "client" and link.project_id != ctx.project.id:
                # Another project's figures or plan must not land where this client reads.
                raise UserError(
                    f'This channel is shared with another project\'s client; ask about "{name}" '
                    "in its own channels or in a direct message with me.",
                    ctx.usage,
                )
            ctx.side = link.side if link and link.project_id == ctx.project.id else None
        else:
            # A command for a closed project (a survey, a retro) finds it from a DM too.
            mine = await projects_of(session, ctx.tenant, ctx.me, closed=spec.on_closed)
            if len(mine) == 1:
                ctx.project = mine[0]
            elif len(mine) > 1 and required:
                names = ", ".join(f'"{p.name}"' for p in mine[:10])
                raise UserError(
                    f'You are on several projects ({names}). Add project:"Name" '
                    "or run this in the project's channel.",
                    ctx.usage,
                )
        if ctx.project is linked and linked is not None:
            ctx.membership = my_membership  # read with the channel's link
        elif ctx.project is not None:
            ctx.membership = await ctx.membership_of(ctx.me)
        elif required:
            raise UserError(
                "There is no project here yet. Start one with "
                '`project new "Name" client:"Client"`.',
                ctx.usage,
            )
        return found

    async def _take_project_turn(self, ctx: CommandContext) -> None:
        """Wait for the project's other writers; its row as they left it."""
        if ctx.project is None:
            raise BeyondItsProject("no one project")  # whatever it writes, it is the tenant's
        taken = await take_project_turn(ctx.session, ctx.project.id)
        if taken is None or taken.project.tenant_id != ctx.tenant.id:
            # Gone meanwhile, or another tenant's linked here: the tenant's turn decides.
            raise BeyondItsProject("the project changed hands")
        if taken.tenant_revision != ctx.tenant.revision:
            # A writer of the tenant as a whole committed while this one waited for it.
            raise KeptOutOfDate("the tenant changed while its turn was awaited")
        ctx.project = taken.project

    async def _channel_link(self, ctx: CommandContext) -> LinkRow:
        """The link of the channel asked in, its project and the asker's membership of
        it, in one statement (each None when there is none)."""
        place = ctx.request.place
        params = {
            "person_id": ctx.me.id,
            "platform": place.platform,
            "channel_id": place.channel_id,
            "tenant": place.tenant,
        }
        row = (await ctx.session.execute(_channel_link_rows(), params)).first()
        return (row[0], row[1], row[2]) if row is not None else (None, None, None)

    async def _project_named(self, ctx: CommandContext, name: str) -> Project:
        project = await ctx.session.scalar(
            select(Project).where(Project.tenant_id == ctx.tenant.id, Project.name == name)
        )
        member = project and await ctx.session.scalar(
            select(Membership.id).where(
                Membership.project_id == project.id, Membership.person_id == ctx.me.id
            )
        )
        if project is None or not member:
            # The same answer whether it does not exist or is not theirs: no probing.
            raise UserError(f'You have no project called "{name}".', ctx.usage)
        return project

    def _authorise(self, ctx: CommandContext, spec: CommandSpec) -> None:
        if spec.allows(ctx.role):
            return
        if ctx.role is None:
            raise Refused(
                f"`{spec.name}` is for members of {ctx.the_project.name}; "
                "ask the project's PM to add you with `team add`."
            )
        who = {"pm": "the project's PM", "member": "the delivery team", "client": "the client"}
        allowed = " or ".join(who[r] for r in sorted(spec.roles) if r in who)
        raise Refused(f"`{spec.name}` is for {allowed}; you are {ctx.role_label()}.")

    def _check_audience(self, ctx: CommandContext, reply: Reply) -> None:
        """The last line of defence: a client never gets an internal message."""
        if ctx.audience == "client":
            leaked = [m for m in reply.messages if m.audience != "client"]
            if leaked:
                raise RuntimeError("an internal message was addressed to a client audience")


def _the_channel() -> ColumnElement[bool]:
    return and_(
        ChannelLink.platform == bindparam("platform"),
        ChannelLink.channel_id == bindparam("channel_id"),
        ChannelLink.tenant == bindparam("tenant"),
    )


def _with_project_and_membership(
    links: FromClause, person_id: ColumnElement[int] | None = None
) -> FromClause:
    """`links` (which holds channel_links) joined to the link's project and the asker's
    membership of it (`person_id`, by default the parameter of that name)."""
    mine = and_(
        Membership.project_id == ChannelLink.project_id,
        Membership.person_id == (bindparam("person_id") if person_id is None else person_id),
    )
    with_project = outerjoin(links, Project, Project.id == ChannelLink.project_id)
    return outerjoin(with_project, Membership, mine)


@functools.cache
def _channel_link_rows() -> Select[tuple[ChannelLink, Project, Membership]]:
    """Built once: every command asked in a channel by someone not remembered runs it."""
    rows = _with_project_and_membership(ChannelLink.__table__)
    return select(ChannelLink, Project, Membership).select_from(rows).where(_the_channel())


@functools.cache
def _who_and_where_rows() -> Select[tuple[Tenant, Person, ChannelLink, Project, Membership]]:
    """Built once: the tenant and person by id (one row), and the channel's link row (each
    None if there is none), for every command by someone remembered."""
    both = join(Tenant, Person, true())  # one row each, by primary key
    rows = _with_project_and_membership(outerjoin(both, ChannelLink, _the_channel()))
    return (
        select(Tenant, Person, ChannelLink, Project, Membership)
        .select_from(rows)
        .where(Tenant.id == bindparam("tenant_id"))
        .where(Person.id == bindparam("person_id"))
    )


@functools.cache
def _stored_who_and_where_rows() -> Select[
    tuple[Tenant, Person, bool, ChannelLink, Project, Membership]
]:
    """Built once: the tenant by id, the person the platform names as stored with whether
    the tenant met them as external (both None if it never met them), and the channel's
    link row, for a command by someone not remembered in a tenant that is."""
    met = join(Person, Acquaintance, Acquaintance.person_id == Person.id)
    named = and_(
        Acquaintance.tenant_id == Tenant.id,
        Person.platform == bindparam("actor_platform"),
        Person.external_id == bindparam("actor_id"),
    )
    who = outerjoin(Tenant, met, named)
    rows = _with_project_and_membership(outerjoin(who, ChannelLink, _the_channel()), Person.id)
    return (
        select(Tenant, Person, Acquaintance.external, ChannelLink, Project, Membership)
        .select_from(rows)
        .where(Tenant.id == bindparam("tenant_id"))
    )


def _only_its_project(projects: frozenset[int] | None, ctx: CommandContext) -> bool:
    """Whether a writer holding its project's turn wrote that project's content alone."""
    return projects is not None and ctx.project is not None and projects <= {ctx.project.id}


def _with(projects: frozenset[int] | None, project: Project | None) -> frozenset[int] | None:
    """`projects` and `project`; None (anything) stays None, and so does no project."""
    if projects is None or project is None:
        return None
    return projects | {project.id}


DELIVERY_KEYS = ["platform", "event_id"]  # a delivery id is unique per platform


@functools.cache
def _delivery_insert() -> Insert:
    """Built once, its values bound by name (`_delivery_write`): a statement within
    another's WITH takes no values of its own."""
    table = ProcessedEvent.__table__
    columns = ("platform", "event_id", "processed_at")
    return (
        postgresql.insert(table)
        .values({name: bindparam(f"delivery_{name}") for name in columns})
        .on_conflict_do_nothing(index_elements=DELIVERY_KEYS)
        .returning(table.c.id)
    )


def _delivery(request: Request) -> tuple[str, str | None]:
    return (request.place.platform, request.event_id)


def refuse_if_closed(ctx: CommandContext, spec: CommandSpec) -> None:
    """A closed project changes only through the few commands made for it."""
    project = ctx.project
    if project is None or not project.archived or spec.reads_only or spec.on_closed:
        return
    raise Refused(
        f"{project.name} was closed on {project.closed_on}; `project reopen` to change it."
    )


def _owned_by_one_process(sessions: async_sessionmaker[AsyncSession]) -> bool:
    return _dialect_of(sessions) == "sqlite"


def _dialect_of(sessions: async_sessionmaker[AsyncSession]) -> str | None:
    bind = sessions.kw.get("bind")
    return None if bind is None else str(bind.dialect.name)


def error_message(error: UserError, request: Request) -> Message:
    blocks: list[Text | Context] = [Text(error.message)]
    if error.usage and not isinstance(error, Refused):
        blocks.append(Context(f"Usage: {error.usage}"))
    return Message(blocks=tuple(blocks), audience="client", visibility="ephemeral")
