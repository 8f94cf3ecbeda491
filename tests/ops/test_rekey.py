"""Key rotation: every encrypted column is re-encrypted under the new first key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Column, LargeBinary, MetaData, String, Table, select, text

from storage import crypto, residents
from storage.db import transaction
from storage.models import (
    Case,
    CaseNote,
    ConversationState,
    InboundEvent,
    Message,
    Outbox,
    Resident,
    utcnow,
)
from storage.rekey import encrypted_columns, rotate_all
from tests.conftest import _KEYS, install_test_keys

OLD = _KEYS["encryption"]


@pytest.fixture
def new_key() -> Iterator[str]:
    yield Fernet.generate_key().decode()
    install_test_keys()  # tests below switch the process's key ring


def fill(svc) -> None:
    """One row in each encrypted table, written under the old key."""
    now = utcnow()
    with transaction(svc.factory) as session:
        who = residents.get_or_create(session, resident_key=crypto.resident_key("line", "U1"),
                                      channel="line", user_id="U" + "1" * 32, now=now)
        session.add(InboundEvent(channel="line", event_id="e1", event_type="message",
                                 resident_key=who.resident_key, payload={"text": "秘密"},
                                 received_at=now, status="done", attempts=1))
        who.district = "桜山"
        session.add(Message(resident_id=who.id, direction="in", sender="resident",
                            text="相談です", masked_text="相談です", created_at=now,
                            analysis={"topics": [{"id": "debt", "evidence": ["借金"]}]}))
        session.add(ConversationState(resident_id=who.id, flow="booking", step="phone",
                                      data={"phone": "090-0000-0000"}, not_understood=0,
                                      updated_at=now))
        session.add(Outbox(resident_id=who.id, resident_key=who.resident_key, channel="line",
                           idempotency_key="k1", messages=[{"text": "はい"}],
                           reply_token="tok", status="pending", attempts=0,
                           next_attempt_at=now, created_at=now))
        case = Case(resident_id=who.id, resident_alias=who.alias, priority="high",
                    opened_reason="urgent", summary="要約", urgent_reason="「死にたい」",
                    topic_evidence={"debt": ["借金"]}, created_at=now)
        session.add(case)
        session.flush()
        session.add(CaseNote(case_id=case.id, text="メモ", created_at=now))


def raw_tokens(svc) -> list[tuple[str, bytes]]:
    found = []
    with svc.engine.connect() as connection:
        for table, columns in encrypted_columns().items():
            for column in columns:
                rows = connection.execute(
                    text(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL"))
                found += [(f"{table}.{column}", bytes(value)) for (value,) in rows]
    return found


def opens_with(key: str, token: bytes) -> bool:
    try:
        Fernet(key.encode()).decrypt(token)
        return True
    except InvalidToken:
        return False


def test_encrypted_columns_are_discovered_from_the_models():
    found = encrypted_columns()
    assert set(found["residents"]) == {"channel_user_id", "district"}
    assert found["inbound_events"] == ["payload"]
    assert {"text", "masked_text"} <= set(found["messages"])
    assert set(found["outbox"]) == {"messages", "reply_token"}
    assert {"summary", "urgent_reason", "topic_evidence"} <= set(found["cases"])
    # the safety triage's reason and evidence quote the resident (issue 11, issue 12)
    assert "risk_reason" in found["cases"]
    assert set(found["safety_checks"]) == {"evidence", "analysis"}
    assert found["case_notes"] == ["text"]
    assert "analysis" in found["messages"] and found["conversation_states"] == ["data"]
    assert "checkin_enrolments" in found  # another layer's table, found by type


def test_a_table_added_later_is_covered_without_a_list_to_update():
    from storage.types import EncryptedText

    metadata = MetaData()
    Table("future_notes", metadata, Column("id", String, primary_key=True),
          Column("body", EncryptedText), Column("plain", LargeBinary))
    assert encrypted_columns(metadata) == {"future_notes": ["body"]}


def test_every_value_ends_up_under_the_first_key_and_still_reads_the_same(svc, new_key):
    fill(svc)
    before = raw_tokens(svc)
    assert len(before) >= 8 and all(opens_with(OLD, t) for _, t in before)
    report = rotate_all(svc.engine, [new_key, OLD])
    after = raw_tokens(svc)
    assert report.total_rotated == len(before) and report.total_unreadable == 0
    assert all(opens_with(new_key, t) and not opens_with(OLD, t) for _, t in after)
    crypto.configure([new_key], _KEYS["pseudonym"])  # the old key can now be retired
    with svc.factory() as session:
        who = session.scalars(select(Resident)).one()
        assert who.channel_user_id == "U" + "1" * 32
        assert session.scalars(select(InboundEvent)).one().payload == {"text": "秘密"}
        assert session.scalars(select(Message)).one().text == "相談です"
        assert session.scalars(select(CaseNote)).one().text == "メモ"


def test_rotating_twice_rewrites_nothing(svc, new_key):
    fill(svc)
    rotate_all(svc.engine, [new_key, OLD])
    tokens = raw_tokens(svc)
    again = rotate_all(svc.engine, [new_key, OLD])
    assert again.total_rotated == 0 and again.already_current == len(tokens)
    assert raw_tokens(svc) == tokens


def test_small_batches_cover_every_row(svc, new_key):
    fill(svc)
    with transaction(svc.factory) as session:
        who = session.scalars(select(Resident)).one()
        for n in range(7):
            session.add(Message(resident_id=who.id, direction="out", sender="bot",
                                text=f"返信{n}", masked_text=None, created_at=utcnow()))
    report = rotate_all(svc.engine, [new_key, OLD], batch_size=2)
    assert report.rotated["messages.text"] == 8
    assert all(opens_with(new_key, t) for _, t in raw_tokens(svc))


def test_a_value_no_key_opens_is_reported_not_destroyed(svc, new_key):
    fill(svc)
    stranger = Fernet.generate_key().decode()
    rotate = rotate_all(svc.engine, [stranger])  # as if ENCRYPTION_KEYS lost the old keys
    assert rotate.total_rotated == 0 and rotate.total_unreadable == len(raw_tokens(svc))
    assert all(opens_with(OLD, t) for _, t in raw_tokens(svc))
