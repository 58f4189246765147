"""Scheduled weekly reports: written by the due-step with their charts as data, drawn when
each is delivered; a chart survives the trip through the outbox unchanged."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from bot.domain.budget import LedgerFigures, summarise
from bot.domain.snapshot import MilestoneFacts
from bot.messages import Chart, Image, Message, message_from_dict, message_to_dict
from bot.schedule.step import run_due
from bot.views.charts import budget_image, burn_up_chart, timeline, timeline_chart, timeline_image
from bot.views.drawing import draw
from storage.models import Delivery
from tests.harness import Harness
from tests.project_setup import CLIENT, kickoff

PNG = b"\x89PNG\r\n\x1a\n"
SAVED = re.compile(r"^\(image: (.*) -> (\S+)\)$", re.MULTILINE)


async def test_the_due_step_queues_charts_as_data_and_delivery_draws_them(bot: Harness) -> None:
    await kickoff(bot)
    await bot.say("ann", 'milestone add "Beta" due:2026-12-18 client')
    await bot.say("ann", 'milestone add "Code freeze" due:2026-12-11')
    await bot.say("ann", 'spend 12345 "Licences"')
    bot.take_posts()
    bot.clock.set("2026-12-04T15:00:00+00:00")  # Friday, 15:00 project time (UTC)
    await run_due(bot.sessions, bot.clock(), grace=timedelta(minutes=120))
    async with bot.sessions() as session:
        rows = (
            await session.execute(
                select(Delivery.channel_id, Delivery.message).where(
                    Delivery.occurrence_key == "report:project=1:2026-12-04"
                )
            )
        ).all()
    queued = {channel: message_from_dict(message).blocks for channel, message in rows}
    assert sorted(queued) == [CLIENT, "team"]
    assert [b.kind for b in queued["team"] if isinstance(b, Chart)] == ["burn-up", "timeline"]
    assert [b.kind for b in queued[CLIENT] if isinstance(b, Chart)] == ["timeline"]
    assert not any(isinstance(b, Image) for blocks in queued.values() for b in blocks)

    await bot.deliver()
    (team,) = [p for p in bot.posts if p.startswith("-> #team [internal]\n*Weekly report")]
    (client,) = [p for p in bot.posts if p.startswith(f"-> #{CLIENT} [client]\n*Weekly update")]
    team_images = SAVED.findall(team)
    assert [alt.split(":")[0] for alt, _ in team_images] == [
        "Budget burn-up of Acme Site",
        "Milestone timeline of Acme Site",
    ]
    (client_image,) = SAVED.findall(client)
    assert client_image[0] == "Milestone timeline of Acme Site: Beta 2026-12-18 (upcoming)"
    for _, path in [*team_images, client_image]:
        assert Path(path).read_bytes().startswith(PNG)


def test_a_chart_read_back_from_the_outbox_draws_the_same_picture() -> None:
    figures = LedgerFigures(
        currency="EUR",
        budget=Decimal("10000"),
        start_date=date(2026, 11, 2),
        due_date=date(2026, 12, 31),
        by_category=(("general", Decimal("4321.09")),),
        by_person=(),
    )
    summary = summarise(figures, date(2026, 11, 21))
    daily = [(date(2026, 11, 5), Decimal("1000.09")), (date(2026, 11, 12), Decimal("3321"))]
    marks = timeline(
        [MilestoneFacts(1, "Beta", date(2026, 12, 1), True, False, False)], date(2026, 11, 21)
    )
    charts = (
        burn_up_chart(summary, daily, date(2026, 11, 2), "Acme"),
        timeline_chart(marks, date(2026, 11, 21), date(2026, 12, 31), "Acme"),
    )
    stored = json.loads(json.dumps(message_to_dict(Message(charts))))
    assert message_from_dict(stored).blocks == charts
    again = [draw(chart) for chart in message_from_dict(stored).blocks]  # type: ignore[arg-type]
    direct = [
        budget_image(summary, daily, date(2026, 11, 2), "Acme"),
        timeline_image(marks, date(2026, 11, 21), date(2026, 12, 31), "Acme"),
    ]
    assert again == direct
    assert again[0].png.startswith(PNG) and "forecast to the due date" in again[0].alt
