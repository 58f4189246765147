"""What goes out: neutral messages that every adapter can render natively."""

from __future__ import annotations

import base64
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
    """An image still to draw: `kind` names the drawing (`bot.charts`), `data` holds its
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


@dataclass(frozen=True, slots=True)
class Field:
    field_id: str
    label: str
    multiline: bool = True
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
        from bot.render_text import render_text

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


def _block_to_dict(block: Block) -> dict[str, Any]:
    data: dict[str, Any] = {"type": type(block).__name__}
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
                    {"field_id": f.field_id, "label": f.label, "multiline": f.multiline}
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
        fields = tuple(Field(**f) for f in data["fields"])
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
