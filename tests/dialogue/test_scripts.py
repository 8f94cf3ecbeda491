"""Every scripted conversation in tests/dialogue/scripts runs through the real stack and
must pass: the window, the number first, a case and its priority, never a dead end."""

from __future__ import annotations

import pytest

from handlers.content import load_pack
from tests.dialogue.runner import load_scripts, run, start_time
from tests.dialogue.stack import LiveStack

SCRIPTS = load_scripts()
USER = "U00000000000000000000000000d1a10"


def test_there_are_at_least_eighty_conversations_covering_every_row():
    assert len(SCRIPTS) >= 80
    rows = {s["row"] for s in SCRIPTS}
    assert rows >= {"follow-ups", "elsewhere", "third-party", "claimed-out-of-hours",
                    "money", "intent-slips", "languages", "dates"}
    for row in rows:  # each row both in office hours and out of them
        clocks = {s.get("clock", "weekday_day") for s in SCRIPTS if s["row"] == row}
        assert "weekday_day" in clocks or any("T1" in c or "T09" in c for c in clocks), row
        assert clocks - {"weekday_day"}, row


@pytest.mark.parametrize("script", SCRIPTS, ids=[s["id"] for s in SCRIPTS])
def test_conversation(script, client, worker, fake_line, svc, clock):
    clock.now = start_time(script)
    stack = LiveStack(client, worker, fake_line, svc, clock, USER)
    outcome = run(script, stack, load_pack())
    assert outcome.passed, "\n".join([*outcome.failures, "", *outcome.transcript])
