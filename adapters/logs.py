"""Structured logs: one JSON object per line, secrets never printed."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

SECRET_RE = re.compile(r"(xox[abpre]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|Bearer\s+[A-Za-z0-9._\-]+)")
STANDARD = set(vars(logging.makeLogRecord({})))


def redact(text: str) -> str:
    return SECRET_RE.sub("[redacted]", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        entry.update(
            {k: v for k, v in vars(record).items() if k not in STANDARD and not k.startswith("_")}
        )
        if record.exc_info:
            entry["error"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
