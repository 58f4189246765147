"""Client meeting agendas and minutes by email (a real SMTP server on 127.0.0.1): the client
agenda to the addresses that asked for `agenda`, the client minutes to those that asked for
`minutes`, once each, never the team's versions."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.schedule.step import run_due
from tests.delivery.test_email_reports import CAROL, DAVE, mail_world, send_email
from tests.project_setup import kickoff
from tests.system_world import MARKERS


async def test_agendas_and_minutes_go_to_the_addresses_that_asked(
    db_url: str, tmp_path: Path
) -> None:
    async with mail_world(db_url, tmp_path) as (world, smtp):
        bot = world.bot
        await kickoff(bot)
        for line in (
            'risk add "INTERNAL-RISK-ZEBRA" likelihood:high impact:high',
            'spend 48765 "INTERNAL-SPEND-NARWHAL"',
            "meeting set thu 10:00",
            'meeting ask "Can we see staging?"',
            f"email add {CAROL} minutes",
            f"email add {DAVE} agenda",
        ):
            out = await bot.say("ann", line)
            assert "Usage" not in out, (line, out)
        bot.take_posts()
        for _ in range(2):  # the same instant twice: claimed once
            bot.clock.set("2026-12-03T09:00:00+00:00")  # 60 minutes before, in UTC
            await run_due(world.runtime.sessions, bot.clock(), grace=timedelta(minutes=120))
            await send_email(world)
        (agenda,) = smtp.received
        assert agenda.rcpt_tos == (DAVE,)
        assert agenda.message["Subject"] == "Agenda: Acme Site client meeting"
        assert "Can we see staging?" in agenda.shown and "Prep" not in agenda.shown

        bot.clock.set("2026-12-03T10:30:00+00:00")
        await bot.say("ann", 'meeting note "Staging is ready"')
        await bot.say("ann", 'meeting note --internal "INTERNAL-NOTE-WOMBAT"')
        await bot.say("ann", "meeting done")
        assert await send_email(world) == 1
        minutes = smtp.received[-1]
        assert minutes.rcpt_tos == (CAROL,)
        assert minutes.message["Subject"].startswith("Minutes: Acme Site client meeting")
        assert "Staging is ready" in minutes.shown
        for mail in smtp.received:
            assert [m for m in MARKERS if m in mail.shown] == []
