"""Edits staff make to a content version, as changes to its pack document.

Each function takes a payload (see handlers.content.versions) and returns a new one; the
item it touches is validated with the pack's own model, so a mistake is reported where it
is made. Whole-pack checks run before publishing (handlers.content.checks).
"""

from __future__ import annotations

import copy
import csv
import io
from datetime import date
from typing import Any

from pydantic import BaseModel, ValidationError

from handlers.content.checks import FAQ_IDS_USED_BY_BOT
from handlers.content.faq_csv import FaqCsvError, decode_csv_bytes, parse_faq_csv_text
from handlers.content.schema import Agency, BusinessHours, FaqEntry, Hotline

FIELD_LABELS: dict[str, str] = {
    "id": "ID", "question": "質問", "answer": "回答", "category": "カテゴリ",
    "topics": "トピック", "keywords": "キーワード", "agencies": "案内する窓口",
    "name": "名称", "phone": "電話番号", "number": "電話番号", "hours": "受付時間",
    "address": "住所", "description": "説明", "source": "出典", "source_url": "出典URL",
    "checked_on": "確認日", "reviewed_on": "確認日", "open": "開始時刻", "close": "終了時刻",
    "weekdays": "曜日", "closed_dates": "休業日", "text": "案内文", "serves": "担当地域",
}
CSV_HEADER = ["ID", "質問", "回答", "カテゴリ", "トピック", "キーワード"]


class EditError(ValueError):
    """An edit that cannot be saved; the message says what to fix, in Japanese."""


def _validated(model: type[BaseModel], data: dict[str, Any], what: str) -> dict[str, Any]:
    try:
        item = model.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ())]
            label = FIELD_LABELS.get(loc[0], loc[0]) if loc else what
            lines.append(f"{label}: {_japanese(err, loc)}")
        raise EditError(f"{what}を保存できません。" + " / ".join(lines)) from None
    return item.model_dump(mode="json", by_alias=True, exclude_none=True)


def _japanese(err: Any, loc: list[str]) -> str:
    """The pydantic error in words staff can act on (the English original as a fallback)."""
    kind, msg = err.get("type", ""), str(err.get("msg", "")).removeprefix("Value error, ")
    if kind in ("missing", "string_too_short"):
        return "入力してください"
    if loc and loc[0] == "id":
        return "IDは英数字と _ で、64文字以内にしてください（ボタンのデータに入るため）"
    if kind == "string_too_long":
        return f"{(err.get('ctx') or {}).get('max_length', '')}文字以内にしてください"
    if loc and loc[0] in ("phone", "number"):
        return ("電話番号の形式が正しくありません（例: 046-876-6299、0120-279-889、#8008、110。"
                "半角数字とハイフンで書いてください）")
    if kind.startswith("time"):
        return "時刻は 8:30 のように入力してください"
    if kind.startswith("date"):
        return "日付は 2026-04-01 のように入力してください"
    if "must be before close" in msg:
        return "開始時刻は終了時刻より前にしてください"
    if "closed_dates" in msg:
        return "休業日は 12-29 のように「月-日」で入力してください"
    if "weekdays" in msg:
        return "受付する曜日を1つ以上選んでください"
    if "pattern" in kind:
        return "英小文字・数字・_ で入力してください"
    return msg


def _doc(payload: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    new = copy.deepcopy(payload)
    new.setdefault("retired_faq", [])
    return new, new["pack"]


# -- FAQ -------------------------------------------------------------------------------


def find_faq(payload: dict[str, Any], entry_id: str) -> tuple[dict[str, Any], bool] | None:
    """(entry, retired) or None."""
    for entry in payload["pack"].get("faq", []):
        if entry.get("id") == entry_id:
            return entry, False
    for entry in payload.get("retired_faq", []):
        if entry.get("id") == entry_id:
            return entry, True
    return None


def put_faq(payload: dict[str, Any], fields: dict[str, Any], original_id: str | None = None,
            reviewed_on: date | None = None) -> dict[str, Any]:
    """Add an entry (original_id None) or change one; ``reviewed_on`` marks it checked."""
    new, pack = _doc(payload)
    entries: list[dict[str, Any]] = pack.setdefault("faq", [])
    existing = next((e for e in entries if e.get("id") == original_id), None)
    if original_id is not None and existing is None:
        raise EditError(
            f"よくある質問「{original_id}」が見つかりません（取り下げ済みかもしれません）。")
    data = {**(existing or {}), **fields}
    if reviewed_on is not None:
        data["reviewed_on"] = reviewed_on.isoformat()
    entry = _validated(FaqEntry, data, "よくある質問")
    taken = {e.get("id") for e in entries if e is not existing}
    taken |= {e.get("id") for e in new["retired_faq"]}
    if entry["id"] in taken:
        raise EditError(f"ID「{entry['id']}」はすでに使われています。別のIDにしてください。")
    if existing is None:
        entries.append(entry)
    else:
        entries[entries.index(existing)] = entry
    return new


def retire_faq(payload: dict[str, Any], entry_id: str, today: date) -> dict[str, Any]:
    if entry_id in FAQ_IDS_USED_BY_BOT:
        raise EditError(f"「{entry_id}」はボットが直接使っている質問のため取り下げできません。"
                        "内容を編集してください。")
    new, pack = _doc(payload)
    entries = pack.get("faq", [])
    entry = next((e for e in entries if e.get("id") == entry_id), None)
    if entry is None:
        raise EditError(f"よくある質問「{entry_id}」が見つかりません。")
    entries.remove(entry)
    new["retired_faq"].append({**entry, "retired_on": today.isoformat()})
    return new


def restore_faq(payload: dict[str, Any], entry_id: str) -> dict[str, Any]:
    new, pack = _doc(payload)
    entry = next((e for e in new["retired_faq"] if e.get("id") == entry_id), None)
    if entry is None:
        raise EditError(f"取り下げたよくある質問「{entry_id}」が見つかりません。")
    new["retired_faq"].remove(entry)
    entry = {k: v for k, v in entry.items() if k != "retired_on"}
    pack.setdefault("faq", []).append(entry)
    return new


# -- windows, hours, hotlines, wording -----------------------------------------------


def _put_item(payload: dict[str, Any], section: str, item_id: str, fields: dict[str, Any],
              model: type[BaseModel], what: str) -> dict[str, Any]:
    new, pack = _doc(payload)
    items = pack.get(section, [])
    index = next((i for i, x in enumerate(items) if x.get("id") == item_id), None)
    if index is None:
        raise EditError(f"{what}「{item_id}」が見つかりません。")
    data = {**items[index], **fields}
    items[index] = _validated(model, {k: v for k, v in data.items() if v is not None}, what)
    return new


def put_agency(payload: dict[str, Any], agency_id: str, fields: dict[str, Any]
               ) -> dict[str, Any]:
    return _put_item(payload, "agencies", agency_id, fields, Agency, "窓口")


def put_hotline(payload: dict[str, Any], hotline_id: str, fields: dict[str, Any]
                ) -> dict[str, Any]:
    return _put_item(payload, "hotlines", hotline_id, fields, Hotline, "相談ダイヤル")


def put_business_hours(payload: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    new, pack = _doc(payload)
    data = {**pack.get("business_hours", {}), **fields}
    pack["business_hours"] = _validated(BusinessHours, data, "受付時間")
    return new


def put_copy(payload: dict[str, Any], key: str, text: str) -> dict[str, Any]:
    new, pack = _doc(payload)
    texts = pack.setdefault("copy", {})
    if key not in texts:
        raise EditError(f"文言「{key}」は見つかりません。")
    if not text.strip():
        raise EditError(f"文言「{key}」は空にできません。")
    try:
        template = texts[key]
        wanted = _fields(template)
        if _fields(text) - wanted:
            raise EditError(
                f"文言「{key}」で使えない差し込み {sorted(_fields(text) - wanted)} があります"
                f"（使えるのは {sorted(wanted) or 'なし'}）。")
    except ValueError as exc:
        if isinstance(exc, EditError):
            raise
        raise EditError(f"文言「{key}」の {{ }} の書き方が正しくありません。") from None
    texts[key] = text.strip()
    return new


def _fields(template: str) -> set[str]:
    import string

    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


# -- CSV -------------------------------------------------------------------------------


# Characters CP932 reads back as their full-width look-alikes (〜 U+301C → ～ U+FF5E …).
_CP932_FOLD = str.maketrans({"\u301c": "\uff5e", "\u2212": "\uff0d", "\u2016": "\u2225",
                             "\u00a2": "\uffe0", "\u00a3": "\uffe1", "\u00ac": "\uffe2"})


def _fold(text: str) -> str:
    return text.translate(_CP932_FOLD)


def export_faq_csv(payload: dict[str, Any], encoding: str = "utf-8") -> bytes:
    """The FAQ in the municipal CSV layout: UTF-8 with a BOM, or CP932 as Excel writes it
    (CRLF line ends either way). An entry CP932 cannot hold is an error, never dropped."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for e in payload["pack"].get("faq", []):
        writer.writerow([e["id"], e["question"], e["answer"], e["category"],
                         " ".join(e.get("topics", [])), " ".join(e.get("keywords", []))])
    text = out.getvalue()
    if encoding == "cp932":
        try:
            return text.encode("cp932")
        except UnicodeEncodeError as exc:
            bad = text[exc.start:exc.end]
            raise EditError(
                f"「{bad}」は Shift_JIS（CP932）で書き出せません。UTF-8 で書き出してください。"
            ) from None
    return b"\xef\xbb\xbf" + text.encode("utf-8")


def import_faq_csv(payload: dict[str, Any], raw: bytes, filename: str = "faq.csv"
                   ) -> tuple[dict[str, Any], int, int]:
    """Merge a CSV into the FAQ by ID: (payload, added, updated). Columns the CSV lacks
    (e.g. 案内する窓口) keep their values; entries missing from the CSV stay as they are."""
    try:
        rows = parse_faq_csv_text(decode_csv_bytes(raw, filename), filename)
    except FaqCsvError as exc:
        raise EditError(f"CSVを読み込めません: {exc}") from None
    new, pack = _doc(payload)
    entries = pack.setdefault("faq", [])
    retired = {e.get("id") for e in new["retired_faq"]}
    by_id = {e["id"]: i for i, e in enumerate(entries)}
    added = updated = 0
    for row in rows:
        if row["id"] in retired:
            raise EditError(
                f"CSVのID「{row['id']}」は取り下げたよくある質問です。先に戻してください。")
        if row["id"] in by_id:
            current = entries[by_id[row["id"]]]
            for name in ("question", "answer", "category"):
                if _fold(row[name]) == _fold(current.get(name, "")):
                    row[name] = current[name]  # only Shift_JIS's own 〜/− came back
            merged = {**current, **{k: v for k, v in row.items() if k != "source"}}
            if merged != current:
                entries[by_id[row["id"]]] = _validated(FaqEntry, merged, "よくある質問")
                updated += 1
        else:
            entries.append(_validated(FaqEntry, row, "よくある質問"))
            by_id[row["id"]] = len(entries) - 1
            added += 1
    return new, added, updated
