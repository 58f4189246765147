"""All settings, read once at the entry point from the environment (and `.env`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.db import DEFAULT_URL


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field(DEFAULT_URL, alias="LIAISON_DATABASE_URL")
    host: str = Field("127.0.0.1", alias="LIAISON_HOST")
    port: int = Field(3978, alias="PORT")
    log_level: str = Field("INFO", alias="LIAISON_LOG_LEVEL")
    public_url: str | None = Field(None, alias="LIAISON_PUBLIC_URL")
    scheduler: str = Field("on", alias="LIAISON_SCHEDULER")
    grace_minutes: int = Field(120, alias="LIAISON_GRACE_MINUTES")
    # How long a delivery worker owns a row it is sending (see bot/delivery/outbox.py).
    delivery_lease_seconds: int = Field(120, alias="LIAISON_DELIVERY_LEASE_SECONDS")
    # How often the scheduler runs its due-step; a minute at most.
    scheduler_interval_seconds: int = Field(60, alias="LIAISON_SCHEDULER_INTERVAL_SECONDS")
    # Sent and failed outbox rows are kept this long (then deleted by the scheduler).
    retention_days: int = Field(90, alias="LIAISON_RETENTION_DAYS", ge=1)
    playground: str | None = Field(None, alias="LIAISON_PLAYGROUND")
    # Answer repeated read-only commands from memory while nothing changed (bot/reply_cache).
    reply_cache: bool = Field(True, alias="LIAISON_REPLY_CACHE")
    # Fernet key(s) sealing stored tokens; comma-separated, the first seals (storage.secrets).
    secret_key: str | None = Field(None, alias="LIAISON_SECRET_KEY")
    # `/metrics` answers other addresses only with `Authorization: Bearer <this>`.
    metrics_token: str | None = Field(None, alias="LIAISON_METRICS_TOKEN")
    # Who runs this installation, named on /privacy and /terms.
    operator_name: str | None = Field(None, alias="LIAISON_OPERATOR_NAME")
    operator_contact: str | None = Field(None, alias="LIAISON_OPERATOR_CONTACT")
    # Email through the outbox (adapters/email): smtp://user:pass@host:587 (STARTTLS),
    # smtps://user:pass@host:465 (implicit TLS) or smtp://host:25 (plain, a local relay).
    smtp_url: str | None = Field(None, alias="LIAISON_SMTP_URL")
    mail_from: str | None = Field(None, alias="LIAISON_MAIL_FROM")
    # PEM certificates to trust for the SMTP server instead of the system's (a private CA).
    smtp_ca_file: str | None = Field(None, alias="LIAISON_SMTP_CA_FILE")

    slack_signing_secret: str | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_bot_token: str | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_app_token: str | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_client_id: str | None = Field(None, alias="SLACK_CLIENT_ID")
    slack_client_secret: str | None = Field(None, alias="SLACK_CLIENT_SECRET")
    slack_api_url: str = Field("https://slack.com/api/", alias="SLACK_API_URL")
    slack_command: str = Field("/pm", alias="SLACK_COMMAND")

    microsoft_app_id: str | None = Field(None, alias="MICROSOFT_APP_ID")
    microsoft_app_password: str | None = Field(None, alias="MICROSOFT_APP_PASSWORD")
    microsoft_app_type: str = Field("MultiTenant", alias="MICROSOFT_APP_TYPE")
    microsoft_app_tenant_id: str | None = Field(None, alias="MICROSOFT_APP_TENANT_ID")
    # Bot Framework endpoints, overridable for tests and air-gapped installs: the OpenID
    # metadata that signs inbound tokens, and the login authority that issues outbound ones.
    botframework_openid_metadata_url: str | None = Field(
        None, alias="BOTFRAMEWORK_OPENID_METADATA_URL"
    )
    botframework_login_url: str | None = Field(None, alias="BOTFRAMEWORK_LOGIN_URL")
    # /api/messages without an app id (the Bot Framework Emulator), on loopback only.
    teams_emulator: bool = Field(False, alias="LIAISON_TEAMS_EMULATOR")
    # Comma-separated service URLs outside Microsoft's hosts that may get a Bot Framework
    # token (tests' fake connector, air-gapped installs).
    teams_service_urls: str = Field("", alias="LIAISON_TEAMS_SERVICE_URLS")

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_signing_secret and (self.slack_bot_token or self.slack_client_id))

    @property
    def teams_credentials(self) -> bool:
        return bool(self.microsoft_app_id)

    @property
    def teams_enabled(self) -> bool:
        """Whether /api/messages is mounted at all."""
        return self.teams_credentials or self.teams_emulator

    @property
    def scheduler_enabled(self) -> bool:
        return self.scheduler.lower() not in ("off", "0", "false", "no")


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
