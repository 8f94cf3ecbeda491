"""The checks a content version passes before it is published, in staff's words."""

from __future__ import annotations

import copy
from datetime import date

import pytest

from handlers.content.checks import (
    button_label,
    check_payload,
    errors,
    hotline_hours_problem,
    line_length,
)
from handlers.content.loader import load_pack_files
from handlers.content.versions import payload_of


@pytest.fixture
def payload() -> dict:
    return copy.deepcopy(payload_of(load_pack_files()))


def messages(payload: dict) -> list[str]:
    return [f"{p.where}: {p.message}" for p in errors(check_payload(payload))]


def test_the_zushi_pack_passes(payload):
    assert messages(payload) == []


def test_lengths_are_counted_as_line_counts_them():
    assert line_length("𠮷田さん") == 5  # a character beyond the BMP is two UTF-16 units
    assert line_length("👵") == 2
    assert button_label("あ" * 20) == "あ" * 20
    assert button_label("あ" * 21) == "あ" * 19 + "…"


@pytest.mark.parametrize("hours", [
    "24時間", "24時間・365日（通話料無料）", "平日 9時〜17時", "9:00～21:30", "毎日 10時半〜翌6時",
    "受付時間は都道府県によって異なります", "時間帯は公式サイトでご確認ください",
])
def test_hotline_hours_that_can_be_read(hours):
    assert hotline_hours_problem(hours) is None


@pytest.mark.parametrize(("hours", "why"), [
    ("いつでも", "受付時間が読み取れません"),
    ("25時〜9時", "時刻として読めません"),
    ("9時〜9時", "開始と終了が同じ"),
])
def test_hotline_hours_that_cannot(hours, why):
    assert why in (hotline_hours_problem(hours) or "")


def test_faq_ids_must_fit_postback_data(payload):
    payload["pack"]["faq"][0]["id"] = "q:1"
    payload["pack"]["faq"][1]["id"] = "長" * 100  # 300 bytes of UTF-8, plus "faq:"
    found = messages(payload)
    assert any("IDに「:」は使えません" in m for m in found)
    assert any("IDが長すぎます（ボタンのデータが304バイト" in m for m in found)


def test_answers_longer_than_a_line_message_are_refused(payload):
    payload["pack"]["faq"][0]["answer"] = "👵" * 2501  # 2501 characters, 5002 UTF-16 units
    assert any("回答が5002文字あります" in m for m in messages(payload))


def test_phone_numbers_are_checked_in_japanese(payload):
    payload["pack"]["agencies"][0]["phone"] = "046-876-629９"
    found = messages(payload)
    assert any("電話番号「046-876-629９」の形式が正しくありません" in m for m in found)


def centre(payload: dict, agency_id: str) -> dict:
    return next(a for a in payload["pack"]["agencies"] if a["id"] == agency_id)


def test_a_town_served_by_two_centres_needs_a_split(payload):
    centre(payload, "west_center")["serves"].append({"town": "沼間"})
    assert any("町名 沼間" in m and "担当が重なっています" in m for m in messages(payload))


def test_a_split_by_chome_or_an_explained_split_is_accepted(payload):
    centre(payload, "west_center")["serves"].append({"town": "沼間"})
    east = centre(payload, "east_center")
    for area in east["serves"]:
        if area["town"] == "沼間":
            area.update(partial=True, detail="沼間1丁目の一部（番地は出典のとおり）")
    for area in centre(payload, "west_center")["serves"]:
        if area["town"] == "沼間":
            area.update(partial=True, detail="沼間1丁目の残り")
    assert messages(payload) == []


def test_a_town_nobody_serves_is_an_error(payload):
    for agency in payload["pack"]["agencies"]:
        agency["serves"] = [a for a in agency.get("serves", []) if a["town"] != "池子"]
    assert any("町名 池子: 担当の地域包括支援センターがありません" in m for m in messages(payload))


def test_an_answer_the_bot_uses_by_id_cannot_be_retired(payload):
    from handlers.content import editing

    with pytest.raises(editing.EditError, match="ボットが直接使っている"):
        editing.retire_faq(payload, "hours", date(2026, 12, 1))
    payload["pack"]["faq"] = [e for e in payload["pack"]["faq"] if e["id"] != "hours"]
    assert any("よくある質問 hours" in m and "取り下げやIDの変更はできません" in m
               for m in messages(payload))


def test_wording_keeps_its_placeholders(payload):
    from handlers.content import editing

    text = "ただいま時間外です。{next_open}にお返事します。"
    changed = editing.put_copy(payload, "out_of_hours", text)
    assert changed["pack"]["copy"]["out_of_hours"].endswith("{next_open}にお返事します。")
    with pytest.raises(editing.EditError, match="使えない差し込み"):
        editing.put_copy(payload, "out_of_hours", "{name}さん、時間外です。")
    with pytest.raises(editing.EditError, match="空にできません"):
        editing.put_copy(payload, "closing", "  ")


def test_schema_problems_name_the_section_as_staff_know_it(payload):
    payload["pack"]["faq"][0]["agencies"] = ["no_such_window"]
    found = [(p.where, p.message) for p in errors(check_payload(payload))]
    assert any(where == "パックの形式" or where == "よくある質問" for where, _ in found)
    assert any("存在しない窓口IDを指定しています" in message for _, message in found)
