"""Done when: `liaison serve` with only SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN and
SLACK_API_URL set answers a correctly signed slash command body with Block Kit."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import yaml

from adapters.slack.manifest import BOT_SCOPES, MANIFEST_PATH
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_events import SIGNING_SECRET, fixture, signed_headers

LIAISON = Path(sys.executable).with_name("liaison")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def run(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        str(LIAISON),
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode or 0, out.decode(), err.decode()


async def test_liaison_serve_answers_a_signed_slash_command(tmp_path: Path) -> None:
    port = free_port()
    async with FakeSlackApi() as api, aiohttp.ClientSession() as http:
        api.add_user("U0ANN", "Ann")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_"))},
            "LIAISON_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
            "PORT": str(port),
            "LIAISON_SCHEDULER": "off",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_BOT_TOKEN": "xoxb-serve-test",
            "SLACK_API_URL": api.url,
        }
        code, _, err = await run("migrate", env=env, cwd=tmp_path)
        assert code == 0, err
        server = await asyncio.create_subprocess_exec(
            str(LIAISON), "serve", env=env, cwd=tmp_path, stderr=asyncio.subprocess.PIPE
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(200):
                try:
                    async with http.get(f"{base}/healthz") as ready:
                        if ready.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
            form = fixture("slash_command")  # exactly the fields Slack sends
            form.update(text="help", response_url=api.response_url("serve"))
            body = urlencode(form)
            async with http.post(
                f"{base}/slack/events", data=body, headers=signed_headers(body)
            ) as response:
                assert response.status == 200
                answer = await response.json()
            async with http.post(
                f"{base}/slack/events", data=body, headers=signed_headers(body, secret="wrong")
            ) as forged:
                assert forged.status == 401
        finally:
            server.terminate()
            _, logs = await asyncio.wait_for(server.communicate(), 30)
    assert answer["response_type"] == "ephemeral"
    assert answer["blocks"][0]["type"] == "header"
    assert any(b["type"] == "section" and b.get("fields") for b in answer["blocks"])
    assert answer["text"]
    assert api.calls_to("auth.test")[0].token == "xoxb-serve-test"
    assert "Slack: single workspace" in logs.decode()


async def test_manifest_is_printed_with_the_urls_filled_in(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    code, out, err = await run(
        "manifest", "slack", "--url", "https://bot.example.com/", env=env, cwd=tmp_path
    )
    assert code == 0, err
    manifest = yaml.safe_load(out)
    features, settings = manifest["features"], manifest["settings"]
    events = "https://bot.example.com/slack/events"
    assert features["slash_commands"][0]["command"] == "/pm"
    assert features["slash_commands"][0]["url"] == events
    assert settings["event_subscriptions"]["request_url"] == events
    assert settings["interactivity"] == {"is_enabled": True, "request_url": events}
    assert manifest["oauth_config"]["redirect_urls"] == [
        "https://bot.example.com/slack/oauth_redirect"
    ]
    assert features["shortcuts"][0]["callback_id"] == "liaison.task_from_message"
    assert features["app_home"]["home_tab_enabled"] is True
    assert {"app_mention", "message.im", "app_home_opened"} <= set(
        settings["event_subscriptions"]["bot_events"]
    )
    assert "liaison.example.com" not in out


async def test_manifest_uses_the_configured_command_and_refuses_a_non_url(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
        "SLACK_COMMAND": "/liaison",
    }
    code, out, _ = await run(
        "manifest", "slack", "--url", "https://x.example", env=env, cwd=tmp_path
    )
    assert code == 0
    assert yaml.safe_load(out)["features"]["slash_commands"][0]["command"] == "/liaison"
    code, _, err = await run("manifest", "slack", "--url", "x.example", env=env, cwd=tmp_path)
    assert code == 2 and "not a URL" in err


def test_oauth_asks_for_the_scopes_the_manifest_declares() -> None:
    manifest = yaml.safe_load(MANIFEST_PATH.read_text())
    assert manifest["oauth_config"]["scopes"]["bot"] == list(BOT_SCOPES)
