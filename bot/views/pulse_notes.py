"""What the client satisfaction pulse says: the question for the client side (buttons, a
form with a choice set and a comment, and the typed form), the team's view with the trend,
a client's view of their own answers, and the PM's alert. Only the question and a client's
own answers are client-audience; they never carry another person's answer or an average."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.domain.pulse import SCORES, PulsePoint, latest_two
from bot.messages import (
    Actions,
    Block,
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
from bot.views.notices import day_label

QUESTION = "How satisfied are you with how the project is going?"
SCALE = "1 = very unhappy, 5 = very happy"
TYPED = 'Or type `pulse 4 "optional comment"`. You can change your answer until the next pulse.'


def question(project_name: str, day: date) -> Message:
    # Posted in the client side, which names the project: the buttons carry the score only.
    buttons = tuple(Button(str(n), "pulse", str(n)) for n in SCORES)
    form = Form(
        (
            Field(
                "score", f"Your score ({SCALE})", multiline=False, choices=tuple(map(str, SCORES))
            ),
            Field("comment", "Anything you would like to add? (optional)"),
        ),
        "Send with a comment",
        "pulse",
    )
    return Message(
        blocks=(
            Heading(f"{project_name}: a quick question, {day_label(day)}"),
            Text(f"{QUESTION} ({SCALE})"),
            Actions(buttons),
            form,
            Context(TYPED),
        ),
        audience="client",
    )


def thanks(project_name: str, score: int, comment: str | None, changed: bool) -> Message:
    said = "changed to" if changed else "noted:"
    lines: list[Block] = [
        Text(f"Thank you: your answer for {project_name} is {said} {score} of 5.")
    ]
    if comment:
        lines.append(Context(f"Your comment: {comment}"))
    return Message(tuple(lines), audience="client", visibility="ephemeral")


def own_answers(project_name: str, answers: Sequence[tuple[date, int, str | None]]) -> Message:
    """A client's own answers, and nothing else (no other answer, no average)."""
    items = tuple(
        Item(f"{day_label(day)}: {score} of 5" + (f" ({comment})" if comment else ""), "info")
        for day, score, comment in answers
    )
    return Message(
        (
            Heading(f"{project_name}: your pulse answers"),
            Items(items, empty="You have not answered a pulse yet."),
            Context(TYPED),
        ),
        audience="client",
        visibility="ephemeral",
    )


def pulse_trend_blocks(points: Sequence[PulsePoint]) -> list[Block]:
    """The trend line for internal reports (nothing when no pulse was asked)."""
    if not points:
        return []
    trend = " → ".join(str(p.average) if p.average is not None else "-" for p in points)
    latest, previous = latest_two(points)
    facts = [("Client satisfaction", f"{latest} of 5" if latest is not None else "no answers")]
    if previous is not None:
        facts.append(("Previous pulse", f"{previous} of 5"))
    facts.append(("Last pulses", trend))
    return [Heading("Client pulse"), Facts(tuple(facts))]


def team_view(
    project_name: str,
    points: Sequence[PulsePoint],
    rate: tuple[int, int],
    comments: Sequence[tuple[str, int, str]],
) -> list[Block]:
    answered, asked = rate
    blocks: list[Block] = [Heading(f"{project_name}: client pulse")]
    if not points:
        return [*blocks, Text("No pulse has been asked yet. `pulse now` asks the client side.")]
    blocks += pulse_trend_blocks(points)[1:]
    blocks.append(Facts((("Responses", f"{answered} of {asked} client people"),)))
    blocks.append(Heading("Comments"))
    blocks.append(
        Items(
            tuple(Item(f"{who} ({score}): {text}", "info") for who, score, text in comments),
            empty="No comments on the latest pulse.",
        )
    )
    return blocks


def alert(project_name: str, reason: str, who: str, score: int, comment: str | None) -> Message:
    said = f"{who} answered {score} of 5" + (f': "{comment}"' if comment else "")
    return Message(
        (
            Heading(f"{project_name}: client pulse alert"),
            Text(f"{reason[0].upper()}{reason[1:]}."),
            Context(said + ". Internal: the client does not see this."),
        ),
        audience="internal",
    )
