"""Where the secret key comes from: LIAISON_SECRET_KEY, or on the SQLite default a key
generated once into a file beside the database (owner-only). PostgreSQL serves several
processes and outlives any one machine's files, so there the key must be given."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.settings import Settings
from storage.db import is_sqlite, normalise_url
from storage.secrets import SecretBox, SecretKeyError, new_key

log = logging.getLogger("liaison.secrets")
KEY_FILE_SUFFIX = ".secret-key"


class StartupError(Exception):
    """A setting that stops `liaison serve` with one clear line (never a traceback)."""


def secret_box(settings: Settings) -> SecretBox:
    try:
        return SecretBox(_key_text(settings))
    except SecretKeyError as error:
        raise StartupError(str(error)) from None


def key_file(database_url: str) -> Path | None:
    """The key file beside a SQLite database file (None for in-memory databases)."""
    database = make_url(normalise_url(database_url)).database
    if not database or database == ":memory:":
        return None
    return Path(database + KEY_FILE_SUFFIX)


def _key_text(settings: Settings) -> str:
    if settings.secret_key:
        return settings.secret_key
    if not is_sqlite(settings.database_url):
        raise StartupError(
            "LIAISON_SECRET_KEY is not set; on PostgreSQL every process needs the same key: "
            "make one with `liaison secrets new-key` and set it in the environment"
        )
    path = key_file(settings.database_url)
    if path is None:
        log.warning("secret key: none set for an in-memory database; using a throwaway key")
        return new_key()
    return _read_or_create(path)


def _read_or_create(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = new_key()
    try:
        # O_EXCL: two processes starting at once cannot each write a different key.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as file:
        file.write(key + "\n")
    log.info(
        "secret key: generated %s (readable only by its owner); back it up with the "
        "database, stored tokens cannot be read without it",
        path,
    )
    return key
