"""A second municipality rewords everything through its content pack: with the sample pack
(a fictitious town), the conversation says nothing about 逗子."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from handlers.content import load_pack, use_pack
from handlers.postback import encode
from handlers.replies import Reply
from storage import checkins
from storage.models import Checkin, Slot
from tests.unit.conftest import OFFICE_HOURS, Talk

PACKS = Path(__file__).resolve().parents[2] / "handlers" / "content" / "packs"


@pytest.fixture
def sample_pack() -> Iterator[None]:
    use_pack("sample")  # what bot.services does with CONTENT_PACK=sample
    try:
        yield
    finally:
        use_pack("zushi")


def everything_said(replies: list[Reply]) -> list[str]:
    """The texts, and every button label and text a resident would read."""
    out = []
    for reply in replies:
        out.append(reply.text)
        for button in [*reply.quick_replies, *reply.pickers]:
            out += [v for v in (getattr(button, "label", None), getattr(button, "text", None))
                    if v]
    return out


def conversation(session) -> list[str]:
    """A representative run through every flow that talks to residents."""
    said: list[str] = []
    talk = Talk(session, OFFICE_HOURS)
    said += everything_said(talk.follows())
    said += everything_said(talk.says("こんにちは", intent="greeting"))
    said += everything_said(talk.taps(encode("menu", "faq")))
    said += everything_said(talk.taps(encode("faq", "center_where")))
    said += everything_said(talk.says("母の介護のことで相談したい", topics=("elderly_care",)))
    said += everything_said(talk.says("青葉2丁目です"))
    said += everything_said(talk.says("お金もなくて、子どものことも", topics=(
        "living_hardship", "child_parenting")))
    said += everything_said(talk.says("ほげほげ", intent="greeting"))
    said += everything_said(talk.says("人と話したい", intent="human"))
    said += everything_said(talk.says("母が倒れて動かない", urgent_kind="medical"))
    # Booking: a slot at the sample's northern centre, booked, checked, cancelled.
    slot = Slot(window_id="north_center", starts_at=OFFICE_HOURS + timedelta(days=2),
                ends_at=OFFICE_HOURS + timedelta(days=2, minutes=45), mode="visit_office",
                capacity=1, booked=0, status="open", created_at=OFFICE_HOURS)
    session.add(slot)
    session.flush()
    booker = Talk(session, OFFICE_HOURS, user="U" + "c" * 32)
    said += everything_said(booker.says("予約したい", intent="book"))
    said += everything_said(booker.taps(encode("booking", "win", "north_center")))
    said += everything_said(booker.taps(encode("booking", "slot", slot.id)))
    said += everything_said(booker.taps(encode("booking", "ok", slot.id)))
    said += everything_said(booker.says("予約を確認", intent="change_booking"))
    said += everything_said(booker.says("キャンセルしたい", intent="change_booking"))
    # 見守り: enrolling, a check-in answered.
    watched = Talk(session, OFFICE_HOURS, user="U" + "d" * 32)
    said += everything_said(watched.says("見守りを申し込みたい"))
    said += everything_said(watched.taps(encode("checkin", "enrol", "yes")))
    enrolment = checkins.current_enrolment(session, watched.resident.id)
    checkin = Checkin(enrolment_id=enrolment.id, resident_id=watched.resident.id,
                      due_at=OFFICE_HOURS, status="sent", sent_at=OFFICE_HOURS,
                      created_at=OFFICE_HOURS)
    session.add(checkin)
    session.flush()
    said += everything_said(watched.taps(encode("checkin", "uneasy", checkin.id)))
    said += everything_said(watched.says("データを消したい", intent="delete_data"))
    return said


def test_the_sample_pack_is_complete():
    default, sample = load_pack("zushi"), load_pack("sample")
    assert set(default.copy_) <= set(sample.copy_), "the sample must reword every message"
    assert set(default.labels) <= set(sample.labels), "and every button"
    assert "sample" in sample.meta.id and "サンプル" in sample.meta.municipality


def test_with_the_sample_pack_no_reply_mentions_zushi(session, sample_pack):
    said = conversation(session)
    assert len(said) > 40  # the run reached every flow
    assert not [text for text in said if "逗子" in text]
    assert any("みどり町" in text for text in said)


def test_the_same_conversation_with_the_default_pack_does_mention_zushi(session):
    # The check above can fail: the default pack's replies do name the town.
    assert any("逗子" in text for text in conversation(session))


def test_every_pack_rewords_every_message():
    default = load_pack("zushi")
    for directory in PACKS.iterdir():
        if (directory / "pack.toml").exists():
            pack = load_pack(directory.name)
            assert set(default.copy_) <= set(pack.copy_), directory.name
            assert set(default.labels) <= set(pack.labels), directory.name
