"""The Teams app package: manifest/teams/manifest.json with this bot's app id and domain,
plus its two icons, zipped for sideloading (`liaison manifest teams --app-id ...`)."""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.settings import Settings

MANIFEST_DIR = Path(__file__).resolve().parents[2] / "manifest" / "teams"
ICONS = {"color": ("color.png", 192), "outline": ("outline.png", 32)}
GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
DOMAIN_RE = re.compile(r"^(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(:\d+)?$")
# The fields Teams' v1.17 schema requires, and the limits it sets on them.
REQUIRED = ("manifestVersion", "version", "id", "developer", "name", "description", "icons")
LIMITS = {
    ("name", "short"): 30,
    ("name", "full"): 100,
    ("description", "short"): 80,
    ("description", "full"): 4000,
    ("developer", "name"): 32,
}
SCOPES = {"personal", "team", "groupChat"}


def template() -> dict[str, Any]:
    return json.loads((MANIFEST_DIR / "manifest.json").read_text())


def domain_of(value: str) -> str:
    """`bot.example.com` from a host name or a URL; ValueError when it is neither."""
    host = urlsplit(value).netloc if "://" in value else value.strip().strip("/")
    if not DOMAIN_RE.match(host):
        raise ValueError(f"`{value}` is not a domain like bot.example.com")
    return host


def build_manifest(app_id: str, domain: str | None = None) -> dict[str, Any]:
    """The template with this bot's app id (also the Teams app id) and public domain."""
    if not GUID_RE.match(app_id):
        raise ValueError(f"`{app_id}` is not a Microsoft app id (a GUID)")
    manifest = copy.deepcopy(template())
    manifest["id"] = app_id
    for bot in manifest["bots"]:
        bot["botId"] = app_id
    if domain:
        host = domain_of(domain)
        manifest["validDomains"] = [host]
        manifest["developer"].update(
            websiteUrl=f"https://{host}",
            privacyUrl=f"https://{host}/privacy",
            termsOfUseUrl=f"https://{host}/terms",
        )
    return manifest


def problems(manifest: dict[str, Any], files: dict[str, bytes]) -> list[str]:
    """What Teams would reject: missing required fields, over-long texts, bad ids, icons."""
    found = [f"`{key}` is missing" for key in (*REQUIRED, "accentColor") if key not in manifest]
    for (section, key), limit in LIMITS.items():
        value = manifest.get(section, {}).get(key)
        if not isinstance(value, str) or not value or len(value) > limit:
            found.append(f"`{section}.{key}` must be 1 to {limit} characters")
    if not GUID_RE.match(str(manifest.get("id", ""))):
        found.append("`id` must be a GUID")
    for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        if not str(manifest.get("developer", {}).get(key, "")).startswith("https://"):
            found.append(f"`developer.{key}` must be an https URL")
    if not re.match(r"^#[0-9a-fA-F]{6}$", str(manifest.get("accentColor", ""))):
        found.append("`accentColor` must look like #2563EB")
    found.extend(_bot_problems(manifest))
    for key, (name, size) in ICONS.items():
        path = manifest.get("icons", {}).get(key)
        if path != name or not files.get(name, b"").startswith(b"\x89PNG"):
            found.append(f"icon `{key}` must be the PNG {name} ({size}x{size})")
    return found


def _bot_problems(manifest: dict[str, Any]) -> list[str]:
    found = []
    for bot in manifest.get("bots", []):
        if not GUID_RE.match(str(bot.get("botId", ""))):
            found.append("`bots[].botId` must be a GUID")
        if not bot.get("scopes") or not set(bot["scopes"]) <= SCOPES:
            found.append("`bots[].scopes` must be among personal, team, groupChat")
        for command_list in bot.get("commandLists", []):
            if len(command_list["commands"]) > 10:
                found.append("a command list holds at most 10 commands")
            for command in command_list["commands"]:
                if len(command["title"]) > 32 or len(command["description"]) > 128:
                    found.append(f"command `{command['title']}` is too long")
    return found


def build_package(app_id: str, out: Path, domain: str | None = None) -> Path:
    manifest = build_manifest(app_id, domain)
    files = {name: (MANIFEST_DIR / name).read_bytes() for name, _ in ICONS.values()}
    wrong = problems(manifest, files)
    if wrong:
        raise ValueError("the manifest would be rejected: " + "; ".join(wrong))
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, indent=2) + "\n")
        for name, content in files.items():
            package.writestr(name, content)
    return out


def run(settings: Settings, options: argparse.Namespace) -> int:
    """`liaison manifest teams --app-id ID [--domain bot.example.com] [--out FILE]`."""
    app_id = options.app_id or settings.microsoft_app_id
    if not app_id:
        print("liaison manifest teams: give --app-id (or set MICROSOFT_APP_ID)", file=sys.stderr)
        return 2
    domain = options.domain or options.url or settings.public_url
    out = Path(options.out or "liaison-teams.zip")
    try:
        build_package(app_id, out, domain)
    except ValueError as error:
        print(f"liaison manifest teams: {error}", file=sys.stderr)
        return 2
    print(f"wrote {out}: upload it in Teams under Apps > Manage your apps > Upload an app")
    return 0
