"""What the page shows: every line typed, every reply and every post, in order, kept in
memory for the life of the process (the playground is a local, single-process toy).

`PlaygroundDeliverer` is the platform's Deliverer: the outbox posts into the transcript."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Literal

from adapters.playground.people import PLATFORM
from adapters.playground.render import render_html
from bot.clock import Clock
from bot.delivery.vocabulary import Sent, Target
from bot.messages import Context, Message

EntryKind = Literal["said", "reply", "post"]


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    place: str  # a channel id or `dm:<user>`
    kind: EntryKind
    author: str  # a person's name, or "Liaison"
    at: datetime
    html: str
    text: str
    only_for: str | None = None  # an ephemeral reply: the user id who sees it
    audience: str = "internal"

    def to_json(self) -> dict[str, object]:
        return {
            "seq": self.seq,
            "place": self.place,
            "kind": self.kind,
            "author": self.author,
            "at": self.at.isoformat(),
            "html": self.html,
            "text": self.text,
            "only_for": self.only_for,
            "audience": self.audience,
        }


@dataclass
class Transcript:
    entries: list[Entry] = field(default_factory=list)
    limit: int = 2000

    def add_said(self, place: str, author: str, text: str, at: datetime) -> Entry:
        html = f'<div class="said">{escape(text)}</div>'
        return self._add(place, "said", author, at, html, text)

    def add_message(
        self,
        place: str,
        message: Message,
        at: datetime,
        *,
        kind: EntryKind,
        asker: str | None = None,
    ) -> Entry:
        only_for = asker if message.visibility == "ephemeral" else None
        return self._add(
            place,
            kind,
            "Liaison",
            at,
            render_html(message),
            message.plain_text(),
            only_for=only_for,
            audience=message.audience,
        )

    def _add(
        self,
        place: str,
        kind: EntryKind,
        author: str,
        at: datetime,
        html: str,
        text: str,
        *,
        only_for: str | None = None,
        audience: str = "internal",
    ) -> Entry:
        seq = self.entries[-1].seq + 1 if self.entries else 1
        entry = Entry(seq, place, kind, author, at, html, text, only_for, audience)
        self.entries.append(entry)
        del self.entries[: -self.limit]
        return entry

    def visible_to(self, user_id: str, places: list[str], after: int = 0) -> list[Entry]:
        return [
            e
            for e in self.entries
            if e.seq > after and e.place in places and e.only_for in (None, user_id)
        ]


class PlaygroundDeliverer:
    platform = PLATFORM

    def __init__(self, transcript: Transcript, clock: Clock) -> None:
        self.transcript = transcript
        self.clock = clock

    async def deliver(
        self, target: Target, message: Message, *, thread_id: str | None = None
    ) -> Sent:
        entry = self.transcript.add_message(target.channel_id, message, self.clock(), kind="post")
        return Sent(message_id=f"playground-{entry.seq}")

    async def update(self, target: Target, message: Message, *, message_id: str) -> Sent:
        """The page shows what arrives after what it saw: the edit comes as a new entry."""
        edited = Message(message.blocks + (Context("(edited)"),), message.audience)
        self.transcript.add_message(target.channel_id, edited, self.clock(), kind="post")
        return Sent(message_id=message_id)
