"""Neutral messages as HTML for the page: every piece of text is escaped here, so a task
called `<script>` is shown, never run."""

from __future__ import annotations

import base64
import re
from html import escape

from bot import messages as m

CODE_RE = re.compile(r"`([^`\n]+)`")
BOLD_RE = re.compile(r"\*([^*\n]+)\*")


def inline(text: str) -> str:
    """Escape, then show `code` and *bold* the way chat platforms do."""
    html = escape(text)
    html = CODE_RE.sub(r"<code>\1</code>", html)
    html = BOLD_RE.sub(r"<b>\1</b>", html)
    return html.replace("\n", "<br>")


def render_html(message: m.Message) -> str:
    parts = [_block(block) for block in message.blocks]
    classes = f"msg {message.visibility} audience-{message.audience}"
    return f'<div class="{classes}">' + "".join(parts) + "</div>"


def _block(block: m.Block) -> str:
    match block:
        case m.Heading(text=text):
            return f"<h3>{inline(text)}</h3>"
        case m.Text(text=text):
            return f"<p>{inline(text)}</p>"
        case m.Facts(pairs=pairs):
            rows = "".join(f"<dt>{inline(k)}</dt><dd>{inline(v)}</dd>" for k, v in pairs)
            return f'<dl class="facts">{rows}</dl>'
        case m.Items(items=items, empty=empty):
            if not items:
                return f'<p class="empty">{inline(empty)}</p>'
            rows = "".join(
                f'<li class="item status-{escape(i.status)}">'
                f'<span class="status">{escape(i.status)}</span> {inline(i.text)}</li>'
                for i in items
            )
            return f'<ul class="items">{rows}</ul>'
        case m.Actions(buttons=buttons):
            return '<div class="actions">' + "".join(_button(b) for b in buttons) + "</div>"
        case m.Image(png=png, alt=alt):
            data = base64.b64encode(png).decode()
            return f'<img class="chart" alt="{escape(alt)}" src="data:image/png;base64,{data}">'
        case m.File(name=name, content=content, mime=mime):
            data = base64.b64encode(content).decode()
            return (
                f'<a class="file" download="{escape(name)}" '
                f'href="data:{escape(mime)};base64,{data}">{escape(name)}</a>'
            )
        case m.Form():
            return _form(block)
        case m.Context(text=text):
            return f'<p class="small">{inline(text)}</p>'
    return ""


def _button(button: m.Button) -> str:
    return (
        f'<button type="button" class="action {escape(button.style)}" '
        f'data-action-id="{escape(button.action_id)}" data-value="{escape(button.value)}">'
        f"{escape(button.label)}</button>"
    )


def _form(form: m.Form) -> str:
    inputs = "".join(
        f'<label>{escape(f.label)}<textarea name="{escape(f.field_id)}" rows="2">'
        f"{escape(f.initial)}</textarea></label>"
        if f.multiline
        else f'<label>{escape(f.label)}<input name="{escape(f.field_id)}" '
        f'value="{escape(f.initial)}"></label>'
        for f in form.fields
    )
    return (
        f'<form class="card-form" data-action-id="{escape(form.action_id)}" '
        f'data-value="{escape(form.value)}">{inputs}'
        f'<button type="submit" class="action primary">{escape(form.submit_label)}</button></form>'
    )


def render_json(message: m.Message) -> dict[str, object]:
    """What the page's API returns for one message: the HTML and the neutral form."""
    return {
        "audience": message.audience,
        "visibility": message.visibility,
        "text": message.plain_text(),
        "html": render_html(message),
        "message": m.message_to_dict(message),
    }
