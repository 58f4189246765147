"""Two `liaison serve` processes with their schedulers on one PostgreSQL and one real SMTP
server (STARTTLS, authentication): each weekly client report is emailed to each address
exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.access_tokens import new_token
from storage.models import Delivery, EmailRecipient, OccurrenceClaim
from tests.fakes.smtp_server import SmtpRecorder
from tests.processes import LiaisonProcess, insert_projects
from tests.system_cluster import until
from tests.system_world import MARKERS

pytestmark = pytest.mark.slow
PROJECTS = 4
SHARED = "pat@client.example"  # on every project's list: one subscription each


async def test_two_processes_email_each_report_to_each_address_once(
    db_url: str, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("several processes share one PostgreSQL; SQLite runs one process")
    async with SmtpRecorder(tmp_path) as smtp:
        env = {
            "LIAISON_SCHEDULER_INTERVAL_SECONDS": "1",
            "LIAISON_PUBLIC_URL": "https://liaison.example.com",
            "LIAISON_SMTP_URL": smtp.url,
            "LIAISON_MAIL_FROM": "liaison@agency.example",
            "LIAISON_SMTP_CA_FILE": smtp.ca_file,
        }
        processes = [
            LiaisonProcess(
                database_url=db_url,
                log_path=tmp_path / f"p{i}.log",
                scheduler=True,
                extra_env=env,
            )
            for i in range(2)
        ]
        for process in processes:
            process.start()
        try:
            await asyncio.gather(*(p.wait_ready() for p in processes))
            await add_projects_reporting_now(sessions)

            async def all_came() -> bool:
                return len(smtp.received) >= PROJECTS * 2

            await until(all_came, 60, "every report emailed")
            await asyncio.sleep(3)  # time for any duplicate to show up
        finally:
            for process in processes:
                process.stop()
    sent = sorted((r.rcpt_tos, str(r.message["Subject"])) for r in smtp.received)
    expected = sorted(
        ((address,), f"Project {p}: weekly status, week 5")
        for p in range(1, PROJECTS + 1)
        for address in (f"client{p}@client.example", SHARED)
    )
    assert sent == expected
    assert all(r.tls and r.user for r in smtp.received)
    for received in smtp.received:
        assert [m for m in MARKERS if m in received.shown] == []
    async with sessions() as session:
        claims = await session.scalar(
            select(func.count(OccurrenceClaim.id)).where(OccurrenceClaim.key.like("report:%"))
        )
        statuses = (
            await session.execute(
                select(Delivery.status, func.count(Delivery.id)).group_by(Delivery.status)
            )
        ).all()
    assert claims == PROJECTS and statuses == [("sent", PROJECTS * 2)]
    logs = "\n".join(p.logs() for p in processes)
    assert "Traceback" not in logs


async def add_projects_reporting_now(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Projects in UTC whose weekly report was due a minute ago, each with a mailing list
    (and a spend that only the internal report would show)."""
    now = datetime.now(UTC)
    due = now - timedelta(minutes=1)
    created = now - timedelta(days=30)
    async with sessions() as session, session.begin():
        await insert_projects(
            session,
            created,
            [
                {
                    "id": p,
                    "budget": 48765,
                    "start_date": due.date() - timedelta(days=28),
                    "checkin_time": "03:00" if due.hour != 3 else "04:00",
                    "report_weekday": due.isoweekday(),
                    "report_time": due.strftime("%H:%M"),
                }
                for p in range(1, PROJECTS + 1)
            ],
        )
        rows = []
        for p in range(1, PROJECTS + 1):
            for address in (f"client{p}@client.example", SHARED):
                token = new_token()
                rows.append(
                    {
                        "project_id": p,
                        "address": address,
                        "wants": "report",
                        "token": token.token,
                        "token_digest": token.digest,
                        "created_at": created,
                    }
                )
        await session.execute(insert(EmailRecipient.__table__), rows)
