"""Print (and write docs/conversation.md with) transcripts of the main conversation paths,
and the scripted dialogue tests (tests/dialogue/scripts) as a pass/fail table with their
transcripts.

Runs the real stack in-process: the LINE webhook, the worker, real NLU (GiNZA), a fake
LINE API on loopback and a scratch SQLite database.

    .venv/bin/python -m bench.conversation_transcripts
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.services import build_services
from bot.worker import Worker
from common.clock import TOKYO
from storage.db import make_engine
from storage.migrate import upgrade
from tests.conftest import Clock, install_test_keys, line_event, make_config, post_events
from tests.fakes.line_server import FakeLine

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "conversation.md"
TUESDAY = datetime(2026, 6, 9, 10, 0, tzinfo=TOKYO)
HOLIDAY = datetime(2026, 11, 23, 11, 0, tzinfo=TOKYO)  # 勤労感謝の日

# (title, start time, steps); a step is ("say", text) | ("tap", data) | ("follow", "")
SCRIPTS: list[tuple[str, datetime, list[tuple[str, str]]]] = [
    ("友だち追加", TUESDAY, [("follow", "")]),
    ("緊急（意識がない）", TUESDAY, [("say", "父が倒れて意識がない"), ("tap", "consent:yes:1")]),
    ("緊急（子どもへの虐待）", TUESDAY, [("say", "隣の家の子どもが毎晩叩かれて泣き叫んでいる")]),
    ("緊急（DV）", TUESDAY, [("say", "夫に殴られていて怖いです")]),
    (
        "緊急（死にたい気持ち）、祝日の夜",
        HOLIDAY.replace(hour=23),
        [("say", "もう死にたい。消えてしまいたい")],
    ),
    ("緊急（高齢の親への暴力）", TUESDAY, [("say", "同居の息子が認知症の母を叩いている")]),
    ("緊急（薬の飲みすぎ）、平日の夜中", TUESDAY.replace(hour=2),
     [("say", "薬をたくさん飲んでしまった")]),
    ("言葉にならない助け（行き止まりなし）、夜中", TUESDAY.replace(hour=2),
     [("say", "たすけてください…")]),
    ("よくある質問（答えがある）", TUESDAY, [("say", "窓口の受付時間は？")]),
    ("よくある質問（候補から選ぶ）", TUESDAY, [("say", "介護について教えてください")]),
    (
        "よくある質問（答えがない）",
        TUESDAY,
        [("say", "宇宙旅行の申し込み方法はどこで聞けますか？")],
    ),
    (
        "相談（町名あり）",
        TUESDAY,
        [("say", "桜山3丁目に住んでいます。母の介護のことで相談したいです")],
    ),
    ("相談（町名を聞く）", TUESDAY, [("say", "母の介護が心配です"), ("say", "小坪です")]),
    ("相談（よその市）", TUESDAY, [("say", "母の介護が心配です"), ("say", "横浜です")]),
    ("相談（わからない町名）", TUESDAY, [("say", "母の介護が心配です"), ("say", "緑ヶ丘です")]),
    (
        "複合的な困りごと",
        TUESDAY,
        [("say", "失業して家賃が払えず、母の介護もあってもう限界です"), ("tap", "consent:no:1")],
    ),
    (
        "ほかの人のこと",
        TUESDAY,
        [("say", "近所の一人暮らしのおばあさんを最近見かけなくて心配です")],
    ),
    ("人と話したい（祝日）", HOLIDAY, [("say", "人と話したい")]),
    ("二度わからなかったとき", TUESDAY, [("say", "ふがふが"), ("say", "ほげほげ")]),
    (
        "データの削除",
        TUESDAY,
        [
            ("say", "人と話したい"),
            ("say", "データを消して"),
            ("tap", "delete:yes"),
            ("say", "こんにちは"),
        ],
    ),
    ("絵文字だけ・英語", TUESDAY, [("say", "😊😊"), ("say", "Hello, I need help with my rent"),
                              ("say", "I live in Numama")]),
]


def _buttons(call_messages: list[dict[str, Any]]) -> str:
    items = call_messages[-1].get("quickReply", {}).get("items", []) if call_messages else []
    return " ".join(f"［{i['action']['label']}］" for i in items)


class _Stack:
    """A scratch database and worker for one conversation."""

    def __init__(self, line: FakeLine, start: datetime, user: str) -> None:
        from bot.app import create_app

        self._scratch = tempfile.TemporaryDirectory()
        self.engine = make_engine(f"sqlite:///{self._scratch.name}/t.db")
        upgrade(self.engine)
        self.svc = build_services(make_config(line.url), engine=self.engine)
        self.client = create_app(svc=self.svc).test_client()
        self.clock = Clock(start)
        self.worker = Worker(self.svc.factory, self.svc.channels, clock=self.clock,
                             worker_id="transcript")
        self.line, self.user = line, user

    def close(self) -> None:
        self.engine.dispose()
        self._scratch.cleanup()


def run_scripts(line: FakeLine) -> list[str]:
    """The scripted dialogue tests: a pass/fail table, then each transcript."""
    from handlers.content import load_pack
    from tests.dialogue.runner import load_scripts, run, start_time
    from tests.dialogue.stack import LiveStack

    outcomes = []
    for n, script in enumerate(load_scripts()):
        stack = _Stack(line, start_time(script), f"U{n + 500:032d}")
        live = LiveStack(stack.client, stack.worker, line, stack.svc, stack.clock, stack.user)
        outcomes.append(run(script, live, load_pack()))
        stack.close()
    passed = sum(o.passed for o in outcomes)
    asked = sum(o.checks_asked > 0 for o in outcomes)
    out = [
        "## Scripted conversations (tests/dialogue/scripts)",
        "",
        f"**{passed} of {len(outcomes)} pass.** Each runs through the real stack, as in",
        "`make test` (tests/dialogue/test_scripts.py); what each reply must and must not",
        f"contain is in the script file. In {asked} of them the risk reader was unsure of a",
        "message the script did not expect it to be (column 「確認」): the bot asked the safety",
        "question first, the script answered 「そうではない」, and the expectations held after it.",
        "",
        "| # | row | conversation | clock | 確認 | result |",
        "|---:|---|---|---|---:|---|",
    ]
    for i, o in enumerate(outcomes, 1):
        s = o.script
        result = "pass" if o.passed else "FAIL: " + "; ".join(o.failures)[:120]
        out.append(f"| {i} | {s['row']} | {s['title']} ({s['id']}) | "
                   f"{s.get('clock', 'weekday_day')} | {o.checks_asked or ''} | {result} |")
    out.append("")
    for o in outcomes:
        out += [f"### {o.script['title']}", "", f"_{o.script['id']} · "
                f"{start_time(o.script).strftime('%Y-%m-%d %H:%M')} JST_", "", "```",
                *o.transcript, "```", ""]
    return out


def run() -> str:
    install_test_keys()
    out = [
        "# Conversation transcripts",
        "",
        "Produced by `python -m bench.conversation_transcripts` against the real stack",
        "(LINE webhook → worker → GiNZA NLU → handlers → fake LINE API). Buttons are the",
        "quick replies under the bot's last message. Postback taps are shown as 〔tap data〕.",
        "",
    ]
    line = FakeLine().start()
    try:
        for n, (title, start, steps) in enumerate(SCRIPTS):
            with tempfile.TemporaryDirectory() as scratch:
                engine = make_engine(f"sqlite:///{scratch}/t.db")
                upgrade(engine)
                svc = build_services(make_config(line.url), engine=engine)
                from bot.app import create_app

                client = create_app(svc=svc).test_client()
                clock = Clock(start)
                worker = Worker(svc.factory, svc.channels, clock=clock, worker_id="transcript")
                user = f"U{n:032d}"
                out += [f"## {title}", "", f"_{start.strftime('%Y-%m-%d %H:%M')} JST_", "", "```"]
                for kind, value in steps:
                    before = len(line.calls)
                    if kind == "say":
                        out.append(f"住民: {value}")
                        event = line_event("text", user=user, text=value)
                    elif kind == "tap":
                        out.append(f"住民: 〔tap {value}〕")
                        event = line_event("postback", user=user, data=value)
                    else:
                        out.append("住民: 〔友だち追加〕")
                        event = line_event("follow", user=user)
                    post_events(client, event)
                    worker.drain()
                    messages = [m for c in line.calls[before:] for m in c.messages]
                    for m in messages:
                        out.append("まどぐち: " + m.get("text", "").replace("\n", "\n          "))
                    if buttons := _buttons(messages):
                        out.append(f"          {buttons}")
                    if not messages:
                        out.append("まどぐち: （返信なし）")
                    clock.advance(minutes=1)
                out += ["```", ""]
                engine.dispose()
        out += run_scripts(line)
    finally:
        line.stop()
    return "\n".join(out)


if __name__ == "__main__":
    text = run()
    OUT.write_text(text + "\n", encoding="utf-8")
    print(text)
