"""Personal data in a message: find spans, and mask them with placeholders.

Numbers are found with precise regular expressions on the NFKC text (GiNZA splits
090-1234-5678 into several tokens, and full-width digits become ASCII after NFKC); person
names come from GiNZA's NER, kept only when a token is tagged 名詞-固有名詞-人名 (so
民生委員 or ヘルパーさん are not names); addresses from patterns (町名 + 丁目/番地/1-2-3).
Spans are reported on the original text.
"""

from __future__ import annotations

import re

from nlu.analysis import PLACEHOLDERS, PiiSpan, mask_spans
from nlu.text import TextView

__all__ = ["PLACEHOLDERS", "find_pii", "mask_spans"]

_D = r"[-‐‑‒–—―−ー－ \u3000]"
_PHONE = re.compile(
    r"(?<![\d-])(?:\+81[- ]?\(?0?\)?[- ]?|0)(?:\d{1,4}"
    + _D
    + r"?\(?\d{1,4}\)?"
    + _D
    + r"?\d{3,4}|\d{9,10})(?![\d-])"
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_POSTAL = re.compile(r"(〒\s?\d{3}" + _D + r"?\d{4}|(?<![\d-])\d{3}-\d{4}(?![\d-]))")
_MYNUMBER = re.compile(r"(?<![\d-])(\d{4})[- ]?(\d{4})[- ]?(\d{4})(?![\d-])")
_MYNUMBER_CONTEXT = re.compile(r"(マイナンバー|個人番号|まいなんばー|my ?number)", re.IGNORECASE)
_KANJI = r"[\u4e00-\u9fff々ヶヵケ]"
_ADDRESS = re.compile(
    r"(?:(?:東京都|北海道|(?:京都|大阪)府|" + _KANJI + r"{2,3}県))?"
    r"(?:" + _KANJI + r"{1,5}[市区町村郡])?"
    r"(?:" + _KANJI + r"{1,5}(?:の" + _KANJI + r"{1,2})?)"
    r"(?:\d{1,4}丁目(?:\d{1,4}(?:番地?|-)?(?:\d{1,4}号?)?)?|\d{1,4}-\d{1,4}(?:-\d{1,4})?(?:号室)?|\d{1,4}番地?(?:\d{1,4}号?)?|字"
    + _KANJI
    + r"{1,4}\d{1,5}(?:-\d{1,4})?)"
)
_CITY = re.compile(
    r"(?:神奈川県)?(?:逗子市|葉山町|鎌倉市|横須賀市|横浜市"
    + _KANJI
    + r"{1,3}区)"
    + _KANJI
    + r"{1,4}(?:\d{1,4}(?:丁目|-|番地?))?"
)
_HONORIFIC_NAME = re.compile(
    r"(?<![ぁ-んァ-ン\u4e00-\u9fff])([\u4e00-\u9fff]{1,3})(?=(さん|様|さま|氏|くん|君|ちゃん))"
)
_NOT_NAMES = set("母父兄姉弟妹妻夫娘孫嫁祖叔伯義").union(
    {
        "お母",
        "お父",
        "奥",
        "大家",
        "先生",
        "職員",
        "相談員",
        "民生委員",
        "担当",
        "近所",
        "隣",
        "息子",
        "娘",
        "皆",
        "お客",
        "患者",
        "主治医",
        "医者",
        "看護師",
        "同僚",
        "上司",
        "友達",
        "彼",
        "彼女",
        "旦那",
        "親",
        "子",
        "赤",
        "中",
        "上",
        "下",
        "管理人",
        "店員",
        "業者",
        "包括",
        "保健師",
        "社協",
    }
)


_NUMBER_KINDS = {"phone", "email", "postal_code", "my_number"}


_NOT_NAME_ENDINGS = (
    "員",
    "者",
    "師",
    "長",
    "医",
    "士",
    "家",
    "人",
    "手",
    "官",
    "所",
    "設",
    "校",
    "院",
    "社",
    "局",
    "会",
    "署",
)


def _my_number_check_ok(digits: str) -> bool:
    """The マイナンバー check digit (JIS-style mod 11)."""
    if len(digits) != 12 or not digits.isdigit():
        return False
    body = [int(c) for c in digits[:11]][::-1]
    total = sum(d * ((n + 1) + 1 if n + 1 <= 6 else (n + 1) - 5) for n, d in enumerate(body))
    rem = total % 11
    check = 0 if rem <= 1 else 11 - rem
    return check == int(digits[11])


def find_pii(view: TextView, person_ents: list[tuple[int, int]] | None = None) -> list[PiiSpan]:
    """PII spans on the original text. ``person_ents`` are NER person spans on view.norm."""
    norm = view.norm
    found: list[tuple[int, int, str]] = []

    def add(s: int, e: int, kind: str) -> None:
        """Numbers replace a shorter overlapping number; names and addresses never replace."""
        if e <= s:
            return
        for i, (a, b, k) in enumerate(found):
            if s < b and a < e:
                if kind in _NUMBER_KINDS and k in _NUMBER_KINDS and (e - s) > (b - a):
                    found[i] = (s, e, kind)
                return
        found.append((s, e, kind))

    for m in _EMAIL.finditer(norm):
        add(m.start(), m.end(), "email")
    for m in _POSTAL.finditer(norm):
        if (
            m.group(0).startswith("〒")
            or re.search(r"(郵便|〒|postal|zip)", norm[max(0, m.start() - 8) : m.start()], re.I)
            or not re.match(r"\d{3}-\d{4}-", norm[m.start() :])
        ):
            add(m.start(), m.end(), "postal_code")
    for m in _MYNUMBER.finditer(norm):
        digits = "".join(m.groups())
        ctx = norm[max(0, m.start() - 20) : m.start()]
        if _my_number_check_ok(digits) or _MYNUMBER_CONTEXT.search(ctx):
            add(m.start(), m.end(), "my_number")
    for m in _PHONE.finditer(norm):
        digits = re.sub(r"\D", "", m.group(0))
        if m.group(0).startswith("+81"):
            digits = "0" + digits[2:].lstrip("0")
        if 10 <= len(digits) <= 11 and not any(
            k == "my_number" and a <= m.start() < b for a, b, k in found
        ):
            add(m.start(), m.end(), "phone")
    for m in _ADDRESS.finditer(norm):
        add(m.start(), m.end(), "address")
    for m in _CITY.finditer(norm):
        if re.search(r"\d", m.group(0)):
            add(m.start(), m.end(), "address")
    for s, e in person_ents or []:
        add(s, e, "person")
    for m in _HONORIFIC_NAME.finditer(norm):
        name = m.group(1)
        if name in _NOT_NAMES or any(name.endswith(x) for x in _NOT_NAME_ENDINGS):
            continue
        if person_ents and any(a <= m.start() < b for a, b in person_ents):
            continue
        # only surnames GiNZA did not already tag; need a kanji name of 2+ chars
        if len(name) >= 2:
            add(m.start(), m.end(), "person")

    spans = []
    for s, e, kind in sorted(found):
        os_, oe = view.orig_span(s, e)
        spans.append(PiiSpan(os_, oe, kind, view.text[os_:oe]))
    return spans
