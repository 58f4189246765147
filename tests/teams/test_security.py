"""Issue 12 on the Teams side: the emulator endpoint, tokens only to Microsoft's service
hosts, private replies out of channels, guests from the member record, linear parsing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from adapters.teams import inbound
from adapters.teams.auth import ServiceUrls
from bot.delivery.outbox import enqueue
from bot.messages import Message, Text
from bot.settings import load_settings
from storage.models import Conversation, Delivery, Person
from tests.teams_support import (
    EMULATOR,
    PEOPLE,
    SHARED_CHANNEL,
    TEAM_CHANNEL,
    TENANT,
    TeamsService,
    message,
    sqlite_copy,
    teams_service,
    text_of,
)

NEW = 'project new "Acme Site" client:"Acme Corp" budget:50k due:2027-03-01'


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    return sqlite_copy(tmp_path, sqlite_template)


async def _references(teams: TeamsService) -> list[Any]:
    """Stored conversation references: what proactive delivery could post to."""
    async with teams.runtime.sessions() as session:
        rows = await session.scalars(select(Conversation))
        return [row.reference for row in rows if row.reference]


# --- item 2: the endpoint without an app id ---------------------------------------------


@pytest.mark.parametrize(
    "settings",
    [{"MICROSOFT_APP_ID": None}, {"MICROSOFT_APP_ID": None, "SLACK_SIGNING_SECRET": "s"}],
    ids=["nothing", "slack-only"],
)
async def test_without_teams_or_the_emulator_setting_there_is_no_endpoint(
    sqlite_url: str, settings: dict[str, Any]
) -> None:
    async with teams_service(sqlite_url, **settings) as teams:
        activity = message("help", channel=None, service_url=teams.connector.url)
        assert await teams.post(activity) == 404
        assert teams.connector.posts == [] and await _references(teams) == []


async def test_a_web_page_cannot_post_to_the_emulator_endpoint(sqlite_url: str) -> None:
    async with teams_service(sqlite_url, **EMULATOR) as teams:
        body = message("huddle set time:09:30", service_url="https://evil.example/")
        port = teams.client.port
        simple = {"Content-Type": "text/plain; application/json"}  # no CORS preflight
        origin = {"Content-Type": "application/json", "Origin": "https://evil.example"}
        rebound = {"Content-Type": "application/json", "Host": f"attacker.example:{port}"}
        statuses = []
        for headers in (simple, origin, rebound):
            async with teams.client.post("/api/messages", json=body, headers=headers) as answer:
                statuses.append(answer.status)
        assert statuses == [415, 403, 403]
        # The emulator itself (exactly application/json, our own Host) is served.
        assert await teams.post(message("help", channel=None, service_url=teams.connector.url))
        assert teams.connector.posts and await _references(teams) == []


async def test_unauthenticated_turns_leave_no_reference_for_proactive_posts(
    sqlite_url: str,
) -> None:
    async with teams_service(sqlite_url, **EMULATOR) as teams:
        for text in ("help", NEW):
            activity = message(text, service_url=teams.connector.url)
            assert await teams.post(activity) == 201
        assert "Acme Site" in text_of(teams.connector.posts)
        assert await _references(teams) == []


def test_only_microsoft_service_hosts_or_listed_urls_may_get_a_token() -> None:
    urls = ServiceUrls(load_settings(LIAISON_TEAMS_SERVICE_URLS="http://127.0.0.1:9/ , x"))
    assert urls.allowed("https://smba.trafficmanager.net/emea/")
    assert urls.allowed("https://smba.infra.gcc.teams.microsoft.com/amer")
    assert urls.allowed("http://127.0.0.1:9")
    for url in (
        "http://smba.trafficmanager.net/emea/",
        "https://evil.trafficmanager.net/",
        "https://smba.trafficmanager.net@evil.example/",
        "https://botframework.com.evil.example/",
        "http://127.0.0.1:10/",
        "",
        None,
    ):
        assert not urls.allowed(url), url


async def test_no_token_goes_to_a_service_url_that_is_not_microsofts(sqlite_url: str) -> None:
    """A stored reference naming a non-Microsoft serviceUrl: the reply and the later
    delivery are not posted, so no Bot Framework token is sent there."""
    async with teams_service(sqlite_url, LIAISON_TEAMS_SERVICE_URLS="") as teams:
        activity = message("help", channel=TEAM_CHANNEL, service_url=teams.connector.url)
        assert await teams.post(activity) == 201
        async with teams.runtime.sessions() as session, session.begin():
            enqueue(
                session,
                project_id=None,
                platform="teams",
                tenant=TENANT,
                channel_id=TEAM_CHANNEL,
                target_kind="channel",
                message=Message(blocks=(Text("Huddle at 09:30"),)),
                now=teams.clock(),
            )
        await teams.deliver()
        # Nothing reached the service URL: no reply, no member lookup, no delivery.
        connector = teams.connector
        assert (connector.attempts, connector.member_lookups, connector.created) == (0, [], {})
        async with teams.runtime.sessions() as session:
            (status, error) = (
                await session.execute(select(Delivery.status, Delivery.last_error))
            ).one()
        assert status == "failed" and "LIAISON_TEAMS_SERVICE_URLS" in (error or "")


# --- item 3: private replies ------------------------------------------------------------


@pytest.fixture
async def teams(db_url: str) -> AsyncIterator[TeamsService]:
    async with teams_service(db_url) as service:
        assert "Acme Site started" in text_of(await service.say("ann", NEW))
        linked = await service.say("ann", "project link client", channel=SHARED_CHANNEL)
        assert "shared with Acme Corp" in text_of(linked)
        yield service


# Every command whose reply is private (ctx.whisper / visibility="ephemeral"), and an error.
PRIVATE = [
    "help",
    "me",
    "away 2027-12-24..2027-12-28",
    "back",
    "log 2h",
    "projects",
    "huddle",
    "huddle off",
    'huddle answer "fixed the build" "tests" "none"',
    "waiting",
    "export tasks",
    "outbox",
    "outbox retry",
    "task done 999",
]


@pytest.mark.parametrize("text", PRIVATE)
async def test_a_private_reply_in_a_channel_goes_to_the_askers_one_to_one_chat(
    teams: TeamsService, text: str
) -> None:
    posts = await teams.say("ann", text, channel=TEAM_CHANNEL)
    chat = teams.connector.created[PEOPLE["ann"][0]]
    assert posts and all(p.conversation_id == chat and p.reply_to is None for p in posts)


async def test_the_pms_project_list_is_not_posted_in_the_client_channel(
    teams: TeamsService,
) -> None:
    """The review's case: `pm projects` in the shared channel listed every project."""
    await teams.say("ann", 'project new "Other Co Rebrand" client:"Other Co"', channel=None)
    posts = await teams.say("ann", "projects", channel=SHARED_CHANNEL)
    assert "Other Co Rebrand" in text_of(posts)
    assert all(p.conversation_id == teams.connector.created[PEOPLE["ann"][0]] for p in posts)


async def test_project_unlink_answers_privately(teams: TeamsService) -> None:
    posts = await teams.say("ann", "project unlink", channel=SHARED_CHANNEL)
    assert posts and all(p.conversation_id.startswith("a:1on1-") for p in posts)


async def test_when_no_private_chat_can_be_opened_the_reply_is_withheld(
    teams: TeamsService,
) -> None:
    teams.connector.refuse_chats_with.add(PEOPLE["ann"][0])
    posts = await teams.say("ann", "projects", channel=SHARED_CHANNEL)
    (note,) = posts
    assert note.conversation_id.startswith(SHARED_CHANNEL)
    assert "only you should see" in text_of(posts) and "Acme Site" not in text_of(posts)


async def test_a_private_reply_in_a_personal_chat_stays_there(teams: TeamsService) -> None:
    posts = await teams.say("ann", "projects", channel=None)
    assert [p.conversation_id for p in posts] == ["a:personal-ann"]
    assert teams.connector.created == {}


# --- item 5: Teams guests -----------------------------------------------------------------


async def test_a_guest_of_the_host_tenant_is_external(db_url: str) -> None:
    """Gus is a guest: same tenant id, no userRole on the activity; the member API says so."""
    async with teams_service(db_url) as teams:
        gus = PEOPLE["gus"][0]
        teams.connector.roles[gus] = "guest"
        assert "what I can do" in text_of(await teams.say("gus", "help", channel=None))
        again = text_of(await teams.say("gus", NEW, channel=TEAM_CHANNEL))
        assert "not by a client" in again
        # Fetched once, cached with the person.
        assert teams.connector.member_lookups == [gus]
        async with teams.runtime.sessions() as session:
            role = await session.scalar(select(Person.member_role).where(Person.external_id == gus))
        assert role == "guest"


async def test_a_failed_member_lookup_decides_external_and_is_not_cached(db_url: str) -> None:
    async with teams_service(db_url) as teams:
        teams.connector.members_fail = True
        assert "not by a client" in text_of(await teams.say("ann", NEW))
        teams.connector.members_fail = False
        assert "Acme Site started" in text_of(await teams.say("ann", NEW))
        assert teams.connector.member_lookups == [PEOPLE["ann"][0]] * 2


# --- item 9: linear mention parsing ----------------------------------------------------


class Counting:
    """A compiled pattern that counts the characters it is given to scan."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.scanned = 0

    def sub(self, replacement: Any, text: str, *args: Any) -> str:
        self.scanned += len(text)
        return self.pattern.sub(replacement, text, *args)


@pytest.mark.parametrize(
    "text",
    ["<at>" * 25_600, "<at>x" * 20_480 + "</at>", "<at>a</at>" * 10_240, "a " * 51_200],
    ids=["open-tags", "unclosed", "closed", "spaces"],
)
def test_100_kib_of_markup_is_cut_before_any_pattern_runs(
    monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    at, spaces = Counting(inbound.AT_TAG_RE), Counting(inbound.SPACES_RE)
    monkeypatch.setattr(inbound, "AT_TAG_RE", at)
    monkeypatch.setattr(inbound, "SPACES_RE", spaces)
    activity = message(text, service_url="https://smba.trafficmanager.net/emea/")
    activity["entities"] = [
        {"type": "mention", "mentioned": {"id": f"29:{n}", "name": "X"}, "text": "<at>a</at>"}
        for n in range(1000)
    ]
    assert len(activity["text"].encode()) >= 100 * 1024
    result = inbound.command_text(activity)
    # Work bounded by the cap, whatever the input's size: no pattern saw more than it.
    assert at.scanned + spaces.scanned <= 2 * inbound.MAX_TEXT
    assert len(result) <= inbound.MAX_TEXT


def test_the_at_pattern_cannot_run_past_the_next_tag() -> None:
    """`[^<]*` (not `.*?`): each match attempt stops at the next `<`, so the work per
    starting position is bounded by the distance to it and the scan is linear."""
    assert inbound.AT_TAG_RE.pattern == r"<at>([^<]*)</at>"
    text = "<at>" * 1000
    assert inbound.AT_TAG_RE.search(text) is None
    assert inbound.AT_TAG_RE.sub(lambda m: m.group(1), "<at>Ann</at> hi") == "Ann hi"
