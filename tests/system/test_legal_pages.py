"""/privacy and /terms, which the Teams manifest links to: plain pages naming what is
stored and who operates it, with the operator's settings escaped."""

from __future__ import annotations

from urllib.parse import urlsplit

from adapters.teams.manifest import build_manifest
from tests.fakes.slack_world import slack_world


async def test_the_pages_say_what_is_stored_and_who_operates_it(db_url: str) -> None:
    settings = {
        "LIAISON_OPERATOR_NAME": "Acme Agency <script>alert(1)</script>",
        "LIAISON_OPERATOR_CONTACT": "privacy@acme.example",
    }
    async with slack_world(db_url, **settings) as world:
        privacy = await world.http.get("/privacy")
        assert privacy.status == 200 and privacy.content_type == "text/html"
        page = await privacy.text()
        for stored in ("display name", "time zone", "Huddle answers", "anonymously", "encrypted"):
            assert stored in page
        assert "Acme Agency &lt;script&gt;" in page and "<script>" not in page
        assert "privacy@acme.example" in page
        for erasure in ("<code>forget @person</code>", "<code>liaison forget</code>", "pseudonym"):
            assert erasure in page
        assert "default-src 'none'" in privacy.headers["Content-Security-Policy"]
        terms = await world.http.get("/terms")
        assert terms.status == 200 and "Acme Agency" in await terms.text()


async def test_the_teams_manifest_links_are_served(db_url: str) -> None:
    manifest = build_manifest("00000000-0000-0000-0000-000000000001", "bot.example.com")
    links = [manifest["developer"][key] for key in ("privacyUrl", "termsOfUseUrl")]
    async with slack_world(db_url) as world:
        for link in links:
            response = await world.http.get(urlsplit(link).path)
            assert response.status == 200
            assert "the organisation that installed it" in await response.text()
