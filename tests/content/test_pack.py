"""The content pack loads, is complete, and fails loudly and clearly when broken."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from bot.config import load_config
from handlers.content.loader import ContentPackError, load_pack, load_pack_dir, use_pack
from handlers.content.schema import REQUIRED_COPY_KEYS, TOPIC_IDS, URGENT_KINDS
from tests.conftest import _KEYS

ROOT = Path(__file__).resolve().parents[2]
SEED = Path("/work/shared/seeds/000_34f8e4ce90558a7e.txt")
_REQUIRED = {"SECRET_KEY": "s", "PSEUDONYM_KEY": _KEYS["pseudonym"],
             "ENCRYPTION_KEYS": _KEYS["encryption"]}


def test_zushi_pack_loads_with_its_parts(pack):
    assert pack.meta.id == "zushi"
    assert pack.meta.municipality == "逗子市"
    assert len(pack.centers) == 3
    assert 30 <= len(pack.faq) <= 45
    assert pack.hotlines and pack.resources and pack.towns


def test_load_pack_defaults_to_the_configured_content_pack(pack_copy):
    load_pack.cache_clear()
    use_pack(str(pack_copy))  # what bot.services does with Config.content_pack
    try:
        assert load_pack().meta.id == "zushi"
        assert load_pack() is load_pack()  # cached
    finally:
        use_pack("zushi")
        load_pack.cache_clear()


def test_load_pack_defaults_to_zushi():
    assert load_config("scheduler", env=dict(_REQUIRED)).content_pack == "zushi"
    assert load_pack().meta.id == "zushi"


def test_unknown_pack_name_is_a_clear_error():
    with pytest.raises(ContentPackError, match="content pack 'nowhere' not found.*zushi"):
        load_pack("nowhere")


def test_invalid_pack_names_the_field(pack_copy, replace_in):
    replace_in(pack_copy / "agencies.toml", 'phone = "046-876-5451"', 'phone = "046-87x"')
    with pytest.raises(ContentPackError) as err:
        load_pack_dir(pack_copy)
    message = str(err.value)
    assert "agencies.toml" in message
    assert "west_center" in message
    assert "phone" in message
    assert "Traceback" not in message


def test_missing_required_field_names_file_and_id(pack_copy, replace_in):
    replace_in(pack_copy / "agencies.toml", 'name = "逗子市東部地域包括支援センター"\n', "")
    expected = r"agencies.toml: agencies\[0\] \(id='east_center'\) → name: required"
    with pytest.raises(ContentPackError, match=expected):
        load_pack_dir(pack_copy)


def test_unknown_topic_id_is_rejected(pack_copy, replace_in):
    replace_in(pack_copy / "faq.toml", 'topics = ["elderly_care"]', 'topics = ["eldercare"]')
    expected = r"faq.toml: faq\[0\] \(id='hokatsu_where'\).*unknown topic id.*eldercare"
    with pytest.raises(ContentPackError, match=expected):
        load_pack_dir(pack_copy)


def test_duplicate_ids_are_rejected(pack_copy, replace_in):
    replace_in(pack_copy / "faq.toml", 'id = "where_to_start"', 'id = "hokatsu_where"')
    with pytest.raises(ContentPackError, match="faq.toml: duplicate id 'hokatsu_where'"):
        load_pack_dir(pack_copy)


def test_window_without_phone_is_rejected(pack_copy, replace_in):
    replace_in(pack_copy / "agencies.toml", 'phone_via = "district_center"\n', "")
    with pytest.raises(ContentPackError, match="agencies.toml: .*id='shakyo'.*has no phone"):
        load_pack_dir(pack_copy)


def test_phone_via_must_name_something_with_a_phone(pack_copy, replace_in):
    replace_in(pack_copy / "agencies.toml", 'phone_via = "jidou_189"', 'phone_via = "nobody"')
    with pytest.raises(ContentPackError, match="phone_via 'nobody' is not an agency or hotline id"):
        load_pack_dir(pack_copy)


def test_hotline_without_source_is_rejected(pack_copy, replace_in):
    line = 'source = "こども家庭庁（児童相談所虐待対応ダイヤル 189）"\n'
    replace_in(pack_copy / "hotlines.toml", line, "")
    expected = r"hotlines.toml: hotlines\[3\] \(id='jidou_189'\) → source: required"
    with pytest.raises(ContentPackError, match=expected):
        load_pack_dir(pack_copy)


def test_situation_naming_unknown_line_is_rejected(pack_copy, replace_in):
    replace_in(pack_copy / "hotlines.toml", 'lines = ["fire_119"]', 'lines = ["fire_911"]')
    with pytest.raises(ContentPackError, match="unknown hotline 'fire_911'"):
        load_pack_dir(pack_copy)


def test_missing_copy_key_is_rejected(pack_copy, replace_in):
    replace_in(pack_copy / "copy.toml", "deletion_done =", "deletion_finished =")
    with pytest.raises(ContentPackError, match="copy.toml: copy: .*deletion_done"):
        load_pack_dir(pack_copy)


def test_invalid_toml_names_the_file(pack_copy):
    (pack_copy / "towns.toml").write_text("[[towns]\nname = ", encoding="utf-8")
    with pytest.raises(ContentPackError, match="towns.toml is not valid TOML"):
        load_pack_dir(pack_copy)


def test_missing_file_names_the_file(pack_copy):
    (pack_copy / "copy.toml").unlink()
    with pytest.raises(ContentPackError, match="missing file copy.toml"):
        load_pack_dir(pack_copy)


def test_center_serving_unknown_town_is_rejected(pack_copy, replace_in):
    replace_in(pack_copy / "agencies.toml", 'town = "久木"', 'town = "久木町"')
    with pytest.raises(ContentPackError, match="serves unknown town '久木町'"):
        load_pack_dir(pack_copy)


def _load_nlu_contract():
    path = ROOT / "nlu" / "analysis.py"
    if not path.exists():
        pytest.skip("nlu/analysis.py not present")
    spec = importlib.util.spec_from_file_location("_nlu_analysis_contract", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(spec.name, None)
    return module


def test_topic_ids_and_urgent_kinds_match_the_nlu_contract():
    contract = _load_nlu_contract()
    assert tuple(contract.TOPIC_IDS) == TOPIC_IDS
    assert tuple(contract.URGENT_KINDS) == URGENT_KINDS


def test_every_copy_key_the_conversation_needs_is_present(pack):
    for key in REQUIRED_COPY_KEYS:
        assert pack.text(key) if "{" not in pack.copy_[key] else pack.copy_[key]


def test_copy_placeholders_fill_in(pack):
    text = pack.text("out_of_hours", next_open="1月5日（月）8時30分")
    assert "1月5日（月）8時30分" in text
    assert pack.text("retention_notice", days=pack.retention.days).count("180") == 1
    with pytest.raises(KeyError, match="no message copy 'nope'"):
        pack.text("nope")


def test_copy_is_polite_desu_masu(pack):
    for key, text in pack.copy_.items():
        if key == "easy_japanese_with_english" or key.startswith("en_"):
            continue
        assert re.search(r"(です|ます|ください|ました|ません)", text), key
        assert not re.search(r"[^でま]だ。", text), key


def test_the_three_centers_take_every_topic_and_have_a_coordinator(pack):
    assert [c.district_label for c in pack.centers] == ["東部", "中部", "西部"]
    for center in pack.centers:
        assert center.topics == "all"
        assert center.coordinator == "相談支援包括化推進員（社会福祉士）"
        assert center.phone and center.address and center.serves


@pytest.mark.skipif(not SEED.exists(), reason="source document not available")
def test_center_facts_are_copied_verbatim_from_the_source(pack):
    lines = SEED.read_text(encoding="utf-8").split("\n")
    block = "\n".join(lines[1170:1197])  # L1171–L1197
    for center in pack.centers:
        assert center.phone in block
        assert center.address in block
    for town in ("沼間", "池子", "逗子", "山の根", "久木", "小坪"):
        assert town in block
    assert "葉桜団地" in block


def test_every_agency_resource_and_faq_cites_a_source(pack):
    for agency in pack.agencies:
        assert agency.source
    for resource in pack.resources:
        assert resource.source
    for entry in pack.faq:
        assert entry.source, entry.id


def test_windows_without_their_own_number_say_so_in_unclear(pack):
    for agency in pack.agencies:
        if not agency.phone:
            assert agency.unclear, agency.id


def test_retention_is_stated_consistently(pack):
    days = str(pack.retention.days)
    assert days in pack.retention.text
    for entry_id in ("data_delete", "data_retention"):
        assert f"{days}日" in pack.faq_entry(entry_id).answer
