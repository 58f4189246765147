"""The schema: SQLAlchemy 2.x typed models. Alembic migrations create and change it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    literal_column,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(14, 2)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite drops the offset otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC one is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def bind_processor(self, dialect: Any) -> Callable[[Any], Any]:
        """Converts as above, remembering recent results: a morning's due-step binds the
        same few instants hundreds of thousands of times, and converting one (to text, on
        SQLite) costs more than looking it up. Only UTC values are remembered: two local
        times that differ only in `fold` compare equal but are different instants."""
        convert = super().bind_processor(dialect) or (lambda value: value)
        recent: dict[datetime, Any] = {}

        def process(value: Any) -> Any:
            if value is None:
                return None
            if getattr(value, "tzinfo", None) is not UTC:
                return convert(value)  # raises for naive datetimes
            found = recent.get(value, _MISSING)
            if found is _MISSING:
                found = convert(value)
                if len(recent) >= 4096:
                    recent.clear()
                recent[value] = found
            return found

        return process


_MISSING = object()


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class SerialisedJSON:
    """A JSON document already serialised, to bind as it is: rows that carry the same
    document (a huddle prompt sent to a whole team) serialise it once, not once a row.

    Serialised by orjson, compact: a morning's due-step serialises some 80,000 messages,
    in a tenth of the time the standard library takes. What orjson refuses (a string that
    is not valid Unicode) the standard library still writes, as before."""

    text: str

    @classmethod
    def of(cls, document: Any) -> SerialisedJSON:
        try:
            return cls(orjson.dumps(document).decode())
        except orjson.JSONEncodeError:
            return cls(json.dumps(document, separators=(",", ":")))


class JSONDocument(TypeDecorator[Any]):
    """JSON that may also be bound as a SerialisedJSON (json.dumps, the default serialiser
    of every dialect here)."""

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect: Any) -> Callable[[Any], Any]:
        serialise = super().bind_processor(dialect) or (lambda value: value)

        def process(value: Any) -> Any:
            if isinstance(value, SerialisedJSON):
                return value.text
            return serialise(value)

        return process


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Tenant(Base):
    """A Slack workspace/enterprise, a Teams tenant, or the local console."""

    __tablename__ = "tenants"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Counts committed changes to the tenant's data. Taking the next value is every writing
    # command's first write: writers of one tenant take turns (numbering stays gap-free and
    # unique) and cached replies know when they went stale.
    revision: Mapped[int] = mapped_column(default=0, server_default="0")


class Person(Base):
    """Someone on a platform. Which tenants met them, and whether each sees them as from
    another organisation, is in `Acquaintance`: never a flag of the person."""

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    home_tenant: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str | None] = mapped_column(String(64))
    # Teams: the member record's userRole (`user`, `guest`), fetched once (None: not yet).
    member_role: Mapped[str | None] = mapped_column(String(16))
    away_from: Mapped[date | None] = mapped_column(Date)
    away_until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Acquaintance(Base):
    """A person met in a tenant: they spoke to the bot there, or someone there mentioned
    them. Mentions resolve only to people met in the asking tenant, and `external` (from
    another organisation, hence a client) is what that tenant's requests say of them."""

    __tablename__ = "acquaintances"
    __table_args__ = (UniqueConstraint("person_id", "tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    external: Mapped[bool] = mapped_column(Boolean, default=False)
    met_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    client_name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    country: Mapped[str | None] = mapped_column(String(8))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    budget: Mapped[Decimal | None] = mapped_column(Money)
    start_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    # ISO weekdays the team works, "1,2,3,4,5" = Monday to Friday.
    working_days: Mapped[str] = mapped_column(String(20), default="1,2,3,4,5")
    day_hours: Mapped[Decimal] = mapped_column(Numeric(4, 2), default=Decimal("8"))
    checkin_time: Mapped[str] = mapped_column(String(5), default="09:00")
    checkin_all_clear: Mapped[bool] = mapped_column(Boolean, default=True)
    report_weekday: Mapped[int] = mapped_column(Integer, default=5)
    report_time: Mapped[str] = mapped_column(String(5), default="15:00")
    budget_thresholds: Mapped[str] = mapped_column(String(64), default="50,75,90,100")
    # Closed (`project close`): no scheduled post, writes refused, until `project reopen`.
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    closed_on: Mapped[date | None] = mapped_column(Date)  # the project's local day
    # When the closing's retrospective stops taking answers and they go to the team side.
    retro_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("project_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # pm | member | client
    # Optional people are asked once (no reminder) and never listed as missing.
    huddle_optional: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    hourly_rate: Mapped[Decimal | None] = mapped_column(Money)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChannelLink(Base):
    """Which channel is a project's team side or client side."""

    __tablename__ = "channel_links"
    __table_args__ = (
        UniqueConstraint("platform", "channel_id"),
        UniqueConstraint("project_id", "side"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    tenant: Mapped[str] = mapped_column(String(64))
    channel_id: Mapped[str] = mapped_column(String(128))
    side: Mapped[str] = mapped_column(String(8))  # team | client
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Conversation(Base):
    """A place the bot can post to later: a channel or a person's DM.

    Teams keeps its full conversation reference here (refreshed on every activity);
    `reachable` turns false when the platform says the bot was removed.
    """

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("platform", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    tenant: Mapped[str] = mapped_column(String(64))
    channel_id: Mapped[str] = mapped_column(String(256))
    kind: Mapped[str] = mapped_column(String(8))  # dm | channel
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    reference: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    unreachable_reason: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProcessedEvent(Base):
    """Inbound deliveries already handled, so platform retries are not run twice."""

    __tablename__ = "processed_events"
    __table_args__ = (UniqueConstraint("platform", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(200))
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PendingSuggestion(Base):
    """The line last offered to someone in one place ("Did you mean ...?"), so that a typed
    `yes` runs it as the *Run it* button would. One per person and place; replaced by the
    next offer, taken by the `yes`."""

    __tablename__ = "pending_suggestions"
    __table_args__ = (UniqueConstraint("platform", "tenant", "user_id", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    tenant: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(200))
    channel_id: Mapped[str] = mapped_column(String(200))
    line: Mapped[str] = mapped_column(Text)
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OccurrenceClaim(Base):
    """A scheduled occurrence (e.g. `checkin:project=7:2026-12-01`) claimed exactly once."""

    __tablename__ = "occurrence_claims"
    __table_args__ = (
        # The due-step reads the recent claims by this column (one range query per step).
        # Claims are only ever appended, in time order: on PostgreSQL a BRIN index (the
        # range of a few hundred kilobytes of rows at a time, summarised as they fill) finds
        # the recent ones, and costs a busy morning's 300,000 inserts next to nothing,
        # where a B-tree takes an entry each.
        Index(
            "ix_occurrence_claims_claimed_at",
            "claimed_at",
            postgresql_using="brin",
            postgresql_with={"autosummarize": "on"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    # Neither indexed nor a foreign key: nothing looks claims up by project, and a busy
    # morning writes hundreds of thousands of them in one go, where every index is upkeep
    # on each and a foreign key a lookup and a row lock each (a third of the claims' COPY
    # on PostgreSQL). `project delete` still deletes a project's claims by this column.
    # The outbox rows keep their foreign key, so a due-step that races a deletion posts
    # nothing for the project; at most it leaves claims of an id never given again.
    project_id: Mapped[int | None] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(16))  # queued | skipped | empty | error


class Delivery(Base):
    """The outbox: one message to post to one place, delivered by a worker."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_status_next", "status", "next_attempt_at"),
        # Deleting an outbox row looks for replies threaded under it: without this index
        # every row deleted reads the whole table. Only replies are indexed, so it is small.
        Index(
            "ix_deliveries_thread_of",
            "thread_of",
            sqlite_where=text("thread_of IS NOT NULL"),
            postgresql_where=text("thread_of IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    tenant: Mapped[str] = mapped_column(String(64))
    channel_id: Mapped[str] = mapped_column(String(256))
    target_kind: Mapped[str] = mapped_column(String(8))  # channel | dm
    audience: Mapped[str] = mapped_column(String(8))
    message: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    occurrence_key: Mapped[str | None] = mapped_column(String(200), index=True)
    # The row this one replies under; with operation `update`, the row whose posted message
    # this one edits in place (Slack chat.update, Teams update activity).
    thread_of: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id"))
    operation: Mapped[str] = mapped_column(String(8), default="post", server_default="post")
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    platform_message_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # While `sending`: when a worker took the row and until when no other worker may.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Milestone(Base):
    __tablename__ = "milestones"
    __table_args__ = (UniqueConstraint("project_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500))
    due_date: Mapped[date] = mapped_column(Date)
    client_signoff: Mapped[bool] = mapped_column(Boolean, default=False)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    signed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Bumped by every UPDATE (qualified: an UPDATE ... FROM may name both tables): calendar
    # feeds publish it as SEQUENCE, with `updated_at` as LAST-MODIFIED, so subscribed
    # calendars move an edited event instead of keeping the old one.
    edits: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0", onupdate=literal_column("milestones.edits") + 1
    )
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), onupdate=_utc_now)


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (UniqueConstraint("project_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    # Indexed: snapshots join each milestone to its tasks.
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestones.id"), index=True)
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | blocked | done
    estimate_hours: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    blocked_reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Bumped by every UPDATE (qualified: an UPDATE ... FROM may name both tables): calendar
    # feeds publish it as SEQUENCE, with `updated_at` as LAST-MODIFIED, so subscribed
    # calendars move an edited event instead of keeping the old one.
    edits: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0", onupdate=literal_column("tasks.edits") + 1
    )
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), onupdate=_utc_now)


class Expense(Base):
    __tablename__ = "expenses"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    description: Mapped[str] = mapped_column(String(500))
    category: Mapped[str] = mapped_column(String(100), default="general")
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    spent_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TimeEntry(Base):
    __tablename__ = "time_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
    hours: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    cost: Mapped[Decimal] = mapped_column(Money)
    note: Mapped[str | None] = mapped_column(String(500))
    logged_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


def _running_total() -> Mapped[int]:
    """A running total's column (whole cents or hundredths of an hour): zero until added to."""
    return mapped_column(BigInteger, default=0, server_default="0")


class LedgerTotal(Base):
    """A project's expenses and the cost of its logged time, in whole cents: what status,
    reports and the scheduler's budget warnings show, without summing thousands of rows.

    Kept by the database itself (triggers on every insert, update and delete of `expenses`
    and `time_entries`, storage/ledger_totals.py), so no write path, bulk insert or
    deletion can forget it. A project nothing was spent on yet may have no row: zero."""

    __tablename__ = "ledger_totals"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    expense_cents: Mapped[int] = _running_total()
    time_cost_cents: Mapped[int] = _running_total()


# The budget's breakdowns, kept like the totals above (storage/ledger_totals.py): what the
# `budget` command, reports and the scheduler show and chart read a row per day, person or
# category instead of summing every expense and time entry. A row whose entries were all
# deleted stays at zero; readers leave zero rows out.


class LedgerDay(Base):
    """A project's spend on one day (expenses and the cost of logged time), in cents."""

    __tablename__ = "ledger_days"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    expense_cents: Mapped[int] = _running_total()
    time_cost_cents: Mapped[int] = _running_total()


class LedgerPerson(Base):
    """The hours one person logged on a project and their cost, in hundredths."""

    __tablename__ = "ledger_people"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    hours_cents: Mapped[int] = _running_total()
    cost_cents: Mapped[int] = _running_total()


class LedgerCategory(Base):
    """A project's expenses in one category, in cents."""

    __tablename__ = "ledger_categories"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    category: Mapped[str] = mapped_column(String(100), primary_key=True)
    cents: Mapped[int] = _running_total()


class Risk(Base):
    __tablename__ = "risks"
    __table_args__ = (UniqueConstraint("project_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500))
    likelihood: Mapped[int] = mapped_column(Integer)  # 1 low, 2 medium, 3 high
    impact: Mapped[int] = mapped_column(Integer)
    mitigation: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    client_visible: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(12), default="open")
    review_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Decision(Base):
    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("project_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500))
    why: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChangeRequest(Base):
    __tablename__ = "change_requests"
    __table_args__ = (UniqueConstraint("project_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500))
    cost: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    days: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    # Indexed: snapshots join each client request to its change request.
    client_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("client_requests.id"), index=True
    )
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    decided_on_behalf: Mapped[bool] = mapped_column(Boolean, default=False)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ClientRequest(Base):
    __tablename__ = "client_requests"
    __table_args__ = (UniqueConstraint("project_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    status: Mapped[str] = mapped_column(String(12), default="open")
    answer: Mapped[str | None] = mapped_column(Text)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class HuddleConfig(Base):
    __tablename__ = "huddle_configs"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    local_time: Mapped[str] = mapped_column(String(5), default="09:30")
    questions: Mapped[list[str]] = mapped_column(JSON)
    window_minutes: Mapped[int] = mapped_column(Integer, default=120)
    # `huddle now`: that day's huddle started at `adhoc_at` instead of the usual time.
    adhoc_date: Mapped[date | None] = mapped_column(Date)
    adhoc_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # An unresolved blocker this many working days old is escalated to the PM, once.
    escalate_days: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    # `huddle set mood:on`: the form asks "How are you feeling today? 1-5" (anonymous).
    mood: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class HuddleAnswer(Base):
    __tablename__ = "huddle_answers"
    __table_args__ = (UniqueConstraint("project_id", "person_id", "huddle_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    huddle_date: Mapped[date] = mapped_column(Date)
    answers: Mapped[list[str]] = mapped_column(JSON)
    blockers: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # `huddle skip`: no answers, no reminder, listed under Skipped (with the reason).
    skipped: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    skip_reason: Mapped[str | None] = mapped_column(String(300))
    # Whether this person's mood of the day is counted (never the score: see HuddleMood).
    mood_given: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class HuddleBlocker(Base):
    """A blocker said in the huddle, followed until it is resolved. Numbered per project;
    the same person saying the same blocker on a later day is the same item (`last_day`
    moves on), so its age counts from `first_day`."""

    __tablename__ = "huddle_blockers"
    __table_args__ = (UniqueConstraint("project_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    text: Mapped[str] = mapped_column(Text)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    # open | acknowledged | resolved
    status: Mapped[str] = mapped_column(String(12), default="open")
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class HuddleMood(Base):
    """Anonymous mood: how many people answered each score on a day. No person id, no time
    finer than the day, and no row per answer (whose id order could be matched to answer
    times): a count per (project, day, score), shown only as a daily average of 3 or more."""

    __tablename__ = "huddle_moods"
    __table_args__ = (UniqueConstraint("project_id", "day", "score"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    score: Mapped[int] = mapped_column(Integer)  # 1..5
    count: Mapped[int] = mapped_column(Integer, default=0)


class BudgetAlarm(Base):
    """A budget threshold that has warned; deleted (re-armed) when the budget is raised."""

    __tablename__ = "budget_alarms"
    __table_args__ = (UniqueConstraint("project_id", "threshold", "budget"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    threshold: Mapped[str] = mapped_column(String(16))  # "75" or "forecast"
    budget: Mapped[Decimal] = mapped_column(Money)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """One write, recorded in the transaction that made it: who, when, where, which project,
    the command and its canonical line. Internal: only a project's PM reads it (`history`)."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_project_at", "project_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    platform: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str | None] = mapped_column(String(128))
    command: Mapped[str] = mapped_column(String(64))
    line: Mapped[str] = mapped_column(Text)


class PulseConfig(Base):
    """A project's client satisfaction pulse; without a row it runs on the defaults once a
    client side is linked (every 2 weeks on Thursday at the check-in time, and after each
    client sign-off)."""

    __tablename__ = "pulse_configs"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    every_weeks: Mapped[int] = mapped_column(Integer, default=2)
    weekday: Mapped[int] = mapped_column(Integer, default=4)  # ISO weekday
    after_signoff: Mapped[bool] = mapped_column(Boolean, default=True)


class Pulse(Base):
    """One pulse asked of the client side; answers count until the next one."""

    __tablename__ = "pulses"
    __table_args__ = (UniqueConstraint("project_id", "asked_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    asked_on: Mapped[date] = mapped_column(Date)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PulseAnswer(Base):
    """A client person's score (1-5) for one pulse, changeable until the next pulse."""

    __tablename__ = "pulse_answers"
    __table_args__ = (UniqueConstraint("pulse_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pulse_id: Mapped[int] = mapped_column(ForeignKey("pulses.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CalendarFeed(Base):
    """A calendar subscription: `LIAISON_PUBLIC_URL/calendar/<token>.ics`. `scope` says whose
    feed it is (`team:project=7`, `client:project=7`, `mine:person=3`); rotating the token
    replaces the row's token, so the old URL stops answering at once. Feeds are found by
    the SHA-256 of their token (see bot.domain.access_tokens)."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # team | client | mine
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    token: Mapped[str] = mapped_column(String(255))  # sealed (storage.secrets)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EmailRecipient(Base):
    """An address on a project's mailing list and what it asked for (`report`, `agenda`,
    `minutes`). Its token makes the one-click unsubscribe link of every email to it."""

    __tablename__ = "email_recipients"
    __table_args__ = (UniqueConstraint("project_id", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    address: Mapped[str] = mapped_column(String(320))
    wants: Mapped[str] = mapped_column(String(40), default="report")
    token: Mapped[str] = mapped_column(String(255))  # sealed (storage.secrets)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SurveyAnswer(Base):
    """A client person's final survey of a closed project: satisfaction 1-5, how likely
    they are to recommend us 0-10, a comment. One per person, changed by answering again."""

    __tablename__ = "survey_answers"
    __table_args__ = (UniqueConstraint("project_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    satisfaction: Mapped[int] = mapped_column(Integer)
    recommend: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RetroAnswer(Base):
    """A team member's retrospective of one closing (`closed_on`): internal, never shown
    to a client."""

    __tablename__ = "retro_answers"
    __table_args__ = (UniqueConstraint("project_id", "person_id", "closed_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    closed_on: Mapped[date] = mapped_column(Date)
    went_well: Mapped[str] = mapped_column(Text)
    would_change: Mapped[str] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DocumentLink(Base):
    """A link to one of the project's documents (SOW, designs, staging). Client-flagged
    links are shown to the client; the others only to the team."""

    __tablename__ = "document_links"
    __table_args__ = (UniqueConstraint("project_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(2000))
    client_visible: Mapped[bool] = mapped_column(Boolean, default=False)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Meeting(Base):
    """A project's recurring client meeting (`meeting set tue 10:00 every:2w`), in the
    project's zone: on `weekday` every `every_weeks` weeks counted from the week of `anchor`.
    The agenda goes `agenda_minutes` before each one held (a working day, not skipped)."""

    __tablename__ = "meetings"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    weekday: Mapped[int] = mapped_column(Integer)  # ISO weekday
    local_time: Mapped[str] = mapped_column(String(5))
    every_weeks: Mapped[int] = mapped_column(Integer, default=1)
    length_minutes: Mapped[int] = mapped_column(Integer, default=45)
    agenda_minutes: Mapped[int] = mapped_column(Integer, default=60)
    anchor: Mapped[date] = mapped_column(Date)  # the first meeting's day
    # The last `meeting done`: the next minutes count from here (or the meeting's start).
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Calendar feeds publish these as SEQUENCE and LAST-MODIFIED (see Milestone).
    edits: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0", onupdate=literal_column("meetings.edits") + 1
    )
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), onupdate=_utc_now)


class MeetingSkip(Base):
    """A client meeting that is not held (`meeting skip`): no agenda; EXDATE in the feeds."""

    __tablename__ = "meeting_skips"
    __table_args__ = (UniqueConstraint("project_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    day: Mapped[date] = mapped_column(Date)  # the meeting's local day
    skipped_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MeetingQuestion(Base):
    """A question the team puts on the next client agenda (`meeting ask "..."`); answered
    (`closed_at`) by the next `meeting done`."""

    __tablename__ = "meeting_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    asked_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MeetingNote(Base):
    """A line of the meeting's minutes (`meeting note "..."`): shown to the client in the
    minutes unless `internal` (`meeting note --internal "..."`)."""

    __tablename__ = "meeting_notes"
    __table_args__ = (Index("ix_meeting_notes_project_at", "project_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    text: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ActionItem(Base):
    """Something someone agreed to do (`action "Send the logo files" @carol due:fri`),
    numbered per project. `client_owned` is fixed when the owner is set (a client person):
    such items are reminded in the client side and listed on the client agenda. `internal`
    items are never shown to the client."""

    __tablename__ = "action_items"
    __table_args__ = (UniqueConstraint("project_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    client_owned: Mapped[bool] = mapped_column(Boolean, default=False)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8), default="open")  # open | done
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    edits: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0", onupdate=literal_column("action_items.edits") + 1
    )
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), onupdate=_utc_now)
