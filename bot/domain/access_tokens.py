"""Unguessable tokens for the URLs that open without a login: calendar feeds and the
unsubscribe link of an email. Pure.

A token is 32 random bytes (256 bits) in URL-safe base64. Rows are found by the SHA-256 of
the token, never by the token itself, so the time an index lookup takes says nothing
about how close a guess came, and a row found is the token's (a digest of 256 random bits
is not guessed). The token itself is stored only to show the link again (the calendar
command, each email's unsubscribe link), sealed under LIAISON_SECRET_KEY like every
stored secret (storage.secrets, storage.stored_secrets). A malformed token is refused
before any statement runs.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

TOKEN_BYTES = 32
_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


@dataclass(frozen=True, slots=True)
class AccessToken:
    token: str
    digest: str


def new_token() -> AccessToken:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return AccessToken(token, digest_of(token))


def digest_of(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def well_formed(token: str) -> bool:
    return _SHAPE.fullmatch(token) is not None
