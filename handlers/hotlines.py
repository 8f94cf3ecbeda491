"""The "open now" chooser: which windows and phone lines to give, in which order.

    lines = choose(pack, now, urgent_kind=..., topic_ids=..., text=..., urgent=True)

Built once, used by the safety path (urgent and "check") and by consult. The pack's
``situations`` (hotlines.toml) name, per situation, the emergency numbers, the lines and the
windows in the order a coordinator would give them (elder abuse → the 地域包括支援センター and
the city, not 189; an overdose → 119 first; violence now → 110 first). Then the clock:

* lines open now come first, in situational order (emergency numbers first when urgent);
* a line whose hours the pack does not know is never first; it is given after the open
  ones, and only while the city's own windows are open — at night, on weekends and holidays
  only lines known to be open now (24-hour lines and the emergency numbers) are given;
* a line known to be closed now is left out.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from handlers.content.schema import DISTRICT_CENTER, Agency, ContentPack, Hotline, Situation
from handlers.hours import is_open

OpenState = Literal["open", "closed", "unknown"]


@dataclass(frozen=True)
class Lines:
    situations: list[Situation]
    open_now: list[Hotline]  # open at that moment, most important first
    hours_unknown: list[Hotline]  # after the open ones; empty outside the city's hours
    windows: list[tuple[Agency, str | None]]  # the situation's windows, with the number to call
    notes: list[str]

    @property
    def all_lines(self) -> list[Hotline]:
        return [*self.open_now, *self.hours_unknown]


def open_state(hotline: Hotline, now: datetime, pack: ContentPack) -> OpenState:
    opening = hotline.opening
    if opening is None:
        return "unknown"
    local = now.astimezone(ZoneInfo(pack.business_hours.timezone)) if now.tzinfo else now
    return "open" if opening.is_open(local) else "closed"


def situations_for(pack: ContentPack, urgent_kind: str | None, topic_ids: Sequence[str],
                   text: str = "") -> list[Situation]:
    """The pack's situations that fit this reading, most specific first."""
    words = unicodedata.normalize("NFKC", text or "")
    topics = set(topic_ids)
    found = []
    for situation in pack.situations:
        if not (urgent_kind in situation.urgent_kinds or topics & set(situation.topics)):
            continue
        qualified = not (situation.and_topics or situation.and_words) or bool(
            topics & set(situation.and_topics)
            or any(unicodedata.normalize("NFKC", w) in words for w in situation.and_words))
        if qualified:
            found.append(situation)
    fitting = {s.id for s in found}
    return [s for s in found if not fitting & set(s.unless)]


def choose(pack: ContentPack, now: datetime, *, urgent_kind: str | None = None,
           topic_ids: Sequence[str] = (), text: str = "", urgent: bool = False,
           district_center: Agency | None = None) -> Lines:
    situations = situations_for(pack, urgent_kind, topic_ids, text)
    ids: list[str] = []
    if urgent:
        for situation in situations:
            ids += situation.emergency
    for situation in situations:
        ids += situation.lines
    if urgent and not set(ids) & set(pack.open_now.emergency):
        ids += pack.open_now.emergency  # danger now always gets a number open now
    lines = [pack.hotline(i) for i in dict.fromkeys(ids)]
    states = {h.id: open_state(h, now, pack) for h in lines}
    unknown = [h for h in lines if states[h.id] == "unknown"] if is_open(now, pack) else []
    return Lines(
        situations=situations,
        open_now=[h for h in lines if states[h.id] == "open"],
        hours_unknown=unknown,
        windows=_windows(pack, situations, district_center),
        notes=[s.note for s in situations if s.note],
    )


def listening_line(pack: ContentPack, now: datetime, lines: Lines | None = None) -> Hotline:
    """One line to talk to that is open now, not an emergency number: the situation's own
    if one is open, else the pack's 24-hour line (validated to be "24h")."""
    emergency = set(pack.open_now.emergency)
    for hotline in lines.open_now if lines else []:
        if hotline.id not in emergency:
            return hotline
    return pack.hotline(pack.open_now.listening[0])


def line_text(hotline: Hotline) -> str:
    # The bare number always stands alone: LINE turns it into a tap-to-call link.
    return f"・{hotline.name}：{hotline.number}（{hotline.hours}）"


def window_text(agency: Agency, phone: str | None) -> str:
    return f"・{agency.name}　{phone}" if phone else f"・{agency.name}"


def _windows(pack: ContentPack, situations: list[Situation],
             district_center: Agency | None) -> list[tuple[Agency, str | None]]:
    agencies: list[Agency] = []
    for situation in situations:
        for ref in situation.windows:
            if ref == DISTRICT_CENTER:
                agencies += [district_center] if district_center else pack.centers
            else:
                agencies.append(pack.agency(ref))
    unique = list({a.id: a for a in agencies}.values())
    return [(a, pack.phone_for(a, district_center)) for a in unique]
