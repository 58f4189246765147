"""The daily huddle: set it up, start it now, turn it off, and answer it (the prompt's form
submits `huddle answer`; the typed form works everywhere, the console included)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from bot.clock import local_date
from bot.commands.blocker_items import record_blocker
from bot.commands.guards import team_side_only
from bot.commands.huddle_late import digest_claimed, queue_digest_edit
from bot.commands.huddle_mood import mood_from, record_mood
from bot.delivery.outbox import enqueue, person_target
from bot.delivery.vocabulary import Target
from bot.domain.blocker_rules import DEFAULT_ESCALATE_DAYS, MAX_ESCALATE_DAYS
from bot.domain.schedule import is_away, occurrence_key
from bot.engine.context import CommandContext
from bot.engine.parsing import Args, parse_clock, parse_duration
from bot.engine.registry import PM, TEAM, command
from bot.messages import Context, Facts, Form, Heading, Message, Text
from bot.views.huddle_notes import DEFAULT_QUESTIONS, answer_form, blocker_of, prompt, questions_of
from bot.views.notices import day_label
from storage.models import (
    Acquaintance,
    Conversation,
    HuddleAnswer,
    HuddleConfig,
    Membership,
    OccurrenceClaim,
    Person,
    Tenant,
)
from storage.upsert import insert_ignore, upsert

MIN_WINDOW, MAX_WINDOW = 15, 12 * 60  # minutes
MAX_QUESTIONS = 5


async def config_of(ctx: CommandContext, *, create: bool = False) -> HuddleConfig | None:
    config = await ctx.session.get(HuddleConfig, ctx.the_project.id)
    if config is None and create:
        config = HuddleConfig(project_id=ctx.the_project.id, questions=list(DEFAULT_QUESTIONS))
        config.enabled, config.local_time, config.window_minutes = True, "09:30", 120
        config.escalate_days, config.mood = DEFAULT_ESCALATE_DAYS, False
        ctx.session.add(config)
    return config


def _settings(config: HuddleConfig) -> Facts:
    hours, minutes = divmod(config.window_minutes, 60)
    window = f"{hours}h" + (f"{minutes:02d}m" if minutes else "")
    return Facts(
        (
            ("Time", f"{config.local_time}, each member's own time, on working days"),
            ("Answers open for", window),
            ("Blockers escalated after", f"{config.escalate_days} working days unresolved"),
            ("Mood", "asked, anonymous (1-5)" if config.mood else "not asked"),
            *((f"Question {i + 1}", q) for i, q in enumerate(questions_of(config.questions))),
        )
    )


@command(
    "huddle",
    usage="huddle",
    summary="The daily huddle's settings",
    area="huddle",
    roles=TEAM,
)
async def huddle_show(ctx: CommandContext, args: Args) -> Message:
    team_side_only(ctx, "Huddles")
    config = await config_of(ctx)
    if config is None or not config.enabled:
        return ctx.whisper(
            Text(f"{ctx.the_project.name} has no daily huddle."),
            Context('Start one with `huddle set time:09:30 [window:2h] [questions:"..."|"..."]`.'),
        )
    return ctx.whisper(Heading(f"Daily huddle: {ctx.the_project.name}"), _settings(config))


@command(
    "huddle set",
    usage='huddle set time:09:30 [questions:"..."|"..."] [window:2h] [escalate:2d] [mood:on]',
    summary="Run a daily huddle: a direct message to each member at their own local time",
    area="huddle",
    roles=PM,
)
async def huddle_set(ctx: CommandContext, args: Args) -> Message:
    team_side_only(ctx, "Huddles")
    time_text, window_text = args.option("time"), args.option("window")
    questions_text = args.option("questions")
    escalate_text = args.option("escalate")
    mood_text = args.option("mood")
    config = await config_of(ctx, create=True)
    assert config is not None
    changes = (window_text, questions_text, escalate_text, mood_text)
    if time_text is None and config.enabled and all(c is None for c in changes):
        raise ctx.fail("Say when, for example `huddle set time:09:30`.")
    if escalate_text is not None:
        config.escalate_days = _escalate_days(ctx, escalate_text)
    if mood_text is not None:
        if mood_text.lower() not in ("on", "off"):
            raise ctx.fail("Say `mood:on` or `mood:off`.")
        config.mood = mood_text.lower() == "on"
    if time_text is not None:
        config.local_time = parse_clock(time_text)
    if window_text is not None:
        minutes = int(parse_duration(window_text, ctx.the_project.day_hours) * 60)
        if not MIN_WINDOW <= minutes <= MAX_WINDOW:
            raise ctx.fail("The answer window is between 15m and 12h.")
        config.window_minutes = minutes
    if questions_text is not None:
        config.questions = _questions(ctx, questions_text)
    config.enabled = True
    return ctx.say(Heading(f"Daily huddle for {ctx.the_project.name}"), _settings(config))


def _escalate_days(ctx: CommandContext, text: str) -> int:
    days = text.lower().removesuffix("d")
    if not days.isdigit() or not 1 <= int(days) <= MAX_ESCALATE_DAYS:
        raise ctx.fail(f"Escalate after 1 to {MAX_ESCALATE_DAYS} working days, like `escalate:2d`.")
    return int(days)


def _questions(ctx: CommandContext, text: str) -> list[str]:
    questions = [q.strip().strip('"') for q in text.split("|") if q.strip().strip('"')]
    if not questions or len(questions) > MAX_QUESTIONS:
        raise ctx.fail(
            f'Give 1 to {MAX_QUESTIONS} questions: questions:"Done?"|"Today?"|"Blockers?"'
        )
    if any(len(q) > 200 for q in questions):
        raise ctx.fail("Keep each question under 200 characters.")
    return questions


@command(
    "huddle off",
    usage="huddle off",
    summary="Stop the daily huddle",
    area="huddle",
    roles=PM,
)
async def huddle_off(ctx: CommandContext, args: Args) -> Message:
    team_side_only(ctx, "Huddles")
    config = await config_of(ctx)
    if config is None or not config.enabled:
        return ctx.whisper(Text(f"{ctx.the_project.name} has no daily huddle running."))
    config.enabled = False
    return ctx.say(Text(f"The daily huddle of {ctx.the_project.name} is off."))


@command(
    "huddle now",
    usage="huddle now",
    summary="Start today's huddle now instead of at its usual time",
    area="huddle",
    roles=PM,
)
async def huddle_now(ctx: CommandContext, args: Args) -> Message:
    team_side_only(ctx, "Huddles")
    project, today = ctx.the_project, ctx.project_today
    config = await config_of(ctx, create=True)
    assert config is not None
    config.enabled = True
    asked, already, unreachable = [], 0, []
    tenant = await ctx.project_tenant()
    for person, conversation in await _team_with_dms(ctx, tenant):
        if is_away(today, person.away_from, person.away_until):
            continue
        target = person_target(person, conversation, tenant.external_id)
        key = occurrence_key("huddle-prompt", project.id, today, person=person.id)
        claimed = await insert_ignore(
            ctx.session,
            OccurrenceClaim,
            {
                "key": key,
                "project_id": project.id,
                "due_at": ctx.now,
                "claimed_at": ctx.now,
                "outcome": "queued" if target else "empty",
            },
            ["key"],
        )
        if claimed is None:
            already += 1
        elif target is None:
            unreachable.append(person.display_name)
        else:
            _queue_prompt(ctx, config, person, target, key)
            asked.append(person.display_name)
    if asked:
        # Today's huddle runs from now: its reminders and digest count from this moment.
        config.adhoc_date, config.adhoc_at = today, ctx.now
    return ctx.say(*_now_summary(config, asked, already, unreachable, today))


async def _team_with_dms(
    ctx: CommandContext, tenant: Tenant
) -> list[tuple[Person, Conversation | None]]:
    """The project's own team (people its tenant met as its own) and their DMs there."""
    rows = await ctx.session.execute(
        select(Person, Conversation)
        .join(Membership, Membership.person_id == Person.id)
        .join(
            Acquaintance,
            (Acquaintance.person_id == Person.id) & (Acquaintance.tenant_id == tenant.id),
        )
        .outerjoin(
            Conversation,
            (Conversation.person_id == Person.id)
            & (Conversation.kind == "dm")
            & (Conversation.tenant == tenant.external_id),
        )
        .where(
            Membership.project_id == ctx.the_project.id,
            Membership.role.in_(("pm", "member")),
            Acquaintance.external.is_(False),
        )
        .order_by(Membership.id)
    )
    seen: dict[int, tuple[Person, Conversation | None]] = {}
    for person, conversation in rows:
        if person.id not in seen or (conversation is not None and conversation.reachable):
            seen[person.id] = (person, conversation)
    return list(seen.values())


def _queue_prompt(
    ctx: CommandContext, config: HuddleConfig, person: Person, target: Target, key: str
) -> None:
    closes = ctx.now + timedelta(minutes=config.window_minutes)
    tz = person.timezone or ctx.the_project.timezone
    questions = questions_of(config.questions)
    message = prompt(ctx.the_project, ctx.project_today, questions, closes, tz, mood=config.mood)
    enqueue(
        ctx.session,
        project_id=ctx.the_project.id,
        platform=target.platform,
        tenant=target.tenant,
        channel_id=target.channel_id,
        target_kind=target.kind,
        message=message,
        now=ctx.now,
        occurrence_key=key,
    )


def _now_summary(
    config: HuddleConfig, asked: list[str], already: int, unreachable: list[str], today: date
) -> tuple[Text | Context, ...]:
    lines: list[Text | Context] = []
    if asked:
        lines.append(Text(f"Huddle started: I asked {', '.join(asked)}."))
    else:
        lines.append(Text("Nobody new to ask for today's huddle."))
    if already:
        lines.append(Context(f"{already} already had today's questions."))
    if unreachable:
        lines.append(Context(f"I have no direct line to {', '.join(unreachable)} yet."))
    lines.append(
        Context(f"Answers are open for {config.window_minutes} minutes; the digest follows.")
    )
    return tuple(lines)


@command(
    "huddle answer",
    usage='huddle answer "done since last time" "today" "blockers" [mood:1-5] [day:2026-12-01]',
    summary="Answer the huddle (the prompt's form does this for you)",
    area="huddle",
    roles=TEAM,
)
async def huddle_answer(ctx: CommandContext, args: Args) -> Message:
    team_side_only(ctx, "Huddle answers")
    config = await config_of(ctx)
    questions = questions_of(config.questions if config else None)
    day_text = args.option("day")
    mood = mood_from(ctx, args, bool(config and config.mood))
    answers = _answers_from(ctx, args, len(questions))
    day = parse_huddle_day(ctx, day_text) if day_text else await current_huddle_day(ctx)
    blockers = blocker_of(questions, answers)
    closed = config is not None and await digest_claimed(ctx, day)
    late = closed and local_date(ctx.now, ctx.zone) <= day  # still that day where they are
    await upsert(
        ctx.session,
        HuddleAnswer,
        {
            "project_id": ctx.the_project.id,
            "person_id": ctx.me.id,
            "huddle_date": day,
            "answers": answers,
            "blockers": blockers,
            "answered_at": ctx.now,
            "skipped": False,
            "skip_reason": None,
        },
        ["project_id", "person_id", "huddle_date"],
        update=["answers", "blockers", "answered_at", "skipped", "skip_reason"],
    )
    item = await record_blocker(ctx, day, blockers)
    mood_note = await record_mood(ctx, day, mood)
    lines: list[Text | Context | Form] = [
        Text(f"Thanks, noted for the {ctx.the_project.name} huddle of {day_label(day)}.")
    ]
    if mood_note:
        lines.append(Context(mood_note))
    if item is not None:
        lines.append(
            Context(
                f"Your blocker (#{item.number}) goes on top of the digest and into the next "
                f"check-in; `blocker resolve {item.number}` when it is gone."
            )
        )
    if late and await queue_digest_edit(ctx, config, day, ctx.me.id):
        lines.append(Context("The digest had gone out: I added your answer to it, marked late."))
    elif closed:
        lines.append(
            Context("The digest has already gone out; your answer is kept for the record.")
        )
    else:
        # Until the digest, answering again replaces these: the form opens with them.
        lines.append(
            answer_form(ctx.the_project, day, questions, answers, bool(config and config.mood))
        )
        lines.append(Context("Change anything until the digest goes out."))
    return ctx.whisper(*lines)


def _answers_from(ctx: CommandContext, args: Args, count: int) -> list[str]:
    if ctx.fields:
        answers = [ctx.fields.get(f"q{i + 1}", "").strip()[:1000] for i in range(count)]
    else:
        answers = []
        while (value := args.text()) is not None:
            answers.append(value)
        if len(answers) == 1 and "|" in answers[0]:
            answers = [a.strip() for a in answers[0].split("|")]
    if not any(answers):
        raise ctx.fail("Give your answers in quotes, one per question.")
    if len(answers) > count:
        raise ctx.fail(f"There are {count} questions; you gave {len(answers)} answers.")
    return answers + [""] * (count - len(answers))


def parse_huddle_day(ctx: CommandContext, text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ctx.fail(f"`{text}` is not a date like 2026-12-01.") from None
    if abs((day - ctx.project_today).days) > 7:
        raise ctx.fail("You can answer this week's huddles only.")
    return day


async def current_huddle_day(ctx: CommandContext) -> date:
    """The huddle I was last asked to, else today's."""
    prefix = f"huddle-prompt:project={ctx.the_project.id}:person={ctx.me.id}:"
    key = await ctx.session.scalar(
        select(OccurrenceClaim.key)
        .where(OccurrenceClaim.key.startswith(prefix), OccurrenceClaim.outcome == "queued")
        .order_by(OccurrenceClaim.claimed_at.desc())
        .limit(1)
    )
    if key is not None:
        asked_on = date.fromisoformat(key.rsplit(":", 1)[1])
        if (ctx.project_today - asked_on).days <= 1:
            return asked_on
    return ctx.project_today
