"""The daily huddle's messages: the prompt (a form every platform can show, pre-filled where
an earlier answer helps, with a typed form for the console and a Skip today button), the
reminder, and the digest with blockers on top, then who is missing and who skipped. Answers
are internal: every message here is for the team only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from bot.domain.blocker_rules import age_label, blocker_age
from bot.domain.schedule import Teammate, zone
from bot.domain.working_days import WorkCalendar
from bot.messages import (
    Actions,
    Button,
    Context,
    Facts,
    Field,
    Form,
    Heading,
    Item,
    Items,
    Message,
    Text,
)
from bot.views.mood_data import MOOD_QUESTION
from bot.views.notices import Blocker, day_label
from storage.models import HuddleAnswer, HuddleBlocker, Person, Project

DEFAULT_QUESTIONS = (
    "What did you get done since the last huddle?",
    "What are you working on today?",
    "Anything blocking you?",
)
NO_BLOCKER = {
    "",
    "-",
    "--",
    "no",
    "none",
    "nope",
    "n/a",
    "na",
    "nothing",
    "no blockers",
    "all good",
}


def questions_of(stored: Sequence[str] | None) -> tuple[str, ...]:
    return tuple(stored) if stored else DEFAULT_QUESTIONS


def blocker_index(questions: Sequence[str]) -> int:
    """Which answer holds blockers: the question that mentions them, else the last one."""
    for index, question in enumerate(questions):
        if "block" in question.lower():
            return index
    return len(questions) - 1


def blocker_of(questions: Sequence[str], answers: Sequence[str]) -> str | None:
    index = blocker_index(questions)
    text = answers[index].strip() if index < len(answers) else ""
    return None if text.lower().rstrip(".!") in NO_BLOCKER else text


def today_index(questions: Sequence[str]) -> int | None:
    """Which question asks about today's work: the one that says "today", else the second."""
    for index, question in enumerate(questions):
        if "today" in question.lower():
            return index
    return 1 if len(questions) > 1 else None


def prefill_from_yesterday(questions: Sequence[str], previous: Sequence[str]) -> list[str]:
    """The first question opens with what the person said they would do last time."""
    index = today_index(questions)
    if index is None or index == 0 or index >= len(previous) or not str(previous[index]).strip():
        return []
    return [str(previous[index]).strip()]


def huddle_value(project: Project, day: date) -> str:
    """What the form and the buttons carry: which huddle they answer."""
    return f'project:"{project.name}" day:{day.isoformat()}'


def answer_form(
    project: Project,
    day: date,
    questions: Sequence[str],
    initial: Sequence[str] = (),
    mood: bool = False,
) -> Form:
    values = list(initial) + [""] * (len(questions) - len(initial))
    fields = tuple(Field(f"q{i + 1}", q, initial=values[i]) for i, q in enumerate(questions))
    if mood:
        fields += (Field("mood", MOOD_QUESTION, multiline=False, optional=True),)
    return Form(fields, "Send answers", "huddle answer", huddle_value(project, day))


def skip_button(project: Project, day: date) -> Actions:
    return Actions((Button("Skip today", "huddle skip", huddle_value(project, day)),))


def typed_hint(questions: Sequence[str]) -> str:
    slots = " ".join(f'"answer {i + 1}"' for i in range(len(questions)))
    return f"Or type `huddle answer {slots}`. Answers go to the team only."


def prompt(
    project: Project,
    day: date,
    questions: Sequence[str],
    closes: datetime,
    tz: str,
    initial: Sequence[str] = (),
    mood: bool = False,
) -> Message:
    local = closes.astimezone(zone(tz))
    return Message(
        blocks=(
            Heading(f"Huddle for {project.name}, {day_label(day)}"),
            Text(f"A minute for the team: answer by {local:%H:%M} ({tz})."),
            answer_form(project, day, questions, initial, mood),
            skip_button(project, day),
            Context(typed_hint(questions) + ' Not today? `huddle skip "reason"`.'),
        ),
        audience="internal",
    )


def reminder(
    project: Project,
    day: date,
    questions: Sequence[str],
    closes: datetime,
    tz: str,
    mood: bool = False,
) -> Message:
    local = closes.astimezone(zone(tz))
    return Message(
        blocks=(
            Text(
                f"Reminder: the {project.name} huddle closes at {local:%H:%M} ({tz}) "
                "and I have no answer from you yet."
            ),
            answer_form(project, day, questions, (), mood),
            skip_button(project, day),
            Context(typed_hint(questions)),
        ),
        audience="internal",
    )


@dataclass(frozen=True, slots=True)
class BlockerLine:
    """A blocker item as the digest and the check-in show it."""

    number: int
    who: str
    text: str
    age: int  # working days since first said
    new: bool  # first said on the digest's day: it gets Acknowledge / Resolve buttons
    status: str = "open"

    def line(self) -> str:
        acked = ", acknowledged" if self.status == "acknowledged" else ""
        return f"#{self.number} {self.who}: {self.text} ({age_label(self.age)}{acked})"


def blocker_lines(
    items: Sequence[HuddleBlocker], day: date, names: dict[int, str], cal: WorkCalendar
) -> list[BlockerLine]:
    """The unresolved blockers said on `day` (new ones and ones repeated)."""
    return [
        BlockerLine(
            b.number,
            names.get(b.author_id, "someone"),
            b.text,
            blocker_age(cal, b.first_day, day),
            b.first_day == day,
            b.status,
        )
        for b in items
        if b.last_day == day and b.status != "resolved"
    ]


def blocker_buttons(project: Project, lines: Sequence[BlockerLine]) -> Actions | None:
    buttons = []
    for b in lines:
        if b.new:
            value = f'{b.number} project:"{project.name}"'
            if b.status == "open":
                buttons.append(Button(f"Acknowledge #{b.number}", "blocker ack", value))
            buttons.append(Button(f"Resolve #{b.number}", "blocker resolve", value, "primary"))
    return Actions(tuple(buttons)) if buttons else None


def with_escalations(message: Message | None, lines: Sequence[BlockerLine]) -> Message:
    """The morning check-in with the blockers escalated today on top."""
    top = tuple(Text(f"Escalated: blocker {b.line()}") for b in lines)
    if message is None:
        return Message(blocks=top, audience="internal")
    return Message(blocks=top + message.blocks, audience=message.audience)


def escalation(project: Project, blocker: BlockerLine) -> Message:
    """To the PM: a blocker unresolved for the project's escalation age."""
    value = f'{blocker.number} project:"{project.name}"'
    buttons = [Button(f"Resolve #{blocker.number}", "blocker resolve", value, "primary")]
    if blocker.status == "open":
        buttons.insert(0, Button(f"Acknowledge #{blocker.number}", "blocker ack", value))
    return Message(
        blocks=(
            Heading(f"Blocker escalated: {project.name}"),
            Text(f"Unresolved for {age_label(blocker.age)}: {blocker.line()}"),
            Actions(tuple(buttons)),
            Context(
                f"Or type `blocker assign {blocker.number} @who` or `blocker "
                f"{blocker.number} to-task @owner`."
            ),
        ),
        audience="internal",
    )


def digest(
    project: Project,
    day: date,
    questions: Sequence[str],
    answers: Sequence[HuddleAnswer],
    asked: Sequence[Person | Teammate],
    names: dict[int, str],
    optional: frozenset[int] | set[int] = frozenset(),
    blockers: Sequence[BlockerLine] | None = None,
) -> tuple[Message, list[Message]]:
    """The team side's digest (blockers on top, then required people with no answer under
    Missing and who skipped, with why) and one reply per answer, which Slack and Teams put
    in the digest's thread so the channel stays quiet. Optional people are never missing."""
    answered = [a for a in answers if not a.skipped]
    skipped = [a for a in answers if a.skipped]
    replied = {a.person_id for a in answers}
    missing = [p.display_name for p in asked if p.id not in replied and p.id not in optional]
    expected = len(answered) + len(missing)
    blocks: list[Heading | Items | Text | Context | Actions] = [
        Heading(f"Huddle {project.name}, {day_label(day)}: {len(answered)} of {expected} answered")
    ]
    if blockers is None:  # no blocker items at hand: the answers' own text
        items = [
            Item(f"{names.get(a.person_id, 'someone')}: {a.blockers}", "blocked")
            for a in answered
            if a.blockers
        ]
    else:
        items = [Item(b.line(), "blocked") for b in blockers]
    if items:
        blocks += [Heading("Blockers"), Items(tuple(items))]
        buttons = blocker_buttons(project, blockers or ())
        if buttons is not None:
            blocks.append(buttons)
    if missing:
        blocks.append(Text("Missing: " + ", ".join(missing) + "."))
    if skipped:
        blocks.append(Text("Skipped: " + ", ".join(_skip_line(a, names) for a in skipped) + "."))
    if answered:
        blocks.append(Context("Each answer follows in the thread."))
    parent = Message(blocks=tuple(blocks), audience="internal")
    return parent, [answer_reply(a, questions, names) for a in answered]


def answer_reply(
    answer: HuddleAnswer, questions: Sequence[str], names: dict[int, str], *, late: bool = False
) -> Message:
    """One person's answers, for the digest's thread (marked late after the digest)."""
    who = names.get(answer.person_id, "Someone")
    return Message(
        blocks=(
            Text(f"{who} (late)" if late else who),
            Facts(tuple(zip(questions, _padded(answer.answers, len(questions)), strict=True))),
        ),
        audience="internal",
    )


def _skip_line(answer: HuddleAnswer, names: dict[int, str]) -> str:
    who = names.get(answer.person_id, "someone")
    return f"{who} ({answer.skip_reason})" if answer.skip_reason else who


def _padded(answers: Sequence[str], count: int) -> list[str]:
    values = [str(a) if str(a).strip() else "-" for a in answers[:count]]
    return values + ["-"] * (count - len(values))


def carried_blockers(
    answers: Sequence[HuddleAnswer], day: date, names: dict[int, str]
) -> list[Blocker]:
    """Blockers of the last huddle before `day`, for the morning check-in."""
    earlier = [a.huddle_date for a in answers if a.huddle_date < day]
    if not earlier:
        return []
    last = max(earlier)
    return [
        Blocker(names.get(a.person_id, "someone"), a.blockers)
        for a in answers
        if a.huddle_date == last and a.blockers
    ]
