"""The content pages: who may edit, CSV in and out as Excel writes it, and the checks that
stop a version from being published (said in Japanese)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from handlers.content import live
from handlers.content.loader import load_pack_files
from storage import content as store
from storage.models import AuditEntry
from tests.staff.conftest import add_staff, csrf_token, login, post_form


@pytest.fixture(autouse=True)
def fresh_live_content() -> Iterator[None]:
    live.reset()
    yield
    live.reset()


@pytest.fixture
def editor(client, svc):
    add_staff(svc, "editor1", role="editor")
    login(client, "editor1")
    return client


def draft_payload(svc) -> dict:
    with svc.factory() as session:
        draft = store.draft(session)
        assert draft is not None, "no draft was opened"
        return draft.payload


def audit_actions(svc) -> list[str]:
    with svc.factory() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


@pytest.mark.parametrize("path", [
    "/staff/content", "/staff/content/faq", "/staff/content/faq/hokatsu_where",
    "/staff/content/hotlines", "/staff/content/faq.csv", "/staff/content/versions",
])
def test_a_coordinator_cannot_see_or_change_the_content(client, svc, path):
    add_staff(svc, "coord", role="coordinator")
    login(client, "coord")
    assert client.get(path).status_code == 403
    token = csrf_token(client, "/staff")
    response = client.post("/staff/content/faq/hokatsu_where", data={
        "csrf_token": token, "id": "hokatsu_where", "question": "q", "answer": "a",
        "category": "c"})
    assert response.status_code == 403
    assert client.post("/staff/content/publish", data={"csrf_token": token}).status_code == 403
    with svc.factory() as session:
        assert store.draft(session) is None


def test_an_editor_works_on_the_content_and_cannot_read_cases(client, svc):
    add_staff(svc, "editor1", role="editor")
    response = login(client, "editor1")
    assert client.get(response.headers["Location"]).headers["Location"].endswith(
        "/staff/content")
    assert client.get("/staff/content").status_code == 200
    assert client.get("/staff/dashboard").status_code == 200
    for path in ("/staff/cases/1", "/staff/referrals", "/staff/checkins", "/staff/bookings",
                 "/staff/admin/staff"):
        assert client.get(path).status_code == 403, path


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/staff/content/faq")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_every_edit_goes_into_one_draft_and_is_audited(editor, svc):
    post_form(editor, "/staff/content/hotlines/police_110", {
        "name": "警察（事件・事故）", "number": "110", "hours": "24時間",
        "description": "事件・事故の緊急通報", "source": "警察庁",
        "source_url": "https://www.npa.go.jp/", "checked_on": "2026-11-30"},
        token_from="/staff/content/hotlines/police_110")
    post_form(editor, "/staff/content/hours", {
        "open": "08:30", "close": "17:15", "weekdays": ["0", "1", "2", "3", "4"],
        "national_holidays": "1", "closed_dates": "12-29 12-30 12-31 01-01 01-02 01-03",
        "text": "平日 8時30分〜17時15分"}, token_from="/staff/content/hours")
    payload = draft_payload(svc)["pack"]
    police = next(h for h in payload["hotlines"] if h["id"] == "police_110")
    assert police["checked_on"] == "2026-11-30"
    assert payload["business_hours"]["close"] == "17:15:00"
    assert audit_actions(svc).count("content_edit") == 2
    with svc.factory() as session:
        assert len([v for v in session.scalars(select(store.ContentVersion))]) == 2


def test_an_editor_adds_searches_retires_and_restores_a_question(editor, svc):
    response = post_form(editor, "/staff/content/faq/new", {
        "id": "kaigo_hokenryo", "category": "介護", "question": "介護保険料はいくらですか？",
        "answer": "所得段階で決まります。\r\n介護保険課にお問い合わせください。",
        "topics": ["elderly_care"], "keywords": "介護保険料、保険料", "reviewed": "1"},
        token_from="/staff/content/faq/new")
    assert response.headers["Location"].endswith("/staff/content/faq/kaigo_hokenryo")
    entry = next(e for e in draft_payload(svc)["pack"]["faq"] if e["id"] == "kaigo_hokenryo")
    assert entry["answer"] == "所得段階で決まります。\n介護保険課にお問い合わせください。"
    assert entry["keywords"] == ["介護保険料", "保険料"] and entry["reviewed_on"]
    found = editor.get("/staff/content/faq?q=保険料").get_data(as_text=True)
    assert "介護保険料はいくらですか？" in found and "hokatsu_where" not in found
    post_form(editor, "/staff/content/faq/kaigo_hokenryo/retire", token_from="/staff/content/faq")
    payload = draft_payload(svc)
    assert "kaigo_hokenryo" not in {e["id"] for e in payload["pack"]["faq"]}
    assert payload["retired_faq"][0]["id"] == "kaigo_hokenryo"
    post_form(editor, "/staff/content/faq/kaigo_hokenryo/restore",
              token_from="/staff/content/faq")
    assert "kaigo_hokenryo" in {e["id"] for e in draft_payload(svc)["pack"]["faq"]}
    duplicate = post_form(editor, "/staff/content/faq/new", {
        "id": "hokatsu_where", "category": "窓口", "question": "q", "answer": "a"},
        token_from="/staff/content/faq/new").get_data(as_text=True)
    assert "ID「hokatsu_where」はすでに使われています" in duplicate


def test_faq_csv_round_trips_in_utf8_and_in_excel_shift_jis(editor, svc):
    for added, encoding in enumerate(("utf-8", "cp932")):
        response = editor.get(f"/staff/content/faq.csv?encoding={encoding}")
        assert response.status_code == 200
        raw = response.data
        if encoding == "utf-8":
            assert raw.startswith(b"\xef\xbb\xbf")  # Excel opens UTF-8 CSV with a BOM
        else:
            raw.decode("cp932")  # as Excel saves it in Japanese Windows
            assert not raw.startswith(b"\xef\xbb\xbf")
        text = raw.decode("utf-8-sig" if encoding == "utf-8" else "cp932")
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0][:4] == ["ID", "質問", "回答", "カテゴリ"]
        assert len(rows) - 1 == len(load_pack_files().faq) + added  # the draft, as it is
        # a staff member changes one answer and adds a question in Excel, then imports
        rows[1][2] = rows[1][2] + f"（{encoding}で更新）"
        rows.append([f"new_{encoding.replace('-', '')}", "介護保険料はいくらですか？",
                     "介護保険料は所得段階で決まります。介護保険課にお問い合わせください。",
                     "介護", "elderly_care", "介護保険料 保険料"])
        out = io.StringIO(newline="")
        csv.writer(out, lineterminator="\r\n").writerows(rows)
        body = out.getvalue().encode(encoding)
        response = post_form(editor, "/staff/content/faq/import",
                             {"file": (io.BytesIO(body), "faq.csv")},
                             token_from="/staff/content/faq")
        assert response.status_code == 302
        page = editor.get("/staff/content/faq").get_data(as_text=True)
        assert "追加 1件、更新 1件" in page, re.findall(r"flash[^<]*<", page)
        faq = {e["id"]: e for e in draft_payload(svc)["pack"]["faq"]}
        assert faq[rows[1][0]]["answer"].endswith(f"（{encoding}で更新）")
        assert faq[f"new_{encoding.replace('-', '')}"]["topics"] == ["elderly_care"]
        # columns the CSV does not carry are kept
        first = load_pack_files().faq_entry(rows[1][0])
        assert faq[rows[1][0]]["agencies"] == list(first.agencies)
    assert "content_import" in audit_actions(svc) and "content_export" in audit_actions(svc)


def test_a_broken_csv_is_refused_with_the_line_to_fix(editor, svc):
    body = "ID,質問,回答,カテゴリ\r\nx1,質問,,窓口\r\n".encode("cp932")
    post_form(editor, "/staff/content/faq/import", {"file": (io.BytesIO(body), "faq.csv")},
              token_from="/staff/content/faq")
    page = editor.get("/staff/content/faq").get_data(as_text=True)
    assert "CSVを読み込めません" in page and "line 2" in page and "回答" in page
    with svc.factory() as session:
        assert store.draft(session) is None  # nothing half-imported


def test_validation_stops_a_bad_version_and_says_what_to_fix(editor, svc):
    editor_id = add_staff(svc, "admin2", role="admin")
    assert editor_id
    page = post_form(editor, "/staff/content/faq/new", {
        "id": "a" * 300, "question": "長いIDの質問", "answer": "回答です。", "category": "窓口"},
        token_from="/staff/content/faq/new").get_data(as_text=True)
    assert "IDは英数字と _ で、64文字以内にしてください" in page  # refused at once
    page = post_form(editor, "/staff/content/hotlines/yorisoi", {
        "name": "よりそいホットライン", "number": "0120-279-338", "hours": "いつでも",
        "description": "説明", "source": "社会的包摂サポートセンター"},
        token_from="/staff/content/hotlines/yorisoi").get_data(as_text=True)
    assert "受付時間が読み取れません" in page  # refused at once, the form kept
    post_form(editor, "/staff/content/windows/east_center", {
        "name": "逗子市東部地域包括支援センター", "phone": "046-876-6299",
        "description": "東部の総合相談窓口", "serves": "桜山 5\n沼間"},
        token_from="/staff/content/windows/east_center")
    page = post_form(editor, "/staff/content/windows/west_center", {
        "name": "逗子市西部地域包括支援センター", "phone": "046-87x",
        "description": "西部の総合相談窓口"}, token_from="/staff/content/windows/west_center"
    ).get_data(as_text=True)
    assert "窓口を保存できません。電話番号:" in page
    client = editor
    client.post("/staff/logout", data={"csrf_token": csrf_token(client, "/staff/content")})
    login(client, "admin2")
    overview = client.get("/staff/content").get_data(as_text=True)
    assert "担当の地域包括支援センターがありません" in overview  # towns east no longer serves
    response = post_form(client, "/staff/content/publish", token_from="/staff/content")
    assert response.status_code == 302
    page = client.get("/staff/content").get_data(as_text=True)
    assert "公開できません" in page
    with svc.factory() as session:
        assert store.published(session).number == 1


def test_the_same_admin_may_publish_own_edits_only_where_the_city_allows_it(
        client, svc, app):
    add_staff(svc, "admin1", role="admin")
    login(client, "admin1")
    post_form(client, "/staff/content/copy/closing", {"text": "ご相談ありがとうございました。"},
              token_from="/staff/content/copy/closing")
    post_form(client, "/staff/content/publish", token_from="/staff/content")
    with svc.factory() as session:
        assert store.published(session).number == 1
    object.__setattr__(svc.config, "content_self_publish", True)
    post_form(client, "/staff/content/publish", token_from="/staff/content")
    with svc.factory() as session:
        assert store.published(session).number == 2
    assert "content_publish" in audit_actions(svc)


def test_the_dashboard_lists_lines_and_answers_nobody_checked_for_a_year(client, svc):
    from datetime import timedelta

    from handlers.content import editing
    from handlers.content.versions import ensure_seeded
    from storage.db import transaction
    from storage.models import utcnow

    today = utcnow().date()
    ensure_seeded(svc.factory)
    with transaction(svc.factory) as session:
        payload = store.published(session).payload
        for hotline in payload["pack"]["hotlines"]:
            payload = editing.put_hotline(payload, hotline["id"], {"checked_on": today.isoformat()})
        payload = editing.put_hotline(payload, "fire_119", {
            "checked_on": (today - timedelta(days=400)).isoformat()})
        for entry in payload["pack"]["faq"]:
            payload = editing.put_faq(payload, {}, entry["id"], reviewed_on=today)
        payload = editing.put_faq(payload, {"reviewed_on": "2025-01-10"}, "hours")
        store.add_published(session, payload, origin="console", now=utcnow())
    add_staff(svc, "coord", role="coordinator")
    login(client, "coord")
    page = client.get("/staff/dashboard").get_data(as_text=True)
    section = page[page.index('id="stale-content"'):]
    assert "相談ダイヤル 1件" in section and "よくある質問 1件" in section
    fire = load_pack_files().hotline("fire_119").name
    assert fire in section and "2025-01-10" in section
    assert load_pack_files().hotline("police_110").name not in section


@pytest.mark.parametrize("path", [
    "/staff/content", "/staff/content/faq", "/staff/content/faq/new",
    "/staff/content/faq/hokatsu_where", "/staff/content/windows",
    "/staff/content/windows/east_center", "/staff/content/hours", "/staff/content/hotlines",
    "/staff/content/hotlines/jidou_189", "/staff/content/copy",
    "/staff/content/copy/closing", "/staff/content/versions", "/staff/content/versions/1",
])
def test_every_content_page_opens_for_an_editor(editor, path):
    response = editor.get(path)
    assert response.status_code == 200, path
    assert "掲載内容" in response.get_data(as_text=True)


def test_unknown_entries_are_not_found(editor):
    for path in ("/staff/content/faq/nope", "/staff/content/windows/nope",
                 "/staff/content/hotlines/nope", "/staff/content/copy/nope",
                 "/staff/content/versions/99"):
        assert editor.get(path).status_code == 404, path
