"""The due-step: for one instant, find what is due, claim each occurrence by its key and
write its messages to the outbox, all in one transaction.

Claims are plain inserts under a unique key. If another process (or an earlier run for
the same instant) claimed any of them first, the insert fails, the whole transaction rolls
back and the step runs again from the start, now seeing those claims: an occurrence is
never written to the outbox twice. (The outbox rows go first, streamed to the database
while the messages are built; the claims follow, in key order.) The step reads and writes
in a fixed number of statements whatever the number of projects, weekly reports included:
what they show is read for every project whose report is due at once, and their charts are
drawn when each is delivered, not here.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from operator import itemgetter
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery.outbox import OUTBOX_COLUMNS, new_row, outbox_record
from bot.domain.budget import crossed_thresholds, parse_thresholds
from bot.domain.meetings import AGENDA_KIND, action_reminders, agendas_due
from bot.domain.occurrences import (
    blocker_escalations,
    budget_marks,
    checkins,
    deadline_reminders,
    huddle_followups,
    huddle_prompts,
    milestone_notices,
    weekly_reports,
)
from bot.domain.pulse import pulses_due
from bot.domain.schedule import Occurrence, Window
from bot.messages import Message, message_to_dict
from bot.schedule.load import Content, Schedule, load_content, load_reports, load_schedule
from bot.schedule.meeting_posts import meeting_builder
from bot.schedule.meetings import load_agenda_content
from bot.schedule.posts import CONTENT_KINDS, Built, Outgoing, builder_for, group_key
from bot.schedule.retro import KIND as RETRO
from bot.schedule.retro import load_retro_answers, retro_occurrences
from storage.bulk import insert_many, insert_records
from storage.models import BudgetAlarm, Delivery, OccurrenceClaim, Pulse, SerialisedJSON

log = logging.getLogger("liaison.due")
ATTEMPTS = 4


@dataclass
class DueResult:
    """What one run did, by claim outcome (queued, empty, skipped, error)."""

    outcomes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    deliveries: int = 0

    def count(self, outcome: str, n: int = 1) -> None:
        self.outcomes[outcome] += n

    def __str__(self) -> str:
        parts = [f"{n} {k}" for k, n in sorted(self.outcomes.items())]
        return ", ".join(parts) + f"; {self.deliveries} messages" if parts else "nothing due"


async def run_due(
    sessions: async_sessionmaker[AsyncSession],
    at: datetime,
    *,
    grace: timedelta = timedelta(minutes=120),
) -> DueResult:
    """Run the due-step once for the instant `at`."""
    window = Window(at, grace)
    with cycle_collector_paused():
        for attempt in range(1, ATTEMPTS + 1):
            try:
                async with sessions() as session, session.begin():
                    result, working_set = await due_step(session, window)
                    # Freed while the transaction commits rather than before: a busy
                    # morning leaves a million objects, a third of a second to free, and
                    # SQLite commits in its own thread meanwhile.
                    asyncio.get_running_loop().call_soon(working_set.clear)
                    del working_set
                break
            except DBAPIError as error:  # a claim taken meanwhile, or a lock conflict
                if attempt == ATTEMPTS:
                    raise
                log.info(
                    "due-step conflicted with another run (%s); reading again",
                    type(error).__name__,
                )
    return result


@contextmanager
def cycle_collector_paused() -> Iterator[None]:
    """A busy morning makes hundreds of thousands of rows, claims and messages at once, all
    freed by reference counting when the step ends. Python's cycle collector would walk
    them again and again while they grow: a third of the step at 10,000 projects. The pause
    is process-wide for those seconds (requests served meanwhile included): reference
    counting still frees all but cycles, which the next collection finds."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def find_due(schedule: Schedule) -> list[Occurrence]:
    """Ask the rules what is due for every project (pure; no statement)."""
    window = schedule.window
    found: list[Occurrence] = []
    for pid, project in schedule.projects.items():
        times = schedule.times(project)
        found += checkins(times, window)
        found += weekly_reports(times, window)
        found += deadline_reminders(times, schedule.owned_tasks(pid), window)
        found += milestone_notices(times, schedule.milestones_due(pid), window)
        cadence = schedule.pulse_cadence(project)
        if cadence is not None:
            found += pulses_due(times, cadence, window)
        meeting = schedule.meetings.get(pid)
        if meeting is not None:
            found += agendas_due(times, meeting, window)
        found += action_reminders(times, schedule.actions_due(pid), window)
        huddle = schedule.huddle_times(pid)
        if huddle is not None:
            members = schedule.members(pid)
            found += huddle_prompts(times, huddle, members, window)
            found += huddle_followups(times, huddle, members, schedule.prompts.get(pid, []), window)
            found += blocker_escalations(
                times, schedule.open_blockers(pid), schedule.huddles[pid].escalate_days, window
            )
        summary = schedule.budgets.get(pid)
        if summary is not None and project.budget is not None:
            crossed = crossed_thresholds(
                summary.burn_percent, parse_thresholds(project.budget_thresholds)
            )
            already = schedule.alarms.get((pid, f"{project.budget:.2f}"), set())
            found += budget_marks(
                pid, project.budget, crossed, summary.runs_out_before_due, already, window
            )
    found += retro_occurrences(schedule.closings, window)
    return found


async def due_step(session: AsyncSession, window: Window) -> tuple[DueResult, list[object]]:
    """Claim and write everything due at `window.now`. Returns what it did, and what it
    read and built (for the caller to free when it suits)."""
    schedule = await load_schedule(session, window)
    fresh = [o for o in find_due(schedule) if o.key not in schedule.claims]
    plan = Plan(window.now)
    if not fresh:
        return plan.result, [schedule]
    content = await read_content(session, schedule, [o for o in fresh if o.state == "post"])
    await plan.write(session, schedule, content, fresh)
    return plan.result, [schedule, fresh, content, plan]


async def read_content(
    session: AsyncSession, schedule: Schedule, posting: Sequence[Occurrence]
) -> Content:
    """What the messages to post show, read only for the kinds that are due."""
    content = Content()
    if any(o.kind in CONTENT_KINDS for o in posting):
        content = await load_content(session, schedule)
    report_days = {o.project_id: o.day for o in posting if o.kind == "report" and o.day}
    if report_days:
        content.reports = await load_reports(session, schedule, report_days)
    agenda_days = {o.project_id: o.day for o in posting if o.kind == AGENDA_KIND and o.day}
    if agenda_days:
        projects = [schedule.projects[pid] for pid in agenda_days]
        content.agendas = await load_agenda_content(session, projects, agenda_days)
    retros = {o.project_id for o in posting if o.kind == RETRO}
    if retros:
        content.retros = await load_retro_answers(session, schedule.closings, retros)
    return content


# A claim as the due-step writes it, `claimed_at` aside (the step's instant, the same for all).
CLAIM_COLUMNS = ("key", "project_id", "due_at", "outcome")


@dataclass
class Plan:
    """The rows one due-step writes, inserted in a few statements: the outbox rows of the
    messages it builds, and the claims, alarms and pulses building them collects."""

    now: datetime
    claims: list[tuple[str, int, datetime, str]] = field(default_factory=list)
    alarms: list[dict[str, Any]] = field(default_factory=list)
    pulses: list[dict[str, Any]] = field(default_factory=list)
    threaded: list[Outgoing] = field(default_factory=list)  # posts with replies under them
    result: DueResult = field(default_factory=DueResult)
    # id(message) -> (message, its JSON): a message several rows carry (a huddle prompt to
    # a whole team) is serialised once. The message is kept so that its id stays its own.
    _serialised: dict[int, tuple[Message, SerialisedJSON]] = field(default_factory=dict)

    async def write(
        self,
        session: AsyncSession,
        schedule: Schedule,
        content: Content,
        fresh: Sequence[Occurrence],
    ) -> None:
        """Build the messages of `fresh` and write everything. The outbox rows go to the
        database as they are built (PostgreSQL stores the first while the next are made);
        the rest, known whole only when every message is built, follows."""
        await insert_records(
            session,
            Delivery.__table__,
            OUTBOX_COLUMNS,
            self._outbox_records(schedule, content, fresh),
            same=new_row(self.now),
        )
        # Unique rows go in key order, so that two processes claiming the same
        # occurrences wait for each other instead of deadlocking.
        if self.claims:
            self.claims.sort(key=itemgetter(0))
            await insert_records(
                session,
                OccurrenceClaim.__table__,
                CLAIM_COLUMNS,
                self.claims,
                same={"claimed_at": self.now},
            )
        if self.alarms:
            self.alarms.sort(key=lambda a: (a["project_id"], a["threshold"]))
            await insert_many(session, BudgetAlarm.__table__, self.alarms)
        if self.pulses:
            self.pulses.sort(key=lambda p: (p["project_id"], p["asked_on"]))
            await insert_many(session, Pulse.__table__, self.pulses)
        if self.threaded:
            await self._write_replies(session)

    def _outbox_records(
        self, schedule: Schedule, content: Content, fresh: Sequence[Occurrence]
    ) -> Iterator[tuple[Any, ...]]:
        """Claim every occurrence, and yield the outbox records of the messages built for
        those that post."""
        skipped: list[Occurrence] = []
        groups: dict[tuple[object, ...], list[Occurrence]] = defaultdict(list)
        for occurrence in fresh:
            if occurrence.state == "skip":  # nothing to build: only to record
                skipped.append(occurrence)
            else:
                groups[group_key(occurrence)].append(occurrence)
        if skipped:
            log.debug("skipped %d occurrences due before the grace period", len(skipped))
            self.claim(skipped, "skipped")
        for group in groups.values():
            first = group[0]
            try:
                built = (meeting_builder(first) or builder_for(first))(schedule, content, group)
            except Exception:  # one broken occurrence must not stop everyone else's
                log.exception("could not build %s", first.key)
                self.claim(group, "error")
                continue
            self.add(group, built)
            for outgoing in built.outgoing:
                yield self._record(outgoing)

    def claim(self, group: Sequence[Occurrence], outcome: str) -> None:
        self.claims += [(o.key, o.project_id, o.due_at, outcome) for o in group]
        self.result.count(outcome, len(group))

    def add(self, group: Sequence[Occurrence], built: Built) -> None:
        outgoing = built.outgoing
        self.claim(group, "queued" if outgoing else "empty")
        self.result.deliveries += len(outgoing)
        self.threaded += [o for o in outgoing if o.replies]
        if built.pulses or built.alarms:  # rarely: most messages ask and raise nothing
            self.pulses += built.pulses
            self.alarms += [
                {
                    "project_id": p,
                    "threshold": mark,
                    "budget": Decimal(amount),
                    "raised_at": self.now,
                }
                for p, mark, amount in built.alarms
            ]

    def _record(
        self, o: Outgoing, message: Message | None = None, thread_of: int | None = None
    ) -> tuple[Any, ...]:
        message = message or o.message
        found = self._serialised.get(id(message))
        if found is None:
            found = self._serialised[id(message)] = (
                message,
                SerialisedJSON.of(message_to_dict(message)),
            )
        return outbox_record(o.project_id, o.target, message.audience, found[1], o.key, thread_of)

    async def _write_replies(self, session: AsyncSession) -> None:
        """Replies point at their parent row, so the parent's id is read back once."""
        rows = await session.execute(
            select(Delivery.occurrence_key, Delivery.id).where(
                Delivery.occurrence_key.in_([o.key for o in self.threaded]),
                Delivery.thread_of.is_(None),
            )
        )
        parent_ids = {key: id_ for key, id_ in rows}
        replies = [
            self._record(o, reply, parent_ids[o.key]) for o in self.threaded for reply in o.replies
        ]
        await insert_records(
            session, Delivery.__table__, OUTBOX_COLUMNS, replies, same=new_row(self.now)
        )
        self.result.deliveries += len(replies)
