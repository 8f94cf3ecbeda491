"""Scripted multi-turn conversations, written as data (tests/dialogue/scripts/*.toml), run
through the real stack: the LINE webhook, the worker, GiNZA and the handlers.

A script:

    [[conversation]]
    id = "town-hiragana"            # unique
    title = "町名をひらがなで答える"
    row = "follow-ups"              # the issue-14 row it covers
    clock = "weekday_day"           # or weekday_night, holiday_night, saturday_day, an ISO time
    setup = ["booked"]              # optional: the resident holds a booking
    [[conversation.turns]]
    say = "母の介護が心配です"       # or tap = "consult:skip", claim = true, advance_minutes = 30
    check = true                     # the plain safety question must be asked here
    contains = ["町名"]              # every string must appear in the reply
    not_contains = ["見つかりませんでした"]
    any_of = ["東部", "西部"]        # at least one must appear
    first_number = "110"             # the first phone number in the reply
    case = { reason = "urgent", priority = "urgent", about = "other" }
    no_case = true                   # no case was opened
    silent = true                    # the bot must not answer (default: it must, no dead end)

Every reply that is expected is also checked for dead ends: not empty, and not only an
apology without a way forward (a button, a number or a question).

Where the risk reader is unsure ("check") the bot first asks plainly whether anyone is in
danger now, with a line open now. Unless the turn says `check = true`, the script answers
「そうではない」 as that resident would, and the turn's expectations apply to what follows
(the original message carries on); the transcript shows the question.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from bot.config import TOKYO

SCRIPTS_DIR = Path(__file__).resolve().parent / "scripts"
CLOCKS = {
    "weekday_day": datetime(2026, 6, 9, 10, 0, tzinfo=TOKYO),  # Tuesday
    "weekday_evening": datetime(2026, 6, 9, 18, 30, tzinfo=TOKYO),
    "weekday_night": datetime(2026, 6, 9, 23, 10, tzinfo=TOKYO),
    "saturday_day": datetime(2026, 6, 13, 14, 0, tzinfo=TOKYO),
    "holiday_night": datetime(2026, 11, 23, 22, 0, tzinfo=TOKYO),  # 勤労感謝の日
}
_NUMBER = re.compile(r"#\d{4}|\d{2,5}-\d{1,4}-\d{3,4}|(?<![\d-])\d{3}(?![\d-])")
_WAY_FORWARD = re.compile(
    r"#\d{4}|\d{2,5}-\d{1,4}-\d{3,4}|(?<![\d-])(110|119|189|188)(?![\d-])|[?？]|ますか|ですか"
    r"|おつなぎしました|passed your message"  # handed to a person
)


class Stack(Protocol):
    """What a script needs from the running bot."""

    clock: Any

    def send(self, kind: str, value: str) -> tuple[list[str], list[str]]:
        """Deliver one event; returns (texts, quick-reply labels under the last message)."""

    def cases(self) -> list[Any]: ...

    def claim_case(self) -> None: ...

    def give_booking(self) -> None: ...


@dataclass
class Outcome:
    script: dict[str, Any]
    failures: list[str] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)
    checks_asked: int = 0  # turns where the bot asked the safety question first

    @property
    def passed(self) -> bool:
        return not self.failures


def load_scripts(directory: Path = SCRIPTS_DIR) -> list[dict[str, Any]]:
    scripts: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.toml")):
        with path.open("rb") as fh:
            for conv in tomllib.load(fh)["conversation"]:
                scripts.append({**conv, "file": path.name})
    ids = [s["id"] for s in scripts]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"duplicate conversation ids: {sorted(duplicates)}")
    return scripts


def start_time(script: dict[str, Any]) -> datetime:
    value = script.get("clock", "weekday_day")
    if value in CLOCKS:
        return CLOCKS[value]
    return datetime.fromisoformat(value).replace(tzinfo=TOKYO)


def run(script: dict[str, Any], stack: Stack, pack: Any) -> Outcome:
    outcome = Outcome(script)
    for item in script.get("setup", []):
        if item == "booked":
            stack.give_booking()
    for n, turn in enumerate(script["turns"], 1):
        if "advance_minutes" in turn:
            stack.clock.advance(minutes=turn["advance_minutes"])
        if turn.get("claim"):
            stack.claim_case()
            outcome.transcript.append("〔職員が対応を始める〕")
            continue
        kind, value = ("tap", turn["tap"]) if "tap" in turn else ("say", turn["say"])
        outcome.transcript.append(f"住民: {value if kind == 'say' else '〔tap ' + value + '〕'}")
        texts, buttons = _send(outcome, stack, kind, value)
        if _asked_check(texts, buttons, pack) and not turn.get("check") and not turn.get("silent"):
            outcome.checks_asked += 1
            outcome.failures += [f"turn {n} (check question): {f}"
                                 for f in check({"any_of": ["24時間", "24 hours"]},
                                                texts, buttons, stack, pack)]
            answer = pack.text("check_button_fine") if "ひとつ" in texts[0] else "No, not now"
            texts, buttons = _send(outcome, stack, "say", answer)
        elif turn.get("check") and not _asked_check(texts, buttons, pack):
            outcome.failures.append(f"turn {n}: the safety question was not asked")
        outcome.failures += [f"turn {n}: {f}" for f in check(turn, texts, buttons, stack, pack)]
        stack.clock.advance(minutes=1)
    return outcome


def _send(outcome: Outcome, stack: Stack, kind: str, value: str) -> tuple[list[str], list[str]]:
    if kind == "say" and outcome.transcript and not outcome.transcript[-1].startswith("住民"):
        outcome.transcript.append(f"住民: {value}")
    texts, buttons = stack.send(kind, value)
    for text in texts:
        outcome.transcript.append("まどぐち: " + text.replace("\n", "\n          "))
    if buttons:
        outcome.transcript.append("          " + " ".join(f"［{b}］" for b in buttons))
    if not texts:
        outcome.transcript.append("まどぐち: （返信なし）")
    return texts, buttons


def _asked_check(texts: list[str], buttons: list[str], pack: Any) -> bool:
    fine = {pack.text("check_button_fine"), pack.text("en_check_button_fine")}
    return bool(fine & set(buttons))


def check(turn: dict[str, Any], texts: list[str], buttons: list[str], stack: Stack,
          pack: Any) -> list[str]:
    joined = "\n".join(texts)
    failures = [f"missing {s!r}" for s in turn.get("contains", []) if s not in joined]
    failures += [f"unwanted {s!r}" for s in turn.get("not_contains", []) if s in joined]
    if (any_of := turn.get("any_of")) and not any(s in joined for s in any_of):
        failures.append(f"none of {any_of!r}")
    if (want := turn.get("first_number")) is not None:
        m = _NUMBER.search(joined)
        got = m.group(0) if m else None
        if got != want:
            failures.append(f"first number {got!r}, wanted {want!r}")
    if turn.get("silent"):
        if texts:
            failures.append("expected no reply")
    elif not texts:
        failures.append("dead end: no reply")
    elif _dead_end(texts, buttons, pack):
        failures.append("dead end: an apology with no way forward")
    for label in turn.get("buttons", []):
        if label not in buttons:
            failures.append(f"no button {label!r}")
    if (want_case := turn.get("case")) is not None:
        cases = stack.cases()
        if not cases:
            failures.append("no case opened")
        else:
            case = cases[-1]
            for key, value in want_case.items():
                got = {"reason": case.opened_reason}.get(key, getattr(case, key, None))
                if got != value:
                    failures.append(f"case {key} {got!r}, wanted {value!r}")
    if turn.get("no_case") and stack.cases():
        failures.append("a case was opened")
    return failures


def _dead_end(texts: list[str], buttons: list[str], pack: Any) -> bool:
    if buttons:
        return False
    return not any(_WAY_FORWARD.search(t) for t in texts)


def advance(clock: Any, minutes: float) -> None:
    clock.now += timedelta(minutes=minutes)
