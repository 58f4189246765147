"""The client meeting: the PM sets it (`meeting set tue 10:00 every:2w`), skips one or turns it
off; the team adds questions for the agenda and notes during it; `meeting done` posts the
minutes to both sides. The agenda before each meeting is the due-step's
(`bot.schedule.meeting_posts`).

Notes are the minutes of a meeting held with the client, so they are shown to the client
unless taken with `--internal`; decisions stay in the team's decision log and only the
team's minutes list them.

Room: commands."""

from __future__ import annotations

from datetime import date

from sqlalchemy import update

from bot.commands.guards import team_side_only
from bot.delivery import outbox
from bot.delivery.mailing_list import client_email, email_target, recipients_wanting
from bot.domain.meetings import (
    CADENCES,
    DEFAULT_AGENDA,
    DEFAULT_LENGTH,
    MAX_AGENDA,
    MAX_LENGTH,
    MeetingTimes,
    first_meeting_day,
    is_meeting_day,
    minutes_since,
    next_meeting,
)
from bot.domain.schedule import ProjectTimes
from bot.engine.context import CommandContext
from bot.engine.parsing import WEEKDAYS, Args, parse_clock, parse_duration
from bot.engine.registry import EVERYONE, PM, TEAM, command
from bot.errors import UserError
from bot.messages import Context, Heading, Message, Text
from bot.views.meeting_data import load_meeting, load_minutes, load_skips
from bot.views.meeting_notes import meeting_facts, minutes
from bot.views.notices import day_label
from storage.models import Meeting, MeetingNote, MeetingQuestion, MeetingSkip, Project

TEXT_MAX = 1000
INTERNAL = "--internal"


def project_times(project: Project) -> ProjectTimes:
    return ProjectTimes(project.id, project.timezone, project.working_days, project.country)


async def _meeting_on(ctx: CommandContext) -> tuple[Meeting, MeetingTimes]:
    found = await load_meeting(ctx.session, ctx.the_project.id)
    if found is None:
        raise ctx.fail(
            f"{ctx.the_project.name} has no client meeting; the PM sets one with "
            "`meeting set tue 10:00`."
        )
    return found


@command(
    "meeting",
    reads_only=True,
    usage="meeting",
    questions=(("when is the next client meeting", ""), ("when do we meet the client", "")),
    summary="The client meeting: when it is, and the next date",
    area="meetings",
    roles=EVERYONE,
)
async def meeting_show(ctx: CommandContext, args: Args) -> Message:
    args.done()
    project = ctx.the_project
    found = await load_meeting(ctx.session, project.id)
    if found is None:
        return ctx.say(Text(f"{project.name} has no client meeting set."))
    _, times = found
    upcoming = next_meeting(project_times(project), times, ctx.now)
    skipped = sorted(d for d in times.skipped if d >= ctx.project_today)
    return ctx.say(
        Heading(f"Client meeting: {project.name}"),
        meeting_facts(times, project.timezone, upcoming, skipped),
    )


def _minutes_of(ctx: CommandContext, text: str | None, key: str, default: int, most: int) -> int:
    if text is None:
        return default
    try:
        hours = parse_duration(text)
    except UserError as error:
        raise ctx.fail(str(error)) from None
    minutes_ = int(hours * 60)
    if not 1 <= minutes_ <= most:
        raise ctx.fail(f"`{key}:` is from 1 minute to {most // 60} hours, not `{text[:20]}`.")
    return minutes_


@command(
    "meeting set",
    usage="meeting set tue 10:00 [every:1w|2w|4w] [length:45m] [agenda:60m]",
    summary="Set the recurring client meeting (in the project's zone) and when its agenda goes",
    area="meetings",
    roles=PM,
)
async def meeting_set(ctx: CommandContext, args: Args) -> Message:
    team_side_only(ctx, "Meeting settings")
    day_text = args.word("the weekday (mon to fri)")
    time_text = args.word("the time, like 10:00")
    every = args.option("every")
    length, agenda = args.option("length"), args.option("agenda")
    args.done()
    assert day_text is not None and time_text is not None
    weekday = WEEKDAYS.get(day_text.lower())
    if weekday is None:
        raise ctx.fail(f"`{day_text[:20]}` is not a weekday; say mon, tue, wed, thu or fri.")
    try:
        at = parse_clock(time_text)
    except UserError as error:
        raise ctx.fail(str(error)) from None
    weeks = _weeks(ctx, every)
    length_minutes = _minutes_of(ctx, length, "length", DEFAULT_LENGTH, MAX_LENGTH)
    agenda_minutes = _minutes_of(ctx, agenda, "agenda", DEFAULT_AGENDA, MAX_AGENDA)
    project = ctx.the_project
    meeting = await ctx.session.get(Meeting, project.id)
    if meeting is None:
        meeting = Meeting(project_id=project.id, created_at=ctx.now)
        ctx.session.add(meeting)
    meeting.enabled = True
    meeting.weekday = weekday + 1
    meeting.local_time = at
    meeting.every_weeks = weeks
    meeting.length_minutes = length_minutes
    meeting.agenda_minutes = agenda_minutes
    meeting.anchor = first_meeting_day(weekday + 1, ctx.project_today)
    await ctx.session.flush()
    _, times = await _meeting_on(ctx)
    upcoming = next_meeting(project_times(project), times, ctx.now)
    return ctx.say(
        Heading(f"Client meeting for {project.name}"),
        meeting_facts(times, project.timezone, upcoming, ()),
        Context(
            "The agenda goes to the client side and a prep note to the team side before "
            'each meeting; add questions with `meeting ask "..."`.'
        ),
    )


def _weeks(ctx: CommandContext, text: str | None) -> int:
    if text is None:
        return 1
    value = text.lower().removesuffix("w")
    if not value.isdigit() or int(value) not in CADENCES:
        raise ctx.fail(f"`every:` is 1w, 2w or 4w, not `{text[:20]}`.")
    return int(value)


@command(
    "meeting skip",
    usage="meeting skip [DATE]",
    summary="Skip the next client meeting (or the one on DATE): no agenda goes out",
    area="meetings",
    roles=PM,
)
async def meeting_skip(ctx: CommandContext, args: Args) -> Message:
    team_side_only(ctx, "Meeting settings")
    when = args.text()
    args.done()
    _, times = await _meeting_on(ctx)
    project = ctx.the_project
    day = _day_to_skip(ctx, times, when)
    skipped = await load_skips(ctx.session, [project.id])
    if day in skipped.get(project.id, []):
        raise ctx.fail(f"The client meeting of {day_label(day)} is already skipped.")
    ctx.session.add(
        MeetingSkip(project_id=project.id, day=day, skipped_by_id=ctx.me.id, created_at=ctx.now)
    )
    await ctx.session.flush()
    _, times = await _meeting_on(ctx)
    after = next_meeting(project_times(project), times, ctx.now)
    note = f"The client meeting of {day_label(day)} {day.year} is skipped."
    await ctx.post_to_side("client", Message((Text(note),), audience="client"))
    nxt = f"Next: {day_label(after)} {after.year}." if after else "No meeting is planned after it."
    return ctx.say(Text(f"{note} {nxt}"))


def _day_to_skip(ctx: CommandContext, times: MeetingTimes, when: str | None) -> date:
    project = ctx.the_project
    if when is None:
        day = next_meeting(project_times(project), times, ctx.now)
        if day is None:
            raise ctx.fail("There is no upcoming client meeting to skip.")
        return day
    try:
        day = ctx.read_date(when).day
    except UserError as error:
        raise ctx.fail(str(error)) from None
    if not is_meeting_day(times, day):
        raise ctx.fail(f"There is no client meeting on {day_label(day)} {day.year}.")
    if day < ctx.project_today:
        raise ctx.fail(f"The meeting of {day} is in the past.")
    return day


@command(
    "meeting off",
    usage="meeting off",
    summary="Stop the client meeting and its agendas",
    area="meetings",
    roles=PM,
)
async def meeting_off(ctx: CommandContext, args: Args) -> Message:
    team_side_only(ctx, "Meeting settings")
    args.done()
    meeting, _ = await _meeting_on(ctx)
    meeting.enabled = False
    return ctx.say(Text(f"The client meeting of {ctx.the_project.name} is off: no more agendas."))


def _line(ctx: CommandContext, args: Args, what: str) -> str:
    text = args.text(what)
    args.done()
    assert text is not None
    if len(text) > TEXT_MAX:
        raise ctx.fail(f"Keep it under {TEXT_MAX:,} characters.")
    return text


@command(
    "meeting ask",
    usage='meeting ask "Can we see the staging site?"',
    summary="Put a question on the next client meeting's agenda",
    area="meetings",
    roles=TEAM,
)
async def meeting_ask(ctx: CommandContext, args: Args) -> Message:
    text = _line(ctx, args, "the question")
    await _meeting_on(ctx)
    ctx.session.add(
        MeetingQuestion(
            project_id=ctx.the_project.id, text=text, asked_by_id=ctx.me.id, created_at=ctx.now
        )
    )
    return ctx.say(Text(f"On the next agenda: {text}"))


@command(
    "meeting note",
    usage='meeting note "..." [--internal]',
    summary="A line for the minutes; shown to the client unless --internal",
    area="meetings",
    roles=TEAM,
)
async def meeting_note(ctx: CommandContext, args: Args) -> Message:
    internal = args.flag(INTERNAL)
    if internal and ctx.audience == "client":
        raise ctx.refuse(
            "This channel is shared with the client: take internal notes in the team channel."
        )
    text = _line(ctx, args, "the note")
    ctx.session.add(
        MeetingNote(
            project_id=ctx.the_project.id,
            text=text,
            internal=internal,
            author_id=ctx.me.id,
            created_at=ctx.now,
        )
    )
    where = "the team's minutes only" if internal else "the minutes"
    return ctx.say(Text(f"Noted for {where}: {text}"))


@command(
    "meeting done",
    usage="meeting done",
    summary="Post the minutes (notes, decisions, action items) to the client and team sides",
    area="meetings",
    roles=TEAM,
)
async def meeting_done(ctx: CommandContext, args: Args) -> Message:
    args.done()
    project = ctx.the_project
    meeting, times = await _meeting_on(ctx)
    since = minutes_since(
        project_times(project), times, ctx.now, meeting.done_at, meeting.created_at
    )
    data = await load_minutes(ctx.session, project.id, since)
    day = ctx.project_today
    client = minutes(project.name, day, data, "client")
    team = minutes(project.name, day, data, "internal")
    await ctx.post_to_side("client", client)
    await ctx.post_to_side("team", team)
    await _email_minutes(ctx, client)
    meeting.done_at = ctx.now
    await ctx.session.execute(
        update(MeetingQuestion)
        .where(MeetingQuestion.project_id == project.id, MeetingQuestion.closed_at.is_(None))
        .values(closed_at=ctx.now)
    )
    return client if ctx.audience == "client" else team


async def _email_minutes(ctx: CommandContext, client: Message) -> None:
    """The client minutes to the addresses that asked for minutes (never the team's)."""
    pid = ctx.the_project.id
    emailed = client_email(client)
    for address in (await recipients_wanting(ctx.session, [pid], "minutes")).get(pid, []):
        target = email_target(pid, address)
        outbox.enqueue(
            ctx.session,
            project_id=pid,
            platform=target.platform,
            tenant=target.tenant,
            channel_id=target.channel_id,
            target_kind=target.kind,
            message=emailed,
            now=ctx.now,
        )
