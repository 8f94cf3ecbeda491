"""What residents read over LINE follows the published content version: edits wait in a
draft, a second person publishes, retired answers stop at once, a rollback restores the
words, all without restarting the worker."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from handlers.content import live, load_pack
from handlers.content.loader import load_pack_files
from handlers.content.versions import ensure_seeded
from storage import content as store
from storage.db import transaction
from storage.models import utcnow
from tests.conftest import line_event, post_events
from tests.staff.conftest import add_staff, login, post_form

USER = "U" + "c" * 32
NEW_ANSWER = "（4月改定）市内に3か所あります。お住まいの町名で担当が決まります。"


@pytest.fixture(autouse=True)
def fresh_live_content() -> Iterator[None]:
    live.reset()
    yield
    live.reset()


def tap(client, worker, data: str) -> None:
    assert post_events(client, line_event("postback", user=USER, data=data)).status_code == 200
    worker.drain()


def last_text(fake_line) -> str:
    return fake_line.texts_to(USER)[-1]


def edit_answer(client, entry_id: str, answer: str) -> None:
    original = load_pack_files().faq_entry(entry_id)
    response = post_form(client, f"/staff/content/faq/{entry_id}", {
        "id": entry_id, "question": original.question, "answer": answer,
        "category": original.category, "topics": list(original.topics),
        "keywords": " ".join(original.keywords)}, token_from=f"/staff/content/faq/{entry_id}")
    assert response.status_code == 302, response.get_data(as_text=True)


def publish(client, note: str = "") -> str:
    response = post_form(client, "/staff/content/publish", {"note": note},
                         token_from="/staff/content")
    assert response.status_code == 302
    return client.get("/staff/content").get_data(as_text=True)


def test_a_published_edit_reaches_residents_and_a_rollback_restores_it(
        app, client, svc, worker, fake_line):
    original = load_pack_files().faq_entry("hokatsu_where").answer
    add_staff(svc, "editor1", role="editor")
    add_staff(svc, "admin1", role="admin")

    tap(client, worker, "faq:hokatsu_where")
    assert last_text(fake_line) == original

    login(client, "editor1")
    edit_answer(client, "hokatsu_where", NEW_ANSWER)
    assert post_form(client, "/staff/content/faq/hokatsu_not_only_elderly/retire",
                     token_from="/staff/content/faq").status_code == 302
    tap(client, worker, "faq:hokatsu_where")
    assert last_text(fake_line) == original  # a draft is not what residents read

    page = publish(client)  # the editor of the draft may not publish it
    assert "この下書きを編集した方は公開できません" in page
    tap(client, worker, "faq:hokatsu_where")
    assert last_text(fake_line) == original

    client.post("/staff/logout", data={"csrf_token": ""})
    client.delete_cookie("session")
    login(client, "admin1")
    overview = client.get("/staff/content").get_data(as_text=True)
    assert NEW_ANSWER in overview  # the diff shows the change before it goes out
    assert "hokatsu_not_only_elderly" in overview
    page = publish(client, note="4月の改定")
    assert re.search(r'id="published-number">2<', page)

    tap(client, worker, "faq:hokatsu_where")
    assert last_text(fake_line) == NEW_ANSWER
    tap(client, worker, "faq:hokatsu_not_only_elderly")  # a button sent before retiring
    assert last_text(fake_line) == load_pack().text("faq_not_found")
    assert "hokatsu_not_only_elderly" not in {e.id for e in load_pack().faq}

    assert post_form(client, "/staff/content/versions/1/rollback", {"note": "誤り"},
                     token_from="/staff/content/versions").status_code == 302
    tap(client, worker, "faq:hokatsu_where")
    assert last_text(fake_line) == original
    tap(client, worker, "faq:hokatsu_not_only_elderly")
    assert last_text(fake_line) == load_pack_files().faq_entry("hokatsu_not_only_elderly").answer

    with svc.factory() as session:
        kept = [(v.number, v.status, v.origin) for v in store.history(session)]
    assert kept == [(3, "published", "rollback"), (2, "retired", "console"),
                    (1, "retired", "seed")]
    diff_page = client.get("/staff/content/versions/2").get_data(as_text=True)
    assert NEW_ANSWER in diff_page and original.splitlines()[0] in diff_page
    assert "admin1さん" in diff_page and "4月の改定" in diff_page


def test_the_worker_follows_a_version_published_by_another_process(
        client, svc, worker, fake_line):
    """No console in this process: the worker notices the new number at its next batch."""
    original = load_pack_files().faq_entry("hokatsu_where").answer
    tap(client, worker, "faq:hokatsu_where")
    assert last_text(fake_line) == original
    from handlers.content import editing

    with transaction(svc.factory) as session:
        current = store.published(session)
        payload = editing.put_faq(current.payload, {"answer": NEW_ANSWER}, "hokatsu_where")
        store.add_published(session, payload, origin="console", now=utcnow())
    tap(client, worker, "faq:hokatsu_where")
    assert last_text(fake_line) == NEW_ANSWER


def test_the_first_start_seeds_version_one_from_the_pack_files(svc):
    ensure_seeded(svc.factory)
    ensure_seeded(svc.factory)  # idempotent
    with svc.factory() as session:
        versions = store.history(session)
    assert [(v.number, v.origin, v.status) for v in versions] == [(1, "seed", "published")]
    assert live.refresh(svc.factory) is True
    assert load_pack() == load_pack_files()


def test_without_a_database_the_pack_files_are_served():
    assert live.current() is None
    assert load_pack() is load_pack_files()


def test_a_changed_pack_file_reseeds_only_while_nobody_edited_in_the_console(svc):
    ensure_seeded(svc.factory)
    with transaction(svc.factory) as session:
        store.published(session).fingerprint = "from an older pack file"
    ensure_seeded(svc.factory)  # a developer changed a TOML file and restarted
    with svc.factory() as session:
        assert [(v.number, v.origin) for v in store.history(session)] == [(2, "seed"),
                                                                           (1, "seed")]
        payload = store.published(session).payload
    with transaction(svc.factory) as session:
        store.add_published(session, payload, origin="console", now=utcnow())
        store.published(session).fingerprint = "whatever"
    ensure_seeded(svc.factory)  # the city's own edits are never replaced by the files
    with svc.factory() as session:
        assert store.published(session).number == 3


def test_the_scheduler_follows_the_published_version(svc):
    from handlers.content import editing
    from scheduler import context
    from scheduler.jobs import content as job
    from scheduler.runner import SWEEPS

    assert ("content_follow", "scheduler.jobs.content:follow_content",
            job.SWEEP_SECONDS) in SWEEPS
    context.install(svc)
    job.follow_content()
    with transaction(svc.factory) as session:
        payload = editing.put_business_hours(store.published(session).payload,
                                             {"close": "17:15:00"})
        store.add_published(session, payload, origin="console", now=utcnow())
    job.follow_content()
    assert load_pack().business_hours.close.minute == 15


def test_an_emptied_table_is_seeded_again(svc):
    assert live.refresh(svc.factory) is True
    with transaction(svc.factory) as session:
        session.execute(store.ContentVersion.__table__.delete())
    live.refresh(svc.factory)
    with svc.factory() as session:
        assert store.published(session).origin == "seed"


def test_a_version_stored_before_the_code_gained_message_keys_is_still_served(svc):
    """A city's edited version outlives an upgrade that adds copy keys (or sections)."""
    from handlers.content import editing

    ensure_seeded(svc.factory)
    with transaction(svc.factory) as session:
        payload = editing.put_faq(store.published(session).payload,
                                  {"answer": "市の回答"}, "hokatsu_where")
        old = {**payload, "pack": {**payload["pack"]}}
        old["pack"]["copy"] = {k: v for k, v in old["pack"]["copy"].items()
                               if k != "opening_hours"}
        del old["pack"]["resources"]
        store.add_published(session, old, origin="console", now=utcnow())
    assert live.refresh(svc.factory) is True and live.problem is None
    assert load_pack().faq_entry("hokatsu_where").answer == "市の回答"  # the city's words
    files = load_pack_files()
    assert load_pack().copy_texts["opening_hours"] == files.copy_texts["opening_hours"]
    assert load_pack().resources == files.resources
