"""Email: the client report (and later agendas and minutes) sent by SMTP through the
outbox. Mounted when LIAISON_SMTP_URL, LIAISON_MAIL_FROM and LIAISON_PUBLIC_URL are set
(every email carries an unsubscribe link, so no public URL means no email)."""

from __future__ import annotations

import logging

from adapters.email.deliver import EmailDeliverer
from adapters.runtime import Runtime

log = logging.getLogger("liaison.email")


def mount_email(runtime: Runtime) -> None:
    settings = runtime.settings
    if not settings.smtp_url:
        log.info("Email: off; set LIAISON_SMTP_URL and LIAISON_MAIL_FROM to send reports")
        return
    missing = [
        name
        for name, value in (
            ("LIAISON_MAIL_FROM", settings.mail_from),
            ("LIAISON_PUBLIC_URL", settings.public_url),
        )
        if not value
    ]
    if missing:
        log.warning("Email: off; LIAISON_SMTP_URL is set but %s is not", " and ".join(missing))
        return
    assert settings.mail_from is not None and settings.public_url is not None
    runtime.deliverers[EmailDeliverer.platform] = EmailDeliverer(
        smtp_url=settings.smtp_url,
        mail_from=settings.mail_from,
        public_url=settings.public_url,
        sessions=runtime.sessions,
        secrets=runtime.secrets,
        ca_file=settings.smtp_ca_file,
    )
    log.info("Email: enabled")
