"""Reading place names as residents type them: kana, katakana, romaji, kanji read by Sudachi,
small typos; and recognising a municipality that is not the pack's own.

    forms_of(text)           → the haystacks to look for a town in (text, hiragana, readings)
    close_match(hay, form)   → where ``form`` occurs in ``hay`` allowing one typo
    elsewhere(text)          → the other municipality the text names (横須賀市, 葉山町 …) or None

The municipality list is handlers/content/data/municipalities.toml (all of 神奈川県 and
Tokyo's 23 wards): names only, no phone numbers we could get wrong.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jaconv
from rapidfuzz.distance import Levenshtein

DATA = Path(__file__).resolve().parent / "content" / "data" / "municipalities.toml"
_ROMAJI = re.compile(r"^[A-Za-z0-9\s\-,.'!?]+$")
_HAS_KANJI = re.compile(r"[\u4e00-\u9fff]")
_KANA_RUN = re.compile(r"[ぁ-ゖー]+")
FUZZY_MIN_LEN = 4  # one typo is tolerated only in readings this long (さくらやま, しんじゅく)


def to_hiragana(text: str) -> str:
    return jaconv.kata2hira(text)


def romaji_to_hiragana(text: str) -> str | None:
    """「Numama」「kotsubo 3-chome」 → 「ぬまま」「こつぼ 3-ちょめ」; None when not romaji."""
    if not _ROMAJI.match(text) or not re.search(r"[A-Za-z]{3}", text):
        return None
    return jaconv.alphabet2kana(text.lower())


def sudachi_reading(text: str) -> str | None:
    """The text read by Sudachi (GiNZA's tokenizer), in hiragana; None when it has no kanji."""
    if not _HAS_KANJI.search(text):
        return None
    from nlu.pipeline import tokenize_only

    return to_hiragana("".join(reading or surface for surface, _, reading in tokenize_only(text)))


def close_match(haystack: str, form: str) -> int | None:
    """Start of ``form`` in ``haystack`` with at most one edit, for readings long enough."""
    if len(form) < FUZZY_MIN_LEN:
        return None
    best: tuple[int, int] | None = None
    for run in _KANA_RUN.finditer(haystack):
        chunk = run.group()
        for size in (len(form) - 1, len(form), len(form) + 1):
            for i in range(0, max(0, len(chunk) - size) + 1):
                d = Levenshtein.distance(chunk[i:i + size], form, score_cutoff=1)
                if d <= 1 and (best is None or d < best[0]):
                    best = (d, run.start() + i)
    return best[1] if best else None


@dataclass(frozen=True)
class Municipality:
    name: str
    prefecture: str
    readings: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()


@lru_cache(maxsize=1)
def municipalities() -> tuple[Municipality, ...]:
    with DATA.open("rb") as fh:
        rows = tomllib.load(fh)["municipalities"]
    return tuple(
        Municipality(r["name"], r["prefecture"], tuple(r.get("readings", ())),
                     tuple(r.get("aliases", ())))
        for r in rows
    )


def elsewhere(text: str, home: str) -> Municipality | None:
    """The other municipality ``text`` names, unless it also names ``home`` (e.g. 逗子市)."""
    s = unicodedata.normalize("NFKC", text)
    home_stem = home.removesuffix("市").removesuffix("町").removesuffix("村")
    if home_stem and home_stem in s.replace("東逗子", ""):
        return None
    hira = to_hiragana(romaji_to_hiragana(s) or s)
    for m in municipalities():
        if m.name == home:
            continue
        if any(form in s for form in (m.name, *m.aliases)):
            return m
        if any(r in hira for r in m.readings if len(r) >= 3):
            return m
    return None
