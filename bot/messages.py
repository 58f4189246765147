"""What goes out: neutral messages that every adapter can render natively."""

from __future__ import annotations

import base64
import io
import zipfile
from dataclasses import dataclass
from typing import Any, Literal

Audience = Literal["internal", "client"]
Visibility = Literal["ephemeral", "in_channel"]
ItemStatus = Literal["open", "done", "blocked", "overdue", "due", "info", "green", "amber", "red"]


@dataclass(frozen=True, slots=True)
class Heading:
    text: str


@dataclass(frozen=True, slots=True)
class Text:
    text: str


@dataclass(frozen=True, slots=True)
class Facts:
    pairs: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Item:
    text: str
    status: ItemStatus = "open"


@dataclass(frozen=True, slots=True)
class Items:
    items: tuple[Item, ...]
    empty: str = "Nothing here."


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    action_id: str
    value: str = ""
    style: Literal["default", "primary", "danger"] = "default"


@dataclass(frozen=True, slots=True)
class Actions:
    buttons: tuple[Button, ...]


@dataclass(frozen=True, slots=True)
class Image:
    png: bytes
    alt: str
    name: str = "chart.png"


@dataclass(frozen=True, slots=True)
class Chart:
    """An image still to draw: `kind` names the drawing (`bot.views.charts`), `data` holds its
    series as JSON values. Scheduled posts carry charts this way so that the due-step does
    no drawing; delivery draws each into an `Image` before an adapter sees the message."""

    kind: str
    data: dict[str, Any]
    alt: str
    name: str = "chart.png"


@dataclass(frozen=True, slots=True)
class Context:
    text: str


@dataclass(frozen=True, slots=True)
class File:
    """A file attached to the reply, such as a CSV export."""

    name: str
    content: bytes
    mime: str = "text/csv"

    def as_texts(self) -> list[tuple[str, str]]:
        """(name, text) of each file inside, for places that show files as text (the
        console, Teams): a zip's members one by one, else the file itself."""
        if self.mime != "application/zip":
            return [(self.name, self.content.decode("utf-8", errors="replace"))]
        with zipfile.ZipFile(io.BytesIO(self.content)) as archive:
            return [
                (name, archive.read(name).decode("utf-8", errors="replace"))
                for name in archive.namelist()
            ]


@dataclass(frozen=True, slots=True)
class Field:
    field_id: str
    label: str
    multiline: bool = True
    # A choice among these values (a choice set in Teams, a select in a Slack modal).
    choices: tuple[str, ...] = ()
    initial: str = ""  # what the input holds when the form opens (a previous answer)
    optional: bool = False  # may be left empty


@dataclass(frozen=True, slots=True)
class Form:
    """Inputs submitted together (the huddle answer card); submits `action_id` + `value`."""

    fields: tuple[Field, ...]
    submit_label: str
    action_id: str
    value: str = ""


Block = Heading | Text | Facts | Items | Actions | Image | Chart | Context | File | Form


@dataclass(frozen=True, slots=True)
class Message:
    blocks: tuple[Block, ...]
    audience: Audience = "internal"
    visibility: Visibility = "in_channel"

    def plain_text(self) -> str:
        """A plain text fallback (notifications, console, logs)."""
        return render_text(self)


@dataclass(frozen=True, slots=True)
class Reply:
    messages: tuple[Message, ...] = ()
    # True when the command was refused or failed and nothing was changed.
    failed: bool = False

    @staticmethod
    def of(*messages: Message) -> Reply:
        return Reply(messages=tuple(messages))


# --- serialisation, for the outbox --------------------------------------------------

_BLOCK_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (Heading, Text, Facts, Items, Actions, Image, Chart, Context, File, Form)
}


_TEXT_BLOCKS = (Heading, Text, Context)


def _block_to_dict(block: Block) -> dict[str, Any]:
    kind = type(block)
    if kind in _TEXT_BLOCKS:  # most blocks: no need to try every other kind first
        return {"type": kind.__name__, "text": block.text}  # type: ignore[union-attr]
    data: dict[str, Any] = {"type": kind.__name__}
    match block:
        case Facts(pairs=pairs):
            data["pairs"] = [list(p) for p in pairs]
        case Items(items=items, empty=empty):
            data["items"] = [{"text": i.text, "status": i.status} for i in items]
            data["empty"] = empty
        case Actions(buttons=buttons):
            data["buttons"] = [
                {"label": b.label, "action_id": b.action_id, "value": b.value, "style": b.style}
                for b in buttons
            ]
        case Image(png=png, alt=alt, name=name):
            data.update(png=base64.b64encode(png).decode(), alt=alt, name=name)
        case Chart(kind=kind, data=chart, alt=alt, name=name):
            data.update(kind=kind, data=chart, alt=alt, name=name)
        case File(name=name, content=content, mime=mime):
            data.update(content=base64.b64encode(content).decode(), name=name, mime=mime)
        case Form(fields=fields, submit_label=label, action_id=action_id, value=value):
            data.update(
                fields=[
                    {
                        "field_id": f.field_id,
                        "label": f.label,
                        "multiline": f.multiline,
                        "choices": list(f.choices),
                    }
                    | ({"initial": f.initial} if f.initial else {})
                    | ({"optional": True} if f.optional else {})
                    for f in fields
                ],
                submit_label=label,
                action_id=action_id,
                value=value,
            )
        case Heading(text=text) | Text(text=text) | Context(text=text):
            data["text"] = text
    return data


def _block_from_dict(data: dict[str, Any]) -> Block:
    kind = data["type"]
    if kind == "Facts":
        return Facts(tuple((str(a), str(b)) for a, b in data["pairs"]))
    if kind == "Items":
        return Items(tuple(Item(i["text"], i["status"]) for i in data["items"]), data["empty"])
    if kind == "Actions":
        return Actions(tuple(Button(**b) for b in data["buttons"]))
    if kind == "Image":
        return Image(base64.b64decode(data["png"]), data["alt"], data.get("name", "chart.png"))
    if kind == "Chart":
        return Chart(data["kind"], data["data"], data["alt"], data["name"])
    if kind == "File":
        return File(data["name"], base64.b64decode(data["content"]), data["mime"])
    if kind == "Form":
        fields = tuple(
            Field(
                f["field_id"],
                f["label"],
                f["multiline"],
                tuple(f.get("choices") or ()),
                f.get("initial", ""),
                bool(f.get("optional", False)),
            )
            for f in data["fields"]
        )
        return Form(fields, data["submit_label"], data["action_id"], data["value"])
    return _BLOCK_TYPES[kind](data["text"])


def message_to_dict(message: Message) -> dict[str, Any]:
    return {
        "audience": message.audience,
        "visibility": message.visibility,
        "blocks": [_block_to_dict(b) for b in message.blocks],
    }


def message_from_dict(data: dict[str, Any]) -> Message:
    return Message(
        blocks=tuple(_block_from_dict(b) for b in data["blocks"]),
        audience=data["audience"],
        visibility=data["visibility"],
    )


# Plain-text rendering of the neutral message model (console, fallbacks, logs).

STATUS_MARKS = {
    "open": "[ ]",
    "done": "[x]",
    "blocked": "[!]",
    "overdue": "[!]",
    "due": "[>]",
    "info": " - ",
    "green": "(green)",
    "amber": "(amber)",
    "red": "(red)",
}


def render_text(
    message: Message, *, image_paths: dict[int, str] | None = None, first_button: int = 1
) -> str:
    """One line per fact/item; buttons numbered `[1] Approve` in the order they appear."""
    lines: list[str] = []
    button_number = first_button - 1
    for index, block in enumerate(message.blocks):
        match block:
            case Heading(text=text):
                lines.append(f"*{text}*")
            case Text(text=text):
                lines.append(text)
            case Facts(pairs=pairs):
                lines.extend(f"{label}: {value}" for label, value in pairs)
            case Items(items=items, empty=empty):
                if not items:
                    lines.append(empty)
                lines.extend(f"{STATUS_MARKS.get(i.status, '-')} {i.text}" for i in items)
            case Actions(buttons=buttons):
                labels = []
                for button in buttons:
                    button_number += 1
                    labels.append(f"[{button_number}] {button.label}")
                lines.append("  ".join(labels))
            case Image(alt=alt):
                path = (image_paths or {}).get(index)
                lines.append(f"(image: {alt}{' -> ' + path if path else ''})")
            case Chart(alt=alt):  # not drawn yet: an outbox row, as `outbox failed` lists it
                lines.append(f"(image: {alt})")
            case File():
                for name, text in block.as_texts():
                    lines.append(f"--- {name} ---")
                    lines.append(text.rstrip("\n"))
                    lines.append(f"--- end of {name} ---")
            case Form(fields=fields, submit_label=label):
                lines.extend(
                    f"? {f.label}"
                    + (f" [{'/'.join(f.choices)}]" if f.choices else "")
                    + (f" (now: {f.initial})" if f.initial else "")
                    for f in fields
                )
                button_number += 1
                lines.append(f"[{button_number}] {label}")
            case Context(text=text):
                lines.append(f"_{text}_")
    return "\n".join(lines)
