"""Modals and the Home tab: Block Kit views built from neutral forms and replies."""

from __future__ import annotations

import json
from typing import Any

from adapters.slack.render import MAX_VIEW_BLOCKS, escape, render_blocks
from bot.messages import Message

FORM_CALLBACK = "liaison.form"
TASK_CALLBACK = "liaison.task_from_message"  # also the shortcut's callback id (manifest)
TITLE_MAX = 500  # a task title's length in the database
METADATA_MAX = 3000  # Slack's limit on private_metadata

View = dict[str, Any]


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": text if len(text) <= limit else text[: limit - 1] + "…"}


def _input(block_id: str, label: str, element: dict[str, Any], optional: bool = False) -> View:
    return {
        "type": "input",
        "block_id": block_id,
        "label": _plain(label, 2000),
        "element": {**element, "action_id": "input"},
        "optional": optional,
    }


def _metadata(data: dict[str, Any]) -> str:
    text = json.dumps(data, separators=(",", ":"))
    if len(text) > METADATA_MAX:
        # A response_url is a convenience; the channel and the action are not.
        text = json.dumps({k: v for k, v in data.items() if k != "r"}, separators=(",", ":"))
    return text


def _form_input(field: list[Any], *, initial: Any = None, optional: bool = False) -> View:
    """One neutral Field: a select when it offers choices, else a text input, holding its
    initial value (a previous answer) when there is one."""
    field_id, label, multiline, *rest = field
    choices = rest[0] if rest and isinstance(rest[0], list) else []
    if choices:
        options = [{"text": _plain(str(c), 75), "value": str(c)[:75]} for c in choices]
        element: dict[str, Any] = {"type": "static_select", "options": options}
    else:
        element = {"type": "plain_text_input", "multiline": bool(multiline)}
        if isinstance(initial, str) and initial:
            element["initial_value"] = initial
    return _input(str(field_id), str(label), element, optional=optional)


def form_modal(spec: dict[str, Any], *, channel_id: str | None) -> View:
    """The modal behind a neutral Form's button (spec: a, v, s, f as render.py packs it)."""
    initials = spec.get("i") if isinstance(spec.get("i"), list) else []
    optional_ids = spec.get("o") or ()
    blocks = [
        _form_input(
            field,
            initial=initials[index] if index < len(initials) else None,
            optional=str(field[0]) in optional_ids,
        )
        for index, field in enumerate(spec["f"])
    ]
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "title": _plain("Liaison", 24),
        "submit": _plain(str(spec.get("s") or "Send"), 24),
        "close": _plain("Cancel", 24),
        "private_metadata": _metadata({"a": spec["a"], "v": spec.get("v", ""), "c": channel_id}),
        "blocks": blocks,
    }


def task_modal(text: str, *, channel_id: str | None) -> View:
    """'Create task from message': the message's text as the title, owner and due optional."""
    title = {
        "type": "plain_text_input",
        "initial_value": text[:TITLE_MAX],
        "max_length": TITLE_MAX,
        "multiline": True,
    }
    blocks = [
        _input("title", "Task", title),
        _input("owner", "Owner", {"type": "users_select"}, optional=True),
        _input("due", "Due", {"type": "datepicker"}, optional=True),
    ]
    if len(text) > TITLE_MAX:
        note = f"The message is {len(text):,} characters; a task title keeps the first {TITLE_MAX}."
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
    return {
        "type": "modal",
        "callback_id": TASK_CALLBACK,
        "title": _plain("Create task", 24),
        "submit": _plain("Create", 24),
        "close": _plain("Cancel", 24),
        "private_metadata": _metadata({"c": channel_id}),
        "blocks": blocks,
    }


def task_command(fields: dict[str, str]) -> str:
    """The typed command a submitted task modal stands for: `task add "..." <@U> due:D`."""
    title = _curly_quotes(" ".join(fields.get("title", "").split()))
    words = [f'task add "{title}"']
    if fields.get("owner"):
        words.append(f"<@{fields['owner']}>")
    if fields.get("due"):
        words.append(f"due:{fields['due']}")
    return " ".join(words)


def _curly_quotes(text: str) -> str:
    """A straight quote would end the quoted title early; typographic ones read the same."""
    parts = text.split('"')
    out = [parts[0]]
    for n, part in enumerate(parts[1:]):
        out.append(("\u201c" if n % 2 == 0 else "\u201d") + part)
    return "".join(out)


def home_view(sections: list[tuple[str, list[Message]]]) -> View:
    """The Home tab: one part per engine reply, within the view's block limit."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": _plain("Liaison", 150)},
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": "Type `/pm help` anywhere for more."}],
        },
    ]
    for command, messages in sections:
        part: list[dict[str, Any]] = [{"type": "divider"}]
        for message in messages:
            part.extend(render_blocks(message))
        if len(blocks) + len(part) <= MAX_VIEW_BLOCKS - len(sections):
            blocks.extend(part)
        elif len(blocks) < MAX_VIEW_BLOCKS:
            # Too long for the tab: say where the whole of it is, rather than cut it.
            more = f"More is waiting: type `/pm {escape(command)}` to see all of it."
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]})
    return {"type": "home", "blocks": blocks}
