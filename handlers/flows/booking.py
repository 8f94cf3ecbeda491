"""Booking a consultation from the chat: window → time → confirm; check, move and cancel.

Every button carries what it needs ("booking:slot:42", "booking:ok:42:7" = take slot 42
instead of booking 7), so a flow interrupted by the safety path, a question or a lapse
still works when the resident taps an older button. Stored state only remembers the
optional details typed in between (a name to be called by, a callback number).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from common.clock import TOKYO, WEEKDAYS
from handlers import routing
from handlers.content import Agency, ContentPack, load_pack
from handlers.postback import encode
from handlers.registry import flow, intent, postback
from handlers.replies import DatetimePicker, QuickReply, Reply
from handlers.turn import Turn
from nlu.when import ambiguous_hours
from storage import bookings, conversation, outbox
from storage.bookings import BookingDetails, BookingError
from storage.cases import current_case
from storage.models import Resident
from storage.models.booking import MODES, Booking, Slot

FLOW = "booking"
LEAD = timedelta(minutes=30)  # the latest a slot can still be booked before it starts
OFFERED = 6  # slots per list; LINE shows at most 13 quick replies
PICKER_SPAN = timedelta(days=60)
NICKNAME_MAX = 20

_STOP = re.compile(r"^(やめ|止め|中止|キャンセル|きゃんせる|取り消|とりけ|もういい|いいです|結構)")
_YES = re.compile(
    r"^(はい|ええ|うん|お願い|おねがい|予約する|それで|ok|オッケー|大丈夫|だいじょうぶ)"
)
_WANTS_CANCEL = re.compile(r"キャンセル|きゃんせる|取り消|とりけ|行けな|いけな|やめ")
_WANTS_MOVE = re.compile(r"変え|かえ|変更|へんこう|ずら|延期|別の日|振り?替")
_PHONE = re.compile(r"0\d{1,4}-?\d{1,4}-?\d{3,4}")


# -- wording ------------------------------------------------------------------------------


def local(when: datetime) -> datetime:
    return when.astimezone(TOKYO)


def day_text(when: datetime) -> str:
    at = local(when)
    return f"{at.month}月{at.day}日({WEEKDAYS[at.weekday()]})"


def when_text(slot: Slot) -> str:
    start, end = local(slot.starts_at), local(slot.ends_at)
    return f"{day_text(start)} {start:%H:%M}〜{end:%H:%M}"


def slot_label(slot: Slot, with_mode: bool) -> str:
    at = local(slot.starts_at)
    label = f"{at.month}/{at.day}({WEEKDAYS[at.weekday()]}) {at:%H:%M}"
    return f"{label} {MODES.get(slot.mode, '')}" if with_mode else label


def window(pack: ContentPack, window_id: str) -> Agency | None:
    return next((a for a in pack.agencies if a.id == window_id), None)


def window_name(pack: ContentPack, window_id: str) -> str:
    agency = window(pack, window_id)
    return agency.name if agency else window_id


def _t(key: str, **values: object) -> str:
    """Resident-facing words come from the content pack (copy.toml, keys booking_*)."""
    return load_pack().text(key, **values)


def _button(key: str, data: str, **values: object) -> QuickReply:
    return QuickReply(_t(key, **values), data=data)


def window_label(agency: Agency) -> str:
    if agency.kind == "comprehensive_center" and agency.district_label:
        return _t("booking_center_label", district=agency.district_label)
    return agency.name


def place_text(pack: ContentPack, slot: Slot) -> str | None:
    agency = window(pack, slot.window_id)
    if slot.mode == "visit_office":
        return slot.location or (agency.address if agency else None)
    return slot.location


def mode_note(pack: ContentPack, slot: Slot, callback: str | None) -> str | None:
    """What happens at the time, so nothing more needs asking now."""
    agency = window(pack, slot.window_id)
    phone = pack.phone_for(agency) if agency else None
    if slot.mode == "phone" and callback != "phone":
        return _t("booking_mode_call_us", phone=phone) if phone else None
    if slot.mode == "phone":
        return _t("booking_mode_we_call")
    if slot.mode == "online":
        return _t("booking_mode_online")
    if slot.mode == "home_visit":
        return _t("booking_mode_home_visit")
    return None


def describe(pack: ContentPack, slot: Slot, details: BookingDetails | None = None) -> str:
    lines = [
        pack.text("booking_detail_window", value=window_name(pack, slot.window_id)),
        pack.text("booking_detail_when", value=when_text(slot)),
        pack.text("booking_detail_mode", value=MODES.get(slot.mode, slot.mode)),
    ]
    if place := place_text(pack, slot):
        lines.append(pack.text("booking_detail_place", value=place))
    if details is not None:
        name = details.nickname or pack.text("booking_detail_no_name")
        lines.append(pack.text("booking_detail_name", value=name))
        contact = (pack.text("booking_contact_phone", phone=details.contact_phone)
                   if details.contact_phone else pack.text("booking_contact_line"))
        lines.append(pack.text("booking_detail_contact", value=contact))
    return "\n".join(lines)


# -- choosing a window --------------------------------------------------------------------


def bookable_windows(pack: ContentPack) -> list[Agency]:
    return [a for a in pack.agencies if a.bookable]


def suggested_windows(turn: Turn, pack: ContentPack) -> tuple[list[Agency], Agency | None]:
    """Bookable windows, the one that fits the resident first (district, then topics)."""
    bookable = bookable_windows(pack)
    district = turn.resident.district
    analysis = turn.analysis
    topics = list(analysis.topic_ids) if analysis else []
    case = current_case(turn.session, turn.resident)
    if case is not None:
        topics += [t for t in case.topics or [] if t not in topics]
    named = [a for a in bookable if district and district in (a.id, a.district_label)]
    texts = [d for d in [district, *(analysis.districts if analysis else [])] if d]
    result = routing.windows_for(pack, topics, texts)
    ranked: list[Agency] = named + ([result.center] if result.center else [])
    ranked += [w.agency for w in result.windows]
    ordered = [a for a in ranked if a.bookable] + bookable
    unique = list({a.id: a for a in ordered}.values())
    best = unique[0] if (named or result.center or result.windows) and unique else None
    return unique, best


@intent("book")
def start(turn: Turn) -> list[Reply] | None:
    pack = load_pack()
    windows, best = suggested_windows(turn, pack)
    if not windows:
        return None  # no window takes bookings in this pack: let the default answer it
    if len(bookings.future_bookings(turn.session, turn.resident, turn.now)) >= (
        bookings.MAX_FUTURE_BOOKINGS
    ):
        return _refused(turn, "limit")
    if (ask := ask_am_pm(turn)) is not None:
        return ask
    wish = _wish(turn)
    if len(windows) == 1:
        return _slots_for(turn, windows[0].id, None, wish)
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    # A time said with the request (来週の火曜に予約したい) is kept until a window is chosen.
    conversation.enter(state, FLOW, "window", turn.now, data={"wish": wish} if wish else None)
    text = pack.text("booking_choose_window")
    if best is not None:
        text += "\n" + pack.text("booking_recommended", window=best.name)
    buttons = [QuickReply(window_label(a), data=encode(FLOW, "win", a.id)) for a in windows[:10]]
    return [Reply(text, [*buttons, _button("booking_button_stop", encode(FLOW, "stop"))])]


# -- offering slots -----------------------------------------------------------------------


def _slot_buttons(slots: list[Slot], move: int | None) -> list[QuickReply]:
    with_mode = len({s.mode for s in slots}) > 1
    return [QuickReply(slot_label(s, with_mode), data=encode(FLOW, "slot", s.id, move or None))
            for s in slots]


def slot_list(
    turn: Turn, window_id: str, slots: list[Slot], intro: str, move: int | None = None
) -> list[Reply]:
    pack = load_pack()
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    details = {k: v for k, v in state.data.items() if k in ("nickname", "callback", "phone")}
    conversation.enter(state, FLOW, "slot", turn.now,
                       data={**details, "window": window_id, "move": move})
    if not slots:
        agency = window(pack, window_id)
        phone = pack.phone_for(agency) if agency else None
        text = f"{intro}\n" + pack.text("booking_no_slots", window=window_name(pack, window_id))
        if phone:
            text += "\n" + pack.text("booking_phone_instead", phone=phone)
        return [Reply(text, [_button("booking_button_stop", encode(FLOW, "stop"))])]
    last = int(slots[-1].starts_at.timestamp())
    first = local(slots[0].starts_at)
    buttons = _slot_buttons(slots, move) + [
        _button("booking_button_later", encode(FLOW, "more", window_id, last, move or None)),
        _button("booking_button_stop", encode(FLOW, "stop")),
    ]
    picker = DatetimePicker(
        pack.text("booking_button_pick"), data=encode(FLOW, "pick", window_id, move or None),
        initial=first,
        min=local(turn.now + LEAD), max=local(turn.now + PICKER_SPAN),
    )
    text = f"{intro}\n" + pack.text("booking_choose_slot")
    return [Reply(text, buttons, [picker])]


def offer_slots(
    turn: Turn, window_id: str, move: int | None = None, after: datetime | None = None,
    intro: str | None = None,
) -> list[Reply]:
    earliest = max(after or turn.now, turn.now + LEAD)
    slots = bookings.open_slots(turn.session, window_id, after=earliest, limit=OFFERED)
    name = window_name(load_pack(), window_id)
    return slot_list(turn, window_id, slots, intro or _t("booking_open_slots", window=name), move)


def slots_for_wish(
    turn: Turn, window_id: str, ranges: list[tuple[datetime, datetime]], move: int | None
) -> list[Reply]:
    """Free text (nlu `when`) or a picker choice → the nearest free slots."""
    slots, exact = bookings.nearest_slots(
        turn.session, window_id, ranges, after=turn.now + LEAD, limit=OFFERED
    )
    if exact and len(slots) == 1:
        return confirm(turn, slots[0], move)
    if exact:
        return slot_list(turn, window_id, slots, _t("booking_wish_found"), move)
    return slot_list(turn, window_id, slots, _t("booking_wish_nearest"), move)


# -- confirming and booking ---------------------------------------------------------------


def _details(data: dict) -> BookingDetails:
    return BookingDetails(
        nickname=data.get("nickname"), callback=data.get("callback"),
        contact_phone=data.get("phone") if data.get("callback") == "phone" else None,
    )


def confirm(turn: Turn, slot: Slot, move: int | None) -> list[Reply]:
    pack = load_pack()
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    data = {**state.data, "window": slot.window_id, "slot": slot.id, "move": move}
    conversation.enter(state, FLOW, "confirm", turn.now, data=data)
    details = _details(data)
    chosen = (slot.id, move or None)
    lead = pack.text("booking_confirm_move" if move else "booking_confirm_new")
    text = f"{lead}\n{describe(pack, slot, details)}"
    if note := mode_note(pack, slot, details.callback):
        text += f"\n{note}"
    text += "\n" + pack.text("booking_details_optional")
    contact = (_button("booking_button_contact_line", encode(FLOW, "cb", "line", *chosen))
               if details.callback == "phone"
               else _button("booking_button_contact_phone", encode(FLOW, "cb", "phone", *chosen)))
    return [Reply(text, [
        _button("booking_button_book", encode(FLOW, "ok", *chosen)),
        _button("booking_button_name", encode(FLOW, "name", *chosen)),
        contact,
        _button("booking_button_other_time", encode(FLOW, "win", slot.window_id, move or None)),
        _button("booking_button_stop", encode(FLOW, "stop")),
    ])]


def do_book(turn: Turn, slot_id: int, move: int | None) -> list[Reply]:
    pack = load_pack()
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    same = state.flow == FLOW and state.data.get("slot") == slot_id
    details = _details(state.data) if same else BookingDetails()
    moving = bookings.owned_booking(turn.session, turn.resident, move) if move else None
    if move and moving is None:
        return [Reply(pack.text("booking_move_not_found"), [_check_button()])]
    if moving is not None and details == BookingDetails():  # a move keeps what was said
        details = BookingDetails(moving.nickname, moving.callback, moving.contact_phone)
    try:
        booking = bookings.book(
            turn.session, slot_id=slot_id, resident=turn.resident, now=turn.now,
            details=details, moving=moving, lead=LEAD,
        )
    except BookingError as exc:
        return _refused(turn, exc.code, slot_id, move)
    conversation.clear(state, turn.now)
    slot = turn.session.get(Slot, booking.slot_id)
    head = pack.text("booking_moved" if moving else "booking_booked")
    text = f"{head}\n{describe(pack, slot, details)}"
    if note := mode_note(pack, slot, details.callback):
        text += f"\n{note}"
    text += "\n" + pack.text("booking_booked_after")
    return [Reply(text, [_check_button()])]


def _check_button() -> QuickReply:
    # A text button: what it sends is read by nlu as change_booking.
    label = _t("booking_button_check")
    return QuickReply(label, text=label)


def _refused(
    turn: Turn, code: str, slot_id: int | None = None, move: int | None = None
) -> list[Reply]:
    slot = turn.session.get(Slot, slot_id) if slot_id else None
    if code == "limit":
        return [Reply(_t("booking_limit", limit=bookings.MAX_FUTURE_BOOKINGS),
                      [_check_button()])]
    if code == "duplicate":
        return [Reply(_t("booking_duplicate"), [_check_button()])]
    if slot is None:
        return [Reply(_t("booking_slot_missing"))]
    reason = {"full": "booking_slot_full", "past": "booking_slot_past",
              "closed": "booking_slot_closed"}.get(code)
    intro = (_t(reason, when=when_text(slot)) if reason else _t("booking_failed"))
    intro += "\n" + _t("booking_other_slots")
    return offer_slots(turn, slot.window_id, move, intro=intro)


# -- buttons ------------------------------------------------------------------------------


def _ints(parts: list[str]) -> list[int | None]:
    return [int(p) if p.isdigit() else None for p in parts]


@postback("booking")
def on_postback(turn: Turn) -> list[Reply] | None:
    action, args = turn.postback.arg(0), list(turn.postback.args[1:])
    handler = _ACTIONS.get(action)
    if handler is None:
        return [Reply(_t("booking_try_again"), [_check_button()])]
    return handler(turn, args)


def _win(turn: Turn, args: list[str]) -> list[Reply]:
    window_id = args[0] if args else ""
    agency = window(load_pack(), window_id)
    if agency is None or not agency.bookable:
        return start(turn) or []
    move = _ints(args[1:2])[0] if len(args) > 1 else None
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    wish = state.data.get("wish") if state.flow == FLOW else None
    return _slots_for(turn, window_id, move, wish)


def ask_am_pm(turn: Turn) -> list[Reply] | None:
    """「3時」 could be 午前 or 午後: ask, with buttons that resend the message with each."""
    text = unicodedata.normalize("NFKC", turn.inbound.text or "")
    hours = ambiguous_hours(text)
    if not hours:
        return None
    hour = hours[0]
    return [Reply(load_pack().text("ask_am_pm", hour=hour), [
        QuickReply(f"午前{hour}時", text=_with_part(text, "午前")),
        QuickReply(f"午後{hour}時", text=_with_part(text, "午後")),
    ])]


def _with_part(text: str, part: str) -> str:
    return re.sub(r"([0-9]{1,2}|[一二三四五六七八九十]{1,2})(時|じ)", part + r"\1\2", text,
                  count=1)


# What may surround a date in a plain answer: 「6/8の14時半」「来週火曜の午後で」
_AROUND_A_DATE = re.compile(
    r"[\s、。,.!！?？/:：〜~ー\-]|でお願いします|です|がいい|から|ごろ|頃|の|に|で")


def answers_with_only_a_date(turn: Turn) -> bool:
    """Whether this message, in a booking, is nothing but the date or time the bot asked for:
    an answer, not words of distress, whatever the risk reader made of bare numbers. Any
    other words keep the message for the check question."""
    if turn.analysis is None or not turn.analysis.when:
        return False
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    if state.flow != FLOW:
        return False
    rest = turn.inbound.text or ""
    for when in turn.analysis.when:
        rest = rest.replace(when.text, "")
    return not _AROUND_A_DATE.sub("", rest)


def _wish(turn: Turn) -> list[list[str]] | None:
    """The times the resident named in this message, as ISO pairs (storable as JSON)."""
    if turn.analysis is None or not turn.analysis.when:
        return None
    return [[r.start.isoformat(), r.end.isoformat()] for r in turn.analysis.when]


def _slots_for(
    turn: Turn, window_id: str, move: int | None, wish: list[list[str]] | None
) -> list[Reply]:
    if not wish:
        return offer_slots(turn, window_id, move)
    ranges = [(datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in wish]
    return slots_for_wish(turn, window_id, ranges, move)


def _more(turn: Turn, args: list[str]) -> list[Reply]:
    if len(args) < 2 or not args[1].isdigit():
        return start(turn) or []
    after = datetime.fromtimestamp(int(args[1]), TOKYO)
    move = _ints(args[2:3])[0] if len(args) > 2 else None
    return offer_slots(turn, args[0], move, after=after)


def _slot(turn: Turn, args: list[str]) -> list[Reply]:
    slot_id, move = (_ints(args) + [None, None])[:2]
    slot = turn.session.get(Slot, slot_id) if slot_id else None
    if slot is None:
        return _refused(turn, "missing")
    if slot.status != "open":
        return _refused(turn, "closed", slot.id, move)
    if slot.starts_at <= turn.now + LEAD:
        return _refused(turn, "past", slot.id, move)
    if slot.booked >= slot.capacity:
        return _refused(turn, "full", slot.id, move)
    return confirm(turn, slot, move)


def _pick(turn: Turn, args: list[str]) -> list[Reply]:
    raw = turn.inbound.postback_params.get("datetime", "")
    window_id = args[0] if args else ""
    move = _ints(args[1:2])[0] if len(args) > 1 else None
    try:
        wished = datetime.fromisoformat(raw).replace(tzinfo=TOKYO)
    except ValueError:
        return offer_slots(turn, window_id, move)
    if wished <= turn.now:
        return offer_slots(turn, window_id, move, intro=_t("booking_picked_past"))
    return slots_for_wish(turn, window_id, [(wished, wished + timedelta(minutes=1))], move)


def _ok(turn: Turn, args: list[str]) -> list[Reply]:
    slot_id, move = (_ints(args) + [None, None])[:2]
    if slot_id is None:
        return _refused(turn, "missing")
    return do_book(turn, slot_id, move)


def _name(turn: Turn, args: list[str]) -> list[Reply]:
    return _ask_detail(turn, args, "name", _t("booking_ask_name"))


def _callback(turn: Turn, args: list[str]) -> list[Reply]:
    choice, rest = (args[0] if args else "line"), args[1:]
    if choice == "phone":
        return _ask_detail(turn, rest, "phone", _t("booking_ask_phone"))
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    state.data = {**state.data, "callback": "line", "phone": None}
    return _back_to_confirm(turn, rest)


def _ask_detail(turn: Turn, args: list[str], step: str, question: str) -> list[Reply]:
    slot_id, move = (_ints(args) + [None, None])[:2]
    if slot_id is None:
        return _refused(turn, "missing")
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    conversation.enter(state, FLOW, step, turn.now,
                       data={**state.data, "slot": slot_id, "move": move})
    skip = _button("booking_button_skip", encode(FLOW, "back", slot_id, move or None))
    return [Reply(question, [skip])]


def _back_to_confirm(turn: Turn, args: list[str]) -> list[Reply]:
    slot_id, move = (_ints(args) + [None, None])[:2]
    return _slot(turn, [str(slot_id or ""), *([str(move)] if move else [])])


def _stop(turn: Turn, args: list[str]) -> list[Reply]:
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    if state.flow == FLOW:
        conversation.clear(state, turn.now)
    text = _t("booking_stopped")
    if bookings.future_bookings(turn.session, turn.resident, turn.now):
        text += "\n" + _t("booking_stopped_kept")
        return [Reply(text, [_check_button()])]
    return [Reply(text)]


# -- check, move, cancel ------------------------------------------------------------------


def _booking_line(pack: ContentPack, booking: Booking, slot: Slot) -> str:
    return f"{when_text(slot)} {window_name(pack, booking.window_id)}({MODES.get(slot.mode, '')})"


@intent("change_booking")
def manage(turn: Turn) -> list[Reply]:
    pack = load_pack()
    held = bookings.future_bookings(turn.session, turn.resident, turn.now)
    if not held:
        return [Reply(pack.text("booking_none_held"),
                      [QuickReply(pack.text("booking_button_book"),
                                  text=pack.text("booking_button_start"))])]
    text = turn.inbound.text or ""
    if len(held) == 1:
        booking = held[0]
        if _WANTS_CANCEL.search(text):
            return _ask_cancel(turn, [str(booking.id)])
        if _WANTS_MOVE.search(text):
            return _move(turn, [str(booking.id)])
        slot = turn.session.get(Slot, booking.slot_id)
        return [Reply(pack.text("booking_held") + f"\n{describe(pack, slot)}", [
            _button("booking_button_move", encode(FLOW, "move", booking.id)),
            _button("booking_button_cancel", encode(FLOW, "cancel", booking.id)),
            _button("booking_button_keep", encode(FLOW, "keep")),
        ])]
    lines, buttons = [pack.text("booking_held")], []
    for number, booking in enumerate(held, start=1):
        slot = turn.session.get(Slot, booking.slot_id)
        lines.append(f"{number}. {_booking_line(pack, booking, slot)}")
        buttons += [
            _button("booking_button_move_n", encode(FLOW, "move", booking.id), number=number),
            _button("booking_button_cancel_n", encode(FLOW, "cancel", booking.id),
                    number=number),
        ]
    keep = _button("booking_button_keep", encode(FLOW, "keep"))
    return [Reply("\n".join(lines), [*buttons, keep])]


def _owned(turn: Turn, args: list[str]) -> Booking | None:
    booking_id = _ints(args[:1])[0] if args else None
    if booking_id is None:
        return None
    booking = bookings.owned_booking(turn.session, turn.resident, booking_id)
    return booking if booking is not None and booking.status == "booked" else None


def _ask_cancel(turn: Turn, args: list[str]) -> list[Reply]:
    booking = _owned(turn, args)
    if booking is None:
        return [Reply(_t("booking_cancel_not_found"), [_check_button()])]
    slot = turn.session.get(Slot, booking.slot_id)
    return [Reply(_t("booking_ask_cancel", when=when_text(slot)), [
        _button("booking_button_cancel", encode(FLOW, "cancelok", booking.id)),
        _button("booking_button_dont_cancel", encode(FLOW, "keep")),
    ])]


def _cancel_ok(turn: Turn, args: list[str]) -> list[Reply]:
    booking = _owned(turn, args)
    if booking is None or not bookings.cancel_booking(
        turn.session, booking, now=turn.now, by="resident"
    ):
        return [Reply(_t("booking_already_cancelled"))]
    slot = turn.session.get(Slot, booking.slot_id)
    return [Reply(_t("booking_cancelled", when=when_text(slot)),
                  [_button("booking_button_rebook", encode(FLOW, "win", booking.window_id))])]


def _move(turn: Turn, args: list[str]) -> list[Reply]:
    booking = _owned(turn, args)
    if booking is None:
        return [Reply(_t("booking_move_not_found"), [_check_button()])]
    slot = turn.session.get(Slot, booking.slot_id)
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    state.data = {"nickname": booking.nickname, "callback": booking.callback,
                  "phone": booking.contact_phone}  # what the resident said carries over
    return offer_slots(turn, booking.window_id, booking.id,
                       intro=_t("booking_move_intro", when=when_text(slot)))


def _keep(turn: Turn, args: list[str]) -> list[Reply]:
    return [Reply(_t("booking_kept"))]


_ACTIONS = {
    "win": _win, "more": _more, "slot": _slot, "pick": _pick, "ok": _ok, "name": _name,
    "cb": _callback, "back": _back_to_confirm, "stop": _stop, "cancel": _ask_cancel,
    "cancelok": _cancel_ok, "move": _move, "keep": _keep,
}


# -- typed answers while booking ----------------------------------------------------------


def _normal(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


@flow(FLOW)
def on_text(turn: Turn) -> list[Reply] | None:
    analysis = turn.analysis
    if analysis is not None and analysis.urgent:
        return None  # safety first, always; the booking waits (its buttons keep working)
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    text = _normal(turn.inbound.text or "")
    data = dict(state.data)
    move = data.get("move")
    if _STOP.match(text) and len(text) <= 12:
        return _stop(turn, [])
    if state.step == "name" and text:
        state.data = {**data, "nickname": (turn.inbound.text or "").strip()[:NICKNAME_MAX]}
        return _back_to_confirm(turn, [str(data.get("slot")), *([str(move)] if move else [])])
    if state.step == "phone":
        return _phone_answer(turn, data)
    if analysis is not None and analysis.when and (ask := ask_am_pm(turn)) is not None:
        return ask
    if analysis is not None and analysis.when and data.get("window"):
        ranges = [(r.start, r.end) for r in analysis.when]
        return slots_for_wish(turn, data["window"], ranges, move)
    if analysis is not None and analysis.when and state.step == "window":
        return start(turn)  # remembers the wished time, asks for the window again
    if state.step == "confirm" and _YES.match(text) and data.get("slot"):
        return do_book(turn, int(data["slot"]), move)
    if analysis is not None and analysis.intent == "change_booking":
        conversation.clear(state, turn.now)
        return manage(turn)
    if analysis is not None and analysis.intent == "book":
        if data.get("window"):  # asked again mid-way: carry on where we were
            return offer_slots(turn, data["window"], move, intro=_t("booking_continue"))
        return start(turn)
    return None  # not a booking answer: let the rest of the bot reply; state stays


def _phone_answer(turn: Turn, data: dict) -> list[Reply]:
    found = _PHONE.search(unicodedata.normalize("NFKC", turn.inbound.text or "").replace("ー", "-"))
    move = data.get("move")
    args = [str(data.get("slot")), *([str(move)] if move else [])]
    if found is None:
        return [Reply(_t("booking_phone_unreadable"),
                      [_button("booking_button_use_line", encode(FLOW, "cb", "line", *args))])]
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    state.data = {**data, "callback": "phone", "phone": found.group(0)}
    return _back_to_confirm(turn, args)


# -- messages the scheduler and staff send --------------------------------------------------


def reminder_replies(session: Session, booking: Booking, now: datetime) -> list[Reply]:
    pack = load_pack()
    slot = session.get(Slot, booking.slot_id)
    today = local(now).date()
    day = local(slot.starts_at).date()
    relative = {0: pack.text("booking_reminder_today"),
                1: pack.text("booking_reminder_tomorrow")}.get((day - today).days,
                                                             day_text(slot.starts_at))
    text = pack.text("booking_reminder", day=relative,
                     time=f"{local(slot.starts_at):%H:%M}") + f"\n{describe(pack, slot)}"
    details = BookingDetails(callback=booking.callback, contact_phone=booking.contact_phone)
    if note := mode_note(pack, slot, details.callback):
        text += f"\n{note}"
    text += "\n" + pack.text("booking_reminder_after")
    return [Reply(text, [_check_button(),
                         _button("booking_button_want_cancel",
                                 encode(FLOW, "cancel", booking.id))])]


def slot_cancelled_replies(session: Session, booking: Booking, slot: Slot) -> list[Reply]:
    name = window_name(load_pack(), slot.window_id)
    text = _t("booking_slot_withdrawn", when=when_text(slot), window=name)
    return [Reply(text, [_button("booking_button_choose_other",
                                 encode(FLOW, "win", slot.window_id))])]


def notify_cancelled(
    session: Session, cancelled: list[Booking], slot: Slot, *, now: datetime,
    staff_id: int | None = None,
) -> int:
    """Tell each resident whose booking staff withdrew (outbox: sent after commit)."""
    sent = 0
    for booking in cancelled:
        resident = session.get(Resident, booking.resident_id)
        if resident is None or not resident.active:
            continue
        outbox.enqueue(session, resident, slot_cancelled_replies(session, booking, slot),
                       now=now, sender="staff" if staff_id else "system", staff_id=staff_id,
                       case_id=booking.case_id)
        sent += 1
    return sent


def cancel_slot_and_notify(
    session: Session, slot_id: int, *, reason: str, now: datetime, staff_id: int | None = None
) -> int:
    """Withdraw a slot and message the residents booked in it; returns how many were told."""
    cancelled = bookings.cancel_slot(session, slot_id, now=now, reason=reason)
    slot = session.get(Slot, slot_id)
    return notify_cancelled(session, cancelled, slot, now=now, staff_id=staff_id) if slot else 0


def close_day_and_notify(
    session: Session, *, window_id: str, day: date, reason: str, now: datetime,
    staff_id: int | None = None,
) -> int:
    """Mark a closed day; its open slots are withdrawn and their residents told."""
    _, slots = bookings.add_closed_day(session, window_id=window_id, day=day, reason=reason,
                                       now=now, staff_id=staff_id)
    return sum(cancel_slot_and_notify(session, s.id, reason=reason, now=now, staff_id=staff_id)
               for s in slots)
