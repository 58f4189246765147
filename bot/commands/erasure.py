"""Erasing a person on request (`forget @person` by a PM, `liaison forget` by the operator).

Their name and platform id are replaced by a pseudonym everywhere in scope: their `people`
row, and every text and JSON column that mentions them (task titles, notes, audit lines,
outbox messages, Teams conversation references). The text of their huddle answers is
deleted, wherever it was copied (a digest in the outbox, an audit line). Their direct
conversations, and what was posted or queued there, are deleted. The numbers stay: time
logged, tasks done, spend and answers given remain attributed to the pseudonym.

Columns are found from the schema, not listed here, so a table added later is covered.
The scope says which rows may change: the operator's is everything, a PM's is their own
projects in their own tenant (`Scope`)."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    String,
    Table,
    Text,
    and_,
    cast,
    delete,
    false,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeDecorator

from storage.models import AuditEntry, Base, Conversation, Delivery, HuddleAnswer, Person, Project
from storage.slack_tables import slack_metadata

PSEUDONYM_PREFIX = "Forgotten person"
ERASED_TEXT = "(erased)"
ANSWER_COMMAND = "huddle answer"
# A huddle answer shorter than this ("no", "none") says nothing about anyone, and erasing
# it as a substring would damage unrelated text.
MIN_ANSWER_ERASED = 6


@dataclass(frozen=True, slots=True)
class Scope:
    """Which rows may change: None means every project (or tenant)."""

    project_ids: frozenset[int] | None = None
    tenant_ids: frozenset[int] | None = None
    tenant_external_ids: frozenset[str] | None = None

    @property
    def everything(self) -> bool:
        return self.project_ids is None and self.tenant_ids is None


@dataclass(frozen=True, slots=True)
class Erased:
    pseudonym: str
    rows: int


def new_pseudonym() -> tuple[str, str]:
    """A display name and a platform id that say nothing about the person (random, not
    derived from their name: a hash of a name can be guessed back)."""
    token = secrets.token_hex(3)
    return f"{PSEUDONYM_PREFIX} {token}", f"forgotten-{token}"


async def erase_person(session: AsyncSession, person: Person, scope: Scope) -> Erased:
    name, external_id = new_pseudonym()
    answers = await _delete_answer_texts(session, person, scope)
    channels = await _delete_direct_conversations(session, person, scope)
    rows = len(answers) + len(channels)
    rewriter = _rewriter(person, name, external_id, answers, channels)
    needles = _needles([person.display_name, person.external_id, *answers, *channels])
    for table in _tables(scope):
        rows += await _scrub_table(session, table, scope, needles, rewriter)
    person.display_name = name
    person.external_id = external_id
    person.timezone = None
    person.away_from = person.away_until = None
    await session.flush()
    return Erased(name, rows + 1)


# --- what is deleted --------------------------------------------------------------------


async def _delete_answer_texts(session: AsyncSession, person: Person, scope: Scope) -> list[str]:
    """Empty the person's huddle answers (the rows stay: that they answered is a number);
    returns the texts, to erase their copies."""
    query = select(HuddleAnswer).where(HuddleAnswer.person_id == person.id)
    if scope.project_ids is not None:
        query = query.where(HuddleAnswer.project_id.in_(scope.project_ids))
    texts: list[str] = []
    for answer in (await session.scalars(query)).all():
        texts.extend(a for a in [*(answer.answers or []), answer.blockers or ""] if a)
        answer.answers = []
        answer.blockers = None
    # Their answers' audit lines name only the command: a short answer ("none") would
    # otherwise outlive the erasure there.
    lines = update(AuditEntry).where(
        AuditEntry.person_id == person.id, AuditEntry.command == ANSWER_COMMAND
    )
    if scope.project_ids is not None:
        lines = lines.where(AuditEntry.project_id.in_(scope.project_ids))
    await session.execute(lines.values(line=f"{ANSWER_COMMAND} {ERASED_TEXT}"))
    await session.flush()
    return sorted({t for t in texts if len(t) >= MIN_ANSWER_ERASED}, key=len, reverse=True)


async def _delete_direct_conversations(
    session: AsyncSession, person: Person, scope: Scope
) -> list[str]:
    """Their DMs are contact details: the conversation and what went (or was to go) there.
    Returns the conversations' ids, to replace where they were recorded."""
    query = select(Conversation).where(
        Conversation.person_id == person.id, Conversation.kind == "dm"
    )
    if scope.tenant_external_ids is not None:
        query = query.where(Conversation.tenant.in_(scope.tenant_external_ids))
    conversations = list((await session.scalars(query)).all())
    if not conversations:
        return []
    to_them = or_(
        *(
            and_(Delivery.platform == c.platform, Delivery.channel_id == c.channel_id)
            for c in conversations
        )
    )
    ids = select(Delivery.id).where(Delivery.target_kind == "dm", to_them)
    await session.execute(
        update(Delivery).where(Delivery.thread_of.in_(ids)).values(thread_of=None)
    )
    await session.execute(delete(Delivery).where(Delivery.id.in_(ids)))
    await session.execute(
        delete(Conversation).where(Conversation.id.in_([c.id for c in conversations]))
    )
    return [c.channel_id for c in conversations]


# --- what is rewritten ------------------------------------------------------------------

# Columns that identify rather than say something: never changed word by word (a display
# name equal to a channel id must not break another project's deliveries); a channel id
# only where it is one of the person's direct conversations, a `*user_id` where it is
# their platform id.
IDENTIFIER_COLUMNS = frozenset(
    {"channel_id", "occurrence_key", "event_id", "key", "platform_message_id"}
)
# JSON keys whose values are structure (a message's block types, a reference's ids), left
# alone but for an exact match of the person's id.
STRUCTURAL_KEYS = frozenset(
    {"type", "status", "audience", "visibility", "action_id", "style", "kind", "mime",
     "field_id", "png", "content", "id", "serviceUrl", "channelId", "conversationType",
     "tenantId", "aadObjectId", "role", "locale"}
)  # fmt: skip
# Where a JSON document (a Teams conversation reference) holds a person's platform id.
USER_ID_KEYS = frozenset({"id", "aadObjectId"})
# Shorter names ("Al") are replaced only where they are the whole value or an @-mention:
# as a word in free text they would change unrelated words.
MIN_NAME_REPLACED = 3
FREE_TEXT_LENGTH = 200  # a String this long holds names and titles, not codes


@dataclass(frozen=True, slots=True)
class Rewriter:
    """How one person's traces are rewritten: whole values, free text, JSON documents."""

    user_id: tuple[str, str]  # their platform id -> the pseudonym's
    channels: dict[str, str]  # their direct conversations -> a pseudonym's
    whole_name: tuple[str, str]  # their display name as a whole value -> the pseudonym
    mention: re.Pattern[str]
    named: re.Pattern[str] | None
    pseudonym: str
    answers: tuple[str, ...]

    def free_text(self, text: str) -> str:
        for whole, replacement in (self.user_id, self.whole_name):
            if text == whole:
                return replacement
        for answer in self.answers:
            text = text.replace(answer, ERASED_TEXT)
        text = self.mention.sub(f"@{self.pseudonym}", text)
        return self.named.sub(self.pseudonym, text) if self.named else text

    def document(self, value: Any, key: str | None = None) -> Any:
        if isinstance(value, str):
            if key in USER_ID_KEYS:
                return self.user(value)
            return value if key in STRUCTURAL_KEYS else self.free_text(value)
        if isinstance(value, list):
            return [self.document(v, key) for v in value]
        if isinstance(value, dict):
            return {k: self.document(v, k) for k, v in value.items()}
        return value

    def user(self, value: str) -> str:
        return self.user_id[1] if value == self.user_id[0] else value

    def channel(self, value: str) -> str:
        return self.channels.get(value, value)


def _rewriter(
    person: Person, name: str, external_id: str, answers: list[str], channels: list[str]
) -> Rewriter:
    words = {w for w in (person.display_name, person.external_id) if len(w) >= MIN_NAME_REPLACED}
    pattern = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return Rewriter(
        user_id=(person.external_id, external_id),
        channels=dict.fromkeys(channels, f"dm:{external_id}"),
        whole_name=(person.display_name, name),
        mention=re.compile(rf"<@{re.escape(person.external_id)}(?:\|[^>]*)?>"),
        named=re.compile(rf"(?<!\w)(?:{pattern})(?!\w)", re.IGNORECASE) if pattern else None,
        pseudonym=name,
        answers=tuple(answers),
    )


def _needles(values: Iterable[str]) -> list[str]:
    """What a row must contain to be looked at, as stored: plain, and as JSON escapes it."""
    found: set[str] = set()
    for value in values:
        if value:
            found.update({value.lower(), json.dumps(value)[1:-1].lower()})
    return sorted(found)


def _tables(scope: Scope) -> list[Table]:
    tables = [t for t in Base.metadata.sorted_tables if t.name != Person.__tablename__]
    if scope.everything:
        # Slack's installation rows name the installing user; they belong to the operator.
        tables += slack_metadata().sorted_tables
    return tables


def _kind(column: Any) -> str | None:
    """How a column is rewritten: json, free (text people wrote), channel or user (an
    identifier, only as a whole value), or None: left alone."""
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    if isinstance(kind, JSON):
        return "json"
    if not isinstance(kind, String):
        return None
    if column.name == "channel_id":
        return "channel"
    if column.name.endswith("user_id"):
        return "user"
    if column.name in IDENTIFIER_COLUMNS:
        return None
    if isinstance(kind, Text) or (kind.length or 0) >= FREE_TEXT_LENGTH:
        return "free"
    return None


def _in_scope(table: Table, scope: Scope) -> ColumnElement[bool]:
    """Rows of the scope's projects, or of no project in the scope's tenants; a table that
    cannot be placed in a tenant is left alone unless the scope is everything."""
    if scope.everything:
        return true()
    columns = table.c
    if table.name == Project.__tablename__ and scope.project_ids is not None:
        return columns.id.in_(scope.project_ids)
    of_tenant: ColumnElement[bool] | None = None
    if "tenant_id" in columns and scope.tenant_ids is not None:
        of_tenant = columns.tenant_id.in_(scope.tenant_ids)
    elif "tenant" in columns and scope.tenant_external_ids is not None:
        of_tenant = columns.tenant.in_(scope.tenant_external_ids)
    if "project_id" in columns and scope.project_ids is not None:
        of_project = columns.project_id.in_(scope.project_ids)
        if of_tenant is None:
            return of_project
        return or_(of_project, and_(columns.project_id.is_(None), of_tenant))
    return of_tenant if of_tenant is not None else false()


async def _scrub_table(
    session: AsyncSession, table: Table, scope: Scope, needles: list[str], rewriter: Rewriter
) -> int:
    kinds = {c.name: kind for c in table.columns if not c.primary_key and (kind := _kind(c))}
    if not kinds or not needles:
        return 0
    columns = [table.c[name] for name in kinds]
    mentions = or_(
        *(
            func.lower(cast(c, Text)).contains(needle, autoescape=True)
            for c in columns
            for needle in needles
        )
    )
    keys = list(table.primary_key.columns)
    query = select(*keys, *columns).where(_in_scope(table, scope), mentions)
    changed = 0
    for row in (await session.execute(query)).all():
        values = row._mapping
        new = {
            name: _rewrite(kind, values[name], rewriter)
            for name, kind in kinds.items()
            if values[name] is not None
        }
        new = {k: v for k, v in new.items() if v != values[k]}
        if new:
            where = and_(*(k == values[k.name] for k in keys))
            await session.execute(update(table).where(where).values(**new))
            changed += 1
    return changed


def _rewrite(kind: str, value: Any, rewriter: Rewriter) -> Any:
    if kind == "json":
        return rewriter.document(value)
    if kind == "channel":
        return rewriter.channel(value)
    if kind == "user":
        return rewriter.user(value)
    return rewriter.free_text(value)
