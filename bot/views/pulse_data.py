"""The pulses a project asked and their answers, read for many projects in one statement
(status, reports and the `pulse` command read them; all of it is internal)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.pulse import TREND_LENGTH, PulsePoint
from storage.models import Pulse, PulseAnswer


async def load_pulse_trends(
    session: AsyncSession, project_ids: Sequence[int], length: int = TREND_LENGTH
) -> dict[int, tuple[PulsePoint, ...]]:
    """Each project's last `length` pulses, oldest first, with their scores."""
    if not project_ids:
        return {}
    rows = await session.execute(
        select(Pulse.project_id, Pulse.id, Pulse.asked_on, PulseAnswer.score)
        .outerjoin(PulseAnswer, PulseAnswer.pulse_id == Pulse.id)
        .where(Pulse.project_id.in_(list(project_ids)))
        .order_by(Pulse.project_id, Pulse.asked_on)
    )
    scores: dict[int, dict[int, list[int]]] = defaultdict(dict)
    days: dict[int, object] = {}
    for project_id, pulse_id, asked_on, score in rows:
        days[pulse_id] = asked_on
        answers = scores[project_id].setdefault(pulse_id, [])
        if score is not None:
            answers.append(score)
    return {
        pid: tuple(
            PulsePoint(days[pulse_id], tuple(found))  # type: ignore[arg-type]
            for pulse_id, found in list(pulses.items())[-length:]
        )
        for pid, pulses in scores.items()
    }
