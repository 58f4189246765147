"""Issue 3's "done when": a piped console script runs a project from kick-off to a
signed-off milestone, and every figure is right to the cent, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

SCRIPT = Path(__file__).parents[1] / "scripts" / "kickoff_to_signoff.txt"
LIAISON = Path(sys.executable).with_name("liaison")


def run_script(db_url: str, cwd: Path) -> str:
    url = make_url(db_url).render_as_string(hide_password=False)
    result = subprocess.run(
        [str(LIAISON), "console", "--as", "ann", "--channel", "team", "--at", "2026-11-26T10:00Z"],
        input=SCRIPT.read_text(),
        capture_output=True,
        text=True,
        env={**os.environ, "LIAISON_DATABASE_URL": url},
        cwd=cwd,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def section(output: str, start: str, end: str | None = None) -> str:
    part = output.split(start, 1)[1]
    return part.split(end, 1)[0] if end else part


def test_kickoff_to_signed_off_milestone(db_url: str, tmp_path: Path) -> None:
    out = run_script(db_url, tmp_path)
    assert "something went wrong" not in out
    # The client's request became a change, which the client approved from the card.
    assert "Change 1 approved by carol" in out
    assert "Budget: USD 20,000.00 -> USD 21,500.00" in out
    assert "Due: 2027-03-01 -> 2027-03-04" in out
    # Time at each person's rate, exact to the cent: 3 x 1.5h x 120 and 20m x 95.50.
    assert "bob: 4.5h, USD 540.00" in out
    assert "dana: 0.33h, USD 31.83" in out
    budget = section(out, "*Budget of Acme Site*", "*Spend by category*")
    assert "Spent: USD 1,771.83 (USD 1,200.00 spend, USD 571.83 time)" in budget
    assert "Remaining: USD 19,728.17" in budget
    assert "Burn: 8.2%" in budget
    # The client signed off the delivered milestone; the team was told.
    assert "carol signed off milestone 1" in out
    # Both sides got their status and report; the client's carry no money at all.
    client_part = section(out, 'Thank you: "Beta" is signed off', "(now speaking as ann)")
    assert "*Acme Site: status*" in client_part and "*Weekly update: Acme Site*" in client_part
    assert "Beta (due 2027-01-15): signed off" in client_part
    for secret in ("USD", "Budget", "Spent", "Vendor API late", "rate"):
        assert secret not in client_part
    team_part = section(out, "*Budget of Acme Site*")
    assert "*Weekly report: Acme Site*" in team_part
    assert "Risk 1 Vendor API late" in team_part
