"""/privacy and /terms: plain pages saying what Liaison stores, where, for how long, and
who operates it (the Teams manifest links to both). Public by design; the only values
filled in are the operator's settings, HTML-escaped."""

from __future__ import annotations

from html import escape

from aiohttp import web

from bot.settings import Settings

PRIVACY = """
<h1>Privacy</h1>
<p>Liaison is a project-coordination bot run by {operator}. {contact}</p>
<h2>What it stores</h2>
<ul>
<li>People: their Slack or Teams id, display name and time zone, and their role on each
project.</li>
<li>Project data that people type into it: plans, tasks, dates, budgets, time and spend,
risks, decisions, change and client requests.</li>
<li>Huddle answers (the text people give to the daily huddle). Mood is kept only anonymously,
with no link to the person who gave it.</li>
<li>A record of who changed what (the audit trail), visible to the project's PM.</li>
<li>The messages it is about to send (its outbox), and the tokens the platforms gave it,
encrypted.</li>
</ul>
<h2>Where, and for how long</h2>
<p>In the database of this installation, operated by {operator}, for as long as the project
exists. To have your data corrected or erased, ask the project's PM or the operator.</p>
<h2>Erasure</h2>
<p>A project's PM can erase someone who is only on the projects they lead with
<code>forget @person</code>; the operator can erase anyone with <code>liaison forget</code>.
Erasing replaces the person's name and contact details with a pseudonym everywhere Liaison
stores them, including the audit trail, deletes their direct conversations with Liaison and
the text of their huddle answers, and keeps only the numbers (time logged, tasks done),
attributed to the pseudonym. The audit trail records that an erasure happened, not what was
erased.</p>
<p>Liaison sends nothing to anyone but the Slack or Teams conversations it is used in.</p>
"""

TERMS = """
<h1>Terms of use</h1>
<p>This installation of Liaison is operated by {operator}. {contact}</p>
<p>Use it for coordinating the projects you work on. What you type is stored as described on
the <a href="/privacy">privacy page</a> and shown to the people on the same project; clients
only ever see the client-safe view.</p>
<p>Liaison is provided as it is, without warranty. Questions and requests about your data go
to the operator.</p>
"""

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Liaison: {title}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:2rem auto;
padding:0 1rem}}</style>
</head><body>{body}</body></html>
"""

HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "public, max-age=3600",
}


def render_page(settings: Settings, title: str, body: str) -> str:
    operator = escape(settings.operator_name or "the organisation that installed it")
    contact = f"Contact: {escape(settings.operator_contact)}." if settings.operator_contact else ""
    return PAGE.format(title=title, body=body.format(operator=operator, contact=contact))


def mount_legal_pages(app: web.Application, settings: Settings) -> None:
    pages = {"/privacy": ("Privacy", PRIVACY), "/terms": ("Terms of use", TERMS)}
    for path, (title, body) in pages.items():
        html = render_page(settings, title, body)

        async def serve(request: web.Request, html: str = html) -> web.Response:
            return web.Response(text=html, content_type="text/html", headers=HEADERS)

        app.router.add_get(path, serve)
