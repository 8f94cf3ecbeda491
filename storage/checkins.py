"""見守り check-ins: enrolments, their schedules, and the durable occurrence rows.

Times are stored in UTC and computed in Asia/Tokyo. An enrolment keeps a cursor — the next
scheduled slot (`next_due_at`) and when it may be sent after quiet hours (`next_send_at`) —
derived from its schedule; the send sweep reads that cursor, never the scheduler's memory.
Each sent or missed slot becomes one `Checkin` row, unique per (enrolment, slot), written in
the same transaction as its outbox row, so a slot is sent at most once whatever restarts.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from sqlalchemy import Select, and_, select, update
from sqlalchemy.orm import Session

from common.clock import TOKYO, WEEKDAYS
from storage.models import Checkin, CheckinEnrolment, Message, Resident

OPEN = ("sent", "reminded")  # the ladder still acts on these
# Late but still worth sending: within this grace, or later the same day (before the next).
LATE_GRACE = timedelta(hours=1)
MAX_MISSED_ROWS = 62  # after a very long outage, older missed slots are only counted
LADDER_WITHIN = timedelta(hours=24)  # the whole ladder ends within a day of the send
ANSWERS = ("ok", "uneasy", "talk", "unwell", "urgent", "message")
KEY_NAMESPACE = uuid.UUID("5b0f6f8e-3c1d-4f0a-9e57-6d2a4b8c1e90")


class CheckinError(ValueError):
    """An enrolment request that does not make sense; the message is for staff."""


# -- schedule ------------------------------------------------------------------------


def parse_hhmm(value: str) -> time:
    try:
        hour, minute = (int(part) for part in value.strip().split(":"))
        return time(hour, minute)
    except (ValueError, TypeError) as exc:
        raise CheckinError(f"時刻は「10:00」の形で入力してください（{value!r}）。") from exc


@dataclass(frozen=True)
class Schedule:
    """Weekly on some weekdays (0 = Monday), or every N days from a start date; at a time."""

    at: time
    weekdays: tuple[int, ...] = ()
    every_days: int | None = None
    start: date | None = None

    @staticmethod
    def weekly(weekdays: Sequence[int], at: time) -> Schedule:
        days = tuple(sorted(set(weekdays)))
        if not days or any(d not in range(7) for d in days):
            raise CheckinError("曜日を1つ以上選んでください。")
        return Schedule(at=at, weekdays=days)

    @staticmethod
    def every(days: int, at: time, start: date) -> Schedule:
        if not 1 <= days <= 62:
            raise CheckinError("間隔は1〜62日で指定してください。")
        return Schedule(at=at, every_days=days, start=start)

    def matches(self, day: date) -> bool:
        if self.every_days:
            assert self.start is not None
            return day >= self.start and (day - self.start).days % self.every_days == 0
        return day.weekday() in self.weekdays

    def next_after(self, moment: datetime) -> datetime:
        """The first slot strictly after `moment` (aware, UTC)."""
        day = moment.astimezone(TOKYO).date()
        if self.start and day < self.start:
            day = self.start
        for offset in range(400):
            candidate_day = day + timedelta(days=offset)
            if not self.matches(candidate_day):
                continue
            slot = datetime.combine(candidate_day, self.at, tzinfo=TOKYO)
            if slot > moment:
                return slot.astimezone(UTC)
        raise CheckinError("スケジュールから次の日時を決められません。")

    def describe(self) -> str:
        clock = f"{self.at.hour}時" + (f"{self.at.minute}分" if self.at.minute else "")
        if self.every_days:
            return "毎日" + clock if self.every_days == 1 else f"{self.every_days}日ごと{clock}"
        if len(self.weekdays) == 7:
            return "毎日" + clock
        return "毎週" + "・".join(WEEKDAYS[d] for d in self.weekdays) + "曜 " + clock


@dataclass(frozen=True)
class QuietHours:
    """Local hours when nothing is sent to the resident; may wrap midnight (21:00–08:00)."""

    start: time
    end: time

    def contains(self, moment: datetime) -> bool:
        local = moment.astimezone(TOKYO).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def shift(self, moment: datetime) -> datetime:
        """`moment`, or the end of the quiet hours it falls in."""
        if not self.contains(moment):
            return moment
        local = moment.astimezone(TOKYO)
        end = datetime.combine(local.date(), self.end, tzinfo=TOKYO)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(UTC)


DEFAULT_QUIET = QuietHours(time(21, 0), time(8, 0))


@dataclass(frozen=True)
class Ladder:
    """No answer after `remind_after` → a gentle reminder (none when zero); after
    `escalate_after` more → an escalation case for staff."""

    remind_after: timedelta = timedelta(hours=3)
    escalate_after: timedelta = timedelta(hours=3)

    def __post_init__(self) -> None:
        if self.remind_after < timedelta(0) or self.escalate_after <= timedelta(0):
            raise CheckinError("エスカレーションまでの時間は正の値にしてください。")
        if self.remind_after + self.escalate_after > LADDER_WITHIN:
            raise CheckinError("再送とエスカレーションは合わせて24時間以内にしてください。")


@dataclass(frozen=True)
class Supporter:
    """A named person the coordinator may call (e.g. 民生委員); staff-only."""

    name: str
    role: str = "民生委員"
    phone: str | None = None


@dataclass(frozen=True)
class EnrolmentView:
    """The schedule parts of an enrolment as value objects."""

    schedule: Schedule
    quiet: QuietHours | None
    ladder: Ladder = field(default_factory=Ladder)


def view(enrolment: CheckinEnrolment) -> EnrolmentView:
    return _view(enrolment.schedule_kind, tuple(enrolment.weekdays or ()),
                 enrolment.interval_days, enrolment.anchor_date, enrolment.at_time,
                 enrolment.quiet_start, enrolment.quiet_end, enrolment.remind_after_minutes,
                 enrolment.escalate_after_minutes)


@lru_cache(maxsize=1024)  # a sweep meets the same few schedules thousands of times
def _view(kind: str, weekdays: tuple[int, ...], every_days: int | None, anchor: str | None,
          at_time: str, quiet_start: str | None, quiet_end: str | None, remind: int,
          escalate: int) -> EnrolmentView:
    at = parse_hhmm(at_time)
    if kind == "interval":
        schedule = Schedule(at=at, every_days=every_days,
                            start=date.fromisoformat(anchor or "2000-01-01"))
    else:
        schedule = Schedule(at=at, weekdays=weekdays)
    quiet = None
    if quiet_start and quiet_end:
        quiet = QuietHours(parse_hhmm(quiet_start), parse_hhmm(quiet_end))
    ladder = Ladder(timedelta(minutes=remind), timedelta(minutes=escalate))
    return EnrolmentView(schedule, quiet, ladder)


def shift_quiet(quiet: QuietHours | None, moment: datetime) -> datetime:
    return quiet.shift(moment) if quiet else moment


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


# -- enrolment -----------------------------------------------------------------------


def enrol(
    session: Session,
    resident: Resident,
    schedule: Schedule,
    *,
    consent_by: str,
    consent_at: datetime,
    now: datetime,
    quiet: QuietHours | None = DEFAULT_QUIET,
    ladder: Ladder | None = None,
    supporter: Supporter | None = None,
    staff_id: int | None = None,
    case_id: int | None = None,
) -> CheckinEnrolment:
    """Enrol a household (or update its current enrolment). Consent is required."""
    if not consent_by.strip():
        raise CheckinError("同意された方を記録してください。")
    if consent_at.tzinfo is None:
        raise CheckinError("consent_at must be timezone-aware")
    if quiet and quiet.contains(datetime.combine(date(2024, 1, 1), schedule.at, tzinfo=TOKYO)):
        raise CheckinError("お声がけの時刻が、送らない時間帯（夜間など）に入っています。")
    ladder = ladder or Ladder()
    enrolment = current_enrolment(session, resident.id)
    if enrolment is None:
        enrolment = CheckinEnrolment(resident_id=resident.id, resident_alias=resident.alias,
                                     created_at=now)
        session.add(enrolment)
    enrolment.status = "active"
    enrolment.pause_reason = enrolment.paused_until = None
    enrolment.schedule_kind = "interval" if schedule.every_days else "weekly"
    enrolment.weekdays = list(schedule.weekdays)
    enrolment.interval_days = schedule.every_days
    enrolment.anchor_date = schedule.start.isoformat() if schedule.start else None
    enrolment.at_time = _hhmm(schedule.at)
    enrolment.quiet_start = _hhmm(quiet.start) if quiet else None
    enrolment.quiet_end = _hhmm(quiet.end) if quiet else None
    enrolment.remind_after_minutes = int(ladder.remind_after.total_seconds() // 60)
    enrolment.escalate_after_minutes = int(ladder.escalate_after.total_seconds() // 60)
    if supporter is not None:
        set_supporter(enrolment, supporter)
    enrolment.consent_by = consent_by.strip()[:64]
    enrolment.consent_at = consent_at
    enrolment.enrolled_by_staff_id = staff_id or enrolment.enrolled_by_staff_id
    enrolment.case_id = case_id or enrolment.case_id
    _reschedule(enrolment, now)
    session.flush()
    return enrolment


def set_supporter(enrolment: CheckinEnrolment, supporter: Supporter | None) -> None:
    if supporter is None or not supporter.name.strip():
        enrolment.supporter_name = enrolment.supporter_role = enrolment.supporter_phone = None
        return
    enrolment.supporter_name = supporter.name.strip()
    enrolment.supporter_role = supporter.role.strip()[:32] or None
    enrolment.supporter_phone = (supporter.phone or "").strip() or None


def change_schedule(session: Session, enrolment: CheckinEnrolment, schedule: Schedule,
                    now: datetime) -> None:
    enrolment.schedule_kind = "interval" if schedule.every_days else "weekly"
    enrolment.weekdays = list(schedule.weekdays)
    enrolment.interval_days = schedule.every_days
    enrolment.anchor_date = schedule.start.isoformat() if schedule.start else None
    enrolment.at_time = _hhmm(schedule.at)
    if enrolment.status == "active":
        _reschedule(enrolment, now)


def _reschedule(enrolment: CheckinEnrolment, now: datetime) -> None:
    """Point the cursor at the first slot after `now` (past slots are not owed)."""
    parts = view(enrolment)
    slot = parts.schedule.next_after(now)
    enrolment.next_due_at = slot
    enrolment.next_send_at = shift_quiet(parts.quiet, slot)
    enrolment.updated_at = now


def current_enrolment(session: Session, resident_id: int) -> CheckinEnrolment | None:
    return session.scalar(
        select(CheckinEnrolment)
        .where(CheckinEnrolment.resident_id == resident_id, CheckinEnrolment.status != "ended")
        .order_by(CheckinEnrolment.id.desc()).limit(1)
    )


def pause(session: Session, enrolment: CheckinEnrolment, reason: str, now: datetime,
          until: date | None = None) -> None:
    """Send nothing (入院中, 旅行 …) until resumed, or until the start of `until` (Tokyo)."""
    if enrolment.status == "ended":
        raise CheckinError("終了した見守りは休止できません。")
    enrolment.status = "paused"
    enrolment.pause_reason = (reason.strip() or "休止")[:32]
    enrolment.paused_until = (
        datetime.combine(until, time(0), tzinfo=TOKYO).astimezone(UTC) if until else None
    )
    enrolment.next_due_at = enrolment.next_send_at = None
    enrolment.updated_at = now
    _close_open(session, enrolment.id, "cancelled", f"休止: {enrolment.pause_reason}")


def resume(session: Session, enrolment: CheckinEnrolment, now: datetime) -> None:
    if enrolment.status != "paused":
        return
    enrolment.status = "active"
    enrolment.pause_reason = enrolment.paused_until = None
    _reschedule(enrolment, now)


def end(session: Session, enrolment: CheckinEnrolment, reason: str, now: datetime) -> None:
    enrolment.status = "ended"
    enrolment.end_reason = (reason.strip() or "終了")[:64]
    enrolment.ended_at = now
    enrolment.next_due_at = enrolment.next_send_at = None
    enrolment.updated_at = now
    _close_open(session, enrolment.id, "cancelled", f"終了: {enrolment.end_reason}")


def _close_open(session: Session, enrolment_id: int, status: str, note: str) -> None:
    session.execute(
        update(Checkin)
        .where(Checkin.enrolment_id == enrolment_id, Checkin.status.in_(OPEN))
        .values(status=status, action_at=None, note=note)
        .execution_options(synchronize_session="fetch")
    )


def resume_due(session: Session, now: datetime) -> int:
    """Pauses that ran until today end: the enrolment picks up from its next slot."""
    due = list(session.scalars(
        select(CheckinEnrolment)
        .where(CheckinEnrolment.status == "paused", CheckinEnrolment.paused_until <= now)
        .with_for_update(skip_locked=True)
    ))
    for enrolment in due:
        resume(session, enrolment, now)
    return len(due)


# -- occurrences ---------------------------------------------------------------------


def occurrence_key(enrolment_id: int, due_at: datetime, step: str = "checkin") -> str:
    """Stable per slot and step, a UUID as LINE wants for X-Line-Retry-Key."""
    slot = due_at.astimezone(UTC).isoformat()
    return str(uuid.uuid5(KEY_NAMESPACE, f"{enrolment_id}:{slot}:{step}"))


def due_enrolments(session: Session, now: datetime, limit: int) -> list[CheckinEnrolment]:
    """Active enrolments whose next send time has come, locked for this sweep."""
    return list(session.scalars(
        select(CheckinEnrolment)
        .where(CheckinEnrolment.status == "active", CheckinEnrolment.next_send_at <= now)
        .order_by(CheckinEnrolment.next_send_at, CheckinEnrolment.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ))


@dataclass
class Plan:
    """What to do with one due enrolment now."""

    send_slot: datetime | None = None  # the slot to send now
    missed: list[datetime] = field(default_factory=list)  # slots that passed unsent
    uncounted_missed: int = 0
    wait_until: datetime | None = None  # due, but inside quiet hours: send then


def plan(enrolment: CheckinEnrolment, now: datetime) -> Plan:
    """Decide from the schedule alone: the newest slot still meaningful is sent (once), the
    ones it supersedes are recorded as missed — never silently dropped, never all sent."""
    parts = view(enrolment)
    slot, send_at = enrolment.next_due_at, enrolment.next_send_at
    assert slot is not None and send_at is not None
    result = Plan()
    missed: list[datetime] = []
    following = parts.schedule.next_after(slot)
    following_send = shift_quiet(parts.quiet, following)
    while following_send <= now:
        missed.append(slot)
        slot, send_at = following, following_send
        following = parts.schedule.next_after(slot)
        following_send = shift_quiet(parts.quiet, following)
    if parts.quiet and parts.quiet.contains(now) and _meaningful(send_at, now):
        # Late into quiet hours: wait for the morning, then judge again.
        result.wait_until = parts.quiet.shift(now)
    elif _meaningful(send_at, now):
        result.send_slot = slot
    else:
        missed.append(slot)
    result.uncounted_missed = max(0, len(missed) - MAX_MISSED_ROWS)
    result.missed = missed[-MAX_MISSED_ROWS:]
    if result.wait_until is None:
        enrolment.next_due_at, enrolment.next_send_at = following, following_send
    else:
        enrolment.next_send_at = result.wait_until
    return result


def _meaningful(send_at: datetime, now: datetime) -> bool:
    same_day = send_at.astimezone(TOKYO).date() == now.astimezone(TOKYO).date()
    return same_day or now - send_at <= LATE_GRACE


def first_action_at(enrolment: CheckinEnrolment, sent_at: datetime) -> datetime:
    parts = view(enrolment)
    if parts.ladder.remind_after:
        return shift_quiet(parts.quiet, sent_at + parts.ladder.remind_after)
    return sent_at + parts.ladder.escalate_after


def escalate_at(enrolment: CheckinEnrolment, sent_at: datetime, reminded_at: datetime
                ) -> datetime:
    parts = view(enrolment)
    return max(reminded_at, min(reminded_at + parts.ladder.escalate_after,
                                sent_at + LADDER_WITHIN))


def open_for_ladder(session: Session, now: datetime, limit: int) -> list[Checkin]:
    return list(session.scalars(
        select(Checkin)
        .where(Checkin.status.in_(OPEN), Checkin.action_at <= now)
        .order_by(Checkin.action_at, Checkin.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ))


def replied_query() -> Select[tuple[int]]:
    """Ids of open check-ins whose resident has written since they were sent."""
    return (
        select(Checkin.id)
        .join(Message, and_(Message.resident_id == Checkin.resident_id,
                            Message.direction == "in", Message.created_at >= Checkin.sent_at))
        .where(Checkin.status.in_(OPEN))
    )


def replied_since_sent(session: Session, checkins: Sequence[Checkin]
                       ) -> dict[int, list[dict | None]]:
    """For each check-in, the labels of messages its resident wrote after it was sent
    (any word back means the person is reachable, whatever flow answered it)."""
    if not checkins:
        return {}
    ids = [c.id for c in checkins]
    rows = session.execute(
        select(Checkin.id, Message.analysis)
        .join(Message, and_(Message.resident_id == Checkin.resident_id,
                            Message.direction == "in", Message.created_at >= Checkin.sent_at))
        .where(Checkin.id.in_(ids))
    )
    found: dict[int, list[dict | None]] = {}
    for checkin_id, labels in rows:
        found.setdefault(checkin_id, []).append(labels)
    return found


def open_checkin(session: Session, resident_id: int, now: datetime) -> Checkin | None:
    """The newest unanswered check-in a typed reply would be answering (within a day)."""
    return session.scalar(
        select(Checkin)
        .where(Checkin.resident_id == resident_id,
               Checkin.status.in_((*OPEN, "escalated")),
               Checkin.answer.is_(None),
               Checkin.sent_at >= now - LADDER_WITHIN)
        .order_by(Checkin.id.desc()).limit(1)
        .with_for_update()
    )


def record_answer(checkin: Checkin, answer: str, now: datetime) -> bool:
    """Record the first answer; False when it was already answered."""
    if answer not in ANSWERS:
        raise ValueError(f"unknown answer {answer!r}")
    if checkin.answer is not None:
        return False
    checkin.answer, checkin.answered_at = answer, now
    if checkin.status in OPEN:
        checkin.status = "replied" if answer == "message" else "answered"
        checkin.action_at = None
    return True


def recent(session: Session, enrolment_id: int, limit: int = 10) -> list[Checkin]:
    return list(session.scalars(
        select(Checkin).where(Checkin.enrolment_id == enrolment_id)
        .order_by(Checkin.due_at.desc()).limit(limit)
    ))


def recent_many(session: Session, enrolment_ids: set[int], limit: int, since: datetime
                ) -> dict[int, list[Checkin]]:
    """The newest `limit` check-ins of each enrolment since a date (one query per batch)."""
    if not enrolment_ids:
        return {}
    rows = session.scalars(
        select(Checkin)
        .where(Checkin.enrolment_id.in_(enrolment_ids), Checkin.due_at >= since)
        .order_by(Checkin.enrolment_id, Checkin.due_at.desc())
    )
    found: dict[int, list[Checkin]] = {}
    for row in rows:
        kept = found.setdefault(row.enrolment_id, [])
        if len(kept) < limit:
            kept.append(row)
    return found


# -- the staff view ------------------------------------------------------------------

STATE_LABELS = {
    "waiting": "返答待ち", "answered": "返答あり", "concern": "返答あり（要連絡）",
    "replied": "メッセージあり", "escalated": "エスカレーション", "missed": "未送信",
    "cancelled": "中止",
}
ANSWER_LABELS = {
    "ok": "元気です", "uneasy": "少し不安", "talk": "話したい", "unwell": "体調がすぐれない",
    "urgent": "緊急", "message": "メッセージ",
}


def state_of(checkin: Checkin) -> str:
    """One word for staff: waiting, answered, concern, replied, escalated, missed, cancelled."""
    if checkin.status == "escalated":
        return "escalated"
    if checkin.status in OPEN:
        return "waiting"
    if checkin.status == "answered":
        return "answered" if checkin.answer == "ok" else "concern"
    return checkin.status


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=TOKYO)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def between(session: Session, start: datetime, end: datetime) -> list[Checkin]:
    return list(session.scalars(
        select(Checkin).where(Checkin.due_at >= start, Checkin.due_at < end)
        .order_by(Checkin.due_at, Checkin.id)
    ))


def enrolments(session: Session, include_ended: bool = False) -> list[CheckinEnrolment]:
    query = select(CheckinEnrolment).order_by(CheckinEnrolment.resident_alias)
    if not include_ended:
        query = query.where(CheckinEnrolment.status != "ended")
    return list(session.scalars(query))
