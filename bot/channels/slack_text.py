"""Slack's message markup turned back into plain text for a resident's LINE.

Slack sends what staff type with its control sequences: `&amp; &lt; &gt;` for the three
escaped characters, `<https://…|label>` for links, `<@U…>` for mentions, `<!here>` for
broadcasts, `<#C…|name>` for channels. A resident should read none of that syntax.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_SEQUENCE = re.compile(r"<([^<>]*)>")


def to_plain(text: str, user_name: Callable[[str], str | None] = lambda _: None) -> str:
    """`<url|label>` → "label (url)", `<@U…>` → the person's name (or nothing), then the
    entities back to characters; surplus spaces left by removed mentions are tidied."""

    def replace(match: re.Match[str]) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):  # a user mention
            return user_name(target[1:]) or label.lstrip("@") or ""
        if target.startswith("#"):  # a channel
            return f"#{label}" if label else ""
        if target.startswith("!"):  # <!here>, <!channel>, <!subteam^…|@team>, <!date…|text>
            return label if label and not label.startswith("@") else ""
        if not label or _same_link(target, label):
            return _unescape(target.removeprefix("mailto:"))
        return f"{_unescape(label)} ({_unescape(target)})"

    plain = _SEQUENCE.sub(replace, text)
    plain = _unescape(plain)
    plain = re.sub(r"[ \t]{2,}", " ", plain)
    return "\n".join(line.strip() for line in plain.splitlines()).strip()


def _same_link(target: str, label: str) -> bool:
    bare = re.sub(r"^(https?://|mailto:)", "", target).rstrip("/")
    return label.rstrip("/") in (target, bare)


def _unescape(text: str) -> str:
    # &amp; last: "&amp;lt;" is the literal text "&lt;", not "<".
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
