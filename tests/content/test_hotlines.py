"""Emergency and consultation lines: correct national numbers, each with its official source."""

from __future__ import annotations

import pytest

from handlers.hotlines import hotlines_for, rule_notes

OFFICIAL_NUMBERS = {
    "fire_119": "119",
    "police_110": "110",
    "police_consult_9110": "#9110",
    "jidou_189": "189",
    "dv_navi_8008": "#8008",
    "dv_plus": "0120-279-889",
    "yorisoi": "0120-279-338",
    "inochi_navi": "0570-783-556",
    "inochi_free": "0120-783-556",
    "kokoro_dial": "0570-064-556",
    "kyukyu_7119": "#7119",
    "consumer_188": "188",
}


def numbers(lines):
    return [h.number for h in lines]


def test_every_hotline_cites_a_source(pack):
    for hotline in pack.hotlines:
        assert hotline.source.strip(), hotline.id
        assert hotline.hours.strip(), hotline.id
        assert hotline.source_url and hotline.source_url.startswith("https://"), hotline.id


def test_national_numbers_are_the_official_ones(pack):
    assert {h.id: h.number for h in pack.hotlines} == OFFICIAL_NUMBERS


def test_sources_name_the_official_bodies(pack):
    assert "こども家庭庁" in pack.hotline("jidou_189").source
    assert "内閣府" in pack.hotline("dv_navi_8008").source
    assert "内閣府" in pack.hotline("dv_plus").source
    assert "社会的包摂サポートセンター" in pack.hotline("yorisoi").source
    assert "日本いのちの電話連盟" in pack.hotline("inochi_navi").source
    assert "厚生労働省" in pack.hotline("kokoro_dial").source
    assert "消費者庁" in pack.hotline("consumer_188").source
    assert pack.hotline("kyukyu_7119").area == "神奈川県"


def test_medical_emergency_gets_119(pack):
    assert numbers(hotlines_for("medical", [], pack)) == ["119"]


def test_violence_gets_110_first_then_dv_lines(pack):
    got = numbers(hotlines_for("violence", ["domestic_violence"], pack))
    assert got == ["110", "#8008", "0120-279-889"]


def test_child_abuse_gets_189_then_110_for_danger_now(pack):
    assert numbers(hotlines_for("abuse", ["abuse", "child_parenting"], pack)) == ["189", "110"]
    assert any("110" in note for note in rule_notes("abuse", pack))


def test_suicide_gets_lifelines_and_119_for_self_harm_injury(pack):
    got = numbers(hotlines_for("suicide", ["suicide_risk", "mental_health"], pack))
    assert got[:4] == ["0570-783-556", "0120-783-556", "0120-279-338", "0570-064-556"]
    assert "119" in got
    assert any("119" in note for note in rule_notes("suicide", pack))


def test_missing_vulnerable_person_gets_110(pack):
    assert numbers(hotlines_for("missing", ["dementia"], pack)) == ["110"]


def test_disaster_gets_119_and_110(pack):
    assert numbers(hotlines_for("disaster", ["disaster"], pack)) == ["119", "110"]


def test_dv_topic_without_urgency_gets_dv_lines_but_not_110(pack):
    got = numbers(hotlines_for(None, ["domestic_violence"], pack))
    assert got == ["#8008", "0120-279-889"]


def test_consumer_trouble_gets_188(pack):
    assert numbers(hotlines_for(None, ["rights_advocacy"], pack)) == ["188"]


def test_nothing_urgent_and_no_matching_topic_gives_no_lines(pack):
    assert hotlines_for(None, [], pack) == []
    assert hotlines_for(None, ["participation"], pack) == []


@pytest.mark.parametrize("kind", ["suicide", "violence", "abuse", "medical", "missing", "disaster"])
def test_every_urgent_kind_has_lines_without_duplicates(pack, kind):
    topics = ["suicide_risk", "abuse", "domestic_violence", "mental_health"]
    got = numbers(hotlines_for(kind, topics, pack))
    assert got
    assert len(got) == len(set(got))
