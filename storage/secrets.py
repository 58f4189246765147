"""Secrets at rest: every token Liaison stores is sealed with Fernet (AES-CBC + HMAC) under
LIAISON_SECRET_KEY. Several comma-separated keys may be given: the first seals, all open,
so a key can be rotated without downtime (`liaison secrets rotate` re-seals with the first).

A value that is not a Fernet token is a row written before encryption existed: it is read
as it is, and `liaison migrate` seals it (storage.stored_secrets.reseal_all)."""

from __future__ import annotations

import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

# Every Fernet token starts with its version byte 0x80, which is "gAAAAA" in base64.
SEALED_PREFIX = "gAAAAA"


class SecretKeyError(ValueError):
    """A key that is not a Fernet key, or stored secrets that no given key opens."""


def new_key() -> str:
    return Fernet.generate_key().decode()


def parse_keys(text: str) -> MultiFernet:
    keys = [part.strip() for part in text.split(",") if part.strip()]
    if not keys:
        raise SecretKeyError("LIAISON_SECRET_KEY is empty; make one with `liaison secrets new-key`")
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key.encode()))
        except ValueError:
            # Never echo the key itself: it may be a real one with a typo.
            raise SecretKeyError(
                f"LIAISON_SECRET_KEY: key {position} is not a Fernet key (32 url-safe "
                "base64-encoded bytes); make one with `liaison secrets new-key`"
            ) from None
    return MultiFernet(fernets)


def is_sealed(value: str) -> bool:
    return value.startswith(SEALED_PREFIX)


class SecretBox:
    def __init__(self, keys: str) -> None:
        self._fernet = parse_keys(keys)

    def seal(self, value: str | None) -> str | None:
        if value is None or is_sealed(value):
            return value
        return self._fernet.encrypt(value.encode()).decode()

    def open(self, value: str | None) -> str | None:
        if value is None or not is_sealed(value):
            return value
        try:
            return self._fernet.decrypt(value.encode()).decode()
        except InvalidToken:
            raise SecretKeyError(
                "a stored secret does not open with any key in LIAISON_SECRET_KEY "
                "(was the key changed without keeping the old one after a comma?)"
            ) from None

    def reseal(self, value: str | None) -> str | None:
        """Sealed with the first key, whatever it was sealed with before (or in clear)."""
        if value is None:
            return None
        if not is_sealed(value):
            return self.seal(value)
        try:
            return self._fernet.rotate(value.encode()).decode()
        except InvalidToken:
            self.open(value)  # raises the explained error
            raise


def sealed_with(box: SecretBox | None, value: str) -> str:
    """`value` sealed, or as it is where no key is configured (tools and tests)."""
    return value if box is None else str(box.seal(value))


def opened_with(box: SecretBox | None, value: str) -> str:
    """`value` opened, or as it is where no key is configured (then it was stored so)."""
    return value if box is None else str(box.open(value))


def digest(token: str) -> str:
    """For tokens that are only compared, never used: store this, compare digests."""
    return hashlib.sha256(token.encode()).hexdigest()
