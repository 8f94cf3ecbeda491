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
from handlers.case_filing import file_case, hours_note
from handlers.content import Agency, load_pack
from handlers.places import elsewhere as other_municipality
from handlers.places import municipalities
from handlers.postback import encode
from handlers.replies import QuickReply, Reply
from handlers.routing import (
    RoutingResult,
    TownRef,
    WindowRef,
    center_for_town,
    locate,
    normalize_town,
    parse_ban,
    windows_for,
)
from handlers.turn import Turn
from storage import conversation

FLOW, ASK_TOWN, ASK_BAN = "consult", "town", "ban"
THIRD_PARTY, ABOUT_PERSON = "third_party", "person"
MAX_TOPIC_WINDOWS = 3
# Words that ask to consult without saying about what: prompt for the worry itself.
_WANTS_TO_TALK = re.compile(r"相談|困|悩|聞いて|話")
_TRAILING = re.compile(
    r"(に住んで(い|お)ります|に住んで(い|)ます|に住んでる|です|だよ|だ|[。、.!！\s])+$"
)
_DECLINES = re.compile(
    r"わから|分から|わかりません|分かりません|知らな|しらな|言いたくな|答えたくな|教えたくな"
    r"|秘密|内緒|いや|嫌"
)
# A question back instead of an answer: 「じゃあ、どうすればいいですか」「どこに相談すれば」
_WHAT_TO_DO = re.compile(r"どう(すれ|したら|すると|すれば)|どこに|どこへ|どこで|誰に|だれに")
_QUESTION = re.compile(r"[?？]|どこ|何|なに|いつ|どう|ですか|ますか|でしょう")
_FOOD = re.compile(r"食べ(る|もの|物)|食料|食費|食事|お米|米が|ごはん|ご飯")
_MONEY_TOPICS = ("living_hardship", "housing", "employment")

# Someone writing about a person outside their family (nlu's "about" misses some of these).
_REPORTER = re.compile(
    r"近所|隣の(家|部屋|人)|お隣|民生委員|生徒|児童|担任|教員|先生をして|知人|友人|友達|利用者|入居者"
)
_FAMILY = re.compile(r"母|父|夫|妻|息子|娘|祖母|祖父|兄|姉|弟|妹|家族|親|子ども|子供|私|わたし")


def about_other(analysis, text: str) -> bool:
    if analysis.about == "other":
        return True
    return bool(_REPORTER.search(text)) and not _FAMILY.search(_REPORTER.split(text, 1)[0])


SKIP_TOWN = QuickReply(label="答えない", data=encode("consult", "skip"), text="答えない")


def offer_buttons() -> list[QuickReply]:
    return [
        QuickReply(label="予約する", text="予約したい"),
        QuickReply(label="人と話したい", data=encode("handoff", "consult"), text="人と話したい"),
    ]


@registry.intent("consult")
def consult(turn: Turn) -> list[Reply] | None:
    analysis = turn.analysis
    if analysis is None:
        return None
    if about_other(analysis, turn.inbound.text or ""):
        return third_party(turn)
    if not analysis.topics and not analysis.compound:
        if _WANTS_TO_TALK.search(analysis.text):
            return [Reply(load_pack().text("consult_prompt"))]
        return None  # not understood: the fallback counts it
    return route(turn, analysis.topic_ids, analysis.compound, _districts(turn))


def route(turn: Turn, topics: list[str], compound: bool, districts: list[str]) -> list[Reply]:
    pack = load_pack()
    if "young_carer" in topics:  # the parent's illness, not the young carer's own health
        topics = [t for t in topics if t != "health"]
    _remember_district(turn, districts)
    if not districts and turn.resident.district:
        districts = [turn.resident.district]
    result = windows_for(pack, topics, districts, compound)
    if result.district_status == "elsewhere" and result.town is not None:
        return [Reply(_acknowledge(topics)), *elsewhere(result.town)]
    replies = [Reply(_acknowledge(topics)), *_open_lines(turn, topics)]
    if compound:
        replies += _compound(turn, result)
    else:
        replies += _windows(turn, result, topics, compound)
    return _with_programmes(replies, topics, turn.inbound.text or "")


def elsewhere(ref: TownRef) -> list[Reply]:
    """Someone living in another city: their own city's window, and the lines open to all."""
    pack = load_pack()
    city = ref.elsewhere or ""
    muni = next((m for m in municipalities() if m.name == city), None)
    office = {"町": "町役場", "村": "村役場", "区": "区役所"}.get(city[-1:], "市役所")
    if muni is not None and muni.prefecture == "東京都":
        office = "区役所"
    lines = [pack.text("national_lines_intro")]
    lines += [f"・{h.name}：{h.number}（{h.hours}）" for h in pack.hotlines
              if h.id == "yorisoi"]
    return [Reply(pack.text("elsewhere", city=city, office=office)), Reply("\n".join(lines))]


def programme_lines(topics: list[str], text: str) -> list[str]:
    """The city's programmes for money, rent and food (社協: 000 L1128–1129, L439–469)."""
    pack = load_pack()
    lines = []
    if any(t in _MONEY_TOPICS for t in topics):
        lines.append(pack.text("programmes_money"))
    if "housing" in topics or re.search(r"家賃|住む(ところ|場所)|追い出|退去", text):
        lines.append(pack.text("programmes_housing"))
    if _FOOD.search(text):
        lines.append(pack.text("programmes_food"))
    if lines:
        lines.append(pack.text("programmes_contact"))
    return lines


def _with_programmes(replies: list[Reply], topics: list[str], text: str) -> list[Reply]:
    lines = programme_lines(topics, text)
    if not lines:
        return replies
    # after the window (the number comes first), before the offer to book or talk
    return [*replies[:-1], Reply("\n".join(lines)), replies[-1]] if len(replies) > 1 \
        else [*replies, Reply("\n".join(lines))]


def third_party(turn: Turn) -> list[Reply]:
    """A neighbour, 民生委員 or teacher writing about someone else: thanks, the window for
    that person, and what they know. Consent belongs to the person concerned, so it is not
    asked of the reporter (case_filing.file_case)."""
    analysis = turn.analysis
    assert analysis is not None
    pack = load_pack()
    priority = "high" if analysis.compound else "normal"
    file_case(turn, reason="third_party", priority=priority, about="other")
    replies = [Reply(pack.text("third_party_thanks"))]
    ref = _first_town(_districts(turn) or [turn.inbound.text or ""])
    replies += _person_window(turn, ref, analysis.topic_ids)
    if (note := hours_note(turn.now)) is not None:
        replies.append(note)
    return replies


def _person_window(turn: Turn, ref: TownRef | None, topics: list[str]) -> list[Reply]:
    """The window for the person reported on; asks where they live when we do not know."""
    pack = load_pack()
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    if ref is not None and ref.elsewhere:
        conversation.clear(state, turn.now)
        return elsewhere(ref)
    status, centers, _ = locate(pack, ref) if ref is not None else ("unknown", pack.centers, [])
    topic_lines = [_window_line(w) for w in
                   windows_for(pack, topics, [], False).windows[:MAX_TOPIC_WINDOWS] if w.phone]
    if status == "resolved":
        conversation.clear(state, turn.now)
        text = pack.text("third_party_window", center_name=centers[0].name,
                         phone=centers[0].phone)
        return [Reply("\n".join([text, *topic_lines])), Reply(pack.text("third_party_next"))]
    lines = [pack.text("third_party_windows_all"), *_center_lines(centers), *topic_lines]
    asked = state.flow == THIRD_PARTY
    conversation.enter(state, THIRD_PARTY, ABOUT_PERSON, turn.now, {"topics": topics})
    if asked:
        return [Reply("\n".join(lines)), Reply(pack.text("third_party_next"))]
    return [Reply("\n".join(lines)), Reply(pack.text("third_party_ask"))]


@registry.flow(THIRD_PARTY)
def about_person(turn: Turn) -> list[Reply] | None:
    """What the reporter adds: where the person lives, what they have seen."""
    analysis = turn.analysis
    if analysis is None or analysis.intent in ("book", "change_booking", "human", "delete_data"):
        return None
    pack = load_pack()
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    topics = sorted(set(state.data.get("topics", [])) | set(analysis.topic_ids))
    file_case(turn, reason="third_party", priority="normal", about="other")
    ref = _first_town([turn.inbound.text or "", *analysis.districts])
    conversation.clear(state, turn.now)
    if ref is None:  # asked once already: the windows, not the question again
        lines = [pack.text("third_party_windows_all"), *_center_lines(pack.centers)]
        return [Reply(pack.text("third_party_noted")), Reply("\n".join(lines))]
    return [Reply(pack.text("third_party_noted")), *_person_window(turn, ref, topics)]


def _first_town(texts: list[str]) -> TownRef | None:
    pack = load_pack()
    for text in texts:
        ref = normalize_town(text, pack)
        if ref.town or ref.elsewhere:
            return ref
    return None


def unplaced(turn: Turn) -> list[Reply]:
    """Words the bot cannot place: no dead end. Acknowledge, then the district's centre, or
    ask for the 町名 — with a person one tap away."""
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
    return [thanks, Reply(pack.text("ask_town"), [SKIP_TOWN, *offer_buttons()[1:]])]


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


@registry.flow(FLOW)
def town_answer(turn: Turn) -> list[Reply] | None:
    """The answer to 「町名を教えていただけますか？」 or 「何番か…」 — or a new subject,
    which leaves the slot and is routed as usual."""
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    if state.step not in (ASK_TOWN, ASK_BAN) or turn.analysis is None:
        return None
    analysis, text = turn.analysis, turn.inbound.text or ""
    pack = load_pack()
    topics = sorted(set(state.data.get("topics", [])) | set(analysis.topic_ids))
    compound = bool(state.data.get("compound")) or analysis.compound
    ref = _first_town([text, *analysis.districts])
    if ref is None and state.step == ASK_BAN and (ban := parse_ban(text)) is not None:
        ref = TownRef(text, state.data.get("town"), state.data.get("chome"), None, ban)
    if ref is None:
        return _not_a_town(turn, state, topics, compound)
    conversation.clear(state, turn.now)
    if ref.elsewhere:
        return elsewhere(ref)
    result = windows_for(pack, topics, [], compound)
    status, centers, notes = locate(pack, ref)
    result = RoutingResult(status, ref, centers, result.windows, [], status != "resolved", notes)
    _remember(turn, ref)
    replies = _windows(turn, result, topics, compound, asked=True)
    return _with_programmes(replies, topics, text)


def answers_the_town_question(turn: Turn) -> bool:
    """Whether this message is the town (or 番) the bot just asked for: a plain answer, not
    words of distress, whatever the risk reader made of a bare place name."""
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    if state.flow != FLOW or state.step not in (ASK_TOWN, ASK_BAN) or turn.analysis is None:
        return False
    text = turn.inbound.text or ""
    if _first_town([text, *turn.analysis.districts]) is not None:
        return True
    return state.step == ASK_BAN and parse_ban(text) is not None


def _not_a_town(turn: Turn, state, topics: list[str], compound: bool) -> list[Reply] | None:
    analysis, text = turn.analysis, turn.inbound.text or ""
    assert analysis is not None
    if _WHAT_TO_DO.search(text):  # 「じゃあ、どうすればいいですか」: the window, now
        conversation.clear(state, turn.now)
        return _all_centers("where_to_go", topics=topics)
    if _DECLINES.search(text) and not analysis.topics:  # 「わかりません」「言いたくない」
        conversation.clear(state, turn.now)
        return _all_centers("all_centers_intro", topics=topics)
    # after words the bot could not place, more of them are not a town (see unplaced)
    moved_on = (analysis.topics or analysis.urgent or _QUESTION.search(text)
                or analysis.intent not in ("consult", "greeting") or state.data.get("unplaced"))
    conversation.clear(state, turn.now)
    if moved_on:
        return None  # they moved on; answer what they wrote now
    if state.step == ASK_BAN or _DECLINES.search(text) or not text.strip():
        return _all_centers("all_centers_intro", topics=topics)
    return _town_not_found(text)


@registry.postback(FLOW)
def skip_town(turn: Turn) -> list[Reply]:
    conversation.clear(conversation.load(turn.session, turn.resident.id, turn.now), turn.now)
    return _all_centers("all_centers_intro")


# -- pieces ---------------------------------------------------------------------------


def _acknowledge(topics: list[str]) -> str:
    pack = load_pack()
    labels = [pack.text(f"topic_{t}") for t in topics if f"topic_{t}" in pack.labels][:3]
    if not labels:
        return pack.text("consult_ack_general")
    return pack.text("consult_ack", topics="、".join(labels))


def _windows(turn: Turn, result: RoutingResult, topics: list[str], compound: bool,
             asked: bool = False) -> list[Reply]:
    pack = load_pack()
    topic_lines = [_window_line(w) for w in result.windows[:MAX_TOPIC_WINDOWS] if w.phone]
    status = result.district_status
    if status == "elsewhere" and result.town is not None:
        return elsewhere(result.town)
    if status == "resolved" and result.center is not None:
        text = "\n".join([_center_line(pack, result.center), *topic_lines])
        return [Reply(text), Reply(pack.text("consult_offer"), offer_buttons())]
    if status == "ambiguous" and result.town is not None:
        ref = result.town
        if ref.chome is not None and ref.ban is None:  # 桜山5丁目, 新宿4丁目: ask the 番
            state = conversation.load(turn.session, turn.resident.id, turn.now)
            conversation.enter(state, FLOW, ASK_BAN, turn.now, {
                "topics": topics, "compound": compound, "town": ref.town, "chome": ref.chome})
            lines = [pack.text("ask_ban", town=ref.label), *_center_lines(result.centers)]
            return [Reply("\n".join(lines))]
        lines = [pack.text("town_ambiguous", town=ref.label), *_center_lines(result.centers)]
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
    analysis, text = turn.analysis, turn.inbound.text or ""
    if analysis is None:
        return []
    if analysis.districts:
        return [text, *analysis.districts]
    # nlu knows only our own 町名: another city (葉山町, 藤沢市) is read here
    return [text] if other_municipality(text, load_pack().meta.municipality) else []


def _town_not_found(text: str) -> list[Reply]:
    if _DECLINES.search(text) or not text.strip():
        return _all_centers("all_centers_intro")
    place = _TRAILING.sub("", text.strip())[:20] or text.strip()[:20]
    return _all_centers("town_unknown", town=place)


def _all_centers(key: str, topics: list[str] | None = None, **values: str) -> list[Reply]:
    pack = load_pack()
    topic_lines = [_window_line(w) for w in windows_for(pack, topics or [], [], False)
                   .windows[:MAX_TOPIC_WINDOWS] if w.phone]
    text = "\n".join([pack.text(key, **values), *_center_lines(pack.centers), *topic_lines])
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


def _remember(turn: Turn, ref: TownRef) -> None:
    if ref.town is not None:
        turn.resident.district = ref.label


def _remember_district(turn: Turn, districts: list[str]) -> None:
    """A 町名 the resident gave is kept, so later worries are routed without asking again."""
    pack = load_pack()
    for text in districts:
        ref = normalize_town(text, pack)
        if ref.town is not None:
            turn.resident.district = ref.label
            return
