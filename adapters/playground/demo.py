"""Demo data: a sample client project told as its first three weeks of ordinary commands,
typed by the PM, the team and the client through the engine, so no rule is repeated here.

Each line of SCRIPT is `DAY WHO WHERE command`: DAY counts days back from today (each day's
lines run from 10:00 in the project's zone, a minute apart), WHO is a playground speaker,
WHERE is `team`, `client` or `dm` (a backslash joins two lines). `{+N}` and `{-N}`
in a command are dates N days from today, so the plan always lies around the demo's day."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from adapters.hosts import playground_url
from adapters.playground.people import dm_of, speaker_named
from adapters.playground.service import Playground
from adapters.runtime import build_runtime
from bot.settings import Settings

ZONE = "Europe/Berlin"
PROJECT = "Acme Website"
SCRIPT = """
-21 ann   team   project new "Acme Website" client:"Acme Corp" budget:40k due:{+70} tz:Europe/Berlin
-21 ann   client project link client
-21 ann   team   team add @bob rate:95/h
-21 ann   team   team add @dana rate:85/h
-21 ann   team   team add @carol role:client
-21 ann   team   milestone add "Discovery" due:{-14}
-21 ann   team   milestone add "Design sign-off" due:{+3} client
-21 ann   team   milestone add "Beta" due:{+35} client
-21 ann   team   milestone add "Launch" due:{+70} client
-21 ann   team   task add "Kick-off workshop notes" @ann due:{-19} milestone:"Discovery"
-21 ann   team   task add "Wireframes" @dana due:{-8} milestone:"Design sign-off" est:16h
-21 ann   team   task add "Visual design" @dana due:{+2} milestone:"Design sign-off" est:24h
-21 ann   team   task add "CMS set-up" @bob due:{+1} milestone:"Beta" est:12h
-21 ann   team   task add "Payment integration" @bob due:{+25} milestone:"Beta" est:30h
-21 ann   team   decision "Use Stripe for payments" why:"Acme already has an account"
-21 ann   team   meeting set thu 10:00
-20 bob   dm     me
-20 dana  dm     me
-20 carol dm     help
-19 ann   team   task done 1
-19 ann   team   spend 1,800 "Discovery workshop: venue and travel" travel
-15 dana  team   log 12h task:2 "Wireframes, first pass"
-15 bob   team   log 6h "Environments and repository"
-14 ann   team   milestone done 1
-12 ann   team   spend 2,400 "Design tools and stock photos" software
-9  dana  team   log 8h task:2 "Wireframes, review changes"
-9  dana  team   task done 2
-9  bob   team   log 8h task:4
-7  ann   team   risk add "Payment provider API not ready in time" likelihood:high \
impact:medium mitigation:"Mock the API; agree a fallback date" owner:@bob
-6  dana  team   log 10h task:3
-6  bob   team   log 7h task:4
-5  bob   team   task block 5 "Waiting for access to Acme's payment account"
-4  carol client request "Please add our new logo to the header"
-3  ann   team   spend 3,200 "Hosting for the first year" hosting
-3  bob   team   log 6h task:4
-2  ann   team   change "Add a blog section" cost:4000 days:5
-2  ann   team   action "Send the new logo files" @carol due:{+2}
-2  ann   team   meeting ask "Can we go through the blog section's scope?"
-1  dana  team   log 6h task:3 "Visual design, home page"
-1  bob   team   log 5h task:4
"""

RELATIVE_DATE = re.compile(r"\{([+-]\d+)\}")


@dataclass(frozen=True, slots=True)
class Step:
    day: int
    who: str
    where: str
    line: str


@dataclass
class DemoResult:
    ok: bool
    steps: int = 0
    error: str | None = None
    transcript: list[str] = field(default_factory=list)


def script_steps(today: date, script: str = SCRIPT) -> list[Step]:
    steps = []
    for raw in script.strip().splitlines():
        day, who, where, line = raw.split(maxsplit=3)
        line = RELATIVE_DATE.sub(
            lambda m: (today + timedelta(days=int(m.group(1)))).isoformat(), line
        )
        steps.append(Step(int(day), who, where, line))
    return steps


def step_times(steps: list[Step], today: date, zone: str = ZONE) -> list[datetime]:
    """10:00 local on each step's day, one minute apart within a day."""
    times, minute, last_day = [], 0, None
    for step in steps:
        minute = minute + 1 if step.day == last_day else 0
        last_day = step.day
        local = datetime.combine(today + timedelta(days=step.day), time(10, minute))
        times.append(local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC))
    return times


async def run_demo(playground: Playground) -> DemoResult:
    """Run the script as the roster; stop at the first command the engine refuses."""
    today = playground.clock().astimezone(ZoneInfo(ZONE)).date()
    steps = script_steps(today)
    result = DemoResult(ok=True)
    for step, at in zip(steps, step_times(steps, today), strict=True):
        speaker = speaker_named(step.who)
        place = dm_of(speaker) if step.where == "dm" else step.where
        reply = await playground.say(speaker.user_id, place, step.line, at=at)
        answer = "\n".join(m.plain_text() for m in reply.messages)
        result.transcript.append(f"{speaker.name} in {place}> {step.line}\n{answer}")
        if reply.failed:
            result.ok = False
            result.error = f"`{step.line}` as {speaker.name} failed: {answer}"
            return result
        result.steps += 1
    return result


async def create_demo(settings: Settings, *, verbose: bool = False) -> int:
    """`liaison demo`: make the sample project in the database the playground uses."""
    runtime = build_runtime(settings)
    try:
        playground = Playground(runtime.engine, runtime.sessions, deliver_posts=False)
        result = await run_demo(playground)
    finally:
        await runtime.close()
    if verbose:
        print("\n\n".join(result.transcript))
    if not result.ok:
        print(f"The demo stopped: {result.error}", file=sys.stderr)
        return 1
    print(
        f'Created the demo project "{PROJECT}" with {result.steps} commands typed by Ann (PM), '
        "Bob and Dana (team) and Carol (the client).\n"
        f"See it in the playground: `liaison serve`, then open {playground_url(settings)}"
    )
    return 0
