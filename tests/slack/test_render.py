"""Neutral messages -> Block Kit: escaping, Slack's limits, splitting without loss."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.slack.render import (
    FIELD_TEXT,
    MAX_BLOCKS,
    MAX_FIELDS,
    SECTION_TEXT,
    escape,
    render,
    split_text,
)
from bot.messages import (
    Actions,
    Button,
    Context,
    Facts,
    Field,
    Form,
    Heading,
    Item,
    Items,
    Message,
    Text,
)


def all_text(blocks: list[dict]) -> str:
    return json.dumps(blocks)


def test_user_text_never_pings() -> None:
    hostile = "<!channel> <@U123> <!here|here> & <https://evil.example|click>"
    message = Message(
        blocks=(
            Text(hostile),
            Items((Item(hostile, "open"),)),
            Facts(((hostile, hostile),)),
            Context(hostile),
            Heading("x" * 151 + hostile),
        )
    )
    (part,) = render(message).messages
    for text in (all_text(part.blocks), part.text):
        assert "<!" not in text and "<@" not in text and "<https" not in text
        assert "&lt;!channel&gt;" in text and "&lt;@U123&gt;" in text and "&amp;" in text


def test_a_short_heading_is_a_plain_text_header() -> None:
    (part,) = render(Message(blocks=(Heading("<!channel> plan"),))).messages
    assert part.blocks == [
        {"type": "header", "text": {"type": "plain_text", "text": "<!channel> plan", "emoji": True}}
    ]
    assert part.text == "&lt;!channel&gt; plan"  # the notification text is parsed: escaped


def test_long_text_is_split_into_sections_not_cut() -> None:
    words = " ".join(f"word{n}" for n in range(2000))  # about 15,000 characters
    (part,) = render(Message(blocks=(Text(words),))).messages
    sections = [b["text"]["text"] for b in part.blocks]
    assert len(sections) >= 5
    assert all(len(s) <= SECTION_TEXT for s in sections)
    assert " ".join(sections) == words


def test_more_than_fifty_blocks_become_several_messages() -> None:
    message = Message(blocks=tuple(Text(f"line {n}") for n in range(120)))
    parts = render(message).messages
    assert [len(p.blocks) for p in parts] == [MAX_BLOCKS, MAX_BLOCKS, 20]
    shown = [b["text"]["text"] for p in parts for b in p.blocks]
    assert shown == [f"line {n}" for n in range(120)]
    assert all(p.text for p in parts)
    assert parts[2].text.startswith("line 100")


def test_facts_use_at_most_ten_fields_a_section() -> None:
    pairs = tuple((f"label {n}", f"value {n}") for n in range(23))
    (part,) = render(Message(blocks=(Facts(pairs),))).messages
    assert [len(b["fields"]) for b in part.blocks] == [MAX_FIELDS, MAX_FIELDS, 3]
    assert part.blocks[2]["fields"][2]["text"] == "*label 22*\nvalue 22"


def test_a_fact_too_long_for_a_field_gets_its_own_sections() -> None:
    long_value = "y" * (FIELD_TEXT + 10)
    pairs = (("short", "1"), ("long", long_value), ("after", "2"))
    (part,) = render(Message(blocks=(Facts(pairs),))).messages
    kinds = ["fields" if "fields" in b else "text" for b in part.blocks]
    assert kinds == ["fields", "text", "fields"]
    assert long_value in part.blocks[1]["text"]["text"]


def test_buttons_get_unique_action_ids_within_a_message() -> None:
    buttons = (
        Button("Approve 1", "change approve", "1", "primary"),
        Button("Approve 2", "change approve", "2"),
    )
    (part,) = render(Message(blocks=(Actions(buttons), Actions(buttons)))).messages
    ids = [e["action_id"] for b in part.blocks for e in b["elements"]]
    assert len(set(ids)) == 4
    assert all(i.startswith("change approve|") for i in ids)
    first = part.blocks[0]["elements"][0]
    assert first["style"] == "primary" and first["value"] == "1"
    assert "style" not in part.blocks[0]["elements"][1]


def test_a_form_is_a_button_that_carries_its_fields() -> None:
    form = Form(
        (Field("done", "Yesterday"),), submit_label="Answer", action_id="huddle answer", value="12"
    )
    (part,) = render(Message(blocks=(form,))).messages
    (button,) = part.blocks[0]["elements"]
    assert button["action_id"] == "liaison.form|1"
    assert json.loads(button["value"]) == {
        "a": "huddle answer",
        "v": "12",
        "s": "Answer",
        "f": [["done", "Yesterday", True]],
    }


def test_empty_lists_and_empty_text() -> None:
    (part,) = render(Message(blocks=(Text(""), Items((), empty="No tasks.")))).messages
    assert part.blocks == [{"type": "section", "text": {"type": "mrkdwn", "text": "_No tasks._"}}]


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="ab &<>\n", max_size=400), st.integers(min_value=8, max_value=60))
def test_split_text_keeps_every_character_but_the_breaks(text: str, limit: int) -> None:
    escaped = escape(text)
    pieces = split_text(escaped, limit)
    assert all(len(p) <= limit for p in pieces)
    kept = "".join(pieces)
    assert kept.replace(" ", "").replace("\n", "") == escaped.replace(" ", "").replace("\n", "")
    for piece in pieces:  # no entity is broken in two
        assert piece.count("&") == sum(piece.count(e) for e in ("&amp;", "&lt;", "&gt;"))
