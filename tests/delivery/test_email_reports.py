"""The weekly client report by email: `email add|remove`, `emails`, the due-step writing one
outbox row per address, delivered by SMTP (a real server on 127.0.0.1 with STARTTLS and
authentication), multipart with inline charts, one-click unsubscribe, retries on 4xx and
a refused address failed and reported to the PM."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bot.delivery.workers import deliver_pending
from bot.domain.access_tokens import new_token
from bot.schedule.step import run_due
from storage.models import Delivery, EmailRecipient
from storage.secrets import is_sealed
from tests.fakes.smtp_server import USER, SmtpRecorder
from tests.project_setup import CLIENT, client_says, count, kickoff
from tests.reach_setup import PUBLIC_URL, Reach, reach_world
from tests.system_world import MARKERS

FRIDAY_REPORT = "2026-12-04T15:00:00+00:00"  # the kickoff project reports Fridays at 15:00
CAROL = "carol@client.example"
DAVE = "dave@client.example"
SENDER = "Liaison <liaison@agency.example>"


@asynccontextmanager
async def mail_world(db_url: str, tmp_path: Path) -> AsyncIterator[tuple[Reach, SmtpRecorder]]:
    async with SmtpRecorder(tmp_path) as smtp:
        settings = {"smtp_url": smtp.url, "mail_from": SENDER, "smtp_ca_file": smtp.ca_file}
        async with reach_world(db_url, **settings) as world:
            assert "email" in world.runtime.deliverers  # mounted by create_app
            yield world, smtp


async def project_with_list(world: Reach) -> None:
    bot = world.bot
    await kickoff(bot)
    for line in (
        'milestone add "Beta" due:2026-12-18 client',
        'task add "INTERNAL-NOTE-WOMBAT tidy" @bob due:2026-12-10',
        'risk add "INTERNAL-RISK-ZEBRA" likelihood:high impact:high',
        'spend 48765 "INTERNAL-SPEND-NARWHAL"',
        f"email add {CAROL}",
        f"email add {DAVE} agenda",  # asked for agendas only: no report
    ):
        out = await bot.say("ann", line)
        assert "Usage" not in out, (line, out)
    bot.take_posts()


async def report_time(world: Reach) -> None:
    world.bot.clock.set(FRIDAY_REPORT)
    await run_due(world.runtime.sessions, world.bot.clock(), grace=timedelta(minutes=120))


async def send_email(world: Reach) -> int:
    deliverer = world.runtime.deliverers["email"]
    return await deliver_pending(world.runtime.sessions, {"email": deliverer}, world.bot.clock())


async def test_the_list_commands(db_url: str, tmp_path: Path) -> None:
    async with mail_world(db_url, tmp_path) as (world, _):
        bot = world.bot
        await kickoff(bot)
        out = await bot.say("ann", "email add not-an-address")
        assert "not an email address" in out and await count(bot, EmailRecipient) == 0, out
        out = await bot.say("ann", f"email add {CAROL} invoices")
        assert "choose from report, agenda, minutes" in out, out
        assert await count(bot, EmailRecipient) == 0
        # Slack shows a typed address as a mailto link; it is the same address.
        out = await bot.say("ann", f"email add <mailto:{CAROL}|{CAROL}> report minutes")
        assert f"{CAROL} will get the weekly report, minutes" in out, out
        out = await bot.say("ann", "emails")
        assert f"{CAROL}: the weekly report, minutes" in out, out
        out = await bot.say("bob", f"email add {DAVE}")
        assert "PM" in out and await count(bot, EmailRecipient) == 1, out
        out = await client_says(bot, "emails")
        assert CAROL not in out, out
        out = await bot.say("ann", "emails", channel=CLIENT)
        assert CAROL not in out, out
        out = await bot.say("ann", f"email remove {CAROL}")
        assert "gets no more email" in out and await count(bot, EmailRecipient) == 0, out
        out = await bot.say("ann", f"email remove {CAROL}")
        assert "not on the list" in out, out


async def test_the_client_report_is_emailed_once_multipart_and_client_safe(
    db_url: str, tmp_path: Path
) -> None:
    async with mail_world(db_url, tmp_path) as (world, smtp):
        await project_with_list(world)
        await report_time(world)
        assert await send_email(world) == 1
        await report_time(world)  # the same instant again: already claimed
        await send_email(world)
        (mail,) = smtp.received
        assert mail.rcpt_tos == (CAROL,) and mail.user == USER and mail.tls
        assert smtp.to(DAVE) == []
        message = mail.message
        assert message["Subject"] == "Acme Site: weekly status, week 1"
        assert message["From"] == SENDER and message["To"] == CAROL
        assert message.get_content_type() == "multipart/alternative"
        plain, related = message.get_payload()
        assert plain.get_content_type() == "text/plain"
        assert related.get_content_type() == "multipart/related"
        html_part, chart = related.get_payload()
        assert html_part.get_content_type() == "text/html"
        assert chart.get_content_type() == "image/png"
        assert chart.get_payload(decode=True).startswith(b"\x89PNG")
        assert f'src="cid:{chart["Content-ID"].strip("<>")}"' in html_part.get_content()
        assert "Beta" in plain.get_content() and "Weekly" not in message["Subject"]
        assert [m for m in MARKERS if m in mail.shown] == []
        unsubscribe = message["List-Unsubscribe"].strip("<>")
        assert unsubscribe.startswith(f"{PUBLIC_URL}/unsubscribe/")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert unsubscribe in plain.get_content() and unsubscribe in html_part.get_content()

        # One click: a mail client's RFC 8058 POST takes the address off the list at once.
        status, page, _ = await world.open(unsubscribe)  # a link scanner's GET changes nothing
        assert status == 200 and b"<form" in page and await count(world.bot, EmailRecipient) == 2
        status, page, _ = await world.open(
            unsubscribe, method="POST", data={"List-Unsubscribe": "One-Click"}
        )
        assert status == 200 and CAROL.encode() in page
        out = await world.bot.say("ann", "emails")
        assert CAROL not in out and DAVE in out, out
        assert (await world.open(unsubscribe))[:2] == (404, b"")
        assert (await world.open(unsubscribe, method="POST"))[:2] == (404, b"")


async def test_unsubscribing_stops_what_is_already_queued(db_url: str, tmp_path: Path) -> None:
    async with mail_world(db_url, tmp_path) as (world, smtp):
        await project_with_list(world)
        await report_time(world)  # queued, not yet sent
        async with world.runtime.sessions() as session:
            stored = await session.scalar(
                select(EmailRecipient.token).where(EmailRecipient.address == CAROL)
            )
        # Stored sealed under LIAISON_SECRET_KEY: the database alone does not unsubscribe.
        assert stored is not None and is_sealed(stored)
        token = world.runtime.secrets.open(stored)
        status, _, _ = await world.open(f"{PUBLIC_URL}/unsubscribe/{token}", method="POST")
        assert status == 200
        assert await send_email(world) == 0 and smtp.received == []


async def test_a_temporary_smtp_failure_is_retried(db_url: str, tmp_path: Path) -> None:
    async with mail_world(db_url, tmp_path) as (world, smtp):
        await project_with_list(world)
        smtp.data_answers = ["421 4.7.0 Try again later"]
        await report_time(world)
        assert await send_email(world) == 0
        async with world.runtime.sessions() as session:
            row = await session.scalar(select(Delivery).where(Delivery.platform == "email"))
        assert row.status == "pending" and row.attempts == 1 and "421" in row.last_error
        assert await send_email(world) == 0  # not before its backoff
        world.bot.clock.advance(seconds=10)
        assert await send_email(world) == 1
        assert len(smtp.to(CAROL)) == 1


async def test_a_message_the_server_rejects_fails_without_retrying(
    db_url: str, tmp_path: Path
) -> None:
    async with mail_world(db_url, tmp_path) as (world, smtp):
        await project_with_list(world)
        smtp.data_answers = ["554 5.7.1 Message rejected"]
        await report_time(world)
        assert await send_email(world) == 0
        world.bot.clock.advance(hours=2)
        assert await send_email(world) == 0 and smtp.received == []
        async with world.runtime.sessions() as session:
            row = await session.scalar(select(Delivery).where(Delivery.platform == "email"))
        assert (row.status, row.attempts) == ("failed", 1) and "554" in row.last_error


async def test_a_refused_address_fails_for_good_and_the_pm_is_told(
    db_url: str, tmp_path: Path
) -> None:
    async with mail_world(db_url, tmp_path) as (world, smtp):
        await project_with_list(world)
        smtp.refuse.add(CAROL)
        await report_time(world)
        assert await send_email(world) == 0
        world.bot.clock.advance(hours=2)
        await send_email(world)
        assert smtp.rcpt_attempts == [CAROL] and smtp.received == []  # tried once only
        async with world.runtime.sessions() as session:
            row = await session.scalar(select(Delivery).where(Delivery.platform == "email"))
        assert row.status == "failed" and "550" in row.last_error
        await world.bot.deliver()  # the notice to the PM goes by chat
        told = world.bot.take_posts()
        assert "An email address refused my email" in told, told
        assert CAROL in told and "550" in told and "`email remove`" in told, told
        out = await world.bot.say("ann", "outbox failed")
        assert f"to {CAROL} by email" in out and "550" in out, out


async def test_unknown_and_malformed_unsubscribe_tokens_get_a_bare_404(
    db_url: str, tmp_path: Path
) -> None:
    async with mail_world(db_url, tmp_path) as (world, _):
        await project_with_list(world)
        async with world.runtime.sessions() as session:
            stored = await session.scalar(
                select(EmailRecipient.token).where(EmailRecipient.address == CAROL)
            )
        # Stored sealed under LIAISON_SECRET_KEY: the database alone does not unsubscribe.
        assert stored is not None and is_sealed(stored)
        token = world.runtime.secrets.open(stored)
        assert token is not None
        one_off = token[:-1] + ("A" if token[-1] != "A" else "B")
        probes = [stored, new_token().token, one_off, "1", "%00"]  # the sealed one too
        for probe in probes:
            for method in ("GET", "POST"):
                link = f"{PUBLIC_URL}/unsubscribe/{probe}"
                assert (await world.open(link, method=method))[:2] == (404, b""), probe
        assert await count(world.bot, EmailRecipient) == 2
