"""Routing: 町名/丁目 → 東部/中部/西部 地域包括支援センター, topics → attribute windows,
compound cases → the 相談支援包括化推進員."""

from __future__ import annotations

import pytest

from handlers.content.schema import TOPIC_IDS
from handlers.routing import center_for_town, normalize_town, windows_for


def center_label(pack, text):
    center = center_for_town(pack, text)
    return center.district_label if center else None


@pytest.mark.parametrize("town", ["沼間", "池子", "桜山3丁目", "桜山4丁目"])
def test_east_center_serves_numa_ikego_and_sakurayama_3_4(pack, town):
    assert center_label(pack, town) == "東部"


@pytest.mark.parametrize("town", ["逗子", "逗子7丁目", "山の根", "桜山1丁目", "桜山2丁目",
                                  "桜山6丁目", "桜山9丁目", "新宿1丁目", "新宿3丁目", "新宿5丁目"])
def test_central_center_serves_zushi_yamanone_and_parts_of_sakurayama_shinjuku(pack, town):
    assert center_label(pack, town) == "中部"


@pytest.mark.parametrize("town", ["久木", "小坪", "小坪7丁目"])
def test_west_center_serves_hisagi_and_kotsubo(pack, town):
    assert center_label(pack, town) == "西部"


def test_hazakura_danchi_is_served_by_the_central_center(pack):
    assert center_label(pack, "葉桜団地") == "中部"


@pytest.mark.parametrize(
    "text",
    ["桜山6丁目", "逗子市桜山６丁目", "桜山六丁目", "神奈川県逗子市桜山6丁目", "さくらやま６",
     "桜山6-12-3", "桜山６−１２−３", "桜山 6丁目", "桜山の6丁目です", "サクラヤマ6丁目"],
)
def test_town_input_is_normalised(pack, text):
    ref = normalize_town(text, pack)
    assert (ref.town, ref.chome) == ("桜山", 6)
    assert center_label(pack, text) == "中部"


def test_kanji_numeral_chome(pack):
    assert normalize_town("沼間三丁目", pack).chome == 3
    assert normalize_town("逗子市山の根一丁目", pack).chome == 1


def test_sakurayama_5_chome_is_split_by_banchi_so_both_centers_are_offered(pack):
    result = windows_for(pack, [], ["桜山5丁目"])
    assert result.district_status == "ambiguous"
    assert [c.district_label for c in result.centers] == ["東部", "中部"]
    assert result.ask_for_town
    assert any("35~37番" in note for note in result.notes)


def test_shinjuku_4_chome_is_split_between_central_and_west(pack):
    result = windows_for(pack, [], ["新宿4丁目"])
    assert result.district_status == "ambiguous"
    assert [c.district_label for c in result.centers] == ["中部", "西部"]


def test_town_split_by_chome_without_chome_asks_for_it(pack):
    result = windows_for(pack, [], ["桜山"])
    assert result.district_status == "ambiguous"
    assert result.ask_for_town
    assert {c.district_label for c in result.centers} == {"東部", "中部"}


def test_unknown_town_lists_all_three_centers(pack):
    result = windows_for(pack, ["elderly_care"], ["南町"])
    assert result.district_status == "unknown"
    assert [c.district_label for c in result.centers] == ["東部", "中部", "西部"]
    assert result.ask_for_town
    assert result.center is None


def test_no_district_lists_all_three_centers_and_asks_for_town(pack):
    result = windows_for(pack, [], [])
    assert result.district_status == "not_given"
    assert len(result.centers) == 3
    assert result.ask_for_town


def test_city_name_alone_is_not_a_town(pack):
    assert windows_for(pack, [], ["逗子市"]).district_status == "unknown"


def test_higashi_zushi_station_is_not_mistaken_for_zushi_town(pack):
    assert normalize_town("東逗子", pack).town is None


def test_chome_that_does_not_exist_is_unknown(pack):
    result = windows_for(pack, [], ["桜山10丁目"])
    assert result.district_status == "unknown"
    assert len(result.centers) == 3


def test_first_recognisable_district_wins(pack):
    result = windows_for(pack, [], ["南町", "小坪"])
    assert result.district_status == "resolved"
    assert result.center.district_label == "西部"


def test_compound_case_goes_to_the_coordinator_at_the_district_center(pack):
    topics = ["elderly_care", "hikikomori", "living_hardship"]
    result = windows_for(pack, topics, ["池子"], compound=True)
    assert [w.agency.district_label for w in result.coordinators] == ["東部"]
    coordinator = result.coordinators[0]
    assert coordinator.role == "coordinator"
    assert coordinator.phone == "046-876-6299"
    assert "相談支援包括化推進員" in coordinator.reason
    assert result.all_windows()[0] is coordinator


def test_compound_case_without_district_offers_all_three_coordinators_and_asks(pack):
    result = windows_for(pack, ["double_care"], [], compound=True)
    assert [w.agency.district_label for w in result.coordinators] == ["東部", "中部", "西部"]
    assert result.ask_for_town


def test_simple_case_has_no_coordinator(pack):
    assert windows_for(pack, ["disability"], ["久木"]).coordinators == []


def test_disability_topic_routes_to_disability_windows_and_the_center(pack):
    result = windows_for(pack, ["disability"], ["久木"])
    ids = [w.agency.id for w in result.windows]
    assert "disability_welfare_division" in ids
    assert "core_disability_center" in ids
    assert result.center.id == "west_center"
    assert result.all_windows()[0].agency.id == "west_center"


def test_hardship_topic_routes_to_shakyo_independence_support(pack):
    ids = [w.agency.id for w in windows_for(pack, ["living_hardship"], ["沼間"]).windows]
    assert "independence_support" in ids
    assert "household_budget_support" in ids


def test_window_without_a_number_uses_the_district_centers_phone(pack):
    result = windows_for(pack, ["living_hardship"], ["沼間"])
    support = next(w for w in result.windows if w.agency.id == "independence_support")
    assert support.phone == "046-876-6299"


def test_topic_with_no_attribute_window_still_has_the_all_topic_center(pack):
    result = windows_for(pack, ["domestic_violence", "young_carer"], ["小坪"])
    assert result.windows == []
    assert result.center.topics == "all"


def test_routing_never_offers_the_city_switchboard_or_back_office_as_a_window(pack):
    result = windows_for(pack, list(TOPIC_IDS), ["逗子"])
    kinds = {w.agency.kind for w in result.windows}
    assert not kinds & {"city_hall", "core_center"}


# -- as residents write them (issue 14) ---------------------------------------------------


@pytest.mark.parametrize(("text", "label"), [
    ("ぬまま", "東部"), ("ヌママ", "東部"), ("numama", "東部"), ("こつぼ です", "西部"),
    ("ひさぎ", "西部"), ("Kotsubo", "西部"), ("いけご", "東部"), ("やまのね", "中部"),
    ("さくらやな3丁目", "東部"),  # one typo in a long reading
    ("Sakurayama 3-chome", "東部"), ("沼間に住んでます", "東部"),
])
def test_towns_in_kana_romaji_and_with_a_typo(pack, text, label):
    assert center_label(pack, text) == label


@pytest.mark.parametrize(("text", "label"), [
    ("さくら山3丁目", "東部"), ("小つぼ", "西部"), ("ぬま間", "東部"), ("池ご", "東部"),
])
def test_towns_half_in_kana_are_read_by_sudachi(pack, text, label):
    assert center_label(pack, text) == label


@pytest.mark.parametrize(("text", "label"), [
    ("桜山5丁目36番", "中部"), ("桜山5丁目12番", "東部"), ("桜山5-36-1", "中部"),
    ("新宿4丁目10番", "西部"), ("新宿4丁目3番", "中部"), ("新宿四丁目十番", "西部"),
])
def test_a_ban_settles_a_chome_split_between_centres(pack, text, label):
    assert center_label(pack, text) == label


@pytest.mark.parametrize("text", ["新宿4丁目2番", "桜山5丁目"])
def test_a_ban_split_again_by_go_stays_ambiguous(pack, text):
    from handlers.routing import locate

    status, centers, _ = locate(pack, normalize_town(text, pack))
    assert status == "ambiguous" and len(centers) == 2


@pytest.mark.parametrize(("text", "city"), [
    ("横須賀市です", "横須賀市"), ("葉山に住んでいます", "葉山町"), ("新宿区です", "新宿区"),
    ("港北区", "横浜市"), ("kamakura", "鎌倉市"), ("清川村", "清川村"),
])
def test_other_municipalities_are_recognised_not_taken_for_our_towns(pack, text, city):
    ref = normalize_town(text, pack)
    assert ref.elsewhere == city and ref.town is None


def test_all_of_kanagawas_33_municipalities_are_known():
    from handlers.places import municipalities

    kanagawa = [m for m in municipalities() if m.prefecture == "神奈川県"]
    assert len(kanagawa) == 33  # 逗子市 included (skipped when matching)
    assert sum(m.name.endswith("市") for m in kanagawa) == 19


@pytest.mark.parametrize("text", ["じゃあ、どうすればいいですか", "東逗子駅の近く", "36番です"])
def test_text_that_names_no_town_finds_none(pack, text):
    ref = normalize_town(text, pack)
    assert ref.town is None and ref.elsewhere is None
