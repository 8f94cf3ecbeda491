"""A worry: acknowledge it, name the window that handles it, offer booking or a person.

* By topic and district (handlers/routing.py): the resident's 地域包括支援センター (福祉の総合
  相談窓口, every topic) plus attribute windows for the topics.
* District unknown: ask for the 町名 once (state "consult"/"town"); a 町名 we cannot place,
  or no answer, gets the three centres — any of them will help.
* Compound situations: the 相談支援包括化推進員 (multi-agency coordinator) and a case
  (reason "compound", priority "high").
* Reports about someone else (about=other): thanks, and what happens next — never a promise
  of what staff will do.
"""

from __future__ import annotations

import re

from handlers import registry
from handlers.content import Agency, load_pack
from handlers.replies import QuickReply, Reply
from handlers.routing import RoutingResult, WindowRef, normalize_town, windows_for
from handlers.turn import Turn
from storage import conversation

FLOW, ASK_TOWN = "consult", "town"
MAX_TOPIC_WINDOWS = 3
# Words that ask to consult without saying about what: prompt for the worry itself.
_WANTS_TO_TALK = re.compile(r"相談|困|悩|聞いて|話")
_TRAILING = re.compile(
    r"(に住んで(い|お)ります|に住んで(い|)ます|に住んでる|です|だよ|だ|[。、.!！\s])+$"
)
_DECLINES = re.compile(r"わから|分から|言いたくな|答えたくな|教えたくな|秘密|内緒|いや|嫌")

TOPIC_LABELS: dict[str, str] = {
    "elderly_care": "介護", "dementia": "認知症", "disability": "障がい",
    "child_parenting": "子育て", "living_hardship": "お金や生活", "employment": "お仕事",
    "hikikomori": "ひきこもり", "isolation": "孤立や孤独", "housing": "住まい",
    "health": "からだの健康", "mental_health": "こころの健康", "suicide_risk": "つらい気持ち",
    "abuse": "虐待", "domestic_violence": "DV", "young_carer": "ヤングケアラー",
    "double_care": "ダブルケア", "foreign_resident": "ことばや在留", "disaster": "災害や防災",
    "hoarding": "ごみや住まいの片づけ", "daily_living": "買い物や移動などの暮らし",
    "rights_advocacy": "お金の管理や権利", "participation": "地域の活動や居場所",
}

SKIP_TOWN = QuickReply(label="答えない", data="consult:skip", text="答えない")


def offer_buttons() -> list[QuickReply]:
    return [
        QuickReply(label="予約する", text="予約したい"),
        QuickReply(label="人と話したい", data="handoff:consult", text="人と話したい"),
    ]


@registry.intent("consult")
def consult(turn: Turn) -> list[Reply] | None:
    analysis = turn.analysis
    if analysis is None:
        return None
    if analysis.about == "other":
        return third_party(turn)
    if not analysis.topics and not analysis.compound:
        if _WANTS_TO_TALK.search(analysis.text):
            return [Reply(load_pack().text("consult_prompt"))]
        return None  # not understood: the fallback counts it
    return route(turn, analysis.topic_ids, analysis.compound, _districts(turn))


def route(turn: Turn, topics: list[str], compound: bool, districts: list[str]) -> list[Reply]:
    pack = load_pack()
    _remember_district(turn, districts)
    if not districts and turn.resident.district:
        districts = [turn.resident.district]
    result = windows_for(pack, topics, districts, compound)
    replies = [Reply(_acknowledge(topics)), *_open_lines(turn, topics)]
    if compound:
        replies += _compound(turn, result)
    else:
        replies += _windows(turn, result, topics, compound)
    return replies


def third_party(turn: Turn) -> list[Reply]:
    """Thanks, and what happens next; a case so staff can consider it."""
    from handlers.flows.handoff_request import file_case, hours_note

    analysis = turn.analysis
    assert analysis is not None
    pack = load_pack()
    _remember_district(turn, _districts(turn))
    priority = "high" if analysis.compound else "normal"
    _, consent = file_case(turn, reason="third_party", priority=priority)
    replies = [Reply(pack.text("third_party_thanks")), Reply(pack.text("third_party_next"))]
    result = windows_for(pack, analysis.topic_ids, _districts(turn), False)
    if result.center is not None:
        replies.append(Reply(_center_line(pack, result.center)))
    if (note := hours_note(turn.now)) is not None:
        replies.append(note)
    if consent is not None:
        replies.append(consent)
    return replies


def unplaced(turn: Turn) -> list[Reply]:
    """Words the bot cannot place: no dead end. Acknowledge, then the district's centre, or
    ask for the 町名 — with a person one tap away."""
    from handlers.routing import center_for_town

    pack = load_pack()
    thanks = Reply(pack.text("consult_ack_unplaced"))
    _remember_district(turn, _districts(turn))
    district = turn.resident.district
    center = center_for_town(pack, district) if district else None
    if center is not None:
        return [thanks, Reply(_center_line(pack, center)),
                Reply(pack.text("consult_offer"), offer_buttons())]
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    conversation.enter(state, FLOW, ASK_TOWN, turn.now,
                       {"topics": [], "compound": False, "unplaced": True})
    person = QuickReply(label="人と話したい", data="handoff:consult", text="人と話したい")
    return [thanks, Reply(pack.text("ask_town"), [SKIP_TOWN, person])]


@registry.flow(FLOW)
def town_answer(turn: Turn) -> list[Reply] | None:
    """The answer to 「町名を教えていただけますか？」 — or a new message, routed as usual."""
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    if state.step != ASK_TOWN or turn.analysis is None:
        return None
    analysis, text = turn.analysis, turn.inbound.text or ""
    pack = load_pack()
    found = any(normalize_town(t, pack).town for t in [*analysis.districts, text])
    moved_on = analysis.topics or analysis.intent not in ("consult", "greeting")
    if not found and (moved_on or state.data.get("unplaced")):
        # (after words we could not place, more of them are not a town: see fallback)
        conversation.clear(state, turn.now)
        return None  # they moved on; answer what they wrote now
    topics = sorted(set(state.data.get("topics", [])) | set(analysis.topic_ids))
    compound = bool(state.data.get("compound")) or analysis.compound
    conversation.clear(state, turn.now)
    if not found:
        return _town_not_found(text)
    result = windows_for(pack, topics, [text, *analysis.districts], compound)
    _remember_district(turn, [text, *analysis.districts])
    return _windows(turn, result, topics, compound, asked=True)


@registry.postback(FLOW)
def skip_town(turn: Turn) -> list[Reply]:
    conversation.clear(conversation.load(turn.session, turn.resident.id, turn.now), turn.now)
    return _all_centers("all_centers_intro")


# -- pieces ---------------------------------------------------------------------------


def _acknowledge(topics: list[str]) -> str:
    pack = load_pack()
    labels = [TOPIC_LABELS[t] for t in topics if t in TOPIC_LABELS][:3]
    if not labels:
        return pack.text("consult_ack_general")
    return pack.text("consult_ack", topics="、".join(labels))


def _windows(turn: Turn, result: RoutingResult, topics: list[str], compound: bool,
             asked: bool = False) -> list[Reply]:
    pack = load_pack()
    topic_lines = [_window_line(w) for w in result.windows[:MAX_TOPIC_WINDOWS] if w.phone]
    status = result.district_status
    if status == "resolved" and result.center is not None:
        text = "\n".join([_center_line(pack, result.center), *topic_lines])
        return [Reply(text), Reply(pack.text("consult_offer"), offer_buttons())]
    if status == "ambiguous" and result.town is not None:
        lines = [pack.text("town_ambiguous", town=result.town.label),
                 *_center_lines(result.centers)]
        return [Reply("\n".join(lines)), Reply(pack.text("consult_offer"), offer_buttons())]
    if status == "unknown" and result.town is not None:
        return _town_not_found(result.town.raw)
    if asked:
        return _all_centers("all_centers_intro")
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    conversation.enter(state, FLOW, ASK_TOWN, turn.now,
                       {"topics": topics, "compound": compound})
    replies = [Reply("\n".join([pack.text("hokatsu_explained"), *topic_lines]))] if topic_lines \
        else [Reply(pack.text("hokatsu_explained"))]
    return [*replies, Reply(pack.text("ask_town"), [SKIP_TOWN])]


def _compound(turn: Turn, result: RoutingResult) -> list[Reply]:
    from handlers.flows.handoff_request import file_case, hours_note

    pack = load_pack()
    center = result.center
    _, consent = file_case(turn, reason="compound", priority="high",
                           window_id=center.id if center else None)
    if center is not None:
        replies = [Reply(pack.text("compound_coordinator", center_name=center.name,
                                   phone=center.phone))]
    else:
        lines = [pack.text("compound_coordinator_any"), *_center_lines(result.centers)]
        replies = [Reply("\n".join(lines))]
    replies.append(Reply(pack.text("compound_next"), offer_buttons()))
    if (note := hours_note(turn.now)) is not None:
        replies.append(note)
    if consent is not None:
        replies.append(consent)
    return replies


def _districts(turn: Turn) -> list[str]:
    """Where the resident lives, as written. nlu names the 町名 (桜山) but routing also
    needs the 丁目 (桜山3丁目), so the whole message is parsed first when nlu saw a town."""
    analysis = turn.analysis
    if analysis is None or not analysis.districts:
        return []
    return [turn.inbound.text or "", *analysis.districts]


def _town_not_found(text: str) -> list[Reply]:
    if _DECLINES.search(text) or not text.strip():
        return _all_centers("all_centers_intro")
    place = _TRAILING.sub("", text.strip())[:20] or text.strip()[:20]
    return _all_centers("town_unknown", town=place)


def _all_centers(key: str, **values: str) -> list[Reply]:
    pack = load_pack()
    text = "\n".join([pack.text(key, **values), *_center_lines(pack.centers)])
    return [Reply(text), Reply(pack.text("consult_offer"), offer_buttons())]


def _center_line(pack, center: Agency) -> str:
    return pack.text("center_intro", center_name=center.name, phone=center.phone,
                     address=center.address or "")


def _window_line(window: WindowRef) -> str:
    # A window the source gives no number for is reached through another one: say so,
    # rather than print that other number as if it were the window's own.
    if window.agency.phone:
        return f"・{window.agency.name}　{window.phone}"
    return f"・{window.agency.name}（{window.phone} からおつなぎします）"


def _center_lines(centers: list[Agency]) -> list[str]:
    return [f"・{c.name}　{c.phone}" for c in centers]


def _open_lines(turn: Turn, topics: list[str]) -> list[Reply]:
    """The situation's phone lines that are open now (handlers/hotlines.py), if any."""
    from handlers.hotlines import choose, line_text

    pack = load_pack()
    text = turn.analysis.text if turn.analysis else ""
    emergency = set(pack.open_now.emergency)  # 110/119 belong to the safety path
    lines = [h for h in choose(pack, turn.now, topic_ids=topics, text=text).open_now
             if h.id not in emergency]
    if not lines:
        return []
    body = [pack.text("consult_open_lines"), *(line_text(h) for h in lines[:2])]
    return [Reply("\n".join(body))]


def _remember_district(turn: Turn, districts: list[str]) -> None:
    """A 町名 the resident gave is kept, so later worries are routed without asking again."""
    pack = load_pack()
    for text in districts:
        ref = normalize_town(text, pack)
        if ref.town is not None:
            turn.resident.district = ref.label
            return
