"""Emergency and consultation lines: correct national numbers, each with its official source,
and the "open now" chooser — by situation first, then by the clock."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from handlers.content.loader import ContentPackError, read_pack_data, validate_pack_data
from handlers.hotlines import choose, listening_line, open_state, situations_for

TOKYO = ZoneInfo("Asia/Tokyo")
WEEKDAY_10 = datetime(2026, 6, 9, 10, 0, tzinfo=TOKYO)  # Tuesday, the city is open
WEEKDAY_02 = datetime(2026, 6, 9, 2, 0, tzinfo=TOKYO)  # Tuesday, the small hours
HOLIDAY_10 = datetime(2026, 7, 20, 10, 0, tzinfo=TOKYO)  # 海の日 (a Monday)

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
    "kodomo_sos": "0120-0-78310",
}
# Lines that answer around the clock, every day (each publisher says so).
TWENTY_FOUR_HOURS = {"fire_119", "police_110", "jidou_189", "dv_plus", "yorisoi",
                     "kyukyu_7119", "kodomo_sos"}


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
    assert "文部科学省" in pack.hotline("kodomo_sos").source
    assert pack.hotline("kyukyu_7119").area == "神奈川県"


def test_machine_readable_hours_agree_with_the_words(pack):
    always = {h.id for h in pack.hotlines if h.opening and h.opening.always}
    assert always == TWENTY_FOUR_HOURS
    for hotline in pack.hotlines:
        if hotline.id in always:
            assert "24時間" in hotline.hours, hotline.id
        else:  # unknown: the words send people to the official site or say it varies
            assert hotline.opening is None, hotline.id
            assert "24時間" not in hotline.hours or "電話は24時間" in hotline.hours, hotline.id


@pytest.mark.parametrize("now", [WEEKDAY_10, WEEKDAY_02, HOLIDAY_10])
def test_lines_of_unknown_hours_are_never_open_now(pack, now):
    assert open_state(pack.hotline("inochi_navi"), now, pack) == "unknown"
    assert open_state(pack.hotline("yorisoi"), now, pack) == "open"


# -- situations: the right line for the situation --------------------------------------


def situation_ids(pack, kind, topics, text=""):
    return [s.id for s in situations_for(pack, kind, topics, text)]


def test_elder_abuse_goes_to_the_centre_and_the_city_not_189(pack):
    lines = choose(pack, WEEKDAY_10, urgent_kind="abuse",
                   topic_ids=["elderly_care", "dementia", "abuse"],
                   text="同居の息子が認知症の母を叩いている", urgent=True)
    assert lines.situations[0].id == "elder_abuse"
    assert "189" not in numbers(lines.all_lines)
    assert numbers(lines.open_now)[0] == "110"  # violence now
    window_names = [a.name for a, _ in lines.windows]
    assert any("地域包括支援センター" in n for n in window_names)
    assert any("基幹型地域包括支援センター" in n for n in window_names)


def test_elder_abuse_without_the_topics_is_recognised_by_its_words(pack):
    assert situation_ids(pack, "abuse", ["abuse"], "祖母が叔父に叩かれている")[0] == "elder_abuse"


def test_disability_abuse_goes_to_the_disability_windows(pack):
    lines = choose(pack, WEEKDAY_10, urgent_kind="abuse", topic_ids=["disability", "abuse"],
                   text="障がいのある弟が施設で殴られている", urgent=True)
    assert lines.situations[0].id == "disability_abuse"
    assert "189" not in numbers(lines.all_lines)
    assert lines.windows[0][0].id == "core_disability_center"


def test_child_abuse_gets_189_first_then_110(pack):
    lines = choose(pack, WEEKDAY_02, urgent_kind="abuse", topic_ids=["child_parenting", "abuse"],
                   text="隣の家の子どもが毎晩叩かれて泣き叫んでいる", urgent=True)
    assert numbers(lines.open_now)[:2] == ["189", "110"]


def test_overdose_gets_119_first(pack):
    lines = choose(pack, WEEKDAY_10, urgent_kind="suicide", topic_ids=["health", "suicide_risk"],
                   text="薬をたくさん飲んでしまった", urgent=True)
    assert lines.situations[0].id == "body_in_danger"
    assert numbers(lines.open_now)[0] == "119"
    assert "0120-279-338" in numbers(lines.open_now)  # and someone to talk to


def test_someone_about_to_act_gets_119_and_110_first_then_a_24_hour_line(pack):
    lines = choose(pack, WEEKDAY_02, urgent_kind="suicide", topic_ids=["suicide_risk"],
                   text="今から屋上から飛び降ります", urgent=True)
    assert numbers(lines.open_now)[:3] == ["119", "110", "0120-279-338"]


def test_violence_now_gets_110_first_then_the_dv_lines(pack):
    lines = choose(pack, WEEKDAY_10, urgent_kind="violence", topic_ids=["domestic_violence"],
                   text="夫に殴られていて怖いです", urgent=True)
    assert numbers(lines.open_now)[:2] == ["110", "0120-279-889"]
    assert "#8008" in numbers(lines.hours_unknown)


def test_dv_without_danger_now_gets_the_dv_lines_but_not_110(pack):
    lines = choose(pack, WEEKDAY_10, topic_ids=["domestic_violence"], text="夫の束縛がつらい")
    assert numbers(lines.all_lines)[:2] == ["0120-279-889", "#8008"]
    assert "110" not in numbers(lines.all_lines)


@pytest.mark.parametrize(("topics", "text", "situation"), [
    (["elderly_care", "child_parenting", "young_carer"],
     "中2です。母の介護をしていて学校に行けません", "young_carer"),
    (["elderly_care", "hikikomori"], "50代の息子がずっと部屋にこもっていて私も80歳です",
     "eighty_fifty"),
    (["living_hardship", "housing"], "家賃が払えず来月アパートを追い出されます", "housing_loss"),
])
def test_compound_situations_have_their_windows(pack, topics, text, situation):
    lines = choose(pack, WEEKDAY_10, topic_ids=topics, text=text)
    assert lines.situations[0].id == situation
    assert lines.windows
    assert lines.open_now  # and a line open now


def test_housing_loss_names_the_housing_benefit_window(pack):
    lines = choose(pack, WEEKDAY_10, topic_ids=["housing"], text="家を失いそうです")
    assert lines.windows[0][0].id == "housing_benefit_window"


@pytest.mark.parametrize("kind", ["suicide", "violence", "abuse", "medical", "missing", "disaster"])
@pytest.mark.parametrize("now", [WEEKDAY_10, WEEKDAY_02, HOLIDAY_10])
def test_every_urgent_kind_has_an_emergency_line_open_now_without_duplicates(pack, kind, now):
    lines = choose(pack, now, urgent_kind=kind, topic_ids=[], urgent=True)
    got = numbers(lines.all_lines)
    assert set(got) & {"110", "119", "189"}
    assert len(got) == len(set(got))


def test_urgent_without_a_known_situation_gets_119_and_110(pack):
    lines = choose(pack, WEEKDAY_02, urgent=True)
    assert numbers(lines.open_now) == ["119", "110"]


# -- the clock ---------------------------------------------------------------------------


def test_suicidal_message_at_night_gets_a_24_hour_line_first(pack):
    lines = choose(pack, WEEKDAY_02, urgent_kind="suicide", topic_ids=["suicide_risk"],
                   text="もう死にたい", urgent=True)
    assert numbers(lines.open_now) == ["0120-279-338", "119"]
    assert lines.hours_unknown == []  # いのちの電話 (hours not known) is not given at night


def test_suicidal_message_in_office_hours_also_lists_lines_of_unknown_hours_after(pack):
    lines = choose(pack, WEEKDAY_10, urgent_kind="suicide", topic_ids=["suicide_risk"],
                   text="もう死にたい", urgent=True)
    assert numbers(lines.open_now) == ["0120-279-338", "119"]
    assert numbers(lines.hours_unknown) == ["0570-783-556", "0120-783-556", "0570-064-556"]


def test_on_a_holiday_morning_only_lines_known_to_be_open_are_given(pack):
    lines = choose(pack, HOLIDAY_10, urgent_kind="suicide", topic_ids=["suicide_risk"],
                   text="もう死にたい", urgent=True)
    assert numbers(lines.all_lines) == ["0120-279-338", "119"]


@pytest.mark.parametrize("now", [WEEKDAY_10, WEEKDAY_02, HOLIDAY_10])
def test_the_listening_line_is_a_24_hour_line_that_is_not_an_emergency_number(pack, now):
    line = listening_line(pack, now)
    assert line.opening.always and line.number not in ("110", "119")
    dv = choose(pack, now, topic_ids=["domestic_violence"])
    assert listening_line(pack, now, dv).number == "0120-279-889"


# -- weekly schedules with holidays, in a pack of our own ----------------------------------


def pack_with(tmp_pack_dir, **opening):
    data = read_pack_data(tmp_pack_dir)
    for hotline in data["hotlines"]:
        if hotline["id"] in opening:
            hotline["open"] = opening[hotline["id"]]
    return validate_pack_data(data, label="test")


def test_a_weekday_line_is_open_in_its_hours_and_closed_at_night_and_on_holidays(pack_copy):
    pack = pack_with(pack_copy, consumer_188=["mon-fri 09:00-17:00"])
    line = pack.hotline("consumer_188")
    assert open_state(line, WEEKDAY_10, pack) == "open"
    assert open_state(line, WEEKDAY_02, pack) == "closed"
    assert open_state(line, HOLIDAY_10, pack) == "closed"
    lines = choose(pack, WEEKDAY_02, topic_ids=["rights_advocacy"])
    assert lines.all_lines == []  # closed lines are left out


def test_an_overnight_line_runs_into_the_next_morning(pack_copy):
    pack = pack_with(pack_copy, inochi_free=["daily 16:00-21:00", "daily 22:00-06:00"])
    line = pack.hotline("inochi_free")
    assert open_state(line, WEEKDAY_02, pack) == "open"  # from Monday 22:00
    assert open_state(line, WEEKDAY_10, pack) == "closed"
    lines = choose(pack, WEEKDAY_02, urgent_kind="suicide", topic_ids=["suicide_risk"],
                   urgent=True)
    assert numbers(lines.open_now) == ["0120-279-338", "0120-783-556", "119"]


def test_holiday_periods_apply_on_national_holidays(pack_copy):
    pack = pack_with(pack_copy, consumer_188=["mon-fri 09:00-17:00", "sat,sun,hol 10:00-16:00"])
    assert open_state(pack.hotline("consumer_188"), HOLIDAY_10, pack) == "open"


@pytest.mark.parametrize("bad", ["always", ["mon-fri 9-17"], ["someday 09:00-17:00"],
                                 ["mon 25:00-26:00"], []])
def test_bad_hours_fail_at_load_naming_the_line(pack_copy, bad):
    with pytest.raises(ContentPackError, match="consumer_188"):
        pack_with(pack_copy, consumer_188=bad)


def test_the_24_hour_line_for_everyone_must_really_be_24_hours(pack_copy):
    with pytest.raises(ContentPackError, match='must be open = "24h"'):
        pack_with(pack_copy, yorisoi=["daily 09:00-21:00"])


def test_a_situation_naming_an_unknown_line_fails_at_load(pack_copy):
    data = read_pack_data(pack_copy)
    data["situations"][0]["lines"] = ["no_such_line"]
    with pytest.raises(ContentPackError, match="no_such_line"):
        validate_pack_data(data)


@pytest.mark.parametrize("now", [WEEKDAY_10, WEEKDAY_02, HOLIDAY_10])
def test_every_situation_gives_a_line_open_now_when_urgent_and_when_unsure(pack, now):
    for situation in pack.situations:
        kind = situation.urgent_kinds[0] if situation.urgent_kinds else None
        topics = [*situation.topics[:1], *situation.and_topics[:1]]
        words = " ".join(situation.and_words[:1])
        urgent = choose(pack, now, urgent_kind=kind, topic_ids=topics, text=words, urgent=True)
        assert situation in urgent.situations, situation.id
        assert urgent.open_now, situation.id
        unsure = choose(pack, now, urgent_kind=None, topic_ids=topics, text=words)
        assert open_state(listening_line(pack, now, unsure), now, pack) == "open", situation.id


def test_the_line_for_when_unsure_is_not_given_next_to_119(pack):
    urgent = choose(pack, WEEKDAY_10, urgent_kind="medical", topic_ids=["health"],
                    text="父が倒れて意識がない", urgent=True)
    assert numbers(urgent.all_lines) == ["119"]
    unsure = choose(pack, WEEKDAY_10, topic_ids=["health"], text="熱が下がらず病院に行くか迷う")
    assert numbers(unsure.all_lines) == ["#7119"]
