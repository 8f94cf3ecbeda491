"""Import FAQ entries from the common municipal FAQ CSV layout.

Many municipalities publish (or can export) their FAQ as CSV with the header
``ID,質問,回答,カテゴリ``. Files come as UTF-8 (with or without a BOM) or as CP932/Shift_JIS
from Excel; both are accepted. Optional extra columns: ``トピック`` (topic ids separated by
spaces, commas or 、) and ``キーワード`` (retrieval keywords, same separators).

    entries = load_faq_csv("faq.csv")            # -> list[FaqEntry]
    rows = read_faq_csv_rows("faq.csv")          # -> list[dict] (for merging into a pack)

Problems raise ``FaqCsvError`` naming the file, the line and the column.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from pathlib import Path

from pydantic import ValidationError

from handlers.content.schema import FaqEntry

REQUIRED_COLUMNS: dict[str, str] = {
    "ID": "id", "質問": "question", "回答": "answer", "カテゴリ": "category",
}
OPTIONAL_COLUMNS: dict[str, str] = {"トピック": "topics", "キーワード": "keywords"}
# Accepted spellings of each header (compared after NFKC and removing spaces).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "ID": ("ID", "id", "番号", "No", "NO", "no"),
    "質問": ("質問", "質問内容", "問"),
    "回答": ("回答", "回答内容", "答"),
    "カテゴリ": ("カテゴリ", "カテゴリー", "分類"),
    "トピック": ("トピック", "topics", "topic"),
    "キーワード": ("キーワード", "keywords"),
}
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
_SPLIT = re.compile(r"[\s,，、;；]+")


class FaqCsvError(ValueError):
    """The CSV cannot be imported; the message names file, line and column."""


def decode_csv_bytes(raw: bytes, label: str = "faq.csv") -> str:
    """Text of a CSV file: UTF-8 (BOM optional) first, then CP932 (Shift_JIS)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("cp932")
    except UnicodeDecodeError as exc:
        raise FaqCsvError(
            f"{label}: cannot read the file as UTF-8 or CP932/Shift_JIS (byte {exc.start}); "
            "save it as UTF-8 CSV"
        ) from None
    if _PRIVATE_USE.search(text):
        # bytes such as 0xFF "decode" to private-use characters: not a real Shift_JIS file
        raise FaqCsvError(
            f"{label}: cannot read the file as UTF-8 or CP932/Shift_JIS (unexpected bytes); "
            "save it as UTF-8 CSV"
        )
    return text


def _norm_header(cell: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", cell)).strip('"')


def _split(cell: str) -> list[str]:
    return [part for part in _SPLIT.split(cell.strip()) if part]


def parse_faq_csv_text(text: str, label: str = "faq.csv") -> list[dict]:
    """Rows as dicts ready for ``FaqEntry`` (validated for required values, not yet models)."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise FaqCsvError(
            f"{label}: the file is empty (expected a header: ID,質問,回答,カテゴリ)"
        ) from None
    normalized = [_norm_header(h) for h in header]
    positions: dict[str, int] = {}
    for canonical, aliases in HEADER_ALIASES.items():
        wanted = {_norm_header(a) for a in aliases}
        for i, cell in enumerate(normalized):
            if cell in wanted:
                positions[canonical] = i
                break
    missing = [c for c in REQUIRED_COLUMNS if c not in positions]
    if missing:
        raise FaqCsvError(
            f"{label}: missing column(s) {', '.join(missing)} in the header "
            f"(found: {', '.join(header) or 'nothing'}; expected ID,質問,回答,カテゴリ)"
        )
    rows: list[dict] = []
    seen: dict[str, int] = {}
    for line_no, record in enumerate(reader, start=2):
        if not any(cell.strip() for cell in record):
            continue  # blank line

        def cell(column: str, record: list[str] = record) -> str:
            index = positions[column]
            return record[index].strip() if index < len(record) else ""

        row: dict = {}
        for column, field in REQUIRED_COLUMNS.items():
            value = cell(column)
            if not value:
                raise FaqCsvError(
                    f"{label}: line {line_no}"
                    + (f" (ID {cell('ID')!r})" if column != "ID" and cell("ID") else "")
                    + f": column {column} is empty"
                )
            row[field] = value
        for column, field in OPTIONAL_COLUMNS.items():
            if column in positions:
                row[field] = _split(cell(column))
        if row["id"] in seen:
            raise FaqCsvError(
                f"{label}: line {line_no}: duplicate ID {row['id']!r} "
                f"(first on line {seen[row['id']]})"
            )
        seen[row["id"]] = line_no
        row["source"] = f"{label} line {line_no}"
        try:
            FaqEntry.model_validate(row)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first.get("loc", ()))
            msg = str(first.get("msg", "invalid")).removeprefix("Value error, ")
            raise FaqCsvError(
                f"{label}: line {line_no} (ID {row['id']!r}): {field}: {msg}"
            ) from None
        rows.append(row)
    return rows


def read_faq_csv_rows(path: str | Path) -> list[dict]:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FaqCsvError(f"{path.name}: cannot read: {exc.strerror}") from None
    return parse_faq_csv_text(decode_csv_bytes(raw, path.name), path.name)


def load_faq_csv(source: str | Path | bytes, label: str | None = None) -> list[FaqEntry]:
    """FAQ entries from a CSV path or its raw bytes."""
    if isinstance(source, bytes):
        name = label or "faq.csv"
        rows = parse_faq_csv_text(decode_csv_bytes(source, name), name)
    else:
        rows = read_faq_csv_rows(source)
    return [FaqEntry.model_validate(row) for row in rows]
