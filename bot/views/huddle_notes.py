"""The daily huddle's messages: the prompt (a form every platform can show, with a typed
form for the console), the reminder, and the digest with blockers on top. Answers are
internal: every message here is for the team only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from bot.domain.schedule import zone
from bot.messages import Context, Facts, Field, Form, Heading, Item, Items, Message, Text
from bot.views.notices import Blocker, day_label
from storage.models import HuddleAnswer, Person, Project

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


def answer_form(project: Project, day: date, questions: Sequence[str]) -> Form:
    fields = tuple(Field(f"q{i + 1}", q) for i, q in enumerate(questions))
    value = f'project:"{project.name}" day:{day.isoformat()}'
    return Form(fields, "Send answers", "huddle answer", value)


def typed_hint(questions: Sequence[str]) -> str:
    slots = " ".join(f'"answer {i + 1}"' for i in range(len(questions)))
    return f"Or type `huddle answer {slots}`. Answers go to the team only."


def prompt(
    project: Project, day: date, questions: Sequence[str], closes: datetime, tz: str
) -> Message:
    local = closes.astimezone(zone(tz))
    return Message(
        blocks=(
            Heading(f"Huddle for {project.name}, {day_label(day)}"),
            Text(f"A minute for the team: answer by {local:%H:%M} ({tz})."),
            answer_form(project, day, questions),
            Context(typed_hint(questions)),
        ),
        audience="internal",
    )


def reminder(
    project: Project, day: date, questions: Sequence[str], closes: datetime, tz: str
) -> Message:
    local = closes.astimezone(zone(tz))
    return Message(
        blocks=(
            Text(
                f"Reminder: the {project.name} huddle closes at {local:%H:%M} ({tz}) "
                "and I have no answer from you yet."
            ),
            answer_form(project, day, questions),
            Context(typed_hint(questions)),
        ),
        audience="internal",
    )


def digest(
    project: Project,
    day: date,
    questions: Sequence[str],
    answers: Sequence[HuddleAnswer],
    asked: Sequence[Person],
    names: dict[int, str],
) -> tuple[Message, list[Message]]:
    """The team side's digest (blockers on top) and one reply per answer, which Slack
    puts in a thread so the channel stays quiet."""
    blockers = [
        Item(f"{names.get(a.person_id, 'someone')}: {a.blockers}", "blocked")
        for a in answers
        if a.blockers
    ]
    answered = {a.person_id for a in answers}
    silent = [p.display_name for p in asked if p.id not in answered]
    blocks: list[Heading | Items | Text | Context] = [
        Heading(
            f"Huddle {project.name}, {day_label(day)}: {len(answered)} of {len(asked)} answered"
        )
    ]
    if blockers:
        blocks += [Heading("Blockers"), Items(tuple(blockers))]
    if silent:
        blocks.append(Text("No answer from " + ", ".join(silent) + "."))
    if answers:
        blocks.append(Context("Each answer follows in the thread."))
    parent = Message(blocks=tuple(blocks), audience="internal")
    replies = [
        Message(
            blocks=(
                Text(names.get(a.person_id, "Someone")),
                Facts(tuple(zip(questions, _padded(a.answers, len(questions)), strict=True))),
            ),
            audience="internal",
        )
        for a in answers
    ]
    return parent, replies


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
