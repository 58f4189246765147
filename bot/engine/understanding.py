"""Lines that are not a command as typed: a question a command answers ("what's overdue?"),
or a near miss of a command's name (`tsk add ...`), offered back whole as a suggestion.

Both match tolerantly with rapidfuzz, imported on first need, and both keep a threshold: a
wrong guess is worse than none. Only the engine calls this, after the registry found nothing.
The questions live with the commands (`@command(questions=...)`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.engine.registry import Registry

QUESTION_SCORE = 86  # out of 100: "whats overdue" and "what is overdue?" match, "what's up" not
NAME_SCORE = 80  # "tsk add" -> "task add", "stauts" -> "status"; "hello" -> nothing
MAX_QUESTION = 120  # characters; longer lines are not one of our short questions
MAX_SLOT = 80
SLOT = "{project}"
CONTRACTIONS = re.compile(r"\b(what|how|who|where|that|it)'s\b", re.IGNORECASE)
NOT_IN_QUESTIONS = re.compile(r"[?!.,\s]+")


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A line that is probably what was meant: the command's name and its arguments."""

    name: str
    arguments: str

    @property
    def line(self) -> str:
        return f"{self.name} {self.arguments}".strip()


def normalise(text: str) -> str:
    """`What’s  overdue?` -> `what is overdue`, case kept where it matters (slots)."""
    text = CONTRACTIONS.sub(r"\1 is", text.replace("\u2019", "'"))
    return NOT_IN_QUESTIONS.sub(" ", text).strip()


def answer_question(line: str, registry: Registry) -> Suggestion | None:
    """The command line a question asks for, when it is close enough to a known one."""
    if len(line) > MAX_QUESTION:
        return None
    said = normalise(line)
    plain, slotted = _questions(registry)
    best = _process().extractOne(said.lower(), list(plain), scorer=_fuzz().ratio)
    if best is not None and best[1] >= QUESTION_SCORE:
        return plain[best[0]]
    for (before, after), (name, arguments) in slotted.items():
        found = _slot(said, before, after)
        if found:
            return Suggestion(name, arguments.replace(SLOT, found.replace('"', "")))
    return None


def _slot(said: str, before: str, after: str) -> str | None:
    """The words between a question's fixed parts: `how is Acme Web going` -> `Acme Web`."""
    lowered = said.lower()
    head, tail = lowered[: len(before)], lowered[len(lowered) - len(after) :] if after else ""
    if len(said) <= len(before) + len(after):
        return None
    ratio = _fuzz().ratio
    if ratio(head, before) < QUESTION_SCORE or (after and ratio(tail, after) < QUESTION_SCORE):
        return None
    middle = said[len(before) : len(said) - len(after)].strip()
    return middle if 0 < len(middle) <= MAX_SLOT else None


@lru_cache(maxsize=16)  # per registry: built once, read on every line that is not a command
def _questions(
    registry: Registry,
) -> tuple[dict[str, Suggestion], dict[tuple[str, str], tuple[str, str]]]:
    plain: dict[str, Suggestion] = {}
    slotted: dict[tuple[str, str], tuple[str, str]] = {}
    for spec in registry.all():
        for question, arguments in spec.questions:
            said = normalise(question).lower()
            if SLOT in question:
                before, _, after = said.partition(normalise(SLOT).lower())
                slotted[(before, after)] = (spec.name, arguments)
            else:
                plain[said] = Suggestion(spec.name, arguments)
    return plain, slotted


def near_miss(text: str, registry: Registry) -> Suggestion | None:
    """The whole line with its command's name corrected, when the name is a near miss."""
    words = text.split(maxsplit=3)
    if not words or len(words[0]) > 40:
        return None
    names = registry.spoken_names()
    for count in (2, 1):  # a two-word name first: `taks add` is `task add`, not `tasks`
        if len(words) < count:
            continue
        typed = " ".join(words[:count]).lower()
        found = _process().extractOne(
            typed, [n for n in names if len(n.split()) == count], scorer=_fuzz().ratio
        )
        if found is not None and found[1] >= NAME_SCORE:
            return _corrected(text, count, names[found[0]].name)
    return None


def _corrected(text: str, count: int, name: str) -> Suggestion:
    """The line with its first `count` words replaced by the command's own name."""
    words = text.split(maxsplit=count)
    return Suggestion(name, words[count] if len(words) > count else "")


@cache
def _fuzz() -> Any:
    from rapidfuzz import fuzz

    return fuzz


@cache
def _process() -> Any:
    from rapidfuzz import process

    return process
