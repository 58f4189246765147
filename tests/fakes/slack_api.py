"""A fake Slack Web API: a real aiohttp server on 127.0.0.1 that records every call.

    async with FakeSlackApi() as api:
        client = AsyncWebClient(token="xoxb-test", base_url=api.url)
        api.fail_next(status=429, retry_after=3)        # the next call gets a 429
        api.fail_next(error="channel_not_found")        # ok=false with that error
        api.fail_next(drop=True, method="chat.postMessage")
        ...
        api.calls_to("chat.postMessage")[0].args["channel"]
        url = api.response_url("slash-1")               # a response_url to put in payloads
        await api.wait_for("response_url")              # the first post to a response_url

Implemented: auth.test, chat.postMessage (an image block naming a `slack_file` it does
not have is refused: invalid_blocks), chat.postEphemeral, chat.update (of a message it
posted: `messages` keeps each as last edited), views.open,
views.publish, views.update, users.info, conversations.info, conversations.open,
files.getUploadURLExternal, the upload URL itself (method "upload"),
files.completeUploadExternal, oauth.v2.access, response_url posts (method
"response_url"), and Socket Mode (apps.connections.open, a websocket at /socket: see
`socket_send`). Any other method answers ok=true and is recorded too.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TEAM_ID = "T0001"
BOT_USER_ID = "UBOT"
BOT_ID = "B0001"


@dataclass
class Call:
    """One request the fake received: the Web API method and its merged arguments."""

    method: str
    args: dict[str, Any]
    token: str | None = None
    body: bytes = b""
    connection: object = None  # the client's address and port: which connection it came on

    def json_arg(self, name: str) -> Any:
        """An argument that Slack takes as JSON (blocks, view, files), decoded if needed."""
        value = self.args.get(name)
        return json.loads(value) if isinstance(value, str) else value


@dataclass
class Failure:
    status: int = 200
    retry_after: float | None = None
    error: str | None = None
    drop: bool = False
    method: str | None = None


@dataclass
class FakeUser:
    id: str
    name: str
    team_id: str = TEAM_ID
    tz: str | None = "Europe/Berlin"
    is_stranger: bool = False
    is_bot: bool = False
    enterprise_id: str | None = None
    # Guests of the workspace: multi-channel (restricted) and single-channel (ultra).
    is_restricted: bool = False
    is_ultra_restricted: bool = False
    locale: str = "en-US"

    def as_json(self, *, include_locale: bool = False) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name.lower(),
            "real_name": self.name,
            "is_bot": self.is_bot,
            "is_restricted": self.is_restricted,
            "is_ultra_restricted": self.is_ultra_restricted,
            "profile": {"display_name": self.name, "real_name": self.name, "team": self.team_id},
        }
        if self.tz:
            user["tz"] = self.tz
        if include_locale:  # users.info says the locale only when asked to
            user["locale"] = self.locale
        if self.is_stranger:
            user["is_stranger"] = True
        if self.enterprise_id:
            user["enterprise_user"] = {
                "enterprise_id": self.enterprise_id,
                "teams": [self.team_id],
            }
        return user


@dataclass
class FakeChannel:
    id: str
    name: str
    is_ext_shared: bool = False
    is_im: bool = False


@dataclass
class FakeSlackApi:
    team_id: str = TEAM_ID
    bot_user_id: str = BOT_USER_ID
    calls: list[Call] = field(default_factory=list)
    users: dict[str, FakeUser] = field(default_factory=dict)
    channels: dict[str, FakeChannel] = field(default_factory=dict)
    uploads: dict[str, bytes] = field(default_factory=dict)
    # Files whose upload was completed (files.completeUploadExternal): ones an image
    # block may name (`slack_file`) until deleted.
    files: set[str] = field(default_factory=set)
    # Seconds a method takes to answer, by method name (Slack on a slow day).
    delays: dict[str, float] = field(default_factory=dict)
    # (channel, ts) -> the message as posted and last edited (chat.update edits it)
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    _failures: list[Failure] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    _port: int = 0
    _changed: asyncio.Condition | None = None
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)

    # --- lifecycle --------------------------------------------------------------------

    async def __aenter__(self) -> FakeSlackApi:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        self._changed = asyncio.Condition()
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/response/{key}", self._response_url)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        for socket in self._sockets:
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- what tests use ---------------------------------------------------------------

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def url(self) -> str:
        """The Web API base URL (what SLACK_API_URL / AsyncWebClient(base_url=) take)."""
        return f"{self.root}/api/"

    def response_url(self, key: str = "1") -> str:
        return f"{self.root}/response/{key}"

    def messages_in(self, channel: str) -> list[dict[str, Any]]:
        """Messages posted to `channel`, oldest first, each as last edited."""
        return [m for (where, _), m in self.messages.items() if where == channel]

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def methods(self) -> list[str]:
        return [c.method for c in self.calls]

    def fail_next(
        self,
        *,
        status: int = 200,
        retry_after: float | None = None,
        error: str | None = None,
        drop: bool = False,
        method: str | None = None,
        times: int = 1,
    ) -> None:
        """Make the next call(s) (to `method`, or any) fail: an HTTP status (429 carries
        `Retry-After`), an ok=false `error`, or a dropped connection."""
        if status == 200 and error is None and not drop:
            status = 500
        for _ in range(times):
            self._failures.append(Failure(status, retry_after, error, drop, method))

    def delete_file(self, file_id: str) -> None:
        """A person deleted the file: an image block naming it is refused from now on."""
        self.files.discard(file_id)
        self.uploads.pop(file_id, None)

    def add_user(self, user_id: str, name: str, **details: Any) -> FakeUser:
        user = FakeUser(user_id, name, **{"team_id": self.team_id, **details})
        self.users[user_id] = user
        return user

    def add_channel(self, channel_id: str, name: str, **details: Any) -> FakeChannel:
        channel = FakeChannel(channel_id, name, **details)
        self.channels[channel_id] = channel
        return channel

    async def socket_send(self, envelope: dict[str, Any]) -> None:
        """Socket Mode: push an envelope to the app over its open websocket (the app's
        acknowledgements are recorded as calls to "socket_ack")."""
        await self.wait_for("socket_open")
        await self._sockets[-1].send_json(envelope)

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 10,
        where: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Wait until `count` calls to `method` (that satisfy `where`) arrived, for work
        done in the background; returns those calls."""
        assert self._changed is not None

        def matching() -> list[Call]:
            return [c for c in self.calls_to(method) if where is None or where(c)]

        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(matching()) >= count), timeout
            )
        return matching()

    # --- the server -------------------------------------------------------------------

    async def _record(self, call: Call) -> None:
        self.calls.append(call)
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    def _take_failure(self, method: str) -> Failure | None:
        for index, failure in enumerate(self._failures):
            if failure.method in (None, method):
                return self._failures.pop(index)
        return None

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        body = await request.read()
        args = await _arguments(request, body)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth else args.get("token")
        peer = request.transport.get_extra_info("peername") if request.transport else None
        await self._record(Call(method, args, token, body, peer))
        await asyncio.sleep(self.delays.get(method, 0))
        failure = self._take_failure(method)
        if failure is not None:
            return _failed(request, failure)
        handler = self._handlers().get(method)
        payload = handler(args) if handler else {}
        if "ok" not in payload:
            payload = {"ok": True, **payload}
        return web.json_response(payload)

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["file_id"]
        body = await request.read()
        await self._record(Call("upload", {"file_id": file_id}, None, body))
        failure = self._take_failure("upload")
        if failure is not None:
            return _failed(request, failure)
        self.uploads[file_id] = body
        return web.Response(text=f"OK - {len(body)}", content_type="text/plain")

    async def _response_url(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        args = json.loads(body) if body else {}
        args["key"] = request.match_info["key"]
        peer = request.transport.get_extra_info("peername") if request.transport else None
        await self._record(Call("response_url", args, None, body, peer))
        failure = self._take_failure("response_url")
        if failure is not None:
            return _failed(request, failure)
        return web.Response(text="ok", content_type="text/html")

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        await self._record(Call("socket_open", {}))
        await socket.send_json({"type": "hello", "num_connections": 1})
        async for frame in socket:
            if frame.type == web.WSMsgType.TEXT:
                await self._record(Call("socket_ack", json.loads(frame.data)))
        return socket

    def _handlers(self) -> dict[str, Any]:
        return {
            "apps.connections.open": lambda args: {
                "url": self.root.replace("http", "ws") + "/socket"
            },
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update_message,
            "chat.postEphemeral": lambda args: {"message_ts": self._ts()},
            "views.open": self._view,
            "views.publish": self._view,
            "views.update": self._view,
            "users.info": self._users_info,
            "conversations.info": self._conversations_info,
            "conversations.open": lambda args: {"channel": {"id": "D" + str(args.get("users"))}},
            "files.getUploadURLExternal": self._upload_url,
            "files.completeUploadExternal": self._complete_upload,
            "oauth.v2.access": self._oauth_access,
        }

    def _ts(self) -> str:
        return f"1700000000.{next(self._ids):06d}"

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://acme.slack.com/",
            "team": "Acme",
            "user": "liaison",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        if not self._known_files(args.get("blocks")):
            return {"ok": False, "error": "invalid_blocks"}
        ts = self._ts()
        message = {"type": "message", "text": args.get("text", ""), "ts": ts}
        self.messages[(str(args.get("channel")), ts)] = message
        return {"channel": args.get("channel"), "ts": ts, "message": message}

    def _known_files(self, blocks: Any) -> bool:
        """Slack refuses an image block whose `slack_file` is not a file it has."""
        blocks = json.loads(blocks) if isinstance(blocks, str) else (blocks or [])
        named = [b["slack_file"].get("id") for b in blocks if b.get("slack_file")]
        return all(file_id in self.files for file_id in named)

    def _update_message(self, args: dict[str, Any]) -> dict[str, Any]:
        """chat.update edits a message this fake posted, as Slack does; any other ts is
        `message_not_found`."""
        key = (str(args.get("channel")), str(args.get("ts")))
        if key not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        message = {**self.messages[key], "text": args.get("text", ""), "edited": True}
        self.messages[key] = message
        return {"channel": key[0], "ts": key[1], "text": message["text"], "message": message}

    def _view(self, args: dict[str, Any]) -> dict[str, Any]:
        view = args.get("view")
        view = json.loads(view) if isinstance(view, str) else (view or {})
        return {"view": {**view, "id": f"V{next(self._ids):05d}"}}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        asked = str(args.get("include_locale")).lower() in ("1", "true")
        return {"user": user.as_json(include_locale=asked)}

    def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(str(args.get("channel")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        return {
            "channel": {
                "id": channel.id,
                "name": channel.name,
                "is_channel": not channel.is_im,
                "is_im": channel.is_im,
                "is_shared": channel.is_ext_shared,
                "is_ext_shared": channel.is_ext_shared,
            }
        }

    def _oauth_access(self, args: dict[str, Any]) -> dict[str, Any]:
        """An install into this fake's team: the bot token is `xoxb-<team id>`."""
        return {
            "access_token": f"xoxb-{self.team_id}",
            "token_type": "bot",
            "scope": "commands,chat:write",
            "bot_user_id": self.bot_user_id,
            "app_id": "A0LIAISON",
            "team": {"name": "Acme", "id": self.team_id},
            "enterprise": None,
            "authed_user": {"id": "U0INSTALLER"},
            "is_enterprise_install": False,
        }

    def _upload_url(self, args: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._ids):05d}"
        return {"upload_url": f"{self.root}/upload/{file_id}", "file_id": file_id}

    def _complete_upload(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args.get("files")
        files = json.loads(files) if isinstance(files, str) else (files or [])
        self.files.update(f["id"] for f in files if f["id"] in self.uploads)
        return {"files": [{"id": f["id"], "title": f.get("title", "")} for f in files]}


async def _arguments(request: web.Request, body: bytes) -> dict[str, Any]:
    """Query string, form body and JSON body merged: the SDK uses all three."""
    args: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json" and body:
        args.update(json.loads(body))
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        args.update({k: v for k, v in form.items() if isinstance(v, str)})
    return args


def _failed(request: web.Request, failure: Failure) -> web.StreamResponse:
    if failure.drop:
        # Close the socket without answering: the client sees a dropped connection.
        assert request.transport is not None
        request.transport.close()
        raise web.HTTPInternalServerError()
    if failure.error is not None:
        return web.json_response({"ok": False, "error": failure.error}, status=failure.status)
    headers = {}
    if failure.retry_after is not None:
        headers["Retry-After"] = str(int(failure.retry_after))
    error = "ratelimited" if failure.status == 429 else "fatal_error"
    return web.json_response({"ok": False, "error": error}, status=failure.status, headers=headers)
