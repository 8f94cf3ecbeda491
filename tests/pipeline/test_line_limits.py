"""What LINE refuses never blocks a resident: limits are applied when the message is built
(counted in UTF-16 units, as LINE counts), and a row that cannot be built is recorded as
failed while the resident's later messages are delivered."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.channels.line import to_line_message
from handlers.replies import DatetimePicker, QuickReply, Reply, clip, utf16_len
from storage import outbox, residents
from storage.crypto import resident_key
from storage.db import transaction
from storage.models import Outbox

USER = "U" + "7" * 32


def queue(svc, clock, *replies: Reply) -> None:
    with transaction(svc.factory) as session:
        who = residents.get_or_create(session, resident_key=resident_key("line", USER),
                                      channel="line", user_id=USER, now=clock())
        for reply in replies:  # one row each, in order
            outbox.enqueue(session, who, [reply], now=clock())


def test_a_row_line_would_refuse_fails_and_the_next_one_is_delivered(
        svc, worker, fake_line, clock):
    poison = Reply("どれにしますか", [QuickReply("長すぎる", data="faq:" + "x" * 300)])
    queue(svc, clock, poison, Reply("次のお知らせです"))
    worker.deliver()
    assert fake_line.texts_to(USER) == ["次のお知らせです"]
    with svc.factory() as session:
        first, second = session.scalars(select(Outbox).order_by(Outbox.id)).all()
    assert first.status == "failed" and "postback data" in first.last_error
    assert second.status == "sent"
    assert fake_line.attempts == 1  # the refused row was never sent to LINE


def test_a_row_that_cannot_be_read_back_fails_without_blocking(svc, worker, fake_line, clock):
    queue(svc, clock, Reply("壊れる"), Reply("届きます"))
    with transaction(svc.factory) as session:
        row = session.scalars(select(Outbox).order_by(Outbox.id)).first()
        row.messages = [{"no text": True}]
    worker.deliver()
    assert fake_line.texts_to(USER) == ["届きます"]


def test_a_date_picker_after_twelve_buttons_is_kept_within_thirteen():
    buttons = [QuickReply(f"{h}時", data=f"booking:slot:{h}") for h in range(8, 22)]  # 14
    picker = DatetimePicker("ほかの日時", data="booking:pick", mode="datetime")
    message = to_line_message(Reply("空いている時間です", buttons, [picker]))
    items = message.quick_reply.items
    assert len(items) == 13
    assert items[-1].action.type == "datetimepicker"


def test_limits_are_counted_in_utf16_units_as_line_counts():
    assert utf16_len("相談") == 2 and utf16_len("😀") == 2
    label = clip("😀" * 11, 20)  # 22 units: LINE would refuse it
    assert utf16_len(label) <= 20 and label.endswith("…")
    message = to_line_message(Reply("😀" * 2600, [QuickReply("🙂" * 15, text="はい")]))
    assert utf16_len(message.text) <= 5000
    assert utf16_len(message.quick_reply.items[0].action.label) <= 20


def test_clipping_never_splits_a_surrogate_pair():
    assert clip("a😀b", 3) == "a…"  # 😀 (two units) does not fit beside the ellipsis


def test_the_content_pack_refuses_ids_too_long_for_a_button():
    import pydantic

    from handlers.content.schema import FaqEntry

    entry = {"question": "質問", "answer": "答え", "category": "c"}
    assert FaqEntry(id="kaigo_01", **entry).id == "kaigo_01"
    for bad in ("x" * 65, "スペース を含む"):
        with pytest.raises(pydantic.ValidationError):
            FaqEntry(id=bad, **entry)
    with pytest.raises(pydantic.ValidationError):
        FaqEntry(id="long_question", **{**entry, "question": "あ" * 301})
