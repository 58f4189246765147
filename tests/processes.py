"""`liaison serve` as a real subprocess: start, wait until healthy, kill, restart, read its
logs and its peak resident memory. Shared by the system tests and the benchmarks."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Project, Tenant

LIAISON = Path(sys.executable).with_name("liaison")
# The suite's own LIAISON_SECRET_KEY (a Fernet key made for tests, sealing nothing real).
TEST_SECRET_KEY = "dGVzdC1rZXktZm9yLWxpYWlzb24tdGVzdHMtMDAwMDA="
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def peak_rss_mb(pid: int) -> float | None:
    """The process's high-water mark of resident memory (VmHWM), in MiB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def descendants(pid: int) -> list[int]:
    """The processes `pid` started, and theirs (a serving process's forkserver and drawing
    process, say), from each process's parent in /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name may hold spaces and parentheses: the fields follow the last ")".
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        children.setdefault(ppid, []).append(int(stat.parent.name))
    found, waiting = [], list(children.get(pid, []))
    while waiting:
        child = waiting.pop()
        found.append(child)
        waiting += children.get(child, [])
    return found


def clean_environment() -> dict[str, str]:
    """The parent's environment without any platform credentials or Liaison settings."""
    prefixes = ("SLACK_", "MICROSOFT_", "LIAISON_")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes) and k != "PORT"}


class ServerProcess:
    """Any HTTP server started as `argv` with `PORT` in its environment."""

    def __init__(
        self, argv: list[str], *, env: dict[str, str], log_path: Path, port: int | None = None
    ) -> None:
        self.argv = argv
        self.port = port or free_port()
        self.env = {**env, "PORT": str(self.port)}
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> ServerProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
            )
        return self

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, nothing is flushed."""
        if self.running():
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self, timeout: float = 30) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        return self.process.returncode

    def peak_rss_mb(self) -> float | None:
        return peak_rss_mb(self.pid) if self.running() else None

    def children_peak_rss_mb(self) -> float:
        """The peaks of the processes it started, added up (each process's own high-water
        mark: at most what they held at once)."""
        if not self.running():
            return 0.0
        return sum(peak_rss_mb(child) or 0.0 for child in descendants(self.pid))

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def wait_ready(self, path: str = "/healthz", timeout: float = 60) -> None:
        """Until `path` answers 200; fails early if the process died."""
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if not self.running():
                    raise RuntimeError(f"{self.argv[-1]} exited:\n{self.logs()[-3000:]}")
                try:
                    async with http.get(self.url + path, timeout=aiohttp.ClientTimeout(2)) as r:
                        if r.status == 200:
                            return
                except (aiohttp.ClientError, TimeoutError):
                    pass
                await asyncio.sleep(0.1)
        raise TimeoutError(f"{self.url}{path} not ready after {timeout}s:\n{self.logs()[-3000:]}")


class LiaisonProcess(ServerProcess):
    """`liaison serve` on a database, with Slack pointed at a local fake Web API."""

    def __init__(
        self,
        *,
        database_url: str,
        log_path: Path,
        slack_api_url: str | None = None,
        signing_secret: str | None = None,
        bot_token: str | None = None,
        scheduler: bool = False,
        extra_env: dict[str, str] | None = None,
        port: int | None = None,
    ) -> None:
        env = clean_environment()
        env.update(
            {
                "LIAISON_DATABASE_URL": database_url,
                "LIAISON_SCHEDULER": "on" if scheduler else "off",
                "LIAISON_LOG_LEVEL": "INFO",
                "LIAISON_SECRET_KEY": TEST_SECRET_KEY,
                "PYTHONUNBUFFERED": "1",
            }
        )
        if slack_api_url:
            env["SLACK_API_URL"] = slack_api_url
        if signing_secret:
            env["SLACK_SIGNING_SECRET"] = signing_secret
        if bot_token:
            env["SLACK_BOT_TOKEN"] = bot_token
        env.update(extra_env or {})
        super().__init__([str(LIAISON), "serve"], env=env, log_path=log_path, port=port)

    def restart(self) -> LiaisonProcess:
        """Start again on the same port and database (after `kill` or `stop`)."""
        self.stop()
        self.start()
        return self


def weekday_away_from(moment: datetime) -> int:
    """An ISO weekday three days from `moment`'s: a weekly report on it is never due within
    the due-step's grace around `moment`. A test of a morning's posts sets it, or its
    projects' reports (Friday 15:00 by default) join the morning on Friday afternoons."""
    return (moment.isoweekday() + 2) % 7 + 1


async def insert_projects(
    session: AsyncSession, created: datetime, projects: list[dict[str, Any]]
) -> None:
    """Tenant 1 (a Slack workspace) and its projects `Project <id>` in UTC, working every
    day, their weekly reports not due today, each row its own changes to these settings
    (an `id` at least)."""
    await session.execute(
        insert(Tenant.__table__),
        [{"id": 1, "platform": "slack", "external_id": "T0001", "created_at": created}],
    )
    defaults = {
        "tenant_id": 1,
        "client_name": "Client",
        "timezone": "UTC",
        "currency": "USD",
        "start_date": created.date(),
        "working_days": "1,2,3,4,5,6,7",
        "day_hours": 8,
        "checkin_time": "09:00",
        "checkin_all_clear": True,
        "report_weekday": weekday_away_from(datetime.now(UTC)),
        "report_time": "15:00",
        "budget_thresholds": "50,75,90,100",
        "archived": False,
        "created_at": created,
    }
    rows = [{**defaults, "name": f"Project {p['id']}", **p} for p in projects]
    await session.execute(insert(Project.__table__), rows)
