"""The client satisfaction pulse: the PM sets it (`pulse set/off/now`), client people answer
it (`pulse 4 "comment"`, the buttons, or the form), and `pulse` shows it: the trend to the
team, a client only their own answers. Asking it is `bot.schedule.pulse`."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.commands.guards import team_side_only
from bot.domain.pulse import CADENCES, SCORES, alert_reason, latest_two
from bot.domain.schedule import occurrence_key
from bot.engine.context import CommandContext
from bot.engine.parsing import WEEKDAYS, Args
from bot.engine.registry import EVERYONE, PM, command
from bot.messages import Block, Context, Facts, Heading, Message, Text
from bot.schedule.pulse import ask_pulse, config_of, current_pulse
from bot.views.charts import pulse_chart
from bot.views.pulse_data import load_pulse_trends
from bot.views.pulse_notes import alert, own_answers, team_view, thanks
from storage.models import Membership, OccurrenceClaim, Person, Pulse, PulseAnswer
from storage.upsert import insert_ignore, upsert

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
COMMENT_MAX = 500


@command(
    "pulse",
    usage='pulse | pulse 1-5 ["comment"]',
    summary="Client satisfaction: the client answers 1-5; the team sees the trend",
    area="pulse",
    roles=EVERYONE,
)
async def pulse(ctx: CommandContext, args: Args) -> Message:
    score_text = ctx.fields.get("score") or args.word()
    if score_text is None:
        args.done()
        return await _show(ctx)
    score = _score(ctx, score_text)
    comment = ctx.fields.get("comment", "").strip()[:COMMENT_MAX] or args.text()
    args.done()
    return await _answer(ctx, score, comment or None)


def _score(ctx: CommandContext, text: str) -> int:
    if not text.isdigit() or int(text) not in SCORES:
        raise ctx.fail(f"A pulse score is a whole number from 1 to 5, not `{text[:20]}`.")
    return int(text)


async def _answer(ctx: CommandContext, score: int, comment: str | None) -> Message:
    if ctx.role != "client":
        raise ctx.refuse("Only the client answers the pulse; `pulse` shows how it stands.")
    asked = await current_pulse(ctx.session, ctx.the_project.id)
    if asked is None:
        raise ctx.fail(f"{ctx.the_project.name} has no pulse to answer yet.")
    before = await ctx.session.scalar(
        select(PulseAnswer.id).where(
            PulseAnswer.pulse_id == asked.id, PulseAnswer.person_id == ctx.me.id
        )
    )
    await upsert(
        ctx.session,
        PulseAnswer,
        {
            "pulse_id": asked.id,
            "project_id": ctx.the_project.id,
            "person_id": ctx.me.id,
            "score": score,
            "comment": comment,
            "answered_at": ctx.now,
        },
        ["pulse_id", "person_id"],
        update=["score", "comment", "answered_at"],
    )
    await _alert_pm(ctx, asked, score, comment)
    return thanks(ctx.the_project.name, score, comment, changed=before is not None)


async def _alert_pm(ctx: CommandContext, asked: Pulse, score: int, comment: str | None) -> None:
    """A low score or a drop DMs the PM, once per client person and pulse."""
    points = (await load_pulse_trends(ctx.session, [ctx.the_project.id])).get(
        ctx.the_project.id, ()
    )
    current, previous = latest_two(points)
    reason = alert_reason(score, current, previous)
    pm = await ctx.pm_of_project()
    if reason is None or pm is None:
        return
    key = occurrence_key("pulse-alert", ctx.the_project.id, asked.asked_on, person=ctx.me.id)
    claim = {"key": key, "project_id": ctx.the_project.id, "due_at": ctx.now}
    claimed = await insert_ignore(
        ctx.session, OccurrenceClaim, {**claim, "claimed_at": ctx.now, "outcome": "queued"}, ["key"]
    )
    if claimed is not None:
        message = alert(ctx.the_project.name, reason, ctx.me.display_name, score, comment)
        await ctx.direct_message(pm, message)


async def _show(ctx: CommandContext) -> Message:
    project = ctx.the_project
    if ctx.audience == "client":
        # A client sees their own answers only: never another's, never an average.
        rows = await ctx.session.execute(
            select(Pulse.asked_on, PulseAnswer.score, PulseAnswer.comment)
            .join(Pulse, Pulse.id == PulseAnswer.pulse_id)
            .where(PulseAnswer.project_id == project.id, PulseAnswer.person_id == ctx.me.id)
            .order_by(Pulse.asked_on)
        )
        return own_answers(project.name, rows.all())
    points = (await load_pulse_trends(ctx.session, [project.id])).get(project.id, ())
    blocks: list[Block] = team_view(
        project.name, points, await _response_rate(ctx), await _latest_comments(ctx)
    )
    if points:
        blocks.append(pulse_chart(points, project.name))
    return ctx.whisper(*blocks)  # its chart drawn where it is shown (draw_reply)


async def _response_rate(ctx: CommandContext) -> tuple[int, int]:
    """Who answered the latest pulse, of the client people (members or people who answered)."""
    asked = await current_pulse(ctx.session, ctx.the_project.id)
    if asked is None:
        return 0, 0
    answered = await ctx.session.scalar(
        select(func.count(PulseAnswer.id)).where(PulseAnswer.pulse_id == asked.id)
    )
    clients = await ctx.session.scalar(
        select(func.count(Membership.id)).where(
            Membership.project_id == ctx.the_project.id, Membership.role == "client"
        )
    )
    return answered or 0, max(clients or 0, answered or 0)


async def _latest_comments(ctx: CommandContext) -> list[tuple[str, int, str]]:
    asked = await current_pulse(ctx.session, ctx.the_project.id)
    if asked is None:
        return []
    rows = await ctx.session.execute(
        select(Person.display_name, PulseAnswer.score, PulseAnswer.comment)
        .join(Person, Person.id == PulseAnswer.person_id)
        .where(PulseAnswer.pulse_id == asked.id, PulseAnswer.comment.is_not(None))
        .order_by(PulseAnswer.answered_at)
    )
    return [(who, score, comment) for who, score, comment in rows]


@command(
    "pulse set",
    usage="pulse set every:2w [day:thu] [after-signoff:on|off]",
    summary="How often the client is asked how satisfied they are",
    area="pulse",
    roles=PM,
)
async def pulse_set(ctx: CommandContext, args: Args) -> Message:
    team_side_only(ctx, "Pulse settings")
    every, day, after = args.option("every"), args.option("day"), args.option("after-signoff")
    args.done()
    if every is None and day is None and after is None:
        raise ctx.fail("Say how often, for example `pulse set every:2w day:thu`.")
    weeks = _weeks(ctx, every) if every else None
    weekday = _weekday(ctx, day) if day else None
    if after is not None and after.lower() not in ("on", "off"):
        raise ctx.fail(f"`after-signoff:` is on or off, not `{after[:20]}`.")
    config = await config_of(ctx.session, ctx.the_project, create=True)
    if weeks is not None:
        config.every_weeks = weeks
    if weekday is not None:
        config.weekday = weekday
    if after is not None:
        config.after_signoff = after.lower() == "on"
    config.enabled = True
    return ctx.say(Heading(f"Client pulse for {ctx.the_project.name}"), _settings(ctx, config))


def _weeks(ctx: CommandContext, text: str) -> int:
    value = text.lower().removesuffix("w")
    if not value.isdigit() or int(value) not in CADENCES:
        raise ctx.fail(f"`every:` is 1w, 2w or 4w, not `{text[:20]}`.")
    return int(value)


def _weekday(ctx: CommandContext, text: str) -> int:
    found = WEEKDAYS.get(text.lower())
    if found is None:
        raise ctx.fail(f"`{text[:20]}` is not a weekday; say mon, tue, wed, thu or fri.")
    return found + 1


def _settings(ctx: CommandContext, config) -> Facts:  # noqa: ANN001
    project = ctx.the_project
    weeks = "every week" if config.every_weeks == 1 else f"every {config.every_weeks} weeks"
    return Facts(
        (
            ("When", f"{weeks} on {DAY_NAMES[config.weekday - 1]} at {project.checkin_time}"),
            ("After a client sign-off", "yes" if config.after_signoff else "no"),
            ("Asked in", "the client side; answers and their average stay internal"),
        )
    )


@command("pulse off", usage="pulse off", summary="Stop the client pulse", area="pulse", roles=PM)
async def pulse_off(ctx: CommandContext, args: Args) -> Message:
    team_side_only(ctx, "Pulse settings")
    args.done()
    config = await config_of(ctx.session, ctx.the_project, create=True)
    config.enabled = False
    return ctx.say(Text(f"The client pulse of {ctx.the_project.name} is off."))


@command(
    "pulse now",
    usage="pulse now",
    summary="Ask the client side how satisfied they are, now",
    area="pulse",
    roles=PM,
)
async def pulse_now(ctx: CommandContext, args: Args) -> Message:
    team_side_only(ctx, "Pulse settings")
    args.done()
    asked = await ask_pulse(ctx.session, ctx.the_project, ctx.now)
    if asked is None:
        return ctx.whisper(
            Text("No pulse asked: the client side is not linked, or today's pulse went out."),
            Context("Link it with `project link client` in the channel shared with the client."),
        )
    return ctx.say(Text(f"I asked the client side of {ctx.the_project.name} for a pulse."))
