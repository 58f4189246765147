"""Multi-workspace mode: OAuth installs kept by slack-sdk's async SQLAlchemy stores in our
own database (the tables come from our migration, see storage/slack_tables.py)."""

from __future__ import annotations

import copy
from typing import TypeVar

from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.secret_key import secret_box
from adapters.slack.manifest import BOT_SCOPES
from bot.settings import Settings
from storage.secrets import SecretBox
from storage.slack_tables import (
    BOTS_TABLE,
    INSTALLATIONS_TABLE,
    OAUTH_STATES_TABLE,
    TOKEN_COLUMNS,
)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_SECONDS = 600


Record = TypeVar("Record", Bot, Installation)


class SealedInstallationStore(AsyncSQLAlchemyInstallationStore):
    """slack-sdk's store, with every token sealed on the way in and opened on the way out."""

    def __init__(self, *, box: SecretBox, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.box = box

    async def async_save(self, installation: Installation) -> None:
        await super().async_save(self._sealed(installation))

    async def async_save_bot(self, bot: Bot) -> None:
        await super().async_save_bot(self._sealed(bot))

    async def async_find_bot(self, **kwargs: object) -> Bot | None:  # type: ignore[override]
        return self._opened(await super().async_find_bot(**kwargs))  # type: ignore[arg-type]

    async def async_find_installation(  # type: ignore[override]
        self, **kwargs: object
    ) -> Installation | None:
        found = await super().async_find_installation(**kwargs)  # type: ignore[arg-type]
        return self._opened(found)

    def _sealed(self, record: Record) -> Record:
        # A copy: bolt keeps using the object it saved, with the token in clear.
        sealed = copy.copy(record)
        for name in TOKEN_COLUMNS:
            if hasattr(sealed, name):
                setattr(sealed, name, self.box.seal(getattr(sealed, name)))
        return sealed

    def _opened(self, record: Record | None) -> Record | None:
        # (async_find_installation may already hold an opened bot token: open() leaves it.)
        if record is not None:
            for name in TOKEN_COLUMNS:
                if hasattr(record, name):
                    setattr(record, name, self.box.open(getattr(record, name)))
        return record


def installation_store(
    settings: Settings, db: AsyncEngine, box: SecretBox | None = None
) -> SealedInstallationStore:
    assert settings.slack_client_id
    return SealedInstallationStore(
        box=box or secret_box(settings),
        client_id=settings.slack_client_id,
        engine=db,
        bots_table_name=BOTS_TABLE,
        installations_table_name=INSTALLATIONS_TABLE,
    )


def oauth_settings(
    settings: Settings, db: AsyncEngine, store: SealedInstallationStore
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
