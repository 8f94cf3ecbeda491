"""Compare nlu/when.py with ja-timex on the date test set (tests/dates/dates.toml) and write
docs/dates.md.

    .venv/bin/python -m bench.date_parsers
"""

from __future__ import annotations

from bench.common import DOCS
from tests.dates.evaluate import Reading, ja_timex, load, madoguchi, score

OUT = DOCS / "dates.md"


def combined(text, now) -> Reading:
    """when.py first; ja-timex only where when.py finds nothing."""
    reading = madoguchi(text, now)
    return reading if reading.ranges or reading.ambiguous else ja_timex(text, now)


PARSERS = [("nlu/when.py", madoguchi), ("ja-timex 0.2.8", ja_timex),
           ("when.py, then ja-timex", combined)]


def run() -> str:
    _, rows = load()
    lines = [
        "# Dates as residents write them: nlu/when.py and ja-timex",
        "",
        "Written by `python -m bench.date_parsers` from the test set tests/dates/dates.toml",
        f"({len(rows)} expressions: dates in Arabic and kanji numerals, relative days, weekdays,",
        "weeks and months (来週あたり, 月末, 来月の第2週), times, parts of the day (昼過ぎ, 夕方),",
        "ambiguous hours (「3時」 must be asked about: 午前 or 午後), English, and phrases that",
        "are not dates (3人家族, 1日3回, 中2). Reference time: Tuesday 2026-06-09 10:00 JST.",
        "A reading is right when its first range covers the day meant and starts at the hour",
        "meant; ja-timex's TIMEX3 values are resolved against the reference time",
        "(tests/dates/evaluate.py).",
        "",
        "| parser | right | of | accuracy |",
        "|---|---:|---:|---:|",
    ]
    wrongs = {}
    for name, parser in PARSERS:
        ok, n, wrong = score(parser)
        wrongs[name] = wrong
        lines.append(f"| {name} | {ok} | {n} | {ok / n:.1%} |")
    lines += [
        "",
        "Kept: nlu/when.py alone (the bot uses it; ja-timex is used only here, for the",
        "comparison). ja-timex has no parts of the day (午後, 夕方, 昼過ぎ), no 月末/週末/",
        "来月, reads 明日/あさって as durations, and reads 「3時」 as 03:00. Falling back to it",
        "where when.py finds nothing gains one expression (「6/12 14:00」), not worth a",
        "runtime dependency on a beta pendulum (3.0.0b1, which ja-timex pins).",
        "",
    ]
    for name, wrong in wrongs.items():
        lines.append(f"Wrong for {name} ({len(wrong)}): " + "、".join(wrong))
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    text = run()
    OUT.write_text(text + "\n", encoding="utf-8")
    print(text)
