"""Neutral Message -> Bot Framework message activities carrying Adaptive Cards (schema 1.5).

Pure functions that return JSON-ready dicts. Every activity stays under MAX_ACTIVITY_BYTES
(longer messages are split into several cards), carries a short `text` fallback, and every
string that may come from a user is escaped so that it cannot format, link or @mention."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from typing import Any

from adapters.teams.inbound import FIELD_PREFIX
from bot import messages as m

CARD_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
MAX_ACTIVITY_BYTES = 80_000
# Room left in a card for its elements once the activity envelope (addresses, the three
# copies of the headline) is counted.
CARD_BUDGET = MAX_ACTIVITY_BYTES - 8_000
# One element (a chunk of text, a FactSet) is kept well below a card.
ELEMENT_BUDGET = 20_000
BUTTONS_PER_ROW = 5
HEADLINE_CHARS = 100
MARKS = {
    "open": "\u2610",
    "done": "\u2611",
    "blocked": "\u26d4",
    "overdue": "\u26a0\ufe0f",
    "due": "\u23f0",
    "info": "\u2022",
    "green": "\U0001f7e2",
    "amber": "\U0001f7e0",
    "red": "\U0001f534",
}
STYLES = {"primary": "positive", "danger": "destructive"}

Element = dict[str, Any]

# Markdown the Adaptive Card TextBlock understands, plus <> so `<at>` cannot mention anyone.
_INLINE_RE = re.compile(r"([\\*_\[\]()<>~|#])")
_LINE_START_RE = re.compile(r"^(\s*)(?:([-+])|(\d+)\.)(?=\s)", re.MULTILINE)


def escape(text: str) -> str:
    """Text shown literally: no bold, links, lists or mentions made by whoever typed it."""
    text = _INLINE_RE.sub(r"\\\1", text)
    text = _LINE_START_RE.sub(_no_list, text)
    # A TextBlock needs a blank line for a line break.
    return re.sub(r"\n+", "\n\n", text)


def _no_list(match: re.Match[str]) -> str:
    """`- item`, `+ item`, `1. item` at a line start stay text, not a list."""
    indent, bullet, number = match.groups()
    return f"{indent}\\{bullet}" if bullet else f"{indent}{number}\\."


def size_of(data: Any) -> int:
    """Bytes on the wire: the SDK serialises with ASCII escapes (6-12 bytes per non-ASCII)."""
    return len(json.dumps(data, separators=(",", ":")).encode())


# --- blocks -> elements -------------------------------------------------------------------


def _text_blocks(text: str, **style: Any) -> Iterator[Element]:
    """TextBlocks for a possibly long text, each under ELEMENT_BUDGET."""
    for chunk in _chunks(text):
        yield {"type": "TextBlock", "text": escape(chunk), "wrap": True, **style}


def _chunks(text: str) -> Iterator[str]:
    # A character costs at most ~24 bytes escaped and encoded, so this slice always fits.
    longest = ELEMENT_BUDGET // 24
    lines: list[str] = []
    size = 0
    for line in text.split("\n"):
        for piece in [line[i : i + longest] for i in range(0, len(line), longest)] or [""]:
            cost = size_of(escape(piece)) + 4
            if lines and size + cost > ELEMENT_BUDGET:
                yield "\n".join(lines)
                lines, size = [], 0
            lines.append(piece)
            size += cost
    yield "\n".join(lines)


def _facts(pairs: tuple[tuple[str, str], ...]) -> Iterator[Element]:
    facts: list[dict[str, str]] = []
    size = 0
    for label, value in pairs:
        for chunk in _chunks(value) if value else [""]:
            fact = {"title": escape(label[:200]), "value": escape(chunk)}
            cost = size_of(fact) + 1
            if facts and size + cost > ELEMENT_BUDGET:
                yield {"type": "FactSet", "facts": facts}
                facts, size = [], 0
            facts.append(fact)
            size += cost
            label = ""  # a long value goes on in the next fact, under no title
    if facts:
        yield {"type": "FactSet", "facts": facts}


def _items(block: m.Items) -> Iterator[Element]:
    if not block.items:
        yield from _text_blocks(block.empty, isSubtle=True)
    for item in block.items:
        mark = MARKS.get(item.status, "\u2022")
        for number, element in enumerate(_text_blocks(item.text, spacing="Small")):
            yield {**element, "text": f"{mark} {element['text']}"} if number == 0 else element


def _submit(title: str, action_id: str, value: str, style: str = "default") -> Element:
    action: Element = {
        "type": "Action.Submit",
        "title": title[:100],
        "data": {"action_id": action_id, "value": value},
    }
    if style in STYLES:
        action["style"] = STYLES[style]
    return action


def _actions(buttons: tuple[m.Button, ...]) -> Iterator[Element]:
    for start in range(0, len(buttons), BUTTONS_PER_ROW):
        row = buttons[start : start + BUTTONS_PER_ROW]
        yield {
            "type": "ActionSet",
            "actions": [_submit(b.label, b.action_id, b.value, b.style) for b in row],
        }


def _input(field: m.Field) -> Element:
    if field.choices:
        return {
            "type": "Input.ChoiceSet",
            "id": FIELD_PREFIX + field.field_id,
            "label": field.label[:500],
            "style": "expanded",
            "choices": [{"title": c, "value": c} for c in field.choices],
        }
    return {
        "type": "Input.Text",
        "id": FIELD_PREFIX + field.field_id,
        "label": field.label[:500],
        "isMultiline": field.multiline,
        "maxLength": 2000,
    } | ({"value": field.initial[:2000]} if field.initial else {})


def _form(form: m.Form) -> Element:
    """Inputs and their submit button stay in one container: a card submits its own inputs."""
    inputs = [_input(field) for field in form.fields]
    submit = {
        "type": "ActionSet",
        "actions": [_submit(form.submit_label, form.action_id, form.value, "primary")],
    }
    return {"type": "Container", "items": [*inputs, submit]}


def _image(image: m.Image) -> Iterator[Element]:
    url = "data:image/png;base64," + base64.b64encode(image.png).decode()
    element = {"type": "Image", "url": url, "altText": image.alt[:500], "size": "Stretch"}
    if size_of(element) <= CARD_BUDGET:
        yield element
    else:
        yield from _text_blocks(
            f"(chart not shown: too large for Teams) {image.alt}", isSubtle=True
        )


def _file(file: m.File) -> Iterator[Element]:
    # Bots cannot attach files in channels without Graph; show the content as text instead.
    for name, text in file.as_texts():
        yield from _text_blocks(f"\U0001f4ce {name}", weight="Bolder")
        yield from _text_blocks(text.rstrip("\n"), fontType="Monospace", spacing="Small")


def elements_of(block: m.Block) -> Iterator[Element]:
    match block:
        case m.Heading(text=text):
            yield from _text_blocks(text, weight="Bolder", size="Medium", style="heading")
        case m.Text(text=text):
            yield from _text_blocks(text)
        case m.Context(text=text):
            yield from _text_blocks(text, isSubtle=True, size="Small")
        case m.Facts(pairs=pairs):
            yield from _facts(pairs)
        case m.Items():
            yield from _items(block)
        case m.Actions(buttons=buttons):
            yield from _actions(buttons)
        case m.Form():
            yield _form(block)
        case m.Image():
            yield from _image(block)
        case m.File():
            yield from _file(block)


# --- elements -> cards -> activities --------------------------------------------------------


def headline(message: m.Message) -> str:
    """A one-line summary for notifications and clients that cannot show cards."""
    for block in message.blocks:
        match block:
            case m.Heading(text=text) | m.Text(text=text) | m.Context(text=text):
                line = text.strip().split("\n")[0]
            case m.Facts(pairs=pairs) if pairs:
                line = f"{pairs[0][0]}: {pairs[0][1]}"
            case m.Items(items=items) if items:
                line = items[0].text
            case m.File(name=name):
                line = name
            case _:
                continue
        if line:
            return line[:HEADLINE_CHARS]
    return "Liaison"


def _card(body: list[Element], fallback: str) -> dict[str, Any]:
    return {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": "1.5",
        "body": body,
        "fallbackText": fallback,
        "msteams": {"width": "Full"},
    }


def _activity(card: dict[str, Any], text: str, summary: str) -> dict[str, Any]:
    return {
        "type": "message",
        "text": text,
        "textFormat": "markdown",
        # Notifications show the summary as plain text: no markdown escapes there.
        "summary": summary,
        "attachments": [{"contentType": CARD_TYPE, "content": card}],
    }


def _bodies(elements: list[Element]) -> Iterator[list[Element]]:
    body: list[Element] = []
    size = 0
    for element in elements:
        cost = size_of(element) + 1
        if body and size + cost > CARD_BUDGET:
            yield body
            body, size = [], 0
        body.append(element)
        size += cost
    yield body


def render_activities(message: m.Message) -> list[dict[str, Any]]:
    """One activity per card; more than one only when the message is too long for one."""
    elements = [element for block in message.blocks for element in elements_of(block)]
    first = headline(message)
    activities = []
    for number, body in enumerate(_bodies(elements)):
        summary = first if number == 0 else f"{first} (continued)"
        text = escape(summary)
        activities.append(_activity(_card(body, text), text, summary))
    return activities
