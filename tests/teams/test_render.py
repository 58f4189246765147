"""Neutral messages -> Adaptive Card activities: structure, escaping, size limits."""

from __future__ import annotations

import base64
import io
import json
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.teams.render import CARD_TYPE, MAX_ACTIVITY_BYTES, escape, render_activities
from bot.messages import (
    Actions,
    Button,
    Context,
    Facts,
    Field,
    File,
    Form,
    Heading,
    Image,
    Item,
    Items,
    Message,
    Text,
)


def _card(activity: dict[str, Any]) -> dict[str, Any]:
    (attachment,) = activity["attachments"]
    assert attachment["contentType"] == CARD_TYPE
    return attachment["content"]


def _wire_size(activity: dict[str, Any]) -> int:
    return len(json.dumps(activity).encode())  # as the SDK sends it: ASCII escapes


def _elements(card: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "type" in node:
                found.append(node)
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(card["body"])
    return found


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text).replace("\n\n", "\n")


def test_blocks_become_adaptive_card_elements() -> None:
    message = Message(
        (
            Heading("Acme Site: status"),
            Text("All good."),
            Facts((("Budget", "USD 50,000.00"), ("Due", "2027-03-01"))),
            Items((Item("Wireframes", "done"), Item("Copy", "overdue"))),
            Actions(
                (
                    Button("Approve", "change approve", "3", "primary"),
                    Button("Decline", "change decline", "3", "danger"),
                )
            ),
            Context("Type `help` for more."),
        )
    )
    (activity,) = render_activities(message)
    card = _card(activity)
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    heading, text, facts, done, overdue, actions, context = card["body"]
    assert heading["type"] == "TextBlock" and heading["weight"] == "Bolder"
    assert _unescape(heading["text"]) == "Acme Site: status"
    assert text["text"] == "All good." and text["wrap"] is True
    assert facts == {
        "type": "FactSet",
        "facts": [
            {"title": "Budget", "value": "USD 50,000.00"},
            {"title": "Due", "value": "2027-03-01"},
        ],
    }
    assert done["text"].endswith("Wireframes") and overdue["text"].endswith("Copy")
    assert done["text"][0] != overdue["text"][0]  # a status mark each
    assert actions["type"] == "ActionSet"
    approve, decline = actions["actions"]
    assert approve == {
        "type": "Action.Submit",
        "title": "Approve",
        "data": {"action_id": "change approve", "value": "3"},
        "style": "positive",
    }
    assert decline["style"] == "destructive"
    assert context["isSubtle"] is True
    assert activity["text"] == "Acme Site: status" == activity["summary"]
    assert card["fallbackText"] == activity["text"]


def test_an_empty_list_says_so() -> None:
    (activity,) = render_activities(Message((Items((), empty="No tasks yet."),)))
    assert _card(activity)["body"][0]["text"] == "No tasks yet."


def test_a_form_keeps_its_inputs_and_submit_together() -> None:
    form = Form(
        (Field("q1", "What did you finish?"), Field("q2", "Anything blocking?", multiline=False)),
        "Send",
        "huddle answer",
        "2026-12-01",
    )
    (activity,) = render_activities(Message((Heading("Huddle"), form)))
    container = _card(activity)["body"][1]
    first, second, buttons = container["items"]
    assert (first["type"], first["id"], first["label"]) == (
        "Input.Text",
        "field.q1",
        "What did you finish?",
    )
    assert first["isMultiline"] is True and second["isMultiline"] is False
    (send,) = buttons["actions"]
    assert send["data"] == {"action_id": "huddle answer", "value": "2026-12-01"}


def test_many_buttons_are_spread_over_rows() -> None:
    buttons = tuple(Button(f"Task {n}", "task done", str(n)) for n in range(12))
    (activity,) = render_activities(Message((Actions(buttons),)))
    rows = _card(activity)["body"]
    assert [len(r["actions"]) for r in rows] == [5, 5, 2]
    assert [a["data"]["value"] for r in rows for a in r["actions"]] == [str(n) for n in range(12)]


def _png(size: int) -> bytes:
    from PIL import Image as PILImage

    noise = PILImage.effect_noise((size, size), 90).convert("RGB")
    buffer = io.BytesIO()
    noise.save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_image_is_inline_and_one_too_large_for_teams_becomes_text() -> None:
    small = _png(64)
    (activity,) = render_activities(Message((Image(small, "Burn chart"),)))
    (image,) = _card(activity)["body"]
    assert image["type"] == "Image" and image["altText"] == "Burn chart"
    assert base64.b64decode(image["url"].removeprefix("data:image/png;base64,")) == small
    big = _png(400)
    assert len(big) > MAX_ACTIVITY_BYTES
    (activity,) = render_activities(Message((Image(big, "Huge chart"),)))
    (fallback,) = _card(activity)["body"]
    assert fallback["type"] == "TextBlock" and "Huge chart" in fallback["text"]
    assert _wire_size(activity) < MAX_ACTIVITY_BYTES


def test_a_file_is_shown_as_text() -> None:
    csv = b"number,title,owner\n1,Wireframes,Ann\n2,Copy,Bob\n"
    (activity,) = render_activities(Message((File("tasks.csv", csv),)))
    name, content = _card(activity)["body"]
    assert "tasks.csv" in name["text"]
    assert content["fontType"] == "Monospace"
    assert _unescape(content["text"]).splitlines() == csv.decode().splitlines()


def test_user_text_cannot_mention_link_or_format() -> None:
    nasty = "<at>Everyone</at> **urgent** [click](https://evil.example.com) _x_ ~y~"
    message = Message(
        (
            Heading(nasty),
            Text(f"- {nasty}\n1. numbered"),
            Facts(((nasty, nasty),)),
            Items((Item(nasty),)),
        )
    )
    (activity,) = render_activities(message)
    serialised = json.dumps(activity)
    assert "entities" not in serialised and "mention" not in serialised
    for element in _elements(_card(activity)):
        for text in [element.get("text"), element.get("title"), element.get("value")]:
            if not isinstance(text, str) or not text:
                continue
            assert not re.search(r"(?<!\\)[<>\[\]()*_~]", text), text
    for fact in _card(activity)["body"][2]["facts"]:
        assert _unescape(fact["title"]) == nasty
    assert not re.search(r"(?<!\\)<at>", activity["text"])
    assert activity["summary"] == nasty[:100]  # plain text: notifications show no markdown
    assert escape("- item").startswith("\\-") and escape("12. item").startswith("12\\.")


@settings(max_examples=15, deadline=None)
@given(
    st.lists(
        st.text(min_size=1, max_size=400).filter(lambda t: t.strip()),
        min_size=1,
        max_size=40,
    ),
    st.integers(min_value=1, max_value=400),
)
def test_every_activity_stays_under_the_limit_and_nothing_is_lost(
    texts: list[str], repeat: int
) -> None:
    items = tuple(Item(text * repeat) for text in texts)
    message = Message((Heading("Tasks"), Items(items), Text(texts[0] * repeat)))
    activities = render_activities(message)
    shown: list[str] = []
    for activity in activities:
        assert _wire_size(activity) < MAX_ACTIVITY_BYTES
        assert activity["text"] and activity["summary"]
        shown.extend(e["text"] for e in _card(activity)["body"])
    # Whitespace aside (line breaks are re-spaced, long texts cut into blocks), all of it
    # is there, in order.
    joined = "".join("".join(_unescape(t).split()) for t in shown)
    expected = "".join("".join((text * repeat).split()) for text in texts)
    assert expected in joined.replace("\u2610", "")


def test_a_long_report_is_split_into_several_cards_in_order() -> None:
    items = tuple(Item(f"Task {n}: " + "x" * 300) for n in range(1000))
    activities = render_activities(Message((Heading("All tasks"), Items(items))))
    assert len(activities) > 3
    assert activities[1]["summary"].endswith("(continued)")
    numbers = [
        int(re.search(r"Task (\d+):", e["text"]).group(1))  # type: ignore[union-attr]
        for a in activities
        for e in _card(a)["body"]
        if "Task" in e["text"]
    ]
    assert numbers == list(range(1000))
    assert all(_wire_size(a) < MAX_ACTIVITY_BYTES for a in activities)
