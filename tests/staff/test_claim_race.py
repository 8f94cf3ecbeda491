"""Two people pressing 担当する at the same moment: exactly one owns the case."""

from __future__ import annotations

import multiprocessing
import threading

import pytest
from sqlalchemy import text

from storage import cases
from storage.db import make_engine, make_session_factory, transaction
from storage.models import utcnow
from tests.staff.conftest import add_staff, get_case, open_case_for


def test_threads_claiming_at_once_leave_exactly_one_owner(svc):
    staff_ids = [add_staff(svc, f"staff{i}") for i in range(8)]
    case_id = open_case_for(svc, "U" + "5" * 32, "相談です")
    barrier = threading.Barrier(len(staff_ids))
    results: dict[int, bool] = {}

    def press(staff_id: int) -> None:
        barrier.wait()
        with transaction(svc.factory) as session:
            results[staff_id] = cases.claim(session, case_id, staff_id, utcnow()).won

    threads = [threading.Thread(target=press, args=(s,)) for s in staff_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [s for s, won in results.items() if won]
    assert len(results) == len(staff_ids)
    assert len(winners) == 1
    assert get_case(svc, case_id).assignee_id == winners[0]


def test_claiming_again_is_harmless_for_the_owner_and_refused_for_others(svc):
    first, second = add_staff(svc, "a1"), add_staff(svc, "b1")
    case_id = open_case_for(svc, "U" + "5" * 32, "相談です")
    with transaction(svc.factory) as session:
        assert cases.claim(session, case_id, first, utcnow()).won
    with transaction(svc.factory) as session:
        assert cases.claim(session, case_id, first, utcnow()).won
        lost = cases.claim(session, case_id, second, utcnow())
    assert not lost.won and lost.owner_id == first


def _claim_in_process(url: str, schema: str, case_id: int, staff_id: int,
                      barrier: object, out: object, keys: tuple[str, str]) -> None:
    from storage import crypto

    crypto.configure([keys[0]], keys[1])  # as each process does from its Config
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    factory = make_session_factory(engine)
    barrier.wait()  # type: ignore[attr-defined]
    with transaction(factory) as session:
        won = cases.claim(session, case_id, staff_id, utcnow()).won
    out.put((staff_id, won))  # type: ignore[attr-defined]
    engine.dispose()


def test_two_processes_on_postgresql_leave_exactly_one_owner(svc, db):
    if db.backend != "postgresql":
        pytest.skip("two processes share a server database only on PostgreSQL")
    staff_ids = [add_staff(svc, f"p{i}") for i in range(2)]
    case_id = open_case_for(svc, "U" + "5" * 32, "相談です")
    with db.engine.connect() as conn:
        schema = conn.execute(text("select current_schema()")).scalar_one()
    url = db.engine.url.render_as_string(hide_password=False)
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    keys = (svc.config.encryption_keys[0], svc.config.pseudonym_key)  # cases hold ciphertext
    procs = [ctx.Process(target=_claim_in_process,
                         args=(url, schema, case_id, s, barrier, out, keys))
             for s in staff_ids]
    for proc in procs:
        proc.start()
    results = dict(out.get(timeout=60) for _ in procs)
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    assert sorted(results.values()) == [False, True]
    winner = next(s for s, won in results.items() if won)
    assert get_case(svc, case_id).assignee_id == winner
