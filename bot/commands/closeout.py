"""A project's end: `project close` (final report, client closing summary with the final
survey, retrospective prompts), `project reopen`, `report final`, `survey`, `retro`, and
`project delete` of a closed project."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update

from bot.domain.closeout_rules import RETRO_WORKING_DAYS, survey_error
from bot.domain.schedule import calendar, local_instant
from bot.engine.context import CommandContext
from bot.engine.parsing import Args
from bot.engine.registry import PM, TEAM, command
from bot.messages import Context, Heading, Message, Reply, Text
from bot.views.closeout_data import (
    load_approved_changes,
    load_final_figures,
    load_signed_off,
)
from bot.views.closeout_messages import closing_summary, final_report, retro_prompt
from storage.models import (
    Acquaintance,
    Base,
    ChangeRequest,
    Delivery,
    Membership,
    Milestone,
    Person,
    Project,
    RetroAnswer,
    SurveyAnswer,
)


@command(
    "project close",
    usage="project close [force]",
    summary="Close the project: final report, client summary and survey, retrospective",
    area="projects",
    roles=PM,
    on_closed=True,  # closing it again is answered by the command itself
)
async def project_close(ctx: CommandContext, args: Args) -> Reply:
    project = ctx.the_project
    force = args.flag("force")
    if project.archived:
        raise ctx.fail(f"{project.name} is already closed (since {project.closed_on}).")
    waiting = await _waiting_on_client(ctx)
    if waiting and not force:
        raise ctx.fail(
            f"{project.name} still waits on the client: {'; '.join(waiting)}. "
            "Settle them first, or close anyway with `project close force`."
        )
    project.archived = True
    project.closed_on = ctx.project_today
    project.retro_until = _retro_until(project)
    figures = await load_final_figures(ctx.session, project)
    shown = [
        await _post_or_show(ctx, "team", final_report(figures)),
        await _post_or_show(
            ctx,
            "client",
            closing_summary(
                project.name,
                project.client_name,
                project.closed_on,
                await load_signed_off(ctx.session, project.id),
                await load_approved_changes(ctx.session, project.id),
                project.currency,
            ),
        ),
    ]
    asked = await _ask_for_retro(ctx, project)
    note = ctx.whisper(
        Heading(f"{project.name} is closed"),
        Text(
            f"{asked} team member(s) asked for a retrospective until "
            f"{project.retro_until:%Y-%m-%d %H:%M} UTC."
        ),
        Context(
            "No check-ins, reminders or reports are posted for it now. `project reopen` "
            "makes it active again."
        ),
    )
    return Reply((note, *(m for m in shown if m is not None)))


async def _post_or_show(ctx: CommandContext, side: str, message: Message) -> Message | None:
    """Post to the side's channel; in that very channel (or with no such channel, where
    the audience allows) the reply shows it instead."""
    if ctx.side != side and await ctx.post_to_side(side, message):
        return None
    if ctx.audience == "client" and message.audience != "client":
        return None
    return message


async def _waiting_on_client(ctx: CommandContext) -> list[str]:
    pid = ctx.the_project.id
    changes = await ctx.session.scalar(
        select(func.count(ChangeRequest.id)).where(
            ChangeRequest.project_id == pid, ChangeRequest.status == "pending"
        )
    )
    signoffs = await ctx.session.scalar(
        select(func.count(Milestone.id)).where(
            Milestone.project_id == pid,
            Milestone.client_signoff.is_(True),
            Milestone.done_at.is_not(None),
            Milestone.signed_off_at.is_(None),
        )
    )
    waiting = []
    if changes:
        waiting.append(f"{changes} change request{'s' if changes != 1 else ''} to approve")
    if signoffs:
        waiting.append(f"{signoffs} milestone sign-off{'s' if signoffs != 1 else ''}")
    return waiting


def _retro_until(project: Project) -> datetime:
    """The retrospective stays open for 3 working days, until the check-in time."""
    assert project.closed_on is not None
    cal = calendar(project.working_days, project.country, project.closed_on.year)
    last = cal.add(project.closed_on, RETRO_WORKING_DAYS)
    return local_instant(last, project.checkin_time, project.timezone)


async def _ask_for_retro(ctx: CommandContext, project: Project) -> int:
    """DM the delivery team (never a client) the retrospective prompt; how many were."""
    team = await ctx.session.scalars(
        select(Person)
        .join(Membership, Membership.person_id == Person.id)
        .join(
            Acquaintance,
            (Acquaintance.person_id == Person.id) & (Acquaintance.tenant_id == project.tenant_id),
        )
        .where(
            Membership.project_id == project.id,
            Membership.role.in_(("pm", "member")),
            Acquaintance.external.is_(False),
        )
        .order_by(Membership.id)
    )
    assert project.retro_until is not None
    asked = 0
    for person in team.all():
        prompt = retro_prompt(
            project.name, project.retro_until, person.timezone or project.timezone
        )
        asked += await ctx.direct_message(person, prompt)
    return asked


@command(
    "project reopen",
    usage='project reopen [project:"Name"]',
    summary="Make a closed project active again (its schedule resumes)",
    area="projects",
    roles=PM,
    on_closed=True,
)
async def project_reopen(ctx: CommandContext, args: Args) -> Message:
    project = ctx.the_project
    if not project.archived:
        raise ctx.fail(f"{project.name} is not closed.")
    project.archived, project.closed_on, project.retro_until = False, None, None
    return ctx.say(
        Text(f"{project.name} is active again: check-ins, reminders and reports resume.")
    )


@command(
    "report final",
    reads_only=True,
    usage='report final [project:"Name"]',
    summary="The final report of a closed project, with the client's survey",
    area="reports",
    roles=TEAM,
)
async def report_final(ctx: CommandContext, args: Args) -> Message:
    project = ctx.the_project
    if not project.archived:
        raise ctx.fail(f"{project.name} is not closed yet; `project close` makes its final report.")
    if ctx.audience == "client":
        raise ctx.refuse(
            "The final report is internal: this channel is shared with the client. "
            "Ask for it in the team channel or a direct message."
        )
    return ctx.say(*final_report(await load_final_figures(ctx.session, project)).blocks)


@command(
    "survey",
    usage='survey SATISFACTION(1-5) RECOMMEND(0-10) ["comment"]',
    summary="The client's final survey of a closed project",
    area="projects",
    roles=frozenset({"client"}),
    on_closed=True,
)
async def survey(ctx: CommandContext, args: Args) -> Message:
    project = ctx.the_project
    satisfaction, recommend, comment = _survey_answers(ctx, args)
    if (problem := survey_error(satisfaction, recommend)) is not None:
        raise ctx.fail(problem)
    if not project.archived:
        raise ctx.fail(f"The final survey opens when {project.name} is closed.")
    answer = await ctx.session.scalar(
        select(SurveyAnswer).where(
            SurveyAnswer.project_id == project.id, SurveyAnswer.person_id == ctx.me.id
        )
    )
    if answer is None:
        answer = SurveyAnswer(project_id=project.id, person_id=ctx.me.id)
        ctx.session.add(answer)
    answer.satisfaction, answer.recommend, answer.comment = satisfaction, recommend, comment
    answer.answered_at = ctx.now
    await ctx.post_to_side(
        "team",
        Message((Text(f"{ctx.me.display_name} answered the final survey: `report final`."),)),
    )
    return ctx.whisper(Text("Thank you for your answers; you may change them by answering again."))


def _survey_answers(ctx: CommandContext, args: Args) -> tuple[int, int, str | None]:
    """From the form's fields, else typed: `survey 5 9 "comment"`."""
    if not ctx.fields:
        satisfaction = args.number("satisfaction (1-5)")
        recommend = args.number("how likely you are to recommend us (0-10)")
        return satisfaction, recommend, args.text()
    scores = []
    for key, what in (("satisfaction", "Satisfaction"), ("recommend", "Recommend")):
        value = ctx.fields.get(key, "").strip()
        if not value.isdigit() or len(value) > 3:
            raise ctx.fail(f"{what} should be a number like 4, not `{value[:20]}`.")
        scores.append(int(value))
    comment = ctx.fields.get("comment", "").strip()[:1000] or None
    return scores[0], scores[1], comment


def _retro_answers(ctx: CommandContext, args: Args) -> tuple[str, str]:
    """From the form's fields, else the two quoted answers typed."""
    if ctx.fields:
        answers = [ctx.fields.get(k, "").strip()[:1000] for k in ("went_well", "would_change")]
        if not all(answers):
            raise ctx.fail("Answer both questions: what went well, and what you would change.")
        return answers[0], answers[1]
    went_well = args.text("what went well")
    would_change = args.text("what you would change")
    assert went_well is not None and would_change is not None
    return went_well, would_change


@command(
    "retro",
    usage='retro "what went well" "what you would change" [project:"Name"]',
    summary="Answer the retrospective of a closed project (team only, never shown to the client)",
    area="projects",
    roles=TEAM,
    on_closed=True,
)
async def retro(ctx: CommandContext, args: Args) -> Message:
    project = ctx.the_project
    went_well, would_change = _retro_answers(ctx, args)
    if ctx.audience == "client":
        raise ctx.refuse("Retrospectives are internal: answer in a direct message with me.")
    if not project.archived or project.retro_until is None or project.closed_on is None:
        raise ctx.fail(f"{project.name} has no retrospective open: it is not closed.")
    if ctx.now >= project.retro_until:
        raise ctx.fail(
            f"The retrospective of {project.name} closed on {project.retro_until:%Y-%m-%d}."
        )
    answer = await ctx.session.scalar(
        select(RetroAnswer).where(
            RetroAnswer.project_id == project.id,
            RetroAnswer.person_id == ctx.me.id,
            RetroAnswer.closed_on == project.closed_on,
        )
    )
    if answer is None:
        answer = RetroAnswer(
            project_id=project.id, person_id=ctx.me.id, closed_on=project.closed_on
        )
        ctx.session.add(answer)
    answer.went_well, answer.would_change, answer.answered_at = went_well, would_change, ctx.now
    return ctx.whisper(
        Text("Thanks: your answers go to the team channel with everyone's when the retro closes.")
    )


@command(
    "project delete",
    usage='project delete "Project name"',
    summary="Delete a closed project and everything in it (type its name to confirm)",
    area="projects",
    roles=PM,
    on_closed=True,
)
async def project_delete(ctx: CommandContext, args: Args) -> Message:
    project = ctx.the_project
    typed = args.text()
    if not project.archived:
        raise ctx.fail(
            f"Only a closed project can be deleted; `project close` {project.name} first."
        )
    if typed != project.name:
        raise ctx.fail(
            f"To delete {project.name} and everything in it, type its name: "
            f'`project delete "{project.name}"`. This cannot be undone.'
        )
    name = project.name
    await delete_project_rows(ctx, project.id)
    ctx.session.expunge(project)
    ctx.project = ctx.membership = None  # the audit record keeps that it happened, no more
    return ctx.whisper(Text(f"{name} and everything in it are deleted."))


async def delete_project_rows(ctx: CommandContext, project_id: int) -> None:
    """Every row that belongs to the project, children before parents: each table with a
    `project_id` (the ones added later included), then the project."""
    session = ctx.session
    # Outbox replies point at their parent row: unhook them before deleting either.
    await session.execute(
        update(Delivery).where(Delivery.project_id == project_id).values(thread_of=None)
    )
    for table in reversed(Base.metadata.sorted_tables):
        if "project_id" in table.c and table is not Project.__table__:
            await session.execute(delete(table).where(table.c.project_id == project_id))
    await session.execute(delete(Project.__table__).where(Project.id == project_id))
