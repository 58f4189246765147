"""A neutral Message as an email (RFC 5322, built with the standard library's `email`):
multipart/alternative with plain text and HTML, charts inline as `cid:` images, the
first heading as the subject, and RFC 8058 one-click unsubscribe headers.

Everything from the message is escaped into the HTML; buttons and forms (chat-only) are
left out, since an email cannot press them."""

from __future__ import annotations

import html
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from bot import messages as m
from bot.messages import STATUS_MARKS


@dataclass(frozen=True, slots=True)
class Envelope:
    sender: str
    to: str
    unsubscribe_url: str


def subject_of(message: m.Message) -> str:
    for block in message.blocks:
        if isinstance(block, m.Heading):
            return block.text
    return "An update"


def build_email(message: m.Message, envelope: Envelope) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = subject_of(message)
    mail["From"] = envelope.sender
    mail["To"] = envelope.to
    mail["Date"] = formatdate(localtime=False)
    domain = envelope.sender.rpartition("@")[2].strip(">") or None
    mail["Message-ID"] = make_msgid(domain=domain)
    mail["List-Unsubscribe"] = f"<{envelope.unsubscribe_url}>"
    mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    images = [b for b in message.blocks if isinstance(b, m.Image)]
    cids = {id(image): make_msgid(domain=domain) for image in images}
    mail.set_content(_text(message, envelope))
    mail.add_alternative(_html(message, envelope, cids), subtype="html")
    if images:
        html_part = mail.get_payload()[1]
        for image in images:
            html_part.add_related(
                image.png, "image", "png", cid=cids[id(image)], filename=image.name
            )
    return mail


def _text(message: m.Message, envelope: Envelope) -> str:
    text = m.Message(tuple(b for b in message.blocks if _for_email(b)), message.audience)
    return (
        text.plain_text().replace("*", "")
        + f"\n\n--\nTo stop these emails: {envelope.unsubscribe_url}\n"
    )


def _for_email(block: m.Block) -> bool:
    return not isinstance(block, m.Actions | m.Form)


def _html(message: m.Message, envelope: Envelope, cids: dict[int, str]) -> str:
    parts = [_html_block(b, cids) for b in message.blocks if _for_email(b)]
    link = html.escape(envelope.unsubscribe_url, quote=True)
    parts.append(f'<hr><p style="color:#666;font-size:12px"><a href="{link}">Unsubscribe</a></p>')
    body = "\n".join(p for p in parts if p)
    return f'<!DOCTYPE html>\n<html><body style="font-family:sans-serif">\n{body}\n</body></html>\n'


def _html_block(block: m.Block, cids: dict[int, str]) -> str:
    e = html.escape
    match block:
        case m.Heading(text=text):
            return f"<h2>{e(text)}</h2>"
        case m.Text(text=text):
            return f"<p>{e(text)}</p>"
        case m.Context(text=text):
            return f'<p style="color:#666">{e(text)}</p>'
        case m.Facts(pairs=pairs):
            rows = "".join(f"<tr><th>{e(a)}</th><td>{e(b)}</td></tr>" for a, b in pairs)
            return f"<table>{rows}</table>"
        case m.Items(items=items, empty=empty):
            if not items:
                return f"<p>{e(empty)}</p>"
            lines = "".join(
                f"<li>{e(STATUS_MARKS.get(i.status, '-'))} {e(i.text)}</li>" for i in items
            )
            return f"<ul>{lines}</ul>"
        case m.Image(alt=alt):
            cid = cids[id(block)].strip("<>")
            return f'<p><img src="cid:{e(cid)}" alt="{e(alt)}"></p>'
        case m.File(name=name):
            return f"<p>({e(name)} is attached in the chat)</p>"
    return ""
