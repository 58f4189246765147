"""Client meetings in the playground: time travel posts the agenda to the client side and the
prep note to the team side, and the client presses *Mark 1 done* on their reminder."""

from __future__ import annotations

from tests.playground.test_playground import kickoff
from tests.playground_app import buttons_in, html_of, playground_app


async def test_the_agenda_arrives_and_the_client_marks_their_action_done(db_url: str) -> None:
    async with playground_app(db_url) as app:
        await kickoff(app)  # Acme Site in Berlin, 2026-12-01 (a Tuesday)
        await app.say("carol", "client", "help")  # the playground's client person
        for line in ("meeting set thu 10:00", 'action "Send the logo files" @carol due:fri'):
            reply = await app.say("ann", "team", line)
            assert not reply["failed"], reply
        status, result = await app.post_json("travel", {"day": "2026-12-03", "time": "09:00"})
        assert status == 200 and result["posts"] >= 2
        posts = [e for e in await app.feed("carol") if e["kind"] == "post"]
        agenda = [p for p in posts if "Agenda: Acme Site client meeting" in p["text"]]
        assert agenda and agenda[0]["place"] == "client" and agenda[0]["audience"] == "client"
        assert "Send the logo files" in agenda[0]["text"] and "50,000" not in agenda[0]["text"]
        team = [e for e in await app.feed("ann") if e["kind"] == "post" and e["place"] == "team"]
        assert any("Prep: Acme Site" in p["text"] and "50,000" in p["text"] for p in team)

        # The reminder, the working day before Friday, at the check-in time, with its button.
        reminder = [p for p in posts if "Action items due" in p["text"]]
        assert reminder, [p["text"][:80] for p in posts]
        done = next(b for b in buttons_in(reminder[0]["html"]) if b[2] == "Mark 1 done")
        reply = await app.press("carol", "client", done[0], done[1])
        assert reply["failed"] is False and "done: Send the logo files" in html_of(reply)
