"""A real browser (Debian's chromium through Playwright) works a case end to end: sign in,
claim, answer, close; and keeps screenshots of the queue, a case and the dashboard."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from storage.db import transaction
from storage.models import Case, utcnow
from tests.staff.conftest import PASSWORD, add_staff, get_case, open_case_for

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
RESIDENT = "U" + "b" * 32

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="needs Debian's chromium at /usr/bin/chromium")


@pytest.fixture
def server(app) -> Iterator[str]:
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


@pytest.fixture
def browser_page() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"])
        context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="ja-JP")
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())  # the confirm() before closing
        yield page
        context.close()
        browser.close()


def seed(svc) -> int:
    """A morning's queue: an urgent case, a compound one, a routine one, some history."""
    now = utcnow()
    urgent = open_case_for(
        svc, RESIDENT, "山田花子です。夫に殴られて家にいられません。電話は090-1234-5678",
        masked="［氏名］です。夫に殴られて家にいられません。電話は［電話番号］",
        priority="urgent", reason="urgent", topics=("domestic_violence",),
        urgent_reason="配偶者からの暴力が続いている（「殴られて」）",
        now=now - timedelta(minutes=7),
        evidence={"domestic_violence": ["夫に殴られ"]})
    open_case_for(svc, "U" + "2" * 32,
                  "母の介護と子育てが重なってしまい、仕事も続けられるか不安です",
                  priority="high", reason="compound",
                  topics=("double_care", "elderly_care", "employment"),
                  evidence={"double_care": ["介護と子育て"], "elderly_care": ["母の介護"],
                            "employment": ["仕事"]},
                  now=now - timedelta(hours=3))
    open_case_for(svc, "U" + "3" * 32, "近所のサロンに参加してみたいです", reason="human",
                  topics=("participation",), now=now - timedelta(hours=20))
    for i, (topics, outcome) in enumerate([
            (("living_hardship",), "resolved"), (("hikikomori", "mental_health"), "referred"),
            (("elderly_care", "dementia"), "watching"), (("child_parenting",), "resolved")]):
        created = now - timedelta(days=3 + 5 * i)
        case_id = open_case_for(svc, f"U{i:0>32}", "過去の相談", topics=topics, now=created)
        with transaction(svc.factory) as session:
            case = session.get(Case, case_id)
            case.status, case.outcome = "closed", outcome
            case.first_response_at = created + timedelta(minutes=30 + 40 * i)
            case.closed_at = created + timedelta(days=2)
    return urgent


def test_sign_in_claim_reply_and_close_in_a_real_browser(
        server, browser_page, svc, worker, clock, fake_line):
    page = browser_page
    add_staff(svc, "sato")
    case_id = seed(svc)
    SHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{server}/staff")
    assert "/staff/login" in page.url
    page.fill("input[name=username]", "sato")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("table.queue")
    rows = page.locator("table.queue tbody tr")
    assert rows.first.get_attribute("data-case") == str(case_id)  # urgent first
    page.screenshot(path=str(SHOTS / "queue.png"), full_page=True)

    rows.first.locator("button", has_text="担当する").click()
    page.wait_for_selector("#reply-text")
    assert "090-1234-5678" not in page.content()
    page.fill("#reply-text", "まどぐちの佐藤です。いま安全な場所にいますか。")
    page.click("#reply button[type=submit]")
    page.wait_for_selector(".flash")
    assert "返信を送信しました" in page.inner_text(".flash")
    assert get_case(svc, case_id).status == "waiting"
    page.screenshot(path=str(SHOTS / "case.png"), full_page=True)

    clock.advance(minutes=1)
    worker.deliver()
    assert fake_line.texts_to(RESIDENT) == ["まどぐちの佐藤です。いま安全な場所にいますか。"]

    page.select_option("select[name=outcome]", "watching")
    page.check("input[name=watch]")
    page.check("#close input[name=watch_weekdays][value='4']")
    page.click("#close button[type=submit]")
    page.wait_for_selector(".flash")
    closed = get_case(svc, case_id)
    assert (closed.status, closed.outcome) == ("closed", "watching")
    assert closed.watch_enrolled_at is not None  # 見守り set up from the same form

    page.goto(f"{server}/staff/dashboard")
    page.wait_for_selector("svg.chart")
    assert page.locator("svg.chart").count() >= 5
    page.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)


def test_an_admin_reads_the_audit_log_in_a_real_browser(server, browser_page, svc):
    page = browser_page
    add_staff(svc, "boss", role="admin")
    case_id = seed(svc)
    page.goto(f"{server}/staff/login")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("table.queue")
    page.goto(f"{server}/staff/cases/{case_id}")
    page.click("text=個人情報を表示")  # confirm() is accepted by the fixture
    page.wait_for_selector("text=個人情報を表示中")

    page.click("nav >> text=操作記録")
    page.wait_for_selector("table.audit")
    page.select_option("select[name=action]", "reveal_pii")
    page.click("form.filters button[type=submit]")
    page.wait_for_selector("table.audit")
    rows = page.locator("table.audit tbody tr")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-action") == "reveal_pii"
    assert f"#{case_id}" in rows.first.inner_text()
    page.goto(f"{server}/staff/admin/audit")
    page.screenshot(path=str(SHOTS / "audit-log.png"), full_page=True)
