"""English as a full conversation language: safety numbers, the basics of the FAQ, routing
to the resident's centre, booking through a person, and a person. The words are the pack's
(copy keys en_*); the numbers come from hotlines.toml and agencies.toml.

Danger is read here too (nlu reads Japanese best): a body in danger → 119 first, violence
now → 110 first; an urgent case is opened either way.
"""

from __future__ import annotations

import re
from datetime import datetime

from handlers.case_filing import file_case
from handlers.content import Agency, Hotline, load_pack
from handlers.hotlines import choose
from handlers.hours import is_open, next_open
from handlers.postback import encode
from handlers.replies import QuickReply, Reply
from handlers.routing import locate, normalize_town
from handlers.turn import Turn
from storage import conversation

FLOW, ASK_TOWN = "english", "town"
_ENGLISH = re.compile(
    r"\b(i|i'm|my|me|the|is|are|to|you|your|and|please|help|what|how|can|need|want|"
    r"hello|hi|thanks?|where|when|not|this|have|with|live|for|of)\b", re.I)
_DANGER: list[tuple[str, re.Pattern]] = [
    ("medical", re.compile(r"not breathing|unconscious|collapsed|passed out|overdos|bleeding"
                           r"|heart attack|can'?t breathe|took (too many|all)", re.I)),
    ("violence", re.compile(r"(hit|hitting|beat|beating|punch|kick|chok|strangl|attack|hurt)"
                            r"(s|ing|ed)? me|going to kill me|threaten", re.I)),
    ("abuse", re.compile(r"(child|kid|baby|son|daughter).{0,40}(hit|beaten|abus|hurt)", re.I)),
    ("suicide", re.compile(r"kill myself|suicid|want to die|end my life|don'?t want to live",
                           re.I)),
]
_TOPICS: list[tuple[str, re.Pattern]] = [
    ("living_hardship", re.compile(r"rent|money|debt|food|can'?t pay|cannot pay|bills?|poor",
                                   re.I)),
    ("housing", re.compile(r"rent|evict|homeless|housing|apartment", re.I)),
    ("elderly_care", re.compile(r"care|elderly|old|dementia|mother|father|parent", re.I)),
    ("child_parenting", re.compile(r"child|kid|baby|son|daughter|parenting|school", re.I)),
    ("disability", re.compile(r"disabilit|disabled|wheelchair", re.I)),
    ("mental_health", re.compile(r"depress|anxious|anxiety|lonely|alone|stress", re.I)),
    ("domestic_violence", re.compile(r"violence|abus", re.I)),
]
_LABELS = {"living_hardship": "money and living", "housing": "housing",
           "elderly_care": "care", "child_parenting": "children and parenting",
           "disability": "disability", "mental_health": "how you feel",
           "domestic_violence": "violence at home"}
_PERSON = re.compile(r"\b(person|human|staff|someone|somebody|talk to|speak to|call me)\b", re.I)
_HOURS = re.compile(r"\b(hours|open|opening|close|closed|when)\b", re.I)
_COST = re.compile(r"\b(cost|free|fee|pay for|price|name)\b", re.I)
_BOOK = re.compile(r"\b(book|booking|appointment|reserve|visit)\b", re.I)
_PRIVACY = re.compile(r"\b(privacy|private|who reads|delete|data)\b", re.I)
_GREETING = re.compile(r"^\s*(hi|hello|hey|good (morning|afternoon|evening))\b", re.I)
_SIDE = {"東部": "East", "中部": "Central", "西部": "West", "北部": "North", "南部": "South"}
PERSON_BUTTON = QuickReply(label="Talk to a person", data=encode("handoff", "en"),
                           text="Talk to a person")


def is_english(turn: Turn) -> bool:
    text = turn.inbound.text or ""
    letters = [c for c in text if c.isalpha()]
    if not letters or sum(c.isascii() for c in letters) / len(letters) < 0.9:
        return False
    words = {w.lower() for w in _ENGLISH.findall(text)}
    return len(words) >= 2 or (len(words) == 1 and len(text.split()) <= 3) \
        or turn.resident.language == "en"


def danger(text: str) -> str | None:
    for kind, pattern in _DANGER:
        if pattern.search(text):
            return kind
    return None


def reply(turn: Turn) -> list[Reply]:
    """Everything an English-writing resident gets, safety first."""
    turn.resident.language = "en"
    analysis, text = turn.analysis, turn.inbound.text or ""
    kind = danger(text) or (analysis.urgent_kind if analysis and analysis.urgent else None)
    if kind or (analysis is not None and analysis.urgent):
        return urgent(turn, kind)
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    if state.flow == FLOW and state.step == ASK_TOWN and (answer := _town_answer(turn, state)):
        return answer
    if _PERSON.search(text) or (analysis is not None and analysis.intent == "human"):
        return hand_over(turn)
    topics = _topics(text)
    if _BOOK.search(text) and not topics:
        return _booking(turn)
    if not topics:
        return _basics(turn, text)
    return _route(turn, topics, text)


def urgent(turn: Turn, kind: str | None, risk_reason: str | None = None) -> list[Reply]:
    pack = load_pack()
    analysis = turn.analysis
    topics = analysis.topic_ids if analysis else []
    # the one open-now chooser: the situation's numbers, those open now first
    lines = choose(pack, turn.now, urgent_kind=kind, topic_ids=topics,
                   text=turn.inbound.text or "", urgent=True).open_now
    about = analysis.about if analysis else "self"
    intro = pack.text("en_urgent_intro_other" if about == "other" else "en_urgent_intro")
    replies = [Reply("\n".join([intro, *(_line(pack, h) for h in lines[:4])]))]
    file_case(turn, reason="urgent", priority="urgent", ask_consent=False,
              urgent_reason=f"英語のメッセージ: {kind or '危険'}", risk="urgent",
              risk_reason=risk_reason)
    key = "en_urgent_staff_open" if is_open(turn.now, pack) else "en_urgent_staff_closed"
    replies.append(Reply(pack.text(key, next_open=_when(turn))))
    return replies


def hand_over(turn: Turn, *, reason: str = "human", priority: str = "normal",
              risk: str | None = None, risk_reason: str | None = None) -> list[Reply]:
    pack = load_pack()
    conversation.clear(conversation.load(turn.session, turn.resident.id, turn.now), turn.now)
    file_case(turn, reason=reason, priority=priority, ask_consent=False, risk=risk,
              risk_reason=risk_reason)
    replies = [Reply(pack.text("en_handoff"))]
    if not is_open(turn.now, pack):
        replies.append(Reply(pack.text("en_out_of_hours", next_open=_when(turn))))
    return replies


def _basics(turn: Turn, text: str) -> list[Reply]:
    pack = load_pack()
    if _HOURS.search(text):
        return [Reply(pack.text("en_hours"), [PERSON_BUTTON])]
    if _COST.search(text):
        return [Reply(pack.text("en_cost"), [PERSON_BUTTON])]
    if _PRIVACY.search(text):
        return [Reply(pack.text("en_privacy"), [PERSON_BUTTON])]
    if _GREETING.search(text):
        return [Reply(pack.text("en_welcome"), [PERSON_BUTTON])]
    town = _town(text)
    if town is not None:
        return _centre_for(turn, town, [])
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    if state.not_understood:  # asked once already: a person, never a loop
        state.not_understood = 0
        return hand_over(turn)
    state.not_understood = 1
    return [Reply(pack.text("en_not_understood"), [PERSON_BUTTON])]


def _route(turn: Turn, topics: list[str], text: str) -> list[Reply]:
    pack = load_pack()
    labels = [_LABELS[t] for t in topics if t in _LABELS][:3]
    ack = pack.text("en_worry_ack", topics=", ".join(labels)) if labels \
        else pack.text("en_worry_ack_general")
    replies = [Reply(ack)]
    if any(t in ("living_hardship", "housing") for t in topics):
        replies.append(Reply(pack.text("en_programmes_money")))
    town = _town(text) or _known_town(turn)
    if town is not None:
        return [*replies, *_centre_for(turn, town, topics)]
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    conversation.enter(state, FLOW, ASK_TOWN, turn.now, {"topics": topics})
    replies.append(Reply(pack.text("en_centre_explained")))
    replies.append(Reply(pack.text("en_ask_town"), [PERSON_BUTTON]))
    return replies


def _town_answer(turn: Turn, state) -> list[Reply] | None:
    text = turn.inbound.text or ""
    town = _town(text)
    if town is None and (_topics(text) or _PERSON.search(text) or _HOURS.search(text)):
        conversation.clear(state, turn.now)
        return None
    topics = state.data.get("topics", [])
    conversation.clear(state, turn.now)
    if town is None:
        return _all_centres("en_town_unknown")
    return _centre_for(turn, town, topics)


def _centre_for(turn: Turn, ref, topics: list[str]) -> list[Reply]:
    pack = load_pack()
    if ref.elsewhere:
        phone = next((h.number for h in pack.hotlines if h.id == "yorisoi"), "")
        return [Reply(pack.text("en_elsewhere", city=ref.elsewhere, phone=phone))]
    status, centers, _ = locate(pack, ref)
    if status != "resolved":
        return _all_centres("en_all_centres")
    turn.resident.district = ref.label
    return [Reply(pack.text("en_your_centre", center_name=_centre_name(centers[0]),
                            phone=centers[0].phone)),
            Reply(pack.text("en_offer"), [PERSON_BUTTON])]


def _all_centres(key: str) -> list[Reply]:
    pack = load_pack()
    lines = [f"・{_centre_name(c)}: {c.phone}" for c in pack.centers]
    return [Reply("\n".join([pack.text(key), *lines])), Reply(pack.text("en_offer"),
                                                              [PERSON_BUTTON])]


def _booking(turn: Turn) -> list[Reply]:
    pack = load_pack()
    ref = _known_town(turn)
    center = None
    if ref is not None:
        status, centers, _ = locate(pack, ref)
        center = centers[0] if status == "resolved" else None
    phone = center.phone if center else " / ".join(c.phone or "" for c in pack.centers)
    return [Reply(pack.text("en_booking", phone=phone), [PERSON_BUTTON])]


def _topics(text: str) -> list[str]:
    return [topic for topic, pattern in _TOPICS if pattern.search(text)]


def _town(text: str):
    ref = normalize_town(text, load_pack())
    return ref if (ref.town or ref.elsewhere) else None


def _known_town(turn: Turn):
    if not turn.resident.district:
        return None
    ref = normalize_town(turn.resident.district, load_pack())
    return ref if ref.town else None


def _centre_name(center: Agency) -> str:
    side = _SIDE.get(center.district_label or "", "")
    return load_pack().text("en_centre_name", side=side, name=center.name).strip()


def line_text(pack, hotline: Hotline) -> str:
    """A phone line in English (the safety check asks English writers in English)."""
    return _line(pack, hotline)


def when_text(now: datetime) -> str:
    return next_open(now, load_pack()).strftime("%A %-d %B, %-H:%M")


def _line(pack, hotline: Hotline) -> str:
    copy = pack.copy_texts
    name = copy.get(f"en_hotline_{hotline.id}", hotline.name)
    hours = pack.text("en_hours_24") if "24時間" in hotline.hours else pack.text("en_hours_other")
    return f"・{name}: {hotline.number} ({hours})"


def _when(turn: Turn) -> str:
    when = next_open(turn.now, load_pack())
    return when.strftime("%A %-d %B, %-H:%M")
