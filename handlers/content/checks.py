"""Checks a content version must pass before it is published, in Japanese for staff.

On top of the pack schema (pydantic, the same as for the pack files): LINE's limits as LINE
counts them (UTF-16 code units), phone number formats, towns that belong to exactly one
地域包括支援センター (or a split the pack explains), hotline hours that can be read, and FAQ
ids short enough for postback data.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Literal

from handlers.content.loader import ContentPackError
from handlers.content.schema import _PHONE
from handlers.postback import SEPARATOR

LINE_TEXT_MAX = 5000  # characters (UTF-16 code units) in one text message
LINE_LABEL_MAX = 20  # a quick-reply label
LINE_DISPLAY_TEXT_MAX = 300  # a postback action's displayText (the FAQ question echoed)
LINE_POSTBACK_DATA_MAX = 300  # bytes of postback data ("faq:<id>")
FAQ_POSTBACK_PREFIX = "faq" + SEPARATOR


@dataclass(frozen=True)
class Problem:
    level: Literal["error", "warning"]
    where: str  # e.g. "よくある質問 hokatsu_where"
    message: str  # what to fix, in Japanese


def line_length(text: str) -> int:
    """Length as LINE counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def button_label(text: str) -> str:
    """The quick-reply label LINE shows for ``text`` (cut as bot/channels/line.py cuts it)."""
    return text if len(text) <= LINE_LABEL_MAX else text[: LINE_LABEL_MAX - 1] + "…"


# -- hotline hours ---------------------------------------------------------------------

_TIME = r"(\d{1,2})(?:時(?:(\d{1,2})分|半)?|:(\d{2}))"
_RANGE = re.compile(_TIME + r"\s*[〜~～\-－ー]\s*(?:翌)?" + _TIME)
_ALWAYS = re.compile(r"24時間")
_VARIES = re.compile(r"異なります|ご確認ください|確認してください|曜日によ")


def _minutes(h: str, m: str | None, colon: str | None, half: bool) -> int | None:
    hour = int(h)
    minute = int(m or colon or (30 if half else 0))
    if hour > 24 or minute > 59 or (hour == 24 and minute):
        return None
    return hour * 60 + minute


def hotline_hours_problem(text: str) -> str | None:
    """None when the hours can be read: 24時間, time ranges (9時〜17時, 9:00〜21:30), or a
    plain statement that they vary / must be checked at the source. Else what is wrong."""
    normal = unicodedata.normalize("NFKC", text)
    ranges = list(_RANGE.finditer(normal))
    for match in ranges:
        h1, m1, c1, h2, m2, c2 = match.groups()
        start = _minutes(h1, m1, c1, "半" in match.group(0).split("〜")[0])
        end = _minutes(h2, m2, c2, match.group(0).endswith("半"))
        if start is None or end is None:
            return f"「{match.group(0)}」は時刻として読めません"
        if start == end:
            return f"「{match.group(0)}」は開始と終了が同じです"
    if ranges or _ALWAYS.search(normal) or _VARIES.search(normal):
        return None
    return ("受付時間が読み取れません。「24時間」「9時〜17時」のように書くか、"
            "時間が変わる場合は「受付時間は…によって異なります」と書いてください")


# -- the checks ------------------------------------------------------------------------


def check_payload(payload: dict[str, Any]) -> list[Problem]:
    """Every problem of a version; it may be published when none is an error."""
    from handlers.content.versions import pack_from_payload

    document = payload.get("pack") or {}
    problems: list[Problem] = []
    problems += _faq_problems(document.get("faq") or [])
    problems += _copy_problems(document.get("copy") or {})
    problems += _phone_problems(document)
    problems += _hotline_problems(document.get("hotlines") or [])
    problems += _town_problems(document)
    try:
        pack_from_payload(payload, label="draft")
    except ContentPackError as exc:
        for line in str(exc).splitlines()[1:] or [str(exc)]:
            where, detail = _schema_problem(line.strip().removeprefix("- "))
            problems.append(Problem("error", where, f"形式の誤り: {detail}"))
    return problems


_FILE_LABELS = {
    "pack.toml": "基本情報・受付時間・保存期間", "agencies.toml": "窓口", "towns.toml": "町名",
    "faq.toml": "よくある質問", "resources.toml": "地域資源", "hotlines.toml": "相談ダイヤル",
    "copy.toml": "文言",
}
_SCHEMA_WORDS = {
    "required field is missing": "必要な項目が入力されていません",
    "Field required": "必要な項目が入力されていません",
    "String should have at least 1 character": "空にできません",
    "duplicate id": "IDが重複しています",
    "names unknown agency": "存在しない窓口IDを指定しています",
    "names unknown hotline": "存在しない相談ダイヤルIDを指定しています",
}


def _schema_problem(line: str) -> tuple[str, str]:
    """("窓口", "agencies[2] (id='x') → phone: …") from a ContentPackError line, with the
    file named as staff know the section and common messages in Japanese."""
    filename, _, rest = line.partition(": ")
    where = _FILE_LABELS.get(filename, "パックの形式")
    if filename not in _FILE_LABELS:
        rest = line
    for english, japanese in _SCHEMA_WORDS.items():
        rest = rest.replace(english, japanese)
    return where, rest


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.level == "error"]


# FAQ entries the conversation answers by id (handlers/flows/context.py: 受付時間): they may be
# edited but not retired or renamed.
FAQ_IDS_USED_BY_BOT: tuple[str, ...] = ("hours",)


def _faq_problems(entries: list[dict[str, Any]]) -> list[Problem]:
    present = {str(e.get("id", "")) for e in entries}
    problems = [Problem("error", f"よくある質問 {needed}", (
                    "この質問はボットが直接使っているため、取り下げやIDの変更はできません。"
                    "内容を編集してください"))
                for needed in FAQ_IDS_USED_BY_BOT if needed not in present]
    for entry in entries:
        entry_id = str(entry.get("id", ""))
        where = f"よくある質問 {entry_id}"
        data = f"{FAQ_POSTBACK_PREFIX}{entry_id}".encode()
        if SEPARATOR in entry_id:
            problems.append(Problem("error", where, (
                f"IDに「{SEPARATOR}」は使えません（ボタンのデータの区切りに使うため）")))
        if len(data) > LINE_POSTBACK_DATA_MAX:
            problems.append(Problem("error", where, (
                f"IDが長すぎます（ボタンのデータが{len(data)}バイト、上限"
                f"{LINE_POSTBACK_DATA_MAX}バイト）。短いIDにしてください")))
        answer, question = str(entry.get("answer", "")), str(entry.get("question", ""))
        if line_length(answer) > LINE_TEXT_MAX:
            problems.append(Problem("error", where, (
                f"回答が{line_length(answer)}文字あります（LINEの上限は{LINE_TEXT_MAX}文字）")))
        if line_length(question) > LINE_DISPLAY_TEXT_MAX:
            problems.append(Problem("error", where, (
                f"質問が{line_length(question)}文字あります（ボタンで送られる文の上限は"
                f"{LINE_DISPLAY_TEXT_MAX}文字）")))
    return problems


def _copy_problems(copy: dict[str, str]) -> list[Problem]:
    return [Problem("error", f"文言 {key}", (
                f"{line_length(text)}文字あります（LINEの上限は{LINE_TEXT_MAX}文字）"))
            for key, text in copy.items() if line_length(str(text)) > LINE_TEXT_MAX]


_ASCII_PHONE = re.compile(_PHONE.pattern, re.ASCII)  # \d alone would accept ０-９


def _phone_problem(where: str, value: Any) -> list[Problem]:
    if value is None or _ASCII_PHONE.match(str(value)):
        return []
    return [Problem("error", where, (
        f"電話番号「{value}」の形式が正しくありません（例: 046-876-6299、0120-279-889、"
        "#8008、110。半角数字とハイフンで書いてください）"))]


def _phone_problems(document: dict[str, Any]) -> list[Problem]:
    problems = []
    for agency in document.get("agencies") or []:
        problems += _phone_problem(f"窓口 {agency.get('name', agency.get('id'))}",
                                   agency.get("phone"))
    for hotline in document.get("hotlines") or []:
        problems += _phone_problem(f"相談ダイヤル {hotline.get('name', hotline.get('id'))}",
                                   hotline.get("number"))
    return problems


def _hotline_problems(hotlines: list[dict[str, Any]]) -> list[Problem]:
    problems = []
    for hotline in hotlines:
        where = f"相談ダイヤル {hotline.get('name', hotline.get('id'))}"
        reason = hotline_hours_problem(str(hotline.get("hours", "")))
        if reason:
            problems.append(Problem("error", where, reason))
        if not hotline.get("source_url"):
            problems.append(Problem("warning", where, "出典のURLが記録されていません"))
    return problems


def _town_problems(document: dict[str, Any]) -> list[Problem]:
    """Each town is served by exactly one centre, or split by 丁目 without overlap, or the
    overlap is explained (partial = true with the source's wording in detail)."""
    centres = [a for a in document.get("agencies") or []
               if a.get("kind") == "comprehensive_center"]
    problems = []
    for town in document.get("towns") or []:
        name = town.get("name")
        areas = [(c, a) for c in centres for a in c.get("serves") or []
                 if a.get("town") == name and not a.get("place")]
        serving = {c.get("id") for c, _ in areas}
        if not serving:
            problems.append(Problem("error", f"町名 {name}", (
                "担当の地域包括支援センターがありません。どこかの窓口の担当地域に加えてください")))
            continue
        for i, (c1, a1) in enumerate(areas):
            for c2, a2 in areas[i + 1:]:
                if c1.get("id") == c2.get("id"):
                    continue
                chome1, chome2 = set(a1.get("chome") or []), set(a2.get("chome") or [])
                overlap = not chome1 or not chome2 or chome1 & chome2
                explained = all(a.get("partial") and a.get("detail") for a in (a1, a2))
                if overlap and not explained:
                    problems.append(Problem("error", f"町名 {name}", (
                        f"{c1.get('name')}と{c2.get('name')}の担当が重なっています。"
                        "丁目で分けるか、番地での分け方を「詳細」に書いて「一部」にしてください")))
    return problems


# -- staleness -------------------------------------------------------------------------

STALE_AFTER_DAYS = 365


@dataclass(frozen=True)
class Stale:
    kind: Literal["hotline", "faq"]
    id: str
    name: str
    last: Any  # date | None: the last check or review, None when never recorded


def stale_items(pack: Any, today: Any) -> list[Stale]:
    """Hotlines not checked and FAQ answers not reviewed for 12 months (or never)."""
    from datetime import timedelta

    limit = today - timedelta(days=STALE_AFTER_DAYS)
    found = [Stale("hotline", h.id, h.name, h.checked_on) for h in pack.hotlines
             if h.checked_on is None or h.checked_on < limit]
    found += [Stale("faq", e.id, e.question, e.reviewed_on) for e in pack.faq
              if e.reviewed_on is None or e.reviewed_on < limit]
    return found
