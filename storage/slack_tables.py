"""slack-sdk's installation and OAuth state tables, so Alembic creates them with ours."""

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import MetaData, Text

BOTS_TABLE = "slack_bots"
INSTALLATIONS_TABLE = "slack_installations"
OAUTH_STATES_TABLE = "slack_oauth_states"
# Tokens are stored sealed (storage.secrets): a Fernet token is longer than slack-sdk's 200.
TOKEN_COLUMNS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")


def slack_metadata() -> MetaData:
    metadata = MetaData()
    SQLAlchemyInstallationStore.build_bots_table(metadata, BOTS_TABLE)
    SQLAlchemyInstallationStore.build_installations_table(metadata, INSTALLATIONS_TABLE)
    SQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, OAUTH_STATES_TABLE)
    for table in (metadata.tables[BOTS_TABLE], metadata.tables[INSTALLATIONS_TABLE]):
        for column in table.columns:
            if column.name in TOKEN_COLUMNS:
                column.type = Text()
    return metadata
