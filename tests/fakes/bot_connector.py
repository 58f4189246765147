"""A fake Bot Connector service (what an activity's `serviceUrl` points at) and a fake
Bot Framework key and token service, both real HTTP servers on 127.0.0.1, random ports.

    async with FakeBotConnector() as connector:
        activity["serviceUrl"] = connector.url
        connector.fail_next(status=429, retry_after=7)   # the next post gets a 429
        connector.client_secret = "right"                 # other secrets: 401 invalid_client
        await connector.wait_for(1)                       # posts arrive from a thread
        connector.updates[0].activity                     # an activity edited in place (PUT)
        connector.posts[0].activity["attachments"][0]["content"]   # the Adaptive Card

    with FakeBotFrameworkKeys() as keys:                  # OpenID metadata + JWKS
        token = keys.token(app_id="...", service_url=connector.url)

The key server runs in its own thread: botbuilder fetches OpenID metadata with blocking
`requests` calls on the event loop, which would starve a server on that same loop."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from aiohttp import web
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://api.botframework.com"
ACCESS_TOKEN = "fake-bot-connector-token"
BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default"


@dataclass
class Post:
    """One activity the bot posted: to a conversation, or as a reply to an activity."""

    conversation_id: str
    activity: dict[str, Any]
    reply_to: str | None = None
    authorization: str | None = None

    @property
    def card(self) -> dict[str, Any] | None:
        for attachment in self.activity.get("attachments") or ():
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                return attachment["content"]
        return None

    def card_text(self) -> str:
        """Every string shown on the card, in order (for `in` assertions)."""
        out: list[str] = []

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                for key in ("text", "title", "value", "label", "altText"):
                    if isinstance(node.get(key), str):
                        out.append(node[key])
                for child in node.values():
                    if isinstance(child, dict | list):
                        walk(child)
            elif isinstance(node, list):
                for child in node:
                    walk(child)

        walk(self.card or {})
        return "\n".join(out).replace("\\", "")


@dataclass
class Failure:
    status: int
    retry_after: str | None = None


@dataclass
class FakeBotConnector:
    posts: list[Post] = field(default_factory=list)
    # Update activity (PUT .../activities/{id}): `reply_to` holds the id of the one edited.
    updates: list[Post] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    # The app's client secret, when set: the token endpoint refuses any other, as Azure AD does.
    client_secret: str | None = None
    attempts: int = 0
    # Member records (GET .../members/{id}): userRole per user id; others are "user".
    roles: dict[str, str] = field(default_factory=dict)
    member_lookups: list[str] = field(default_factory=list)
    members_fail: bool = False
    # 1:1 chats made through create-conversation, per user id; refuse these users.
    created: dict[str, str] = field(default_factory=dict)
    refuse_chats_with: set[str] = field(default_factory=set)
    _failures: list[Failure] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    _port: int = 0
    _changed: asyncio.Condition | None = None
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _issued: set[str] = field(default_factory=set)

    async def __aenter__(self) -> FakeBotConnector:
        self._changed = asyncio.Condition()
        app = web.Application(client_max_size=4 * 1024 * 1024)
        base = "/v3/conversations/{conversation}/activities"
        app.router.add_post(base, self._activity)
        app.router.add_post(base + "/{activity}", self._activity)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self._member)
        app.router.add_post("/v3/conversations", self._create_conversation)
        app.router.add_put(base + "/{activity}", self._update)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        """The service URL to put in activities (Teams' end with a slash)."""
        return f"http://127.0.0.1:{self._port}/"

    @property
    def login_url(self) -> str:
        """A login authority whose token endpoint is this fake (BOTFRAMEWORK_LOGIN_URL)."""
        return f"http://127.0.0.1:{self._port}/botframework.com"

    def fail_next(self, *, status: int, retry_after: str | None = None, times: int = 1) -> None:
        self._failures.extend(Failure(status, retry_after) for _ in range(times))

    def cards(self) -> list[dict[str, Any]]:
        return [p.card for p in self.posts if p.card is not None]

    def take(self) -> list[Post]:
        posts, self.posts = self.posts, []
        return posts

    async def wait_for(self, count: int, timeout: float = 10) -> list[Post]:
        assert self._changed is not None
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(self.posts) >= count), timeout
            )
        return self.posts

    async def _activity(self, request: web.Request) -> web.Response:
        self.attempts += 1
        if self._failures:
            failure = self._failures.pop(0)
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
            body = {"error": {"code": "Failure", "message": f"fake {failure.status}"}}
            return web.json_response(body, status=failure.status, headers=headers)
        post = Post(
            conversation_id=request.match_info["conversation"],
            activity=await request.json(),
            reply_to=request.match_info.get("activity"),
            authorization=request.headers.get("Authorization"),
        )
        assert self._changed is not None
        async with self._changed:
            self.posts.append(post)
            self._changed.notify_all()
        activity_id = f"activity-{next(self._ids)}"
        self._issued.add(activity_id)
        return web.json_response({"id": activity_id}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        """Update activity: only an activity this connector gave an id to can be edited."""
        self.attempts += 1
        activity_id = request.match_info["activity"]
        if activity_id not in self._issued:
            body = {"error": {"code": "ActivityNotFound", "message": "unknown activity"}}
            return web.json_response(body, status=404)
        post = Post(
            conversation_id=request.match_info["conversation"],
            activity=await request.json(),
            reply_to=activity_id,
            authorization=request.headers.get("Authorization"),
        )
        assert self._changed is not None
        async with self._changed:
            self.updates.append(post)
            self._changed.notify_all()
        return web.json_response({"id": activity_id}, status=200)

    async def _member(self, request: web.Request) -> web.Response:
        """A TeamsChannelAccount, as the conversation member API answers it."""
        member = request.match_info["member"]
        self.member_lookups.append(member)
        if self.members_fail:
            return web.json_response({"error": {"code": "ServiceError"}}, status=503)
        return web.json_response(
            {
                "id": member,
                "name": member,
                "aadObjectId": str(uuid.uuid5(uuid.NAMESPACE_URL, member)),
                "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47",
                "userRole": self.roles.get(member, "user"),
            }
        )

    async def _create_conversation(self, request: web.Request) -> web.Response:
        """Teams' create-conversation for a 1:1 chat: the same id for the same user."""
        body = await request.json()
        (member,) = [m["id"] for m in body.get("members") or ()]
        if member in self.refuse_chats_with:
            body = {"error": {"code": "Forbidden", "message": "the bot cannot chat with them"}}
            return web.json_response(body, status=403)
        conversation = self.created.setdefault(member, f"a:1on1-{uuid.uuid4().hex[:12]}")
        return web.json_response({"id": conversation}, status=201)

    async def _token(self, request: web.Request) -> web.Response:
        """Azure AD's client-credentials token endpoint: errors as its OAuth error bodies."""
        form: dict[str, str] = dict(await request.post())  # type: ignore[arg-type]
        self.token_requests.append(form)
        if form.get("scope") != BOT_FRAMEWORK_SCOPE:
            return _oauth_error(
                400, "invalid_scope", 70011, "The provided value for scope is not valid."
            )
        if self.client_secret is not None and form.get("client_secret") != self.client_secret:
            return _oauth_error(401, "invalid_client", 7000215, "Invalid client secret provided.")
        return web.json_response(
            {"token_type": "Bearer", "expires_in": 3599, "access_token": ACCESS_TOKEN}
        )


def _oauth_error(status: int, error: str, code: int, description: str) -> web.Response:
    body = {
        "error": error,
        "error_description": f"AADSTS{code}: {description}",
        "error_codes": [code],
        "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
        "trace_id": str(uuid.uuid4()),
        "correlation_id": str(uuid.uuid4()),
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }
    return web.json_response(body, status=status)


class FakeBotFrameworkKeys:
    """OpenID metadata and signing keys on loopback, and tokens signed like the channel's."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> FakeBotFrameworkKeys:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update(kid=self.kid, use="sig", endorsements=["msteams", "emulator"])
        keys = {"keys": [jwk]}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                if self.path.endswith("/keys"):
                    body = keys
                else:
                    body = {"issuer": ISSUER, "jwks_uri": f"{owner.root}/keys"}
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        # botbuilder keeps each metadata URL's keys for the process's life (refreshed daily,
        # and for an unknown key at most hourly): a port the OS gives again to this fake
        # would find the last fake's keys there and refuse every token (a rare 401).
        JwtTokenExtractor.metadataCache.pop(self.metadata_url, None)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def root(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def metadata_url(self) -> str:
        """For BOTFRAMEWORK_OPENID_METADATA_URL."""
        return f"{self.root}/v1/.well-known/openidconfiguration"

    def token(self, *, app_id: str, service_url: str, **claims: Any) -> str:
        now = int(time.time())
        payload = {
            "iss": ISSUER,
            "aud": app_id,
            "serviceurl": service_url,
            "nbf": now - 10,
            "exp": now + 3600,
            **claims,
        }
        return jwt.encode(payload, self.key, algorithm="RS256", headers={"kid": self.kid})
