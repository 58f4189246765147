"""Slack requests exactly as Slack sends them, signed with slack-sdk's SignatureVerifier.

Shared by the system tests and the benchmarks: a slash command form body, a
`block_actions` and a `view_submission` payload, and the signing headers."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

API_APP_ID = "A0LIAISON"
_ids = itertools.count(1)


@dataclass(frozen=True)
class SlackUser:
    """Who speaks: a Slack user of a team (workspace)."""

    user_id: str
    team_id: str
    name: str
    team_domain: str = "acme"
    enterprise_id: str | None = None


class SlackSigner:
    """Builds the `X-Slack-Signature` headers of a body, like Slack does."""

    def __init__(self, signing_secret: str) -> None:
        self.verifier = SignatureVerifier(signing_secret)
        self.secret = signing_secret.encode()

    def headers(
        self,
        body: str | bytes,
        *,
        timestamp: int | None = None,
        content_type: str = "application/x-www-form-urlencoded",
    ) -> dict[str, str]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        raw = body if isinstance(body, bytes) else body.encode()
        # Slack's v0 scheme over the raw bytes (slack-sdk's generate_signature takes text,
        # and some bodies under test are not valid UTF-8 on purpose).
        digest = hmac.new(self.secret, b"v0:" + stamp.encode() + b":" + raw, hashlib.sha256)
        signature = "v0=" + digest.hexdigest()
        if isinstance(body, str):
            assert signature == self.verifier.generate_signature(timestamp=stamp, body=body)
        return {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature,
        }


def slash_command(
    user: SlackUser,
    text: str,
    *,
    channel_id: str,
    response_url: str,
    channel_name: str = "project",
    command: str = "/pm",
) -> str:
    """The form body of a slash command invocation (Slack's documented fields)."""
    fields = {
        "token": "legacy-verification-token",
        "team_id": user.team_id,
        "team_domain": user.team_domain,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user.user_id,
        "user_name": user.name.lower(),
        "command": command,
        "text": text,
        "api_app_id": API_APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": f"{next(_ids)}.1.trigger",
    }
    if user.enterprise_id:
        fields["enterprise_id"] = user.enterprise_id
        fields["enterprise_name"] = "Enterprise"
    return urlencode(fields)


def _user(user: SlackUser) -> dict[str, Any]:
    return {
        "id": user.user_id,
        "username": user.name.lower(),
        "name": user.name.lower(),
        "team_id": user.team_id,
    }


def _team(user: SlackUser) -> dict[str, Any]:
    return {"id": user.team_id, "domain": user.team_domain}


def block_actions(
    user: SlackUser,
    *,
    channel_id: str,
    action_id: str,
    value: str,
    response_url: str,
    block_id: str = "actions",
) -> str:
    """A button press (`block_actions`) as the form body `payload=<json>`."""
    stamp = f"{int(time.time())}.{next(_ids):06d}"
    payload = {
        "type": "block_actions",
        "user": _user(user),
        "api_app_id": API_APP_ID,
        "token": "legacy-verification-token",
        "container": {
            "type": "message",
            "message_ts": stamp,
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "trigger_id": f"{next(_ids)}.1.trigger",
        "team": _team(user),
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": "project"},
        "message": {"type": "message", "ts": stamp, "text": "", "blocks": []},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "text": {"type": "plain_text", "text": "Press", "emoji": True},
                "value": value,
                "type": "button",
                "action_ts": stamp,
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def view_submission(
    user: SlackUser,
    *,
    callback_id: str,
    private_metadata: str,
    values: dict[str, dict[str, dict[str, Any]]],
) -> str:
    """A modal submit (`view_submission`) as the form body `payload=<json>`."""
    payload = {
        "type": "view_submission",
        "team": _team(user),
        "user": _user(user),
        "api_app_id": API_APP_ID,
        "token": "legacy-verification-token",
        "trigger_id": f"{next(_ids)}.1.trigger",
        "view": {
            "id": f"V{next(_ids):08d}",
            "team_id": user.team_id,
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "state": {"values": values},
            "hash": "1.hash",
            "title": {"type": "plain_text", "text": "Liaison"},
            "blocks": [],
        },
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return urlencode({"payload": json.dumps(payload)})


def event_callback(user: SlackUser, event: dict[str, Any], *, event_id: str | None = None) -> str:
    """An Events API envelope (JSON body)."""
    return json.dumps(
        {
            "token": "legacy-verification-token",
            "team_id": user.team_id,
            "api_app_id": API_APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(_ids):08d}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": user.enterprise_id,
                    "team_id": user.team_id,
                    "user_id": "UBOT",
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
    )
