"""Messages whose meaning depends on the conversation so far, not on their words alone.

* 「沼間に住んでます」 after any answer: the resident's town — remembered, and their window named.
* 「どこに相談すればいいですか」 with no worry named: the window (福祉の総合相談窓口), not a
  request to describe the worry.
* 「何時から開いていますか」: a question about opening hours, not a wish to book.
* 「やっぱり行けなくなりました」: a cancellation, when the resident has a booking.

Each is a registry.request, tried before intent routing (nlu also learns these; here the
context — a booking held, a question just answered — decides).
"""

from __future__ import annotations

import re

from handlers import registry
from handlers.content import load_pack
from handlers.flows.booking import manage
from handlers.flows.consult import (
    _all_centers,
    _center_line,
    _districts,
    _first_town,
    _remember,
    about_other,
    elsewhere,
    offer_buttons,
    route,
    third_party,
)
from handlers.flows.faq import answer_reply
from handlers.replies import Reply
from handlers.routing import locate
from handlers.turn import Turn
from storage import bookings

_QUESTION = re.compile(r"[?？]|どこ|何|なに|いつ|どう|ですか|ますか|でしょう|教えて|知りたい")
_LIVES = re.compile(r"住ん|住まい|在住|暮らして|です$|だよ$|です。$")
# 「沼間」「小坪5丁目」「桜山5-36」: a place and nothing else (「池子のサロンに行きたい」 is not)
_BARE_PLACE = re.compile(
    r"^[^\sをがはにへでと]{1,8}([0-9０-９一二三四五六七八九十\-ー]+(丁目|番地?|号)?)*[。！!]?$"
)
_WHERE_TO_CONSULT = re.compile(r"(どこ|どちら|誰|だれ)(に|へ)(相談|連絡|電話|行けば|行ったら)")
_OPENING_HOURS = re.compile(
    r"(何時|なんじ)(から|まで)|(開いて|あいて|やって)(い)?(ます|る)|受付時間|営業時間|開庁|休み"
)
_CANT_COME = re.compile(
    r"行けなく|いけなく|行けません|いけません|行かれな|伺えな|うかがえな|都合が(悪|わる)く|無理になり"
)
_MONEY_WORDS = re.compile(
    r"お金が(な|無)|食べ(るもの|る物|させる)|ご飯を食べ|ごはんを食べ|家賃|生活費|食費"
)
_NOT_CHAT = ("book", "change_booking", "human", "delete_data", "checkin_ok", "checkin_unwell")


@registry.request
def town_given(turn: Turn) -> list[Reply] | None:
    """The resident says where they live, with no worry in the same message."""
    analysis, text = turn.analysis, (turn.inbound.text or "").strip()
    if analysis is None or analysis.topics or analysis.intent in _NOT_CHAT:
        return None
    if _QUESTION.search(text) or not (_LIVES.search(text) or _BARE_PLACE.match(text)):
        return None
    ref = _first_town([text, *analysis.districts])
    if ref is None or analysis.about == "other":
        return None
    if ref.elsewhere:
        return elsewhere(ref)
    pack = load_pack()
    status, centers, _ = locate(pack, ref)
    if status != "resolved":
        return None  # 桜山 without 丁目: consult asks for it when there is a worry
    _remember(turn, ref)
    return [Reply("\n".join([pack.text("town_noted", town=ref.label),
                             _center_line(pack, centers[0])])),
            Reply(pack.text("consult_offer"), offer_buttons())]


@registry.request
def where_to_consult(turn: Turn) -> list[Reply] | None:
    """「どこに相談すればいいですか」: the window. A reporter gets the reporter's path."""
    analysis = turn.analysis
    if analysis is None or not _WHERE_TO_CONSULT.search(turn.inbound.text or ""):
        return None
    if about_other(analysis, turn.inbound.text or ""):
        return third_party(turn)
    if analysis.topics or analysis.compound:
        return route(turn, analysis.topic_ids, analysis.compound,
                     [turn.inbound.text or "", *analysis.districts] if analysis.districts else [])
    return _all_centers("where_to_go")


@registry.request
def opening_hours(turn: Turn) -> list[Reply] | None:
    """「何時から開いていますか」 is a question, answered from the FAQ — not a booking."""
    analysis, text = turn.analysis, turn.inbound.text or ""
    if analysis is None or analysis.topics or "予約" in text:
        return None
    if not (_OPENING_HOURS.search(text) and _QUESTION.search(text)):
        return None
    pack = load_pack()
    try:
        return [answer_reply(pack.faq_entry("hours"))]
    except KeyError:  # staff retired that answer: the hours themselves are still known
        return [Reply(pack.text("opening_hours", hours=pack.business_hours.text))]


@registry.request
def cannot_come(turn: Turn) -> list[Reply] | None:
    """「やっぱり行けなくなりました」 with a booking held: offer to cancel it."""
    if not _CANT_COME.search(turn.inbound.text or ""):
        return None
    if not bookings.future_bookings(turn.session, turn.resident, turn.now):
        return None
    return manage(turn)


@registry.request
def money_words(turn: Turn) -> list[Reply] | None:
    """「子どもにご飯を食べさせるお金がありません」: money and food, though nlu named no topic."""
    analysis = turn.analysis
    if analysis is None or analysis.topics or not _MONEY_WORDS.search(turn.inbound.text or ""):
        return None
    return route(turn, ["living_hardship"], analysis.compound, _districts(turn))
