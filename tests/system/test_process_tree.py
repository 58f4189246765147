"""The bench's memory table adds a server's child processes (its drawing process): they
are found through /proc, grandchildren included."""

from __future__ import annotations

import subprocess
import sys

from tests.processes import descendants, peak_rss_mb

# Starts a process that prints its pid, prints its own, and waits for stdin to close.
STARTER = """
import subprocess, sys
code = sys.argv[1] if len(sys.argv) > 1 else "import sys; sys.stdin.read()"
child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE)
print(child.pid, flush=True)
sys.stdin.read()
child.stdin.close()
child.wait()
"""


def test_a_process_tree_is_found_to_the_grandchildren() -> None:
    # The parent starts a child (another starter), which starts a grandchild.
    parent = subprocess.Popen(
        [sys.executable, "-c", STARTER, STARTER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        grandchild = int(parent.stdout.readline())  # the child's output is the parent's
        assert sorted(descendants(parent.pid)) == sorted([child, grandchild])
        assert descendants(child) == [grandchild] and descendants(grandchild) == []
        assert (peak_rss_mb(grandchild) or 0) > 1
    finally:
        assert parent.stdin is not None
        parent.stdin.close()
        parent.wait(timeout=10)
