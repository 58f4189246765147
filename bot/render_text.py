"""Plain-text rendering of the neutral message model (console, fallbacks, logs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.messages import Message

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
    from bot import messages as m

    lines: list[str] = []
    button_number = first_button - 1
    for index, block in enumerate(message.blocks):
        match block:
            case m.Heading(text=text):
                lines.append(f"*{text}*")
            case m.Text(text=text):
                lines.append(text)
            case m.Facts(pairs=pairs):
                lines.extend(f"{label}: {value}" for label, value in pairs)
            case m.Items(items=items, empty=empty):
                if not items:
                    lines.append(empty)
                lines.extend(f"{STATUS_MARKS.get(i.status, '-')} {i.text}" for i in items)
            case m.Actions(buttons=buttons):
                labels = []
                for button in buttons:
                    button_number += 1
                    labels.append(f"[{button_number}] {button.label}")
                lines.append("  ".join(labels))
            case m.Image(alt=alt):
                path = (image_paths or {}).get(index)
                lines.append(f"(image: {alt}{' -> ' + path if path else ''})")
            case m.Chart(alt=alt):  # not drawn yet: an outbox row, as `outbox failed` lists it
                lines.append(f"(image: {alt})")
            case m.File(name=name, content=content):
                lines.append(f"--- {name} ---")
                lines.append(content.decode("utf-8").rstrip("\n"))
                lines.append(f"--- end of {name} ---")
            case m.Form(fields=fields, submit_label=label):
                lines.extend(
                    f"? {f.label}" + (f" (now: {f.initial})" if f.initial else "") for f in fields
                )
                button_number += 1
                lines.append(f"[{button_number}] {label}")
            case m.Context(text=text):
                lines.append(f"_{text}_")
    return "\n".join(lines)
