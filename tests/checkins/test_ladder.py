"""The check-in and its ladder, end to end through the outbox, the worker and fake LINE:
schedule, fire, reply, no reply → reminder → escalation case; restarts; pause; quiet hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from bot.worker import Worker
from common.clock import TOKYO
from scheduler.jobs.checkins import run_sweep
from storage import checkins as store
from storage.db import transaction
from storage.models import Case, CaseNote, Checkin, CheckinEnrolment, Outbox
from tests.checkins.conftest import USER, enrol, get_enrolment, make_resident, sweep, tokyo
from tests.conftest import line_event, post_events


def _checkins(svc) -> list[Checkin]:
    with svc.factory() as session:
        return list(session.scalars(select(Checkin).order_by(Checkin.due_at)))


def _buttons(call) -> list[str]:
    return [i["action"]["data"] for i in call.messages[-1]["quickReply"]["items"]]


def _press(client, worker, data: str) -> None:
    post_events(client, line_event("postback", user=USER, data=data))
    worker.drain()


def _cases(svc) -> list[Case]:
    with svc.factory() as session:
        return list(session.scalars(select(Case)))


def test_nothing_is_sent_before_the_scheduled_time(svc, worker, fake_line, clock):
    enrol(svc, clock, make_resident(svc, clock))
    clock.now = tokyo(2, 9, 59)
    sweep(svc, clock)
    worker.deliver()
    assert fake_line.calls == [] and _checkins(svc) == []


def test_at_the_time_the_resident_gets_one_warm_message_with_three_answers(
        svc, worker, fake_line, clock):
    enrol(svc, clock, make_resident(svc, clock))
    clock.now = tokyo(2, 10) + timedelta(seconds=20)
    assert sweep(svc, clock).sent == 1
    worker.deliver()
    [call] = fake_line.calls
    [checkin] = _checkins(svc)
    assert call.kind == "push" and call.to == USER
    assert "お変わりありませんか" in call.texts[0]
    assert _buttons(call) == [f"checkin:{a}:{checkin.id}" for a in ("ok", "uneasy", "talk")]
    assert call.retry_key == checkin.idempotency_key == store.occurrence_key(
        checkin.enrolment_id, tokyo(2, 10))


def test_genki_desu_is_recorded_and_stops_the_ladder(svc, client, worker, fake_line, clock):
    enrol(svc, clock, make_resident(svc, clock))
    clock.now = tokyo(2, 10)
    sweep(svc, clock)
    worker.deliver()
    [checkin] = _checkins(svc)
    clock.advance(minutes=20)
    _press(client, worker, f"checkin:ok:{checkin.id}")
    assert "安心しました" in fake_line.calls[-1].texts[0]
    clock.advance(hours=8)
    result = sweep(svc, clock)
    worker.deliver()
    assert (result.reminded, result.escalated) == (0, 0)
    [checkin] = _checkins(svc)
    assert (checkin.status, checkin.answer) == ("answered", "ok")
    assert _cases(svc) == []


def test_pressing_twice_records_one_answer(svc, client, worker, fake_line, clock):
    enrol(svc, clock, make_resident(svc, clock))
    clock.now = tokyo(2, 10)
    sweep(svc, clock)
    worker.deliver()
    [checkin] = _checkins(svc)
    _press(client, worker, f"checkin:ok:{checkin.id}")
    _press(client, worker, f"checkin:uneasy:{checkin.id}")
    assert _checkins(svc)[0].answer == "ok" and _cases(svc) == []
    assert "もう届いています" in fake_line.calls[-1].texts[0]


def test_sukoshi_fuan_opens_a_high_priority_checkin_case(svc, client, worker, fake_line, clock):
    enrol(svc, clock, make_resident(svc, clock))
    clock.now = tokyo(2, 10)
    sweep(svc, clock)
    worker.deliver()
    [checkin] = _checkins(svc)
    _press(client, worker, f"checkin:uneasy:{checkin.id}")
    [case] = _cases(svc)
    assert (case.opened_reason, case.priority, case.status) == ("checkin", "high", "new")
    assert _checkins(svc)[0].case_id == case.id
    assert "相談員にお伝えしました" in fake_line.calls[-1].texts[0]


def test_another_residents_answer_button_does_not_count(svc, client, worker, fake_line, clock):
    enrol(svc, clock, make_resident(svc, clock))
    clock.now = tokyo(2, 10)
    sweep(svc, clock)
    worker.deliver()
    [checkin] = _checkins(svc)
    other = "U6666666666666666666666666666666"
    post_events(client, line_event("postback", user=other, data=f"checkin:talk:{checkin.id}"))
    worker.drain()
    assert _checkins(svc)[0].answer is None and _cases(svc) == []


def test_no_answer_gets_one_gentle_reminder_then_an_escalation_case(
        svc, worker, fake_line, clock):
    resident_id = make_resident(svc, clock)
    enrol(svc, clock, resident_id,
          supporter=store.Supporter("山田 花子", "民生委員", "046-000-1234"))
    clock.now = tokyo(2, 10)
    sweep(svc, clock)
    worker.deliver()
    clock.now = tokyo(2, 12, 59)
    assert sweep(svc, clock).reminded == 0
    clock.now = tokyo(2, 13, 0)
    assert sweep(svc, clock).reminded == 1
    worker.deliver()
    assert "ご覧になれましたか" in fake_line.calls[-1].texts[0]
    clock.now = tokyo(2, 15, 59)
    assert sweep(svc, clock).escalated == 0
    clock.now = tokyo(2, 16, 0)
    assert sweep(svc, clock).escalated == 1
    worker.deliver()
    assert len(fake_line.calls) == 2  # the coordinator calls; nothing more to the resident
    [case] = _cases(svc)
    assert (case.opened_reason, case.priority) == ("checkin", "high")
    assert "046-000-1234" in case.summary and "民生委員 山田 花子" in case.summary
    with svc.factory() as session:
        [note] = session.scalars(select(CaseNote).where(CaseNote.case_id == case.id))
    assert "返答がありません" in note.text and "再送" in note.text
    [checkin] = _checkins(svc)
    assert (checkin.status, checkin.case_id) == ("escalated", case.id)
    clock.advance(days=1)
    assert sweep(svc, clock).escalated == 0  # once


def test_escalation_note_carries_the_recent_history(svc, client, worker, fake_line, clock):
    enrol(svc, clock, make_resident(svc, clock))
    clock.now = tokyo(2, 10)
    sweep(svc, clock)
    worker.deliver()
    _press(client, worker, f"checkin:ok:{_checkins(svc)[0].id}")
    clock.now = tokyo(5, 10)  # Thursday: no answer this time
    sweep(svc, clock)
    clock.now = tokyo(5, 16)
    sweep(svc, clock)
    clock.now = tokyo(5, 19)
    sweep(svc, clock)
    [case] = _cases(svc)
    assert "6/2(月) 10:00 返答あり（元気です）" in case.summary


def test_the_ladder_timings_are_set_per_enrolment(svc, worker, fake_line, clock):
    enrol(svc, clock, make_resident(svc, clock),
          ladder=store.Ladder(timedelta(0), timedelta(hours=1)))  # no reminder, 1 hour
    clock.now = tokyo(2, 10)
    sweep(svc, clock)
    clock.now = tokyo(2, 11)
    result = sweep(svc, clock)
    assert (result.reminded, result.escalated) == (0, 1)


def test_a_late_answer_after_escalation_is_noted_on_the_case(svc, client, worker, fake_line,
                                                            clock):
    enrol(svc, clock, make_resident(svc, clock))
    for moment in (tokyo(2, 10), tokyo(2, 13), tokyo(2, 16)):
        clock.now = moment
        sweep(svc, clock)
    worker.deliver()
    clock.now = tokyo(2, 17)
    _press(client, worker, f"checkin:ok:{_checkins(svc)[0].id}")
    [case] = _cases(svc)
    with svc.factory() as session:
        notes = [n.text for n in session.scalars(
            select(CaseNote).where(CaseNote.case_id == case.id))]
    assert any("後に「元気です」" in n for n in notes)
    assert _checkins(svc)[0].status == "escalated" and _checkins(svc)[0].answer == "ok"


def test_any_message_after_the_checkin_counts_as_a_reply(svc, client, worker, fake_line, clock):
    def analyze(text, now):
        from nlu.analysis import Analysis

        return Analysis(text=text, intent="consult")

    enrol(svc, clock, make_resident(svc, clock))
    clock.now = tokyo(2, 10)
    sweep(svc, clock)
    chatty = Worker(svc.factory, svc.channels, clock=clock, analyze=analyze)
    clock.now = tokyo(2, 11)
    post_events(client, line_event("text", user=USER, text="ゴミの出し方を教えて"))
    chatty.drain()
    clock.now = tokyo(2, 13)
    result = sweep(svc, clock)
    assert (result.settled, result.reminded) == (1, 0)
    assert _checkins(svc)[0].status == "replied"


# -- restarts -----------------------------------------------------------------------


def test_a_slot_is_sent_once_however_often_the_sweep_runs(svc, worker, fake_line, clock):
    enrol(svc, clock, make_resident(svc, clock))
    clock.now = tokyo(2, 10)
    for _ in range(3):
        sweep(svc, clock)
        clock.advance(seconds=30)
    worker.deliver()
    assert len(fake_line.calls) == 1 and len(_checkins(svc)) == 1


def test_a_crash_before_commit_sends_nothing_and_the_restart_sends_once(
        svc, worker, fake_line, clock, monkeypatch):
    import scheduler.jobs.checkins as job

    enrol(svc, clock, make_resident(svc, clock))
    clock.now = tokyo(2, 10)

    def crash(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(job.outbox, "enqueue_batch", crash)
    with pytest.raises(RuntimeError):
        sweep(svc, clock)
    assert _checkins(svc) == []
    monkeypatch.undo()
    clock.advance(minutes=2)
    assert sweep(svc, clock).sent == 1
    worker.deliver()
    assert len(fake_line.calls) == 1


def test_a_crash_after_commit_before_delivery_delivers_once_on_restart(
        svc, worker, fake_line, clock):
    enrol(svc, clock, make_resident(svc, clock))
    clock.now = tokyo(2, 10)
    sweep(svc, clock)  # committed, then the process died before the worker sent it
    clock.advance(minutes=5)
    sweep(svc, clock)  # the restarted scheduler owes nothing more
    Worker(svc.factory, svc.channels, clock=clock, worker_id="restarted").deliver()
    assert len(fake_line.calls) == 1


def test_a_push_resent_after_a_lost_answer_reaches_line_once(svc, worker, fake_line, clock):
    enrol(svc, clock, make_resident(svc, clock))
    clock.now = tokyo(2, 10)
    sweep(svc, clock)
    worker.deliver()
    with transaction(svc.factory) as session:  # LINE got it, but we never recorded "sent"
        send = session.scalars(select(Outbox)).one()
        send.status, send.lease_until = "sending", clock() - timedelta(seconds=1)
    clock.advance(minutes=2)
    worker.deliver()
    assert len(fake_line.calls) == 1
    with svc.factory() as session:
        assert session.scalars(select(Outbox.status)).one() == "sent"


def test_scheduler_down_at_the_time_sends_on_restart_and_the_ladder_starts_then(
        svc, worker, fake_line, clock):
    enrol(svc, clock, make_resident(svc, clock))
    clock.now = tokyo(2, 14)  # down from 09:30 to 14:00
    assert sweep(svc, clock).sent == 1
    [checkin] = _checkins(svc)
    assert checkin.due_at == tokyo(2, 10) and checkin.sent_at == tokyo(2, 14)
    assert checkin.action_at == tokyo(2, 17)


def test_scheduler_down_for_days_records_missed_slots_and_sends_only_todays(
        svc, worker, fake_line, clock):
    enrol(svc, clock, make_resident(svc, clock))
    clock.now = tokyo(9, 10, 5)
    result = sweep(svc, clock)
    worker.deliver()
    assert (result.sent, result.missed) == (1, 2)
    assert [(c.due_at, c.status) for c in _checkins(svc)] == [
        (tokyo(2, 10), "missed"), (tokyo(5, 10), "missed"), (tokyo(9, 10), "sent")]
    assert len(fake_line.calls) == 1


def test_the_apscheduler_job_runs_the_sweep_with_the_process_services(svc, clock):
    from scheduler import context, runner
    from scheduler.jobs import checkins as job

    assert ("checkins", "scheduler.jobs.checkins:sweep", job.SWEEP_SECONDS) in runner.SWEEPS
    assert runner.JOB_DEFAULTS["coalesce"] is True
    clock.now = datetime.now(UTC) - timedelta(minutes=2)  # the job reads the real clock
    slot = (clock.now + timedelta(minutes=1)).astimezone(TOKYO)
    enrol(svc, clock, make_resident(svc, clock), weekdays=range(7),
          at=time(slot.hour, slot.minute), quiet=None)
    context.install(svc)
    job.sweep()
    assert [c.status for c in _checkins(svc)] == ["sent"]


# -- pause, end, quiet hours ---------------------------------------------------------


def test_a_paused_enrolment_sends_nothing_and_resumes_on_its_date(svc, worker, fake_line, clock):
    enrolment_id = enrol(svc, clock, make_resident(svc, clock))
    with transaction(svc.factory) as session:
        store.pause(session, session.get(CheckinEnrolment, enrolment_id), "入院中", clock(),
                    until=date(2025, 6, 9))
    for day in (2, 5):
        clock.now = tokyo(day, 10)
        assert sweep(svc, clock).sent == 0
    clock.now = tokyo(9, 0, 1)
    assert sweep(svc, clock).resumed == 1
    clock.now = tokyo(9, 10)
    assert sweep(svc, clock).sent == 1
    worker.deliver()
    assert len(fake_line.calls) == 1
    assert [c.due_at for c in _checkins(svc)] == [tokyo(9, 10)]


def test_pausing_with_a_checkin_open_cancels_its_ladder(svc, worker, fake_line, clock):
    enrolment_id = enrol(svc, clock, make_resident(svc, clock))
    clock.now = tokyo(2, 10)
    sweep(svc, clock)
    with transaction(svc.factory) as session:
        store.pause(session, session.get(CheckinEnrolment, enrolment_id), "旅行", clock())
    clock.now = tokyo(2, 20)
    result = sweep(svc, clock)
    assert (result.reminded, result.escalated) == (0, 0)
    assert _checkins(svc)[0].status == "cancelled" and _cases(svc) == []


def test_an_ended_enrolment_sends_nothing_more(svc, worker, fake_line, clock):
    enrolment_id = enrol(svc, clock, make_resident(svc, clock))
    with transaction(svc.factory) as session:
        store.end(session, session.get(CheckinEnrolment, enrolment_id), "転居", clock())
    clock.now = tokyo(9, 10)
    assert sweep(svc, clock).sent == 0
    assert get_enrolment(svc, enrolment_id).status == "ended"


def test_a_reminder_that_falls_in_quiet_hours_waits_for_the_morning(svc, worker, fake_line,
                                                                   clock):
    enrol(svc, clock, make_resident(svc, clock), at=time(19, 0))
    clock.now = tokyo(2, 19)
    sweep(svc, clock)
    [checkin] = _checkins(svc)
    assert checkin.action_at == tokyo(3, 8)  # 22:00 is quiet: the reminder waits
    clock.now = tokyo(2, 23)
    assert sweep(svc, clock).reminded == 0
    clock.now = tokyo(3, 8)
    assert sweep(svc, clock).reminded == 1
    assert _checkins(svc)[0].action_at == tokyo(3, 11)


def test_enrolling_with_a_time_inside_quiet_hours_is_refused(svc, clock):
    with pytest.raises(store.CheckinError):
        enrol(svc, clock, make_resident(svc, clock), at=time(6, 0))


def test_an_unfollowed_resident_is_not_pushed_and_the_slot_is_recorded(svc, client, worker,
                                                                      fake_line, clock):
    enrol(svc, clock, make_resident(svc, clock))
    post_events(client, line_event("unfollow", user=USER))
    worker.drain()
    clock.now = tokyo(2, 10)
    result = sweep(svc, clock)
    worker.deliver()
    assert (result.sent, result.missed) == (0, 1) and fake_line.calls == []


def test_many_enrolments_due_together_are_each_sent_once(svc, worker, fake_line, clock):
    users = [f"U{n:032d}" for n in range(30)]
    for user in users:
        enrol(svc, clock, make_resident(svc, clock, user))
    clock.now = tokyo(2, 10)
    result = run_sweep(svc.factory, clock(), batch=7)  # several batches
    worker.deliver()
    assert result.sent == 30
    assert sorted(c.to for c in fake_line.calls) == sorted(users)
    with svc.factory() as session:
        assert session.scalar(select(func.count()).select_from(Checkin)) == 30
