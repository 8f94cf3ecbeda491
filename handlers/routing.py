"""Which window(s) to offer: by district (町名/丁目 → 東部/中部/西部 包括) and by topic.

    result = windows_for(pack, analysis.topic_ids, analysis.districts, analysis.compound)

* District: the first recognisable 町名 in ``districts`` picks the 地域包括支援センター that
  serves it. Input is normalised (full-width digits, 一丁目/1丁目/1-2-3, 逗子市 prefix,
  hiragana readings). A town split by 丁目 without a 丁目 given, or a 丁目 split by 番地
  (桜山5丁目, 新宿4丁目), is "ambiguous": the candidate centres are returned and the
  resident is asked. An unknown or missing town lists all three centres and asks for 町名.
* Topic: attribute windows whose topics include one of ``topic_ids`` (in pack order).
  The 包括 is always included: since 令和3年 it takes every topic (「断らない相談」).
* Compound: the 相談支援包括化推進員 at the district's 包括 (or at all three when the
  district is not known), the multi-agency coordinator for 複合的な課題.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from handlers.content.schema import DISTRICT_CENTER, Agency, ContentPack

DistrictStatus = Literal["resolved", "ambiguous", "unknown", "not_given", "elsewhere"]

_KANJI_DIGITS = {ch: i for i, ch in enumerate("〇一二三四五六七八九")}
_DASHES = "-‐‑‒–—―−ーｰ－"
_PREFIXES = ("神奈川県", "かながわけん", "逗子市", "ずしし")


def _kanji_number(text: str) -> int | None:
    """一 … 九十九 as int (enough for 丁目 and 番)."""
    if not text:
        return None
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        t = _KANJI_DIGITS.get(tens) if tens else 1
        o = _KANJI_DIGITS.get(ones) if ones else 0
        if t is None or o is None:
            return None
        return t * 10 + o
    value = 0
    for ch in text:
        if ch not in _KANJI_DIGITS:
            return None
        value = value * 10 + _KANJI_DIGITS[ch]
    return value


def _to_hiragana(text: str) -> str:
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in text)


_NUMBER = r"([0-9]+|[〇一二三四五六七八九十]+)"
_BAN = re.compile(_NUMBER + r"番")
_ANY_CHOME = re.compile(_NUMBER + r"丁目")


def parse_ban(text: str) -> int | None:
    """The 番(地) in an answer such as 「36番です」「三十六番地」「10番5号」."""
    m = _BAN.search(unicodedata.normalize("NFKC", text))
    return _kanji_number(m.group(1)) if m else None


@dataclass(frozen=True)
class TownRef:
    """What we understood of a resident's address text."""

    raw: str
    town: str | None = None  # canonical 町名, e.g. "桜山"
    chome: int | None = None
    place: str | None = None  # a named estate, e.g. "葉桜団地"
    ban: int | None = None  # 番(地), which splits some 丁目 between centres
    elsewhere: str | None = None  # another municipality named instead (e.g. "横須賀市")

    @property
    def label(self) -> str:
        if self.place:
            return self.place
        if self.town and self.chome and self.ban:
            return f"{self.town}{self.chome}丁目{self.ban}番"
        if self.town and self.chome:
            return f"{self.town}{self.chome}丁目"
        return self.town or self.raw


def normalize_town(text: str, pack: ContentPack) -> TownRef:
    """Parse 町名, 丁目 and 番 from free text: "逗子市桜山五丁目", "さくらやま５", "沼間3-2-1",
    "ヌママ", "numama", "こつぼ です", Sudachi's reading of kanji, one typo in a long reading."""
    from handlers import places

    raw = text
    s = unicodedata.normalize("NFKC", text).strip()
    for dash in _DASHES:
        s = s.replace(dash, "-")
    s = re.sub(r"\s+", "", s)
    other = places.elsewhere(s, pack.meta.municipality)
    for prefix in _PREFIXES:
        s = s.replace(prefix, "")
    # named estates (e.g. 葉桜団地) identify an area by themselves
    for center in pack.centers:
        for area in center.serves:
            if area.place:
                short = area.place.removesuffix("団地")
                if area.place in s or (short and short in s and short != area.town):
                    return TownRef(raw, area.town, None, area.place)
    if other is not None:  # 「新宿区」 is Tokyo's, not our 新宿
        return TownRef(raw, elsewhere=other.name)
    hira = _to_hiragana(places.romaji_to_hiragana(s) or s).replace("ー", "-")
    hira = re.sub(r"-?ちょう?め", "丁目", hira)
    best = _exact(s, hira, pack)
    if best is None and (reading := places.sudachi_reading(s)):
        found = _exact(reading, reading, pack)
        if found is not None:
            return _with_numbers(raw, found[2], s, None)
    if best is None:
        best = _fuzzy(hira, pack)
    if best is None:
        return TownRef(raw)
    start, neg_len, canonical, use_hira = best
    rest = (hira if use_hira else s)[start - neg_len :]
    return _with_numbers(raw, canonical, s, rest)


def _exact(s: str, hira: str, pack: ContentPack) -> tuple[int, int, str, bool] | None:
    best: tuple[int, int, str, bool] | None = None  # (position, -length, canonical, in hiragana)
    for town in pack.towns:
        forms = [(f, False) for f in (town.name, *town.aliases)]
        forms += [(r, True) for r in town.readings]
        for form, use_hira in forms:
            haystack = hira if use_hira else s
            for m in re.finditer(re.escape(form), haystack):
                start = m.start()
                before = haystack[start - 1] if start else ""
                # e.g. 東逗子 is a station name, not 逗子 town
                if before and before in "東西南北新ひがし":
                    continue
                key = (start, -len(form), town.name, use_hira)
                if best is None or key < best:
                    best = key
                break
    return best


def _fuzzy(hira: str, pack: ContentPack) -> tuple[int, int, str, bool] | None:
    from handlers.places import close_match

    for town in pack.towns:
        for reading in town.readings:
            start = close_match(hira, reading)
            if start is not None:
                return (start, -len(reading), town.name, True)
    return None


def _with_numbers(raw: str, town: str, whole: str, rest: str | None) -> TownRef:
    """丁目 right after the town (桜山5, 桜山五丁目, 桜山5-36-1), else anywhere; then 番."""
    chome = ban = None
    m = re.match(r"の?" + _NUMBER + r"(?:丁目|-|$)", rest) if rest is not None else None
    if m:
        chome = _kanji_number(m.group(1))
        after = rest[m.end():]
        dash = re.match(r"([0-9]+)", after) if m.group(0).endswith("-") else None
        ban = int(dash.group(1)) if dash else parse_ban(after)
    elif (m := _ANY_CHOME.search(whole)):
        chome = _kanji_number(m.group(1))
        ban = parse_ban(whole[m.end():])
    return TownRef(raw, town, chome, None, ban)


@dataclass(frozen=True)
class WindowRef:
    """A window to offer, with the number to call and why it was chosen."""

    agency: Agency
    role: Literal["district_center", "candidate_center", "coordinator", "topic"]
    reason: str
    phone: str | None
    topics: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoutingResult:
    district_status: DistrictStatus
    town: TownRef | None
    centers: list[Agency]  # 1 when resolved; the candidates when ambiguous; all otherwise
    windows: list[WindowRef] = field(default_factory=list)  # attribute windows by topic
    coordinators: list[WindowRef] = field(default_factory=list)  # 推進員, when compound
    ask_for_town: bool = False
    notes: list[str] = field(default_factory=list)  # e.g. the source's wording of a split

    @property
    def center(self) -> Agency | None:
        """The resident's 包括 when the district is known."""
        return self.centers[0] if self.district_status == "resolved" else None

    @property
    def center_refs(self) -> list[WindowRef]:
        role = "district_center" if self.district_status == "resolved" else "candidate_center"
        reason = (
            f"{self.town.label}の担当" if self.district_status == "resolved" and self.town
            else "福祉の総合相談窓口"
        )
        return [WindowRef(c, role, reason, c.phone) for c in self.centers]

    def all_windows(self) -> list[WindowRef]:
        """Everything to show, in order: coordinator(s), the 包括, then attribute windows."""
        if self.coordinators:
            return [*self.coordinators, *self.windows]
        return [*self.center_refs, *self.windows]


def locate(pack: ContentPack, ref: TownRef) -> tuple[DistrictStatus, list[Agency], list[str]]:
    """The centre(s) serving ``ref``: resolved / ambiguous / unknown."""
    if ref.elsewhere:
        return "elsewhere", [], []
    if ref.town is None:
        return "unknown", pack.centers, []
    if ref.place:
        hits = [c for c in pack.centers for a in c.serves if a.place == ref.place]
        return "resolved", hits[:1], []
    town = next(t for t in pack.towns if t.name == ref.town)
    if ref.chome is not None and town.max_chome and not 1 <= ref.chome <= town.max_chome:
        return "unknown", pack.centers, [f"{ref.town}{ref.chome}丁目は見つかりませんでした。"]
    matching: list[Agency] = []
    notes: list[str] = []
    for center in pack.centers:
        areas = [a for a in center.serves
                 if not a.place and a.covers(ref.town, ref.chome, ref.ban)]
        if areas:
            matching.append(center)
            if ref.chome is not None:
                notes += [f"{center.name}: {a.detail}" for a in areas if a.partial and a.detail]
    if not matching:
        return "unknown", pack.centers, [f"{ref.label}の担当センターが見つかりませんでした。"]
    if len(matching) == 1:
        return "resolved", matching, []
    if ref.chome is None:
        notes = [
            f"{c.name}: " + "、".join(
                a.detail or a.town for a in c.serves if a.town == ref.town and not a.place
            )
            for c in matching
        ]
    return "ambiguous", matching, notes


def windows_for(
    pack: ContentPack,
    topic_ids: Sequence[str],
    districts: Sequence[str],
    compound: bool = False,
) -> RoutingResult:
    """Route a consultation: district centre(s), topic windows and, if compound, the 推進員."""
    status: DistrictStatus = "not_given"
    town: TownRef | None = None
    centers = pack.centers
    notes: list[str] = []
    for text in districts:
        if not text or not text.strip():
            continue
        ref = normalize_town(text, pack)
        if town is None or (town.town is None and (ref.town or ref.elsewhere)):
            town = ref
        if ref.town is not None:
            break
    if town is not None:
        status, centers, notes = locate(pack, town)

    district_center = centers[0] if status == "resolved" else None
    windows: list[WindowRef] = []
    for agency in pack.agencies:
        if agency.kind in ("comprehensive_center", "core_center", "city_hall", "national"):
            continue
        hit = tuple(t for t in topic_ids if agency.topics != "all" and t in agency.topics)
        if not hit:
            continue
        phone = pack.phone_for(agency, district_center)
        if phone is None and agency.phone_via == DISTRICT_CENTER:
            reason = "電話番号の記載がないため、地域包括支援センターからおつなぎします"
        else:
            reason = "ご相談の内容の担当窓口"
        windows.append(WindowRef(agency, "topic", reason, phone, hit))

    coordinators: list[WindowRef] = []
    if compound:
        for center in centers:
            coordinators.append(
                WindowRef(
                    center,
                    "coordinator",
                    f"{center.coordinator or '相談支援包括化推進員'}が"
                    "複合的な困りごとを関係機関と調整します",
                    center.phone,
                )
            )
    return RoutingResult(
        district_status=status,
        town=town,
        centers=list(centers),
        windows=windows,
        coordinators=coordinators,
        ask_for_town=status != "resolved",
        notes=notes,
    )


def center_for_town(pack: ContentPack, text: str) -> Agency | None:
    """The single 包括 for an address text, or None when unknown or ambiguous."""
    status, centers, _ = locate(pack, normalize_town(text, pack))
    return centers[0] if status == "resolved" else None
