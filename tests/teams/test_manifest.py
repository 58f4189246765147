"""The Teams app package: manifest, icons, and `liaison manifest teams`."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from argparse import Namespace
from pathlib import Path

import pytest
from PIL import Image

from adapters.teams.manifest import MANIFEST_DIR, build_manifest, problems, run, template
from bot.commands import ALL_MODULES
from bot.engine.registry import Registry
from bot.settings import load_settings

LIAISON = Path(sys.executable).with_name("liaison")
APP_ID = "9c5b1f3e-0d5a-4f0e-8a39-2b1a4c7d6e01"


def _files() -> dict[str, bytes]:
    return {name: (MANIFEST_DIR / name).read_bytes() for name in ("color.png", "outline.png")}


def test_the_committed_manifest_is_a_valid_v1_17_bot_manifest() -> None:
    manifest = template()
    assert manifest["manifestVersion"] == "1.17"
    assert manifest["$schema"].endswith("/v1.17/MicrosoftTeams.schema.json")
    assert problems(manifest, _files()) == []
    (bot,) = manifest["bots"]
    assert sorted(bot["scopes"]) == ["groupChat", "personal", "team"]
    assert sorted(bot["commandLists"][0]["scopes"]) == ["groupChat", "personal", "team"]


def test_every_listed_command_is_a_real_command() -> None:
    registry = Registry.from_modules(ALL_MODULES)
    titles = [c["title"] for c in template()["bots"][0]["commandLists"][0]["commands"]]
    assert {"help", "status"} <= set(titles)
    for title in titles:
        spec = registry.get(title)
        assert spec is not None, f"the manifest lists `{title}`, which is no command"


@pytest.mark.parametrize(
    "field", ["manifestVersion", "version", "id", "developer", "name", "description", "icons"]
)
def test_a_missing_required_field_is_caught(field: str) -> None:
    manifest = template()
    del manifest[field]
    assert problems(manifest, _files())


def test_too_long_texts_and_bad_ids_are_caught() -> None:
    manifest = build_manifest(APP_ID)
    manifest["name"]["short"] = "x" * 31
    manifest["bots"][0]["botId"] = "not-a-guid"
    found = problems(manifest, _files())
    assert any("name.short" in p for p in found) and any("botId" in p for p in found)
    assert problems(build_manifest(APP_ID), {}) != []  # icons must be there


def test_the_icons_have_the_sizes_and_colours_teams_wants() -> None:
    color = Image.open(MANIFEST_DIR / "color.png")
    outline = Image.open(MANIFEST_DIR / "outline.png").convert("RGBA")
    assert color.size == (192, 192) and outline.size == (32, 32)
    pixels = [outline.getpixel((x, y)) for x in range(32) for y in range(32)]
    assert outline.getpixel((0, 0))[3] == 0  # transparent background
    assert all(p[:3] == (255, 255, 255) for p in pixels if p[3] > 0)  # white only
    assert any(p[3] == 255 for p in pixels)


def test_the_app_id_and_domain_are_filled_in() -> None:
    manifest = build_manifest(APP_ID, "https://bot.acme.example/api/messages")
    assert manifest["id"] == APP_ID and manifest["bots"][0]["botId"] == APP_ID
    assert manifest["validDomains"] == ["bot.acme.example"]
    assert manifest["developer"]["websiteUrl"] == "https://bot.acme.example"
    with pytest.raises(ValueError):
        build_manifest("1234")
    with pytest.raises(ValueError):
        build_manifest(APP_ID, "not a domain")


def _liaison(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MICROSOFT_", "LIAISON_"))}
    return subprocess.run(
        [str(LIAISON), "manifest", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )


def test_liaison_manifest_teams_builds_a_sideloadable_zip(tmp_path: Path) -> None:
    out = tmp_path / "dist" / "liaison-teams.zip"
    result = _liaison(
        tmp_path, "teams", "--app-id", APP_ID, "--domain", "bot.example.com", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        icons = {name: package.read(name) for name in ("color.png", "outline.png")}
    assert manifest["id"] == APP_ID and manifest["validDomains"] == ["bot.example.com"]
    assert problems(manifest, icons) == []
    assert Image.open(io.BytesIO(icons["color.png"])).size == (192, 192)


def test_liaison_manifest_teams_refuses_a_bad_or_missing_app_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings(MICROSOFT_APP_ID=None, LIAISON_PUBLIC_URL=None)
    out = str(tmp_path / "liaison-teams.zip")
    bad = Namespace(app_id="my-bot", domain=None, url=None, out=out)
    missing = Namespace(app_id=None, domain=None, url=None, out=out)
    assert run(settings, bad) == 2 and "GUID" in capsys.readouterr().err
    assert run(settings, missing) == 2 and "--app-id" in capsys.readouterr().err
    assert not Path(out).exists()
