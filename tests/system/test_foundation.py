"""The spine: migrations, the console command, the server's health check (the layering
rules live in tests/architecture)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.runtime import build_runtime
from adapters.server import create_app
from bot.settings import load_settings
from bot.views import drawing
from storage.models import Base
from storage.slack_tables import slack_metadata

ROOT = Path(__file__).resolve().parents[2]
LIAISON = Path(sys.executable).with_name("liaison")


async def test_migrations_create_exactly_the_models(db: AsyncEngine) -> None:
    def diff(connection):  # noqa: ANN001, ANN202
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, [Base.metadata, slack_metadata()])

    async with db.connect() as connection:
        differences = await connection.run_sync(diff)
    assert differences == []


def test_piped_console_session(tmp_path: Path) -> None:
    env = {**os.environ, "LIAISON_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}"}
    script = (
        'help\nstatus\nproject new "Acme Site" client:"Acme" budget:$20k\nstatus\n'
        ":in acme-shared\nproject link client\n:as carol --external\nstatus\n"
    )
    result = subprocess.run(
        [str(LIAISON), "console", "--as", "ann"],
        input=script,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Liaison: what I can do" in out
    assert "There is no project here yet" in out
    assert "Project Acme Site started" in out
    assert out.count("Acme Site: status") == 2
    client_part = out.split("now speaking as carol")[1]
    assert "20,000" not in client_part and "Client: Acme" in client_part


async def test_healthz_reports_the_database(db_url: str) -> None:
    runtime = build_runtime(load_settings(LIAISON_DATABASE_URL=db_url))
    async with TestClient(TestServer(create_app(runtime))) as client:
        response = await client.get("/healthz")
        assert response.status == 200
        assert (await response.json())["database"] == "ok"
    await runtime.close()


async def test_the_server_prepares_chart_drawing_before_serving(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The drawing process starts, and imports matplotlib and loads its fonts, at start-up,
    not during the first chart a Slack command draws while its 3-second acknowledgement
    runs."""
    monkeypatch.setattr(drawing, "_pool", None)
    runtime = build_runtime(load_settings(LIAISON_DATABASE_URL=db_url))
    async with TestClient(TestServer(create_app(runtime))):
        pool = drawing._pool
        assert pool is not None
        assert pool.submit(drawing.is_prepared).result(timeout=30)
    await runtime.close()


async def test_healthz_is_unhealthy_without_a_database() -> None:
    url = "postgresql+asyncpg://nobody@127.0.0.1:1/none"
    runtime = build_runtime(load_settings(LIAISON_DATABASE_URL=url))
    async with TestClient(TestServer(create_app(runtime))) as client:
        response = await client.get("/healthz")
        assert response.status == 503
    await runtime.close()


def test_serve_starts_without_credentials_and_says_how_to_enable_platforms(
    tmp_path: Path,
) -> None:
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"sqlite:///{tmp_path / 's.db'}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_"))},
        "LIAISON_DATABASE_URL": url,
        "PORT": str(port),
        "LIAISON_SCHEDULER": "off",
    }
    subprocess.run([str(LIAISON), "migrate"], env=env, cwd=tmp_path, check=True, timeout=120)
    process = subprocess.Popen(
        [str(LIAISON), "serve"], env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True
    )
    try:
        body = ""
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    body = r.read().decode()
                    break
            except OSError:
                time.sleep(0.2)
        assert '"status": "ok"' in body
    finally:
        process.terminate()
        _, logs = process.communicate(timeout=30)
    assert "Slack: disabled; set SLACK_SIGNING_SECRET" in logs
    assert "MICROSOFT_APP_ID" in logs
    assert process.returncode == 0
