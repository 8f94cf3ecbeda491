"""In a real browser: an editor changes an FAQ answer while the LINE preview and the
character counts follow the typing; a second person reviews the diff and publishes; the
resident's next tap gets the new words. Screenshots of the editor and the review."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from handlers.content import live
from handlers.content.checks import button_label, line_length
from tests.browser.test_staff_console import (  # noqa: F401 - fixtures
    CHROMIUM,
    SHOTS,
    browser_page,
    server,
)
from tests.conftest import line_event, post_events
from tests.staff.conftest import PASSWORD, add_staff

RESIDENT = "U" + "d" * 32
ANSWER = ("令和8年4月から介護保険料が変わりました。\n"
          "お住まいの地域の地域包括支援センター（担当 𠮷田）にお問い合わせください。")
QUESTION = "介護保険料が4月から変わったと聞きましたが、いくらになりますか？"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="needs Debian's chromium at /usr/bin/chromium")


@pytest.fixture(autouse=True)
def fresh_live_content() -> Iterator[None]:
    live.reset()
    yield
    live.reset()


def sign_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/staff/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_edit_preview_and_publish_an_answer_in_a_real_browser(
        server, browser_page, svc, client, worker, fake_line):  # noqa: F811 - fixtures
    page = browser_page
    add_staff(svc, "tanaka", role="editor")
    add_staff(svc, "suzuki", role="admin")
    SHOTS.mkdir(parents=True, exist_ok=True)

    sign_in(page, server, "tanaka")
    page.goto(f"{server}/staff/content/faq?q=包括")
    page.click("text=地域包括支援センターはどこにありますか？")
    page.wait_for_selector("#answer")
    page.fill("#answer", ANSWER)
    page.fill("#question", QUESTION)
    # the preview follows the typing, counted as LINE counts (𠮷, beyond the BMP, is 2)
    assert page.inner_text("#preview-answer") == ANSWER
    assert page.inner_text('[data-count-for="answer"]') == f"{line_length(ANSWER)} / 5000"
    assert line_length(ANSWER) == len(ANSWER) + 1
    assert page.inner_text("#preview-label") == button_label(QUESTION)
    assert len(page.inner_text("#preview-label")) == 20
    page.screenshot(path=str(SHOTS / "content-edit.png"), full_page=True)
    page.click("#save")
    page.wait_for_selector(".flash")
    assert "下書き" in page.inner_text(".flash")
    page.goto(f"{server}/staff/content")
    assert page.locator("#publish").count() == 0  # the editor cannot publish own edits
    page.click("header button.link")  # ログアウト

    sign_in(page, server, "suzuki")
    page.goto(f"{server}/staff/content")
    assert ANSWER.splitlines()[0] in page.inner_text("table.diff")
    page.fill("input[name=note]", "介護保険料の改定")
    page.screenshot(path=str(SHOTS / "content-review.png"), full_page=True)
    page.click("#publish")
    page.wait_for_selector(".flash")
    assert "版 2 を公開しました" in page.inner_text(".flash")

    post_events(client, line_event("postback", user=RESIDENT, data="faq:hokatsu_where"))
    worker.drain()
    assert fake_line.texts_to(RESIDENT)[-1] == ANSWER
