"""Neutral messages -> Block Kit, within Slack's limits.

Every piece of text is escaped (`&`, `<`, `>`), so `<!channel>` typed into a task title shows
as text and pings nobody. Content that does not fit one section, one message or one field
list is split across several, never cut. Images and files become uploads."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bot import messages as m

MAX_BLOCKS = 50  # blocks in one message
MAX_VIEW_BLOCKS = 100  # blocks in a modal or the Home tab
SECTION_TEXT = 3000  # characters of a section's text
FIELD_TEXT = 2000  # characters of one section field
MAX_FIELDS = 10  # fields in one section
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
MAX_BUTTONS = 25  # elements in one actions block
FALLBACK_TEXT = 3000  # the notification text; the blocks carry everything
IMAGE_TEXT = 2000  # an image block's title and alt_text

FORM_ACTION = "liaison.form"  # a button that opens a modal holding a neutral Form
SEPARATOR = "|"  # action ids are made unique per message: "change approve|2"

STATUS_EMOJI = {
    "open": ":white_large_square:",
    "done": ":white_check_mark:",
    "blocked": ":no_entry:",
    "overdue": ":warning:",
    "due": ":hourglass_flowing_sand:",
    "info": ":small_blue_diamond:",
    "green": ":large_green_circle:",
    "amber": ":large_orange_circle:",
    "red": ":red_circle:",
}

Block = dict[str, Any]


@dataclass(frozen=True, slots=True)
class SlackMessage:
    text: str
    blocks: list[Block]


@dataclass(frozen=True, slots=True)
class Upload:
    filename: str
    content: bytes | m.Chart  # a chart is drawn as it is uploaded (deliver.upload)
    title: str


@dataclass(frozen=True, slots=True)
class Rendered:
    messages: list[SlackMessage]
    uploads: list[Upload] = field(default_factory=list)


def escape(text: str) -> str:
    """Slack's three control characters; `<!channel>` becomes harmless text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(message: m.Message) -> Rendered:
    """One neutral message -> one or more Slack messages (50 blocks each) and uploads."""
    blocks = render_blocks(message)
    chunks = [blocks[i : i + MAX_BLOCKS] for i in range(0, len(blocks), MAX_BLOCKS)] or [[]]
    messages = [SlackMessage(fallback_text(chunk), chunk) for chunk in chunks]
    return Rendered(messages, uploads_of(message))


def render_blocks(message: m.Message) -> list[Block]:
    """All the Block Kit blocks of a message, unsplit (modals and the Home tab use these)."""
    blocks: list[Block] = []
    buttons = 0
    for block in message.blocks:
        rendered = _render_block(block, buttons)
        buttons += sum(len(b.get("elements", [])) for b in rendered if b["type"] == "actions")
        blocks.extend(rendered)
    return blocks


def uploads_of(message: m.Message) -> list[Upload]:
    uploads = []
    for block in message.blocks:
        if isinstance(block, m.Image):
            uploads.append(Upload(block.name, block.png, block.alt))
        elif isinstance(block, m.Chart):
            uploads.append(Upload(block.name, block, block.alt))
        elif isinstance(block, m.File):
            uploads.append(Upload(block.name, block.content, block.name))
    return uploads


def shown_again(file_id: str, title: str) -> SlackMessage:
    """A picture uploaded to this conversation before, shown again by its file id."""
    text = _shorten(title, IMAGE_TEXT)
    block = {
        "type": "image",
        "slack_file": {"id": file_id},
        "alt_text": text,
        "title": {"type": "plain_text", "text": text},
    }
    return SlackMessage(escape(_shorten(title, FALLBACK_TEXT)), [block])


def fallback_text(blocks: list[Block]) -> str:
    """The plain `text` of a message (notifications, screen readers), already escaped."""
    parts: list[str] = []
    for block in blocks:
        if "text" in block:
            text = block["text"]
            # plain_text was left unescaped for the block; the fallback is parsed as mrkdwn.
            parts.append(escape(text["text"]) if text["type"] == "plain_text" else text["text"])
        parts.extend(f["text"] for f in block.get("fields", []))
        if block["type"] == "context":
            parts.extend(e["text"] for e in block["elements"])
    text = "\n".join(parts) or "Liaison"
    return _shorten(text, FALLBACK_TEXT)


def _render_block(block: m.Block, buttons_before: int) -> list[Block]:
    match block:
        case m.Heading(text=text):
            return _heading(text)
        case m.Text(text=text):
            return _sections(escape(text))
        case m.Facts(pairs=pairs):
            return _facts(pairs)
        case m.Items(items=items, empty=empty):
            if not items:
                return _sections(f"_{escape(empty)}_")
            lines = [f"{STATUS_EMOJI.get(i.status, '•')} {escape(i.text)}" for i in items]
            return _sections("\n".join(lines))
        case m.Actions(buttons=buttons):
            elements = [_button(b, buttons_before + n) for n, b in enumerate(buttons, 1)]
            return _actions(elements)
        case m.Form():
            return _actions([_form_button(block, buttons_before + 1)])
        case m.Image(alt=alt) | m.Chart(alt=alt):
            return [_context(f":bar_chart: {escape(alt)} (attached)")]
        case m.File(name=name):
            return [_context(f":page_facing_up: {escape(name)} (attached)")]
        case m.Context(text=text):
            return [_context(part) for part in split_text(escape(text), SECTION_TEXT)]
    raise TypeError(f"no Block Kit form for {type(block).__name__}")


def _heading(text: str) -> list[Block]:
    if len(text) <= HEADER_TEXT:
        # plain_text is never parsed for mentions or links: no escaping needed.
        return [{"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}]
    return _sections(f"*{escape(text)}*")


def _sections(text: str) -> list[Block]:
    if not text.strip():
        return []  # Slack refuses a section without text
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": part}}
        for part in split_text(text, SECTION_TEXT)
    ]


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _facts(pairs: tuple[tuple[str, str], ...]) -> list[Block]:
    blocks: list[Block] = []
    fields: list[dict[str, str]] = []

    def flush() -> None:
        if fields:
            blocks.append({"type": "section", "fields": list(fields)})
            fields.clear()

    for label, value in pairs:
        text = f"*{escape(label)}*\n{escape(value)}"
        if len(text) > FIELD_TEXT:
            # Too long for a field: its own section(s), in order.
            flush()
            blocks.extend(_sections(text))
            continue
        fields.append({"type": "mrkdwn", "text": text})
        if len(fields) == MAX_FIELDS:
            flush()
    flush()
    return blocks


def _button(button: m.Button, number: int) -> Block:
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": _shorten(button.label, BUTTON_TEXT)},
        # Slack wants action ids unique within a message; the suffix is dropped inbound.
        "action_id": f"{button.action_id}{SEPARATOR}{number}",
        "value": button.value,
    }
    if button.style != "default":
        element["style"] = button.style
    return element


def _form_button(form: m.Form, number: int) -> Block:
    spec = {
        "a": form.action_id,
        "v": form.value,
        "s": form.submit_label,
        "f": [
            [f.field_id, f.label, f.multiline, *([list(f.choices)] if f.choices else [])]
            for f in form.fields
        ],
    }
    optional = [f.field_id for f in form.fields if f.optional]
    if optional:
        spec["o"] = optional
    value = json.dumps(spec, separators=(",", ":"))
    initials = [f.initial for f in form.fields]
    # Pre-filled answers ride along as far as the button's value allows, each shortened
    # alike (a long answer is still typed in full; only the pre-fill is cut).
    for keep in (1000, 400, 150, 50):
        if not any(initials):
            break
        spec["i"] = [text[:keep] for text in initials]
        candidate = json.dumps(spec, separators=(",", ":"))
        if len(candidate) <= BUTTON_VALUE:
            value = candidate
            break
    if len(value) > BUTTON_VALUE:
        raise ValueError("a form is too large to carry in a Slack button")
    element = _button(m.Button(form.submit_label, FORM_ACTION, value, "primary"), number)
    return element


def _actions(elements: list[Block]) -> list[Block]:
    return [
        {"type": "actions", "elements": elements[i : i + MAX_BUTTONS]}
        for i in range(0, len(elements), MAX_BUTTONS)
    ]


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters, broken at a line end, else a space, else
    anywhere but inside an `&amp;`-style entity. Nothing is dropped but the break."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = text.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = limit
            amp = text.rfind("&", max(0, cut - 5), cut)
            if amp > 0 and ";" not in text[amp:cut]:
                cut = amp
            pieces.append(text[:cut])
            text = text[cut:]
            continue
        pieces.append(text[:cut])
        text = text[cut + 1 :]
    if text or not pieces:
        pieces.append(text)
    return pieces


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
