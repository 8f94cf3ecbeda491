"""Data at rest: every column that can hold a resident's words or personal data is
encrypted; a scan of the raw database after a conversation with a name and a phone number
(and after deletion) finds neither; abandoned flow state is swept; the migration encrypts
rows written before it."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import JSON, LargeBinary, String, Text, create_engine, select, text

from storage.models import Base, ConversationState
from storage.retention import RetentionPolicy, purge
from storage.types import EncryptedJSON, EncryptedText
from tests.booking.conftest import add_slot, tokyo

# Plain text/JSON columns, each with why it can hold neither a resident's words nor
# personal data. A new plain column fails the test below until it is encrypted or added
# here with its reason.
CODE = "a code or status from a fixed vocabulary"
KEY = "an opaque key, id or token reference (HMAC pseudonym, uuid, Slack ts)"
ALIAS = "the pseudonymous alias staff see (replaced on deletion)"
STAFF = "set by staff about the service, not about a resident"
ERROR = "an error class or API status, never message text (bot/worker.py logs the same)"
PLAIN_ALLOWED: dict[str, str] = {
    **{c: CODE for c in (
        "inbound_events.channel", "inbound_events.event_type", "inbound_events.status",
        "residents.channel", "residents.language", "staff_users.role",
        "booking_availabilities.weekdays", "booking_availabilities.start_time",
        "booking_availabilities.end_time", "booking_availabilities.mode",
        "cases.topics", "cases.priority", "cases.status", "cases.opened_reason", "cases.about",
        "cases.consent", "cases.outcome", "conversation_states.flow", "conversation_states.step",
        "outbox.channel", "outbox.status", "outbox.priority", "outbox.sent_via", "audit_log.action",
        "booking_slots.mode", "booking_slots.status", "case_notifications.kind",
        "case_notifications.status", "checkin_enrolments.status",
        "checkin_enrolments.schedule_kind", "checkin_enrolments.weekdays",
        "checkin_enrolments.anchor_date", "checkin_enrolments.at_time",
        "checkin_enrolments.quiet_start", "checkin_enrolments.quiet_end",
        "checkin_enrolments.supporter_role", "messages.direction", "messages.sender",
        "messages.kind", "referrals.status", "bookings.status", "bookings.callback",
        "bookings.cancelled_by", "checkins.status", "checkins.answer",
        "cases.risk", "safety_checks.answer", "safety_checks.topics",
    )},
    **{c: "a window id from the content pack" for c in (
        "booking_calendar_feeds.window_id", "booking_availabilities.window_id",
        "booking_closed_days.window_id", "cases.window_id", "booking_slots.window_id",
        "referrals.window_id", "bookings.window_id",
    )},
    **{c: KEY for c in (
        "inbound_events.event_id", "inbound_events.resident_key", "residents.resident_key",
        "login_attempts.ip_key", "slack_events.event_key", "outbox.resident_key",
        "outbox.idempotency_key", "checkins.idempotency_key", "slack_posts.channel",
        "slack_posts.ts", "slack_threads.channel", "slack_threads.ts",
        "inbound_events.claimed_by", "outbox.claimed_by", "case_notifications.claimed_by",
        "staff_users.slack_user_id", "staff_users.password_hash",
    )},
    **{c: ALIAS for c in ("residents.alias", "cases.resident_alias", "audit_log.resident_alias",
                          "checkin_enrolments.resident_alias", "bookings.resident_alias")},
    **{c: ERROR for c in ("inbound_events.error", "outbox.last_error",
                          "case_notifications.last_error")},
    "staff_users.username": "a staff account, not a resident",
    "staff_users.display_name": "a staff member's name as colleagues see it",
    "booking_availabilities.location": STAFF,
    "booking_slots.location": STAFF,
    "booking_closed_days.reason": STAFF + " (研修, 臨時休業)",
    "booking_slots.cancel_reason": STAFF + " (why a slot was withdrawn)",
    "bookings.cancel_reason": STAFF + " (copied from the withdrawn slot)",
    "audit_log.detail": "what staff did: counts, codes and window ids (storage/audit.py)",
    "content_versions.status": CODE,
    "content_versions.origin": CODE,
    "content_versions.fingerprint": KEY,
    "content_versions.edited_by": "staff ids",
    "content_versions.payload": "the content pack: public answers and windows, no resident",
    "content_versions.note": STAFF + " (why a pack version was edited)",
}


def plain_text_columns() -> set[str]:
    found = set()
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, EncryptedText | EncryptedJSON):
                continue
            if isinstance(column.type, String | Text | JSON | LargeBinary):
                found.add(f"{table.name}.{column.name}")
    return found


def test_every_plain_text_column_is_on_the_allow_list_with_a_reason():
    unexplained = plain_text_columns() - set(PLAIN_ALLOWED)
    assert not unexplained, f"encrypt these, or allow them with a reason: {sorted(unexplained)}"
    assert not set(PLAIN_ALLOWED) - plain_text_columns(), "allow-list names a gone column"


def test_the_columns_the_review_found_are_encrypted():
    columns = {f"{t.name}.{c.name}": c.type for t in Base.metadata.sorted_tables
               for c in t.columns}
    for name in ("cases.urgent_reason", "cases.topic_evidence", "messages.analysis",
                 "conversation_states.data", "residents.district", "bookings.nickname",
                 "bookings.contact_phone", "checkin_enrolments.consent_by"):
        assert isinstance(columns[name], EncryptedText | EncryptedJSON), name


# -- a raw scan after a real conversation ----------------------------------------------

NAME, PHONE = "やまだはなこ", "090-4321-8765"
SECRETS = (NAME, PHONE, "借金", "桜山")


def raw_database_text(db) -> str:
    """Everything the database holds, as its own storage shows it: the SQLite file and
    its write-ahead log as bytes; on PostgreSQL, every row of every table as text."""
    if db.backend == "sqlite":
        path = Path(db.engine.url.database)
        blobs = [p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists()]
        return "\n".join(b.decode("utf-8", "replace") for b in blobs)
    rows = []
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows += [r[0] for r in connection.execute(
                text(f"SELECT CAST(t AS text) FROM {table.name} t"))]
    return "\n".join(rows)


def test_a_raw_scan_finds_no_name_or_phone_during_a_booking_or_after_deletion(
        chat, svc, db, fake_line):
    chat.worker.clock.now = tokyo(2027, 6, 2, 10)
    with svc.factory() as session, session.begin():
        slot = add_slot(session, tokyo(2027, 6, 3, 10)).id
    chat.say("桜山に住んでいます。借金があって家賃が払えません")
    chat.say("予約したい")
    chat.tap("booking:win:east_center")
    chat.tap(f"booking:slot:{slot}")
    label_data = {a["label"]: a.get("data") for a in chat.buttons()}
    chat.tap(label_data["お名前を伝える"])
    chat.say(NAME)
    label_data = {a["label"]: a.get("data") for a in chat.buttons()}
    chat.tap(label_data["電話で連絡がほしい"])
    assert any(PHONE in t for t in chat.say(f"{PHONE} です"))
    with svc.factory() as session:  # mid-flow: the state holds both, readable by the app
        state = session.scalars(select(ConversationState)).one()
        assert NAME in str(state.data) and PHONE in str(state.data)
    raw = raw_database_text(db)
    assert [s for s in SECRETS if s in raw] == []

    chat.say("データを消したい")
    chat.tap("delete:yes")
    raw = raw_database_text(db)
    assert [s for s in SECRETS if s in raw] == []


# -- abandoned flow state ------------------------------------------------------------------


def test_abandoned_flow_state_is_swept(chat, svc):
    chat.say("予約したい")
    now = chat.worker.clock()
    with svc.factory() as session, session.begin():
        state = session.scalars(select(ConversationState)).one()
        state.data = {"nickname": NAME, "phone": PHONE}
        state.updated_at = now - timedelta(hours=25)
    report = purge(svc.factory, now, RetentionPolicy(flow_state_hours=24))
    assert report.flow_states_deleted == 1
    with svc.factory() as session:
        assert session.scalars(select(ConversationState)).all() == []


def test_flow_state_retention_is_a_setting():
    assert RetentionPolicy.from_env({"FLOW_STATE_RETENTION_HOURS": "6"}).flow_state_hours == 6
    assert RetentionPolicy.from_env({}).flow_state_hours == 24


# -- the migration encrypts rows written before it ------------------------------------------


@pytest.fixture
def old_database(database, tmp_path):
    """A database at the revision before 0003_channels (SQLite or a fresh PostgreSQL
    schema), with plain rows as the old code wrote them."""
    from tests.conftest import _postgres_engine

    if database.backend == "postgresql":
        schema = f"mig_{uuid.uuid4().hex[:10]}"
        engine = _postgres_engine(schema)
    else:
        engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    yield engine
    if database.backend == "postgresql":
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def test_the_migration_encrypts_existing_rows(old_database):
    from alembic import command

    from storage.migrate import alembic_config
    from storage.privacy import DELETED_ALIAS  # noqa: F401 (the app's models import cleanly)

    config = alembic_config(old_database)
    command.upgrade(config, "0001")
    with old_database.begin() as conn:
        conn.execute(text(
            "INSERT INTO residents (id, resident_key, alias, channel, active, language,"
            " district, created_at, last_seen_at) VALUES (1, 'k', 'R-AAAA', 'line', true,"
            " 'ja', '桜山', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        conn.execute(text(
            "INSERT INTO cases (id, resident_id, resident_alias, topics, topic_evidence,"
            " priority, status, opened_reason, urgent_reason, about, consent,"
            " watch_requested, created_at) VALUES (1, 1, 'R-AAAA', '[\"debt\"]',"
            " '{\"debt\": [\"借金\"]}', 'urgent', 'new', 'urgent', '死にたいと記載', 'self',"
            " 'unknown', false, CURRENT_TIMESTAMP)"))
        conn.execute(text(
            "INSERT INTO conversation_states (resident_id, flow, step, data, not_understood,"
            " updated_at) VALUES (1, 'booking', 'phone', :data, 0, CURRENT_TIMESTAMP)"),
            {"data": '{"nickname": "やまだ", "phone": "090-1111-2222"}'})
    command.upgrade(config, "head")
    with old_database.connect() as conn:
        raw = conn.execute(text("SELECT district FROM residents")).scalar()
        assert b"\xe6\xa1\x9c" not in bytes(raw)  # 桜 is not there in UTF-8
    from sqlalchemy.orm import Session

    from storage.models import Case, Resident
    with Session(old_database) as session:
        assert session.get(Resident, 1).district == "桜山"
        case = session.get(Case, 1)
        assert case.topic_evidence == {"debt": ["借金"]}
        assert case.urgent_reason == "死にたいと記載"
        assert session.get(ConversationState, 1).data["phone"] == "090-1111-2222"
    command.downgrade(config, "0001")
    with old_database.connect() as conn:
        assert conn.execute(text("SELECT urgent_reason FROM cases")).scalar() == "死にたいと記載"
