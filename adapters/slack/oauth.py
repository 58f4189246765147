"""Multi-workspace mode: OAuth installs kept by slack-sdk's async SQLAlchemy stores in our
own database (the tables come from our migration, see storage/slack_tables.py)."""

from __future__ import annotations

from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.slack.manifest import BOT_SCOPES
from bot.settings import Settings
from storage.slack_tables import BOTS_TABLE, INSTALLATIONS_TABLE, OAUTH_STATES_TABLE

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_SECONDS = 600


def installation_store(settings: Settings, db: AsyncEngine) -> AsyncSQLAlchemyInstallationStore:
    assert settings.slack_client_id
    return AsyncSQLAlchemyInstallationStore(
        client_id=settings.slack_client_id,
        engine=db,
        bots_table_name=BOTS_TABLE,
        installations_table_name=INSTALLATIONS_TABLE,
    )


def oauth_settings(
    settings: Settings, db: AsyncEngine, store: AsyncSQLAlchemyInstallationStore
) -> AsyncOAuthSettings:
    redirect_uri = None
    if settings.public_url:
        redirect_uri = settings.public_url.rstrip("/") + REDIRECT_PATH
    return AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=list(BOT_SCOPES),
        installation_store=store,
        state_store=AsyncSQLAlchemyOAuthStateStore(
            expiration_seconds=STATE_SECONDS, engine=db, table_name=OAUTH_STATES_TABLE
        ),
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        redirect_uri=redirect_uri,
    )
