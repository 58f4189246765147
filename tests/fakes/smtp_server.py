"""A real SMTP server on 127.0.0.1 (aiosmtpd) with STARTTLS and authentication required,
that records every message it accepts. Answers can be scripted: `data_answers` are given
to the next DATA commands in turn (e.g. a 421 before accepting), and addresses in
`refuse` get 550 at RCPT.

    async with SmtpRecorder(tmp_path) as smtp:
        settings: smtp.url, smtp.ca_file;   what came: smtp.received
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.processes import free_port

USER, PASSWORD = "liaison", "smtp-pass-7731"
# Ids made of random digits and letters (Message-ID, image cids, unsubscribe tokens, MIME
# boundaries of 19 random digits): a leak marker such as "1337" turns up in them by chance
# (a boundary holds it about once in 600 emails), so they are left out of `shown`.
MACHINE_HEADERS = ("message-id", "date", "list-unsubscribe")
RANDOM_IDS = re.compile(r"cid:[^\"\s]+|/unsubscribe/[A-Za-z0-9_-]+|boundary=\"[^\"]*\"")


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes
    user: str | None
    tls: bool

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.content, policy=policy.default)  # type: ignore[return-value]

    @property
    def shown(self) -> str:
        """Everything a mail client could show: the headers and every decoded text part
        (not the base64 of images, whose letters and digits match anything by chance)."""
        message = self.message
        parts = [f"{k}: {v}" for k, v in message.items() if k.lower() not in MACHINE_HEADERS]
        parts += [p.get_content() for p in message.walk() if p.get_content_maintype() == "text"]
        return RANDOM_IDS.sub("(id)", "\n".join(parts))


@dataclass
class SmtpRecorder:
    folder: Path
    data_answers: list[str] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)
    rcpt_attempts: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://{USER}:{PASSWORD}@127.0.0.1:{self.port}"

    @property
    def ca_file(self) -> str:
        return str(self.folder / "smtp-cert.pem")

    async def __aenter__(self) -> SmtpRecorder:
        import ssl

        cert, key = _self_signed(self.folder)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        self._controller = Controller(
            self,
            hostname="127.0.0.1",
            port=self.port,
            tls_context=context,
            require_starttls=True,
            auth_required=True,
            authenticator=self._authenticate,
        )
        self._controller.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._controller is not None:
            self._controller.stop()

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            USER.encode(),
            PASSWORD.encode(),
        )
        # handled=False: aiosmtpd then answers a refusal with 535, as real servers do
        # (its default leaves the client waiting for an answer that never comes).
        return AuthResult(success=ok, handled=False, auth_data=data.login.decode() if ok else None)

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        with self._lock:
            self.rcpt_attempts.append(address)
        if address in self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        with self._lock:
            if self.data_answers:
                return self.data_answers.pop(0)
            self.received.append(
                Received(
                    envelope.mail_from,
                    tuple(envelope.rcpt_tos),
                    bytes(envelope.content),
                    session.auth_data,
                    session.ssl is not None,
                )
            )
        return "250 OK: queued"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]


def _self_signed(folder: Path) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)
