"""/metrics: counters that move with a scripted burst (commands by outcome, latency, reply
cache hits, outbox rows, deliveries, 429s, the due-step), labels that carry no user text,
and who may read it (loopback only, or the bearer token)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.schedule.scheduler import Scheduler
from tests.fakes.slack_world import SlackWorld, slack_world


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[SlackWorld]:
    async with slack_world(db_url) as world:
        yield world


async def scrape(world: SlackWorld, **headers: str) -> dict[tuple[str, tuple], float]:
    response = await world.http.get("/metrics", headers=headers)
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    samples: dict[tuple[str, tuple], float] = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_counters_move_with_a_scripted_burst(world: SlackWorld) -> None:
    before = await scrape(world)
    await world.command('project new "Secret Project Name" client:"Acme" budget:$20k')
    await world.command("status")
    await world.command("status")  # the same question, nothing changed: from the cache
    await world.command("frobnicate the secret plans")
    await world.command("budget spend nonsense")
    await world.command("milestone add")
    after = await scrape(world)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    slack_ok = {"platform": "slack", "outcome": "ok"}
    assert moved("liaison_commands_total", command="project new", **slack_ok) == 1
    assert moved("liaison_commands_total", command="status", **slack_ok) == 2
    assert moved("liaison_reply_cache_hits_total") == 1
    unknown = {"command": "unknown", "platform": "slack", "outcome": "user_error"}
    assert moved("liaison_commands_total", **unknown) == 1
    assert moved("liaison_command_seconds_count", command="status") == 2
    errors = sum(
        v - value(before, n, **dict(labels))
        for (n, labels), v in after.items()
        if n == "liaison_commands_total" and dict(labels)["outcome"] == "user_error"
    )
    assert errors == 3
    text = await (await world.http.get("/metrics")).text()
    assert "Secret" not in text and "frobnicate" not in text and "U0ANN" not in text


async def test_outbox_deliveries_429s_and_the_due_step(world: SlackWorld) -> None:
    await world.command('project new "Acme Site" client:"Acme"')
    await world.command('milestone add "Design" due:2026-12-02')
    await world.command('task add "Wireframes" due:2026-12-02 owner:@U0ANN')
    scheduler = Scheduler(
        sessions=world.runtime.sessions,
        deliverers=world.runtime.deliverers,
        clock=world.clock,
        metrics=world.runtime.metrics,
    )
    world.clock.set("2026-12-02T08:05:00Z")
    await scheduler.tick()
    queued = await scrape(world)
    assert value(queued, "liaison_outbox_rows", state="pending") >= 1
    assert value(queued, "liaison_due_step_seconds_count") == 1
    assert value(queued, "liaison_due_step_last_success_timestamp_seconds") > 0
    assert ("liaison_scheduler_lag_seconds", ()) in queued

    world.api.fail_next(method="chat.postMessage", status=429, retry_after=1)
    await scheduler.worker.run_once()
    world.clock.advance(seconds=5)
    await scheduler.worker.run_once()
    after = await scrape(world)
    assert value(after, "liaison_rate_limited_responses_total", platform="slack") == 1
    assert value(after, "liaison_deliveries_total", platform="slack", outcome="retry") == 1
    sent = value(after, "liaison_deliveries_total", platform="slack", outcome="sent")
    assert sent == value(queued, "liaison_outbox_rows", state="pending") >= 1
    assert value(after, "liaison_outbox_rows", state="pending") == 0


async def test_without_a_token_only_loopback_requests_naming_this_host_may_read(
    db_url: str,
) -> None:
    async with slack_world(db_url) as world:
        assert (await world.http.get("/metrics")).status == 200
        for headers in (
            {"Host": "attacker.example"},  # DNS rebinding: the page's own host name
            {"Host": "127.0.0.1:1"},  # another port
            {"X-Forwarded-For": "203.0.113.9"},  # a proxy passed it on
            {"Forwarded": "for=203.0.113.9"},
        ):
            refused = await world.http.get("/metrics", headers=headers)
            assert refused.status == 404, headers
    async with slack_world(db_url, LIAISON_HOST="0.0.0.0") as world:
        # Listening on every address: no request counts as local, not even this one.
        assert (await world.http.get("/metrics")).status == 404


async def test_with_a_token_only_its_bearer_may_read_from_anywhere(db_url: str) -> None:
    token = "metrics-token-7c1e"
    async with slack_world(db_url, LIAISON_HOST="0.0.0.0", LIAISON_METRICS_TOKEN=token) as world:
        for authorization in ("", "Bearer wrong", f"Bearer {token}x", token, f"Basic {token}"):
            headers = {"Authorization": authorization} if authorization else {}
            assert (await world.http.get("/metrics", headers=headers)).status == 404
        await scrape(world, Authorization=f"Bearer {token}")
    async with slack_world(db_url, LIAISON_METRICS_TOKEN=token) as world:
        # Set, the token is needed even on loopback (a local proxy makes everyone local).
        assert (await world.http.get("/metrics")).status == 404
