"""What the due-step reads, in a fixed number of statements whatever the number of
projects: every query below serves all projects at once (no per-project or per-row query).

`load_schedule` reads what the rules need to decide what is due; `load_content` reads what
the check-ins and huddle digests show, and `load_reports` what the weekly reports show,
only when some are due."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import NamedTuple

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.mailing_list import report_recipients
from bot.delivery.vocabulary import Target
from bot.domain.blocker_rules import OpenBlocker
from bot.domain.budget import BudgetSummary
from bot.domain.meetings import ActionDue, MeetingTimes
from bot.domain.occurrences import OwnedTask, PromptSent
from bot.domain.pulse import PulseCadence
from bot.domain.schedule import (
    HuddleTimes,
    Member,
    MilestoneDue,
    ProjectTimes,
    Teammate,
    Window,
    local_day,
    parse_key,
)
from bot.domain.snapshot import ProjectSnapshot
from bot.messages import Message
from bot.schedule.meetings import Agendas, load_client_actions, load_meetings
from bot.schedule.retro import Closing, load_closings
from bot.views.ledger import DailySpend, load_budgets, load_daily_spends
from bot.views.meeting_data import ActionLine
from bot.views.mood_data import MoodDay, load_mood_days
from bot.views.snapshots import load_snapshots
from storage.models import (
    Acquaintance,
    BudgetAlarm,
    ChangeRequest,
    ChannelLink,
    ClientRequest,
    Conversation,
    HuddleAnswer,
    HuddleBlocker,
    HuddleConfig,
    Membership,
    Milestone,
    OccurrenceClaim,
    Person,
    Project,
    PulseConfig,
    RetroAnswer,
    Risk,
    Task,
    Tenant,
)

TEAM_ROLES = ("pm", "member")
# How far around today tasks and milestones are read: enough for "3 working days before"
# across a long holiday, and for the first overdue morning after one.
AHEAD = timedelta(days=21)
BEHIND = timedelta(days=21)
BLOCKERS_LOOKBACK = timedelta(days=10)
MOOD_WEEKS = timedelta(days=27)  # the internal report's mood trend: 4 weeks to its day
# What the due-step reads of a person, in `Teammate`'s order.
TEAMMATE = (
    Person.id,
    Person.platform,
    Person.external_id,
    Person.display_name,
    Person.timezone,
    Person.away_from,
    Person.away_until,
)


@dataclass(frozen=True, slots=True)
class Claim:
    outcome: str
    claimed_at: datetime


# Settings read for every project each morning, as plain values: ORM objects cost several
# times as much to load, and nothing here changes them.
class HuddleSettings(NamedTuple):
    local_time: str
    questions: list[str] | None
    window_minutes: int
    adhoc_date: date | None
    adhoc_at: datetime | None
    escalate_days: int
    mood: bool


class PulseSettings(NamedTuple):
    enabled: bool
    every_weeks: int
    weekday: int


HUDDLE_SETTINGS = (
    HuddleConfig.project_id,
    HuddleConfig.local_time,
    HuddleConfig.questions,
    HuddleConfig.window_minutes,
    HuddleConfig.adhoc_date,
    HuddleConfig.adhoc_at,
    HuddleConfig.escalate_days,
    HuddleConfig.mood,
)


@dataclass
class Schedule:
    """Everything the rules read, for every active project."""

    window: Window
    projects: dict[int, Project]
    huddles: dict[int, HuddleSettings]  # projects whose huddle is on
    team: dict[int, list[tuple[str, Teammate]]]  # project -> (role, person), team roles only
    people: dict[int, Teammate]
    # (project, side) -> where posts to that linked channel go
    sides: dict[tuple[int, str], Target]
    # (person, tenant platform id) -> their direct conversation with the bot there
    dms: dict[tuple[int, str], Conversation]
    claims: dict[str, Claim]
    tasks: dict[int, list[tuple[Task, Teammate | None]]]
    milestones: dict[int, list[Milestone]]
    alarms: dict[tuple[int, str], set[str]]  # (project, budget amount) -> marks
    budgets: dict[int, BudgetSummary] = field(default_factory=dict)
    # project -> the platform id of the tenant it belongs to: where its DMs go
    tenants: dict[int, str] = field(default_factory=dict)
    # (project, person): people the project's tenant met as its own, who may get its DMs
    insiders: set[tuple[int, int]] = field(default_factory=set)
    # project -> people optional in its huddle (asked once, never listed as missing)
    optional: dict[int, set[int]] = field(default_factory=dict)
    # project -> its unresolved huddle blockers, by number (projects with a huddle only)
    blockers: dict[int, list[HuddleBlocker]] = field(default_factory=dict)
    # Closed projects whose retrospective closes now (bot.schedule.retro): nothing else of theirs.
    closings: dict[int, Closing] = field(default_factory=dict)
    # Pulse settings where a PM set them; a project without a row runs on the defaults.
    pulse_configs: dict[int, PulseSettings] = field(default_factory=dict)
    # Client meetings that are on, and the open action items client people own.
    meetings: dict[int, MeetingTimes] = field(default_factory=dict)
    client_actions: dict[int, list[ActionLine]] = field(default_factory=dict)

    def actions_due(self, project_id: int) -> list[ActionDue]:
        return [
            ActionDue(a.number, project_id, a.due)
            for a in self.client_actions.get(project_id, [])
            if a.due is not None
        ]

    def pulse_cadence(self, project: Project) -> PulseCadence | None:
        """When the client side is asked for a pulse; None when off or no client side."""
        if (project.id, "client") not in self.sides:
            return None
        config = self.pulse_configs.get(project.id)
        if config is None:
            return PulseCadence(anchor=project.start_date)
        if not config.enabled:
            return None
        return PulseCadence(config.every_weeks, config.weekday, project.start_date)

    def times(self, project: Project) -> ProjectTimes:
        found = self._times.get(project.id)
        if found is None:
            found = self._times[project.id] = ProjectTimes(
                id=project.id,
                zone=project.timezone,
                working_days=project.working_days,
                country=project.country,
                checkin_time=project.checkin_time,
                report_weekday=project.report_weekday,
                report_time=project.report_time,
            )
        return found

    def members(self, project_id: int) -> list[Member]:
        return [self.member(person) for _, person in self.team.get(project_id, [])]

    def member(self, person: Teammate) -> Member:
        found = self._members.get(person.id)
        if found is None:
            found = self._members[person.id] = member_of(person)
        return found

    def huddle_times(self, project_id: int) -> HuddleTimes | None:
        config = self.huddles.get(project_id)
        if config is None:
            return None
        return HuddleTimes(
            config.local_time, config.window_minutes, config.adhoc_date, config.adhoc_at
        )

    @cached_property
    def names(self) -> dict[int, str]:
        return {pid: p.display_name for pid, p in self.people.items()}

    def __post_init__(self) -> None:
        # Each project's times and each person's, made once: the rules ask for them again
        # and again.
        self._times: dict[int, ProjectTimes] = {}
        self._members: dict[int, Member] = {}
        # Huddle prompts that went out, by project: reminders and digests follow from them.
        self.prompts: dict[int, list[PromptSent]] = defaultdict(list)
        for key, claim in self.claims.items():
            if claim.outcome == "queued" and key.startswith("huddle-prompt:"):
                _, parts, day = parse_key(key)
                assert day is not None
                project_id = int(parts["project"])
                self.prompts[project_id].append(
                    PromptSent(project_id, int(parts["person"]), day, claim.claimed_at)
                )

    def open_blockers(self, project_id: int) -> list[OpenBlocker]:
        return [OpenBlocker(b.id, b.number, b.first_day) for b in self.blockers.get(project_id, [])]

    def owned_tasks(self, project_id: int) -> list[OwnedTask]:
        return [
            OwnedTask(task.id, project_id, task.due_date, self.member(owner))
            for task, owner in self.tasks.get(project_id, [])
            if owner is not None and task.due_date is not None
        ]

    def milestones_due(self, project_id: int) -> list[MilestoneDue]:
        return [
            MilestoneDue(m.id, project_id, m.due_date, m.client_signoff and m.signed_off_at is None)
            for m in self.milestones.get(project_id, [])
        ]

    def pm_of(self, project_id: int) -> Teammate | None:
        return next((p for role, p in self.team.get(project_id, []) if role == "pm"), None)


def member_of(person: Teammate) -> Member:
    return Member(person.id, person.timezone, person.away_from, person.away_until)


def day_range(projects: dict[int, Project], window: Window) -> tuple[date, date]:
    """The earliest and latest local dates any project sees in this window."""
    zones = {p.timezone for p in projects.values()} or {"UTC"}
    first = min(local_day(window.now - window.lookback, z) for z in zones)
    last = max(local_day(window.now, z) for z in zones)
    return first - timedelta(days=1), last + timedelta(days=1)


async def load_schedule(session: AsyncSession, window: Window) -> Schedule:
    rows = await session.execute(
        select(Project, Tenant.external_id)
        .join(Tenant, Tenant.id == Project.tenant_id)
        .where(Project.archived.is_(False))
        .order_by(Project.id)
    )
    projects: dict[int, Project] = {}
    tenants: dict[int, str] = {}
    for project, tenant in rows:
        projects[project.id], tenants[project.id] = project, tenant
    first, last = day_range(projects, window)
    active = select(Project.id).where(Project.archived.is_(False))
    huddles = {
        project_id: HuddleSettings(*settings)
        for project_id, *settings in await session.execute(
            select(*HUDDLE_SETTINGS).where(
                HuddleConfig.enabled.is_(True), HuddleConfig.project_id.in_(active)
            )
        )
    }
    team: dict[int, list[tuple[str, Teammate]]] = defaultdict(list)
    people: dict[int, Teammate] = {}
    insiders: set[tuple[int, int]] = set()
    optional: dict[int, set[int]] = defaultdict(set)
    rows = await session.execute(
        select(Membership.project_id, Membership.role, Membership.huddle_optional, *TEAMMATE)
        .join(Person, Person.id == Membership.person_id)
        .join(Project, Project.id == Membership.project_id)
        .join(
            Acquaintance,
            (Acquaintance.person_id == Person.id) & (Acquaintance.tenant_id == Project.tenant_id),
        )
        .where(
            Membership.role.in_(TEAM_ROLES),
            Acquaintance.external.is_(False),
            Membership.project_id.in_(active),
        )
        .order_by(Membership.id)
    )
    for project_id, role, is_optional, *columns in rows:
        person = Teammate(*columns)
        team[project_id].append((role, person))
        people[person.id] = person
        insiders.add((project_id, person.id))
        if is_optional:
            optional[project_id].add(person.id)
    sides = {
        (project_id, side): Target(platform, tenant, channel_id, "channel")
        for project_id, side, platform, tenant, channel_id in await session.execute(
            select(
                ChannelLink.project_id,
                ChannelLink.side,
                ChannelLink.platform,
                ChannelLink.tenant,
                ChannelLink.channel_id,
            ).where(ChannelLink.project_id.in_(active))
        )
    }
    tasks = await _load_tasks(session, active, first, last, people, insiders)
    return Schedule(
        window=window,
        projects=projects,
        huddles=huddles,
        team=dict(team),
        people=people,
        sides=sides,
        dms=await _load_dms(session),
        claims=await _load_claims(session, window),
        tasks=tasks,
        milestones=await _load_milestones(session, active, first, last),
        alarms=await _load_alarms(session, active),
        budgets=await _load_budgets(session, projects, window),
        tenants=tenants,
        insiders=insiders,
        pulse_configs={
            project_id: PulseSettings(*settings)
            for project_id, *settings in await session.execute(
                select(
                    PulseConfig.project_id,
                    PulseConfig.enabled,
                    PulseConfig.every_weeks,
                    PulseConfig.weekday,
                ).where(PulseConfig.project_id.in_(active))
            )
        },
        optional=dict(optional),
        blockers=await _load_blockers(session, list(huddles)),
        closings=await load_closings(session, window),
        meetings=await load_meetings(session, active),
        client_actions=await load_client_actions(session, active, last + AHEAD),
    )


async def _load_blockers(
    session: AsyncSession, project_ids: list[int]
) -> dict[int, list[HuddleBlocker]]:
    """Unresolved blockers of the projects running a huddle (one statement for all)."""
    if not project_ids:
        return {}
    with_huddle = select(HuddleConfig.project_id).where(HuddleConfig.enabled.is_(True))
    return await _grouped(
        session,
        select(HuddleBlocker)
        .where(HuddleBlocker.project_id.in_(with_huddle), HuddleBlocker.status != "resolved")
        .order_by(HuddleBlocker.project_id, HuddleBlocker.number),
    )


async def _load_dms(session: AsyncSession) -> dict[tuple[int, str], Conversation]:
    """Each team member's direct conversations with the bot, one a tenant (reachable or
    not)."""
    members = select(Membership.person_id)
    found: dict[tuple[int, str], Conversation] = {}
    for conversation in await session.scalars(
        select(Conversation)
        .where(Conversation.kind == "dm", Conversation.person_id.in_(members))
        .order_by(Conversation.reachable, Conversation.updated_at)
    ):
        assert conversation.person_id is not None
        # reachable and newest win
        found[(conversation.person_id, conversation.tenant)] = conversation
    return found


async def _load_claims(session: AsyncSession, window: Window) -> dict[str, Claim]:
    rows = await session.execute(
        select(OccurrenceClaim.key, OccurrenceClaim.outcome, OccurrenceClaim.claimed_at).where(
            OccurrenceClaim.claimed_at > window.claims_since
        )
    )
    return {key: Claim(outcome, claimed_at) for key, outcome, claimed_at in rows}


async def _load_tasks(
    session: AsyncSession,
    active: object,
    first: date,
    last: date,
    people: dict[int, Teammate],
    insiders: set[tuple[int, int]],
) -> dict[int, list[tuple[Task, Teammate | None]]]:
    """Open tasks due up to a few weeks ahead (every overdue one too), and blocked ones;
    owners the project's tenant met as its own join `insiders`."""
    found: dict[int, list[tuple[Task, Teammate | None]]] = defaultdict(list)
    rows = await session.execute(
        select(Task, Acquaintance.external, *TEAMMATE)
        .outerjoin(Person, Person.id == Task.owner_id)
        .join(Project, Project.id == Task.project_id)
        .outerjoin(
            Acquaintance,
            (Acquaintance.person_id == Task.owner_id)
            & (Acquaintance.tenant_id == Project.tenant_id),
        )
        .where(
            Task.project_id.in_(active),  # type: ignore[arg-type]
            Task.status != "done",
            or_(Task.due_date <= last + AHEAD, Task.status == "blocked"),
        )
        .order_by(Task.project_id, Task.due_date, Task.number)
    )
    for task, external, *columns in rows:
        owner = None if columns[0] is None else people.setdefault(columns[0], Teammate(*columns))
        found[task.project_id].append((task, owner))
        if owner is not None and external is False:
            insiders.add((task.project_id, owner.id))
    return dict(found)


async def _load_milestones(
    session: AsyncSession, active: object, first: date, last: date
) -> dict[int, list[Milestone]]:
    found: dict[int, list[Milestone]] = defaultdict(list)
    for milestone in await session.scalars(
        select(Milestone)
        .where(
            Milestone.project_id.in_(active),  # type: ignore[arg-type]
            Milestone.done_at.is_(None),
            Milestone.due_date.between(first, last + AHEAD),
        )
        .order_by(Milestone.due_date)
    ):
        found[milestone.project_id].append(milestone)
    return dict(found)


async def _load_alarms(session: AsyncSession, active: object) -> dict[tuple[int, str], set[str]]:
    found: dict[tuple[int, str], set[str]] = defaultdict(set)
    rows = await session.execute(
        select(BudgetAlarm.project_id, BudgetAlarm.budget, BudgetAlarm.threshold).where(
            BudgetAlarm.project_id.in_(active)  # type: ignore[arg-type]
        )
    )
    for project_id, budget, mark in rows:
        found[(project_id, f"{Decimal(budget):.2f}")].add(mark)
    return dict(found)


async def _load_budgets(
    session: AsyncSession, projects: dict[int, Project], window: Window
) -> dict[int, BudgetSummary]:
    with_budget = [p for p in projects.values() if p.budget is not None and p.budget > 0]
    today = {p.id: local_day(window.now, p.timezone) for p in with_budget}
    return await load_budgets(session, with_budget, today)


# --- content: what check-ins, huddle digests and weekly reports show ----------------------


@dataclass(frozen=True, slots=True)
class ReportData:
    snapshot: ProjectSnapshot  # the internal one; the client report reads its client part
    daily_spend: DailySpend  # for the burn-up chart
    emails: list[str] = field(default_factory=list)  # addresses that get the client report
    mood: list[MoodDay] = field(default_factory=list)  # internal report only


@dataclass
class Content:
    answers: dict[int, list[HuddleAnswer]] = field(default_factory=dict)
    requests: dict[int, list[ClientRequest]] = field(default_factory=dict)
    changes: dict[int, list[ChangeRequest]] = field(default_factory=dict)
    risks: dict[int, list[Risk]] = field(default_factory=dict)
    reports: dict[int, ReportData] = field(default_factory=dict)
    retros: dict[int, list[tuple[str, RetroAnswer]]] = field(default_factory=dict)
    agendas: Agendas = field(default_factory=Agendas)
    # Messages several recipients get alike (a huddle prompt), built once per step.
    shared: dict[Hashable, Message] = field(default_factory=dict)


async def load_content(session: AsyncSession, schedule: Schedule) -> Content:
    first, last = day_range(schedule.projects, schedule.window)
    active = select(Project.id).where(Project.archived.is_(False))
    answers: dict[int, list[HuddleAnswer]] = defaultdict(list)
    for answer in await session.scalars(
        select(HuddleAnswer)
        .where(
            HuddleAnswer.project_id.in_(active),
            HuddleAnswer.huddle_date >= first - BLOCKERS_LOOKBACK,
        )
        .order_by(HuddleAnswer.answered_at)
    ):
        answers[answer.project_id].append(answer)
    requests = await _grouped(
        session,
        select(ClientRequest)
        .where(ClientRequest.project_id.in_(active), ClientRequest.status == "open")
        .order_by(ClientRequest.number),
    )
    changes = await _grouped(
        session,
        select(ChangeRequest)
        .where(ChangeRequest.project_id.in_(active), ChangeRequest.status == "pending")
        .order_by(ChangeRequest.number),
    )
    risks = await _grouped(
        session,
        select(Risk)
        .where(Risk.project_id.in_(active), Risk.status == "open", Risk.review_on <= last)
        .order_by(Risk.review_on, Risk.number),
    )
    return Content(dict(answers), requests, changes, risks)


async def load_reports(
    session: AsyncSession, schedule: Schedule, days: dict[int, date]
) -> dict[int, ReportData]:
    """What the weekly reports due show, each as of its report day, for every project at
    once: the statements of one project's report."""
    projects = [schedule.projects[pid] for pid in days]
    snapshots = await load_snapshots(session, projects, days)
    spend = await load_daily_spends(session, list(days))
    emails = await report_recipients(session, list(days))
    first, last = min(days.values()) - MOOD_WEEKS, max(days.values())
    moods = await load_mood_days(session, list(days), first, last)
    return {
        pid: ReportData(
            snapshot,
            spend.get(pid, []),
            emails=emails.get(pid, []),
            mood=[m for m in moods.get(pid, []) if days[pid] - MOOD_WEEKS <= m.day <= days[pid]],
        )
        for pid, snapshot in snapshots.items()
    }


async def _grouped(session: AsyncSession, query) -> dict[int, list]:  # noqa: ANN001
    found: dict[int, list] = defaultdict(list)
    for row in await session.scalars(query):
        found[row.project_id].append(row)
    return dict(found)
