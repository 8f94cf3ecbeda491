"""Booking from LINE, end to end: webhook → worker → real NLU → flow → fake LINE API."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage import bookings
from storage.db import transaction
from storage.models import Case, Resident
from storage.models.booking import Booking, Slot
from tests.booking.conftest import NOW, add_resident, add_slot, tokyo
from tests.conftest import line_event, post_events

pytest.importorskip("nlu")

USER = "U5555555555555555555555555555555"


@pytest.fixture
def chat(client, worker, clock, fake_line, svc):
    clock.now = NOW
    return Chat(client, worker, fake_line, svc)


class Chat:
    """A resident on LINE: says things, taps buttons, reads the bot's last answer."""

    def __init__(self, client, worker, fake_line, svc) -> None:
        self.client, self.worker, self.line, self.svc = client, worker, fake_line, svc

    def say(self, text: str) -> str:
        return self._send(line_event("text", user=USER, text=text))

    def tap(self, data: str, params: dict[str, str] | None = None) -> str:
        return self._send(line_event("postback", user=USER, data=data, params=params))

    def tap_label(self, label: str) -> str:
        return self.tap(self.buttons()[label])

    def _send(self, event: dict) -> str:
        before = len(self.line.calls)
        assert post_events(self.client, event).status_code == 200
        self.worker.drain()
        return "\n".join(t for c in self.line.calls[before:] for t in c.texts)

    def last_message(self) -> dict:
        return self.line.calls[-1].messages[-1]

    def buttons(self) -> dict[str, str]:
        """Quick replies of the last message: label → postback data (or text)."""
        items = self.last_message().get("quickReply", {}).get("items", [])
        return {i["action"]["label"]: i["action"].get("data") or i["action"].get("text")
                for i in items}

    def pickers(self) -> list[dict]:
        items = self.last_message().get("quickReply", {}).get("items", [])
        return [i["action"] for i in items if i["action"]["type"] == "datetimepicker"]

    def bookings(self) -> list[Booking]:
        with self.svc.factory() as s:
            return list(s.scalars(select(Booking).order_by(Booking.id)))


def _slots(svc, *starts, capacity=1, window="east_center") -> list[int]:
    with transaction(svc.factory) as s:
        return [add_slot(s, start, capacity=capacity, window=window).id for start in starts]


def _slot_data(chat: Chat) -> dict[str, str]:
    return {k: v for k, v in chat.buttons().items() if v and v.startswith("booking:slot:")}


def test_quick_reply_path_books_the_chosen_slot(chat, svc):
    first, second = _slots(svc, tokyo(2027, 6, 3, 10), tokyo(2027, 6, 3, 13))
    answer = chat.say("予約したい")
    assert "窓口" in answer and "booking:win:east_center" in chat.buttons().values()
    answer = chat.tap("booking:win:east_center")
    assert "東部地域包括支援センター" in answer
    assert list(_slot_data(chat)) == ["6/3(木) 10:00", "6/3(木) 13:00"]
    answer = chat.tap(f"booking:slot:{second}")
    assert "次の内容でご予約します" in answer and "6月3日(木) 13:00〜13:45" in answer
    assert "方法: 来所" in answer
    answer = chat.tap_label("予約する")
    assert "ご予約を承りました" in answer
    [booking] = chat.bookings()
    assert booking.slot_id == second and booking.status == "booked"
    with svc.factory() as s:
        assert s.get(Slot, second).booked == 1 and s.get(Slot, first).booked == 0


def test_datetime_picker_answer_is_matched_to_a_slot_and_confirmed_by_typing(chat, svc):
    [slot] = _slots(svc, tokyo(2027, 6, 8, 13))
    chat.say("予約したい")
    chat.tap("booking:win:east_center")
    [picker] = chat.pickers()
    assert picker["data"] == "booking:pick:east_center" and picker["mode"] == "datetime"
    assert picker["initial"] == "2027-06-08T13:00"
    answer = chat.tap(picker["data"], params={"datetime": "2027-06-08T13:00"})
    assert "6月8日(火) 13:00" in answer and "よろしいですか" in answer
    answer = chat.say("はい、お願いします")
    assert "ご予約を承りました" in answer
    assert [b.slot_id for b in chat.bookings()] == [slot]


def test_picker_time_without_a_slot_offers_the_nearest(chat, svc):
    _slots(svc, tokyo(2027, 6, 8, 10), tokyo(2027, 6, 9, 15))
    chat.say("予約したい")
    chat.tap("booking:win:east_center")
    answer = chat.tap("booking:pick:east_center", params={"datetime": "2027-06-08T11:30"})
    assert "空きがありませんでした" in answer
    assert "6/8(火) 10:00" in _slot_data(chat)
    assert chat.bookings() == []


def test_free_text_date_is_resolved_through_nlu_when(chat, svc):
    _, afternoon, later = _slots(
        svc, tokyo(2027, 6, 8, 10), tokyo(2027, 6, 8, 13), tokyo(2027, 6, 8, 14, 30))
    chat.say("予約したい")
    chat.tap("booking:win:east_center")
    answer = chat.say("来週の火曜の午後")
    assert "ご希望の時間帯で空いているのはこちら" in answer
    assert list(_slot_data(chat).values()) == [f"booking:slot:{afternoon}",
                                               f"booking:slot:{later}"]
    answer = chat.say("6/8の14時半")
    assert "6月8日(火) 14:30〜15:15" in answer and "よろしいですか" in answer
    chat.tap_label("予約する")
    assert [b.slot_id for b in chat.bookings()] == [later]


def test_optional_name_and_callback_number_are_asked_only_when_offered(chat, svc):
    [slot] = _slots(svc, tokyo(2027, 6, 3, 10))
    chat.say("予約したい")
    chat.tap("booking:win:east_center")
    chat.tap(f"booking:slot:{slot}")
    assert "お名前やお電話番号は、なくても大丈夫です" in chat.line.all_texts()[-1]
    chat.tap_label("お名前を伝える")
    answer = chat.say("やまだ")
    assert "お名前: やまだ" in answer
    chat.tap_label("電話で連絡がほしい")
    answer = chat.say("090-1234-5678 です")
    assert "ご連絡: お電話 090-1234-5678" in answer
    chat.tap_label("予約する")
    [booking] = chat.bookings()
    assert (booking.nickname, booking.callback, booking.contact_phone) == (
        "やまだ", "phone", "090-1234-5678")


def test_a_slot_taken_while_choosing_gets_a_clear_message_and_alternatives(chat, svc):
    contested, spare = _slots(svc, tokyo(2027, 6, 3, 10), tokyo(2027, 6, 3, 13))
    chat.say("予約したい")
    chat.tap("booking:win:east_center")
    chat.tap(f"booking:slot:{contested}")
    with transaction(svc.factory) as s:  # someone else is faster
        other = add_resident(s)
        bookings.book(s, slot_id=contested, resident=other, now=NOW)
    answer = chat.tap_label("予約する")
    assert "ちょうどほかの方のご予約で埋まってしまいました" in answer
    assert list(_slot_data(chat).values()) == [f"booking:slot:{spare}"]
    assert [b.slot_id for b in chat.bookings()] == [contested]  # only the other resident's


def test_check_change_and_cancel_from_the_chat(chat, svc):
    first, second = _slots(svc, tokyo(2027, 6, 3, 10), tokyo(2027, 6, 4, 10))
    chat.say("予約したい")
    chat.tap("booking:win:east_center")
    chat.tap(f"booking:slot:{first}")
    chat.tap_label("予約する")
    [booking] = chat.bookings()

    answer = chat.say("予約を確認")
    assert "ご予約は次のとおりです" in answer and "6月3日(木) 10:00" in answer
    answer = chat.tap_label("時間を変える")
    assert "変更します" in answer
    answer = chat.tap(f"booking:slot:{second}:{booking.id}")
    assert "次の日時に変更します" in answer
    answer = chat.tap_label("予約する")
    assert "ご予約を変更しました" in answer and "6月4日(金) 10:00" in answer
    old, new = chat.bookings()
    assert old.status == "cancelled" and new.status == "booked" and new.slot_id == second

    answer = chat.say("キャンセルしたい")
    assert "6月4日(金) 10:00〜10:45のご予約をキャンセルしますか" in answer
    answer = chat.tap_label("キャンセルする")
    assert "キャンセルしました" in answer
    assert [b.status for b in chat.bookings()] == ["cancelled", "cancelled"]
    with svc.factory() as s:
        assert s.get(Slot, first).booked == 0 and s.get(Slot, second).booked == 0
    assert "ご予約はありません" in chat.say("予約を確認")


def test_another_residents_booking_cannot_be_cancelled_by_forged_postback(chat, svc):
    [slot] = _slots(svc, tokyo(2027, 6, 3, 10))
    with transaction(svc.factory) as s:
        theirs = bookings.book(s, slot_id=slot, resident=add_resident(s), now=NOW).id
    chat.say("こんにちは")
    answer = chat.tap(f"booking:cancelok:{theirs}")
    assert "キャンセルされています" in answer
    assert [b.status for b in chat.bookings()] == ["booked"]


def test_two_future_bookings_is_the_limit(chat, svc):
    slots = _slots(svc, tokyo(2027, 6, 3, 10), tokyo(2027, 6, 4, 10), tokyo(2027, 6, 7, 10))
    for slot in slots[:2]:
        chat.tap(f"booking:slot:{slot}")
        chat.tap_label("予約する")
    assert "2件までお受けしています" in chat.say("予約したい")
    chat.tap(f"booking:slot:{slots[2]}")
    assert "2件までお受けしています" in chat.tap(f"booking:ok:{slots[2]}")
    assert len(chat.bookings()) == 2


def test_an_urgent_message_mid_booking_gets_the_safety_path_and_booking_resumes(chat, svc):
    [slot] = _slots(svc, tokyo(2027, 6, 3, 10))
    chat.say("予約したい")
    chat.tap("booking:win:east_center")
    answer = chat.say("もう死にたい")
    assert "ご都合のよい日時" not in answer and "予約" not in answer
    with svc.factory() as s:
        case = s.scalars(select(Case)).one()
        assert case.priority == "urgent"
    answer = chat.say("予約したい")
    assert "ご予約の続きです" in answer
    chat.tap(f"booking:slot:{slot}")
    chat.tap_label("予約する")
    [booking] = chat.bookings()
    with svc.factory() as s:  # the booking shows on the resident's case
        assert s.get(Case, case.id).booking_id == booking.id


def test_stopping_midway_books_nothing(chat, svc):
    [slot] = _slots(svc, tokyo(2027, 6, 3, 10))
    chat.say("予約したい")
    chat.tap("booking:win:east_center")
    chat.tap(f"booking:slot:{slot}")
    assert "やめました" in chat.say("やめる")
    assert chat.bookings() == []


def test_the_district_centre_is_suggested_first(chat, svc):
    chat.say("こんにちは")
    with transaction(svc.factory) as s:
        s.scalars(select(Resident)).one().district = "久木"
    answer = chat.say("予約したい")
    assert "逗子市西部地域包括支援センターがおすすめです" in answer
    assert list(chat.buttons().values())[0] == "booking:win:west_center"


def test_a_time_said_with_the_request_is_used_once_the_window_is_chosen(chat, svc):
    _, wished = _slots(svc, tokyo(2027, 6, 3, 13), tokyo(2027, 6, 8, 14))
    chat.say("来週の火曜の午後に予約したい")
    answer = chat.tap("booking:win:east_center")
    assert "6月8日(火) 14:00〜14:45" in answer and "よろしいですか" in answer
    chat.tap_label("予約する")
    assert [b.slot_id for b in chat.bookings()] == [wished]
