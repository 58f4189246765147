"""What `/metrics` reports, in Prometheus' terms. One Metrics object per process, made by
the composition root and handed to the engine, the scheduler and the outbox worker (each
makes its own when none is given, as in tests).

Labels come from fixed vocabularies only (registered command names, platform names,
outcomes): never user text, people's ids or project names."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

OUTBOX_STATES = ("pending", "sending", "sent", "failed", "skipped")
CONTENT_TYPE = CONTENT_TYPE_LATEST
UNKNOWN_COMMAND = "unknown"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.commands = Counter(
            "liaison_commands", "Commands handled", ["command", "platform", "outcome"], registry=r
        )
        self.command_seconds = Histogram(
            "liaison_command_seconds", "Time to answer a command", ["command"], registry=r
        )
        self.reply_cache_hits = Counter(
            "liaison_reply_cache_hits", "Commands answered from the reply cache", registry=r
        )
        self.outbox_rows = Gauge(
            "liaison_outbox_rows",
            "Outbox rows by state (read at scrape time)",
            ["state"],
            registry=r,
        )
        self.deliveries = Counter(
            "liaison_deliveries", "Delivery attempts", ["platform", "outcome"], registry=r
        )
        self.rate_limited = Counter(
            "liaison_rate_limited_responses",
            "HTTP 429 answers from a platform",
            ["platform"],
            registry=r,
        )
        self.due_step_seconds = Histogram(
            "liaison_due_step_seconds", "Duration of the scheduler's due-step", registry=r
        )
        self.due_step_last_success = Gauge(
            "liaison_due_step_last_success_timestamp_seconds",
            "When the due-step last finished without error (Unix time)",
            registry=r,
        )
        self.scheduler_lag = Gauge(
            "liaison_scheduler_lag_seconds",
            "How late the last due-step started after its tick",
            registry=r,
        )

    def command_done(self, command: str, platform: str, outcome: str, seconds: float) -> None:
        self.commands.labels(command, platform, outcome).inc()
        self.command_seconds.labels(command).observe(seconds)

    def set_outbox_rows(self, counts: dict[str, int]) -> None:
        for state in {*OUTBOX_STATES, *counts}:
            self.outbox_rows.labels(state).set(counts.get(state, 0))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
