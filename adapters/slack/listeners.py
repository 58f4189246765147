"""Bolt listeners: each turns one kind of Slack payload into an engine request and sends
the reply back. No business rule lives here; the engine decides everything."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Coroutine
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import PLATFORM
from adapters.slack import inbound as extract
from adapters.slack.identity import Directory, tenant_key
from adapters.slack.replies import Destination, Respond, over_kept_connections, plan
from adapters.slack.views import (
    FORM_CALLBACK,
    TASK_CALLBACK,
    form_modal,
    home_view,
    task_command,
    task_modal,
)
from bot.engine.engine import Engine
from bot.messages import Reply, render_text
from bot.requests import Action, Actor, Place, PlaceKind, Request

log = logging.getLogger("liaison.slack")

# Slack wants an answer within 3 seconds; a reply ready by then goes in the acknowledgement.
FAST_REPLY_SECONDS = 2.0
# The context key holding when the request reached us (time.monotonic()): the 3 seconds
# run from then, through Bolt's own middleware (authorization may call Slack or the database).
RECEIVED_AT = "liaison_received_at"
# The Home tab: (command that must exist, what to run as the user).
HOME_SECTIONS = (("tasks", "tasks mine"), ("projects", "projects"), ("waiting", "waiting"))

Body = dict[str, Any]


class SlackBridge:
    def __init__(
        self,
        *,
        engine: Engine,
        directory: Directory,
        command: str = "/pm",
        fast_reply: float = FAST_REPLY_SECONDS,
    ) -> None:
        self.engine = engine
        self.directory = directory
        self.command = command
        self.fast_reply = fast_reply

    def register(self, app: AsyncApp) -> None:
        app.command(self.command)(self.on_command)
        app.event("app_mention")(self.on_mention)
        app.event("message")(self.on_message)
        app.event("app_home_opened")(self.on_home_opened)
        app.action(re.compile(".+"))(self.on_action)
        app.shortcut(TASK_CALLBACK)(self.on_task_shortcut)
        app.view(FORM_CALLBACK)(self.on_form_submitted)
        app.view(TASK_CALLBACK)(self.on_task_submitted)

    # --- building the request ---------------------------------------------------------

    async def request(
        self,
        body: Body,
        context: AsyncBoltContext,
        *,
        text: str | None = None,
        action: Action | None = None,
        event_id: str | None = None,
        channel_id: str | None = None,
        reply_inline: bool = False,
    ) -> Request:
        client: AsyncWebClient = context.client
        home_enterprise, home_team = _installing(context)
        user_id = extract.extract_user_id(body) or context.user_id or ""
        actor = await self._actor(client, body, user_id, home_enterprise, home_team)
        place = await self._place(client, body, channel_id, user_id, home_enterprise, home_team)
        return Request(
            actor=actor,
            place=place,
            text=text,
            action=action,
            event_id=event_id,
            reply_inline=reply_inline,
        )

    async def _actor(
        self,
        client: AsyncWebClient,
        body: Body,
        user_id: str,
        home_enterprise: str | None,
        home_team: str | None,
    ) -> Actor:
        user = await self.directory.user(client, user_id)
        if user is not None:
            return Actor(
                platform=PLATFORM,
                tenant=tenant_key(user.enterprise_id, user.team_id),
                user_id=user_id,
                name=user.name,
                timezone=user.timezone,
                locale=user.locale,
                external=user.is_external_to(home_enterprise, home_team),
            )
        # users.info failed: who this is cannot be established, so they count as external
        # (a client) for this request; the next request asks Slack again.
        team = extract.extract_actor_team(body) or home_team
        return Actor(
            platform=PLATFORM,
            tenant=tenant_key(None, team),
            user_id=user_id,
            name=extract.extract_user_name(body) or user_id,
            external=True,
        )

    async def _place(
        self,
        client: AsyncWebClient,
        body: Body,
        channel_id: str | None,
        user_id: str,
        home_enterprise: str | None,
        home_team: str | None,
    ) -> Place:
        tenant = tenant_key(home_enterprise, home_team)
        channel_id = channel_id or extract.extract_channel_id(body)
        if not channel_id:
            # A modal opened from the Home tab: answer in the person's DM.
            return Place(PLATFORM, tenant, user_id, "dm")
        kind: PlaceKind = "dm" if channel_id.startswith("D") else extract.extract_place_kind(body)
        if kind == "dm":
            return Place(PLATFORM, tenant, channel_id, "dm")
        channel = await self.directory.channel(client, channel_id)
        # Client-safe unless Slack says otherwise: a failed conversations.info (a private
        # Slack Connect channel answers channel_not_found; a 429; a 5xx) counts as shared,
        # and so does a channel the Events API envelope flags as shared.
        shared = channel is None or channel.is_ext_shared or extract.extract_ext_shared_flag(body)
        name = extract.extract_channel_name(body) or (channel.name if channel else None)
        return Place(PLATFORM, tenant, channel_id, "channel", name=name, shared_externally=shared)

    async def run(self, body: Body, context: AsyncBoltContext, **request: Any) -> Reply:
        return await self.engine.handle(await self.request(body, context, **request))

    # --- the slash command ------------------------------------------------------------

    async def on_command(
        self, ack: Any, body: Body, context: AsyncBoltContext, respond: Respond
    ) -> None:
        async with self.engine.in_flight.track():  # a shutdown waits for the answer too
            await self._on_command(ack, body, context, respond)

    async def _on_command(
        self, ack: Any, body: Body, context: AsyncBoltContext, respond: Respond
    ) -> None:
        text = extract.extract_command_text(body)
        event_id = extract.extract_event_id(body)
        work = self.run(body, context, text=text, event_id=event_id, reply_inline=True)
        where = self._destination(body, context, respond=respond)
        reply, task = await self._within_deadline(work, context)
        if reply is None:
            # Slow: acknowledge now (Slack shows nothing), answer through response_url.
            await ack()
            self._after_ack(_send_when_ready(task, where))
            return
        planned = plan(reply)
        if not planned.parts:
            await ack()  # a retry already answered, or nothing to say
            return
        await ack(**planned.parts[0].as_response())
        if len(planned.parts) > 1 or planned.uploads:
            self._after_ack(where.send(planned, skip=1))

    def _after_ack(self, work: Coroutine[Any, Any, None]) -> None:
        """Go on after the listener returns. Bolt answers Slack's HTTP request when the
        listener returns (process_before_response: no task of Bolt's polls for the
        acknowledgement every 10 ms), so whatever follows the acknowledgement (posts,
        uploads, modals, the answer to an event) runs on, counted in flight, here."""
        self.engine.in_flight.start(_logged(work))

    async def _within_deadline(
        self, work: Awaitable[Reply], context: AsyncBoltContext
    ) -> tuple[Reply | None, asyncio.Future[Reply]]:
        """The reply if it is ready within `fast_reply` seconds of the request's arrival
        (else None), and the task that goes on computing it."""
        budget = self.fast_reply
        received_at = context.get(RECEIVED_AT)
        if isinstance(received_at, float):
            budget -= time.monotonic() - received_at
        task = asyncio.ensure_future(work)
        done, _ = await asyncio.wait({task}, timeout=max(budget, 0.0))
        return (task.result() if done else None), task

    # --- mentions and direct messages -------------------------------------------------

    async def on_mention(self, body: Body, context: AsyncBoltContext) -> None:
        # Bolt acknowledges the event when this returns; the answer follows.
        self._after_ack(self._answer_event(body, context))

    async def _answer_event(self, body: Body, context: AsyncBoltContext) -> None:
        text = extract.extract_event_text(body, context.bot_user_id)
        event_id = extract.extract_event_id(body)
        reply = await self.run(body, context, text=text, event_id=event_id)
        await self._destination(body, context).send(plan(reply))

    async def on_message(self, body: Body, context: AsyncBoltContext) -> None:
        event = body.get("event") or {}
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return  # edits, joins, bots (ourselves included) and channel chatter
        await self.on_mention(body, context)

    # --- buttons and modals -----------------------------------------------------------

    async def on_action(
        self, ack: Any, body: Body, context: AsyncBoltContext, respond: Respond | None = None
    ) -> None:
        await ack()
        self._after_ack(self._act(body, context, respond))

    async def _act(self, body: Body, context: AsyncBoltContext, respond: Respond | None) -> None:
        action = extract.extract_action(body)
        if action is None:
            return
        channel_id = extract.extract_channel_id(body)
        if extract.is_form_button(action):
            view = form_modal(extract.form_spec(action), channel_id=channel_id)
            await self._open_modal(body, context, view)
            return
        reply = await self.run(
            body, context, action=action, event_id=extract.extract_event_id(body)
        )
        from_home = (body.get("container") or {}).get("type") == "view"
        respond = respond if body.get("response_url") and not from_home else None
        await self._destination(body, context, respond=respond).send(plan(reply))
        if from_home:
            await self._publish_home(body, context)

    async def on_task_shortcut(self, ack: Any, body: Body, context: AsyncBoltContext) -> None:
        await ack()
        view = task_modal(
            extract.extract_shortcut_text(body), channel_id=extract.extract_channel_id(body)
        )
        self._after_ack(self._open_modal(body, context, view))

    async def _open_modal(self, body: Body, context: AsyncBoltContext, view: Body) -> None:
        """A modal needs the interaction's trigger_id; a payload without one opens nothing."""
        trigger_id = body.get("trigger_id")
        if not trigger_id:
            log.warning("interaction without a trigger_id: no modal opened")
            return
        await context.client.views_open(trigger_id=trigger_id, view=view)

    async def on_form_submitted(self, ack: Any, body: Body, context: AsyncBoltContext) -> None:
        view = body["view"]
        meta = extract.extract_metadata(view)
        action = Action(
            str(meta.get("a", "")), str(meta.get("v", "")), extract.extract_form_fields(view)
        )
        await self._submitted(ack, body, context, meta, action=action)

    async def on_task_submitted(self, ack: Any, body: Body, context: AsyncBoltContext) -> None:
        view = body["view"]
        text = task_command(extract.extract_form_fields(view))
        await self._submitted(ack, body, context, extract.extract_metadata(view), text=text)

    async def _submitted(
        self, ack: Any, body: Body, context: AsyncBoltContext, meta: dict[str, Any], **what: Any
    ) -> None:
        """A modal's submit: a refusal shows in the modal; anything else is posted where
        the modal was opened from."""
        channel_id = meta.get("c") or None
        work = self.run(
            body, context, channel_id=channel_id, event_id=extract.extract_event_id(body), **what
        )
        reply, task = await self._within_deadline(work, context)
        where = self._destination(body, context, channel_id=channel_id)
        if reply is None:
            await ack()
            self._after_ack(_send_when_ready(task, where))
            return
        if reply.failed and reply.messages:
            first_input = _first_input_block(body["view"])
            if first_input:
                error = render_text(reply.messages[0])
                await ack(response_action="errors", errors={first_input: error})
                return
        await ack()
        self._after_ack(where.send(plan(reply)))

    # --- the Home tab -----------------------------------------------------------------

    async def on_home_opened(self, body: Body, context: AsyncBoltContext) -> None:
        if (body.get("event") or {}).get("tab") != "home":
            return
        self._after_ack(self._publish_home(body, context))

    async def _publish_home(self, body: Body, context: AsyncBoltContext) -> None:
        """What the person would see typing the Home commands, run as them (no event id:
        several commands answer one event)."""
        user_id = extract.extract_user_id(body) or ""
        sections = []
        for name, text in HOME_SECTIONS:
            if self.engine.registry.get(name) is None:
                continue
            reply = await self.run(body, context, text=text, channel_id=_home_channel(body))
            sections.append((text, list(reply.messages)))
        await context.client.views_publish(user_id=user_id, view=home_view(sections))

    # --- where replies go -------------------------------------------------------------

    def _destination(
        self,
        body: Body,
        context: AsyncBoltContext,
        *,
        respond: Respond | None = None,
        channel_id: str | None = None,
    ) -> Destination:
        channel_id = channel_id or extract.extract_channel_id(body)
        kind: PlaceKind = (
            "dm"
            if not channel_id or channel_id.startswith("D")
            else extract.extract_place_kind(body)
        )
        return Destination(
            client=context.client,
            user_id=extract.extract_user_id(body) or "",
            channel_id=channel_id,
            kind=kind,
            respond=over_kept_connections(respond, context.client.session),
            thread_ts=extract.extract_thread_ts(body),
            directory=self.directory,
            bot_user_id=context.bot_user_id or "",
        )


async def _send_when_ready(task: asyncio.Future[Reply], where: Destination) -> None:
    await where.send(plan(await task))


async def _logged(work: Coroutine[Any, Any, None]) -> None:
    """Run `work`, whose request is acknowledged already: a failure is logged with an
    id, as the engine does, and ends nothing else."""
    try:
        await work
    except Exception:
        incident = uuid.uuid4().hex[:8]
        log.exception("answering after the acknowledgement failed", extra={"incident": incident})


def _installing(context: AsyncBoltContext) -> tuple[str | None, str | None]:
    """The workspace (and Grid org) that installed Liaison: from the authorization, which
    in shared channels comes from the event's `authorizations`, not the outer team id."""
    result = context.authorize_result
    enterprise = (result.enterprise_id if result else None) or context.enterprise_id
    team = (result.team_id if result else None) or context.team_id
    return enterprise, team


def _home_channel(body: Body) -> str | None:
    event = body.get("event") or {}
    return event.get("channel") or None


def _first_input_block(view: Body) -> str | None:
    for block in view.get("blocks") or []:
        if block.get("type") == "input" and block.get("block_id"):
            return str(block["block_id"])
    values = (view.get("state") or {}).get("values") or {}
    return next(iter(values), None)
