"""Importing the common municipal FAQ CSV layout (ID,質問,回答,カテゴリ)."""

from __future__ import annotations

import pytest

from handlers.content.faq_csv import FaqCsvError, load_faq_csv
from handlers.content.loader import ContentPackError, load_pack_dir

CSV = (
    "ID,質問,回答,カテゴリ\n"
    "Q001,ごみの出し方を教えてください,ごみ収集カレンダーをご覧ください。,くらし\n"
    'Q002,"窓口は、どこですか",市役所1階です。,窓口\n'
)


def test_csv_import_utf8(tmp_path):
    path = tmp_path / "faq.csv"
    path.write_bytes(CSV.encode("utf-8"))
    entries = load_faq_csv(path)
    assert [e.id for e in entries] == ["Q001", "Q002"]
    assert entries[1].question == "窓口は、どこですか"
    assert entries[0].category == "くらし"
    assert entries[0].source == "faq.csv line 2"


def test_csv_import_utf8_with_bom():
    entries = load_faq_csv(b"\xef\xbb\xbf" + CSV.encode("utf-8"))
    assert entries[0].id == "Q001"


def test_csv_import_cp932():
    raw = CSV.encode("cp932")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    entries = load_faq_csv(raw)
    assert entries[0].answer == "ごみ収集カレンダーをご覧ください。"


def test_csv_import_shift_jis_windows_line_endings():
    raw = CSV.replace("\n", "\r\n").encode("shift_jis")
    assert [e.id for e in load_faq_csv(raw)] == ["Q001", "Q002"]


def test_csv_optional_topic_and_keyword_columns():
    raw = (
        "ID,質問,回答,カテゴリ,トピック,キーワード\n"
        "Q1,介護の相談,包括へどうぞ。,介護,elderly_care dementia,介護、認知症\n"
    ).encode()
    entry = load_faq_csv(raw)[0]
    assert entry.topics == ["elderly_care", "dementia"]
    assert entry.keywords == ["介護", "認知症"]


def test_csv_missing_column_is_named():
    with pytest.raises(FaqCsvError, match="faq.csv: missing column\\(s\\) 回答"):
        load_faq_csv("ID,質問,カテゴリ\nQ1,質問です,くらし\n".encode())


def test_csv_empty_answer_names_line_and_id():
    raw = "ID,質問,回答,カテゴリ\nQ1,質問です,答えです。,くらし\nQ2,もう一つ,,くらし\n".encode()
    with pytest.raises(FaqCsvError, match=r"faq.csv: line 3 \(ID 'Q2'\): column 回答 is empty"):
        load_faq_csv(raw)


def test_csv_duplicate_id_is_rejected():
    raw = "ID,質問,回答,カテゴリ\nQ1,a,b,c\nQ1,d,e,f\n".encode()
    with pytest.raises(FaqCsvError, match="line 3: duplicate ID 'Q1' \\(first on line 2\\)"):
        load_faq_csv(raw)


def test_csv_unknown_topic_is_rejected():
    raw = "ID,質問,回答,カテゴリ,トピック\nQ1,a,b,c,kaigo\n".encode()
    with pytest.raises(FaqCsvError, match="line 2 \\(ID 'Q1'\\): topics: unknown topic id"):
        load_faq_csv(raw)


def test_csv_empty_file_is_a_clear_error():
    with pytest.raises(FaqCsvError, match="the file is empty"):
        load_faq_csv(b"")


def test_csv_unreadable_encoding_is_a_clear_error():
    with pytest.raises(FaqCsvError, match="cannot read the file as UTF-8 or CP932"):
        load_faq_csv(b"ID,\xff\xff\xff\n")


def test_pack_merges_its_faq_csv(pack_copy):
    (pack_copy / "faq.csv").write_bytes(CSV.encode("cp932"))
    pack = load_pack_dir(pack_copy)
    assert pack.faq_entry("Q002").answer == "市役所1階です。"


def test_broken_faq_csv_in_a_pack_is_a_pack_error(pack_copy):
    (pack_copy / "faq.csv").write_bytes("ID,質問\n".encode())
    with pytest.raises(ContentPackError, match="faq.csv: missing column"):
        load_pack_dir(pack_copy)
