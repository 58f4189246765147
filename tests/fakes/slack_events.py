"""Slack's side of the conversation: payloads from tests/fixtures/slack, signed the way
Slack signs them (v0 HMAC-SHA256 over `v0:timestamp:body`, slack-sdk's SignatureVerifier).

    slack = SlackSender(http_client, SIGNING_SECRET)        # an aiohttp TestClient
    response = await slack.command("status", response_url=api.response_url("1"))
    response = await slack.event(event_payload("app_mention", text="<@UBOT> help"))
    response = await slack.interaction(payload)
"""

from __future__ import annotations

import copy
import itertools
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import ClientResponse
from slack_sdk.signature import SignatureVerifier

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "slack"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
FORM = "application/x-www-form-urlencoded"
_ids = itertools.count(1)


def fixture(name: str) -> dict[str, Any]:
    """A fresh copy of tests/fixtures/slack/<name>.json."""
    return copy.deepcopy(json.loads((FIXTURES / f"{name}.json").read_text()))


def signed_headers(
    body: str,
    *,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    content_type: str = FORM,
) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    assert signature is not None
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
    }


def command_body(text: str, **fields: str) -> str:
    """A slash command's form body: the documented fixture with `text` and any field set."""
    payload = fixture("slash_command")
    payload["trigger_id"] = f"{next(_ids)}.738474920.8088930838d88f008e0"
    payload.update(text=text, **fields)
    return urlencode(payload)


def event_payload(
    name: str, *, user: str | None = None, channel: str | None = None, **event: Any
) -> dict[str, Any]:
    """An Events API envelope from a fixture, with a fresh event_id and the event's fields."""
    payload = fixture(name)
    payload["event_id"] = f"Ev{next(_ids):010d}"
    if user:
        payload["event"]["user"] = user
    if channel:
        payload["event"]["channel"] = channel
    payload["event"].update(event)
    return payload


def interaction_body(payload: dict[str, Any]) -> str:
    """Interactivity payloads arrive as a form with one field, `payload`, holding JSON."""
    return urlencode({"payload": json.dumps(payload)})


class SlackSender:
    """Posts signed requests to /slack/events of an app under test."""

    def __init__(self, http: Any, secret: str = SIGNING_SECRET, path: str = "/slack/events"):
        self.http = http
        self.secret = secret
        self.path = path

    async def post(
        self, body: str, *, content_type: str = FORM, headers: dict[str, str] | None = None
    ) -> ClientResponse:
        signed = signed_headers(body, secret=self.secret, content_type=content_type)
        return await self.http.post(self.path, data=body, headers={**signed, **(headers or {})})

    async def command(self, text: str, **fields: str) -> ClientResponse:
        return await self.post(command_body(text, **fields))

    async def event(self, payload: dict[str, Any], *, retry: int | None = None) -> ClientResponse:
        headers = {}
        if retry is not None:
            headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        return await self.post(
            json.dumps(payload), content_type="application/json", headers=headers
        )

    async def interaction(self, payload: dict[str, Any]) -> ClientResponse:
        return await self.post(interaction_body(payload))
