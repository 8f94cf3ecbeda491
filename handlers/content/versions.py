"""Content versions as pack documents: seeding from the pack files, reading a stored
version back as a ``ContentPack``, and what changed between two versions.

A version's payload is ``{"pack": <the ContentPack as JSON>, "retired_faq": [<entries>]}``.
Storing the whole validated document (not a table per field) lets the pack gain sections and
fields without a migration; a stored document lacking a section the code now knows takes that
section from the pack files.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from handlers.content.loader import ContentPackError, load_pack_files, validate_pack_data
from handlers.content.schema import ContentPack
from storage import content as store
from storage.db import transaction
from storage.models import utcnow

log = logging.getLogger(__name__)

# Section names as staff read them (diff view, validation messages).
SECTION_LABELS: dict[str, str] = {
    "meta": "基本情報", "business_hours": "受付時間・休業日", "retention": "保存期間",
    "agencies": "窓口", "towns": "町名", "faq": "よくある質問", "resources": "地域資源",
    "hotlines": "相談ダイヤル", "situations": "状況ごとの案内先",
    "open_now": "いつでもつながる番号", "copy": "文言",
    "retired_faq": "取り下げたよくある質問",
}


def pack_document(pack: ContentPack) -> dict[str, Any]:
    """The pack as plain JSON data (what ``validate_pack_data`` reads back)."""
    return pack.model_dump(mode="json", by_alias=True, exclude_none=True)


def payload_of(pack: ContentPack, retired_faq: list[dict[str, Any]] | None = None
               ) -> dict[str, Any]:
    return {"pack": pack_document(pack), "retired_faq": list(retired_faq or [])}


def fingerprint(document: dict[str, Any]) -> str:
    raw = json.dumps(document, ensure_ascii=False, sort_keys=True).encode()
    return hashlib.sha256(raw).hexdigest()


def completed(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with what the code gained since it was stored: whole sections it lacks
    and message keys (copy) it lacks come from the pack files; stored words are kept."""
    document = dict(payload.get("pack") or {})
    # Replaced by the situation table (situations, open_now; filled from the files below).
    document.pop("hotline_rules", None)
    aliases = [field.alias or name for name, field in ContentPack.model_fields.items()]
    missing = [a for a in aliases if a not in document]
    copy_texts = document.get("copy")
    try:
        files = pack_document(load_pack_files()) if missing or copy_texts is not None else {}
    except ContentPackError:
        files = {}
    for alias in missing:
        if alias in files:
            document[alias] = files[alias]
    if isinstance(copy_texts, dict) and files:
        document["copy"] = {**files.get("copy", {}), **copy_texts}
    if document == payload.get("pack"):
        return payload
    return {**payload, "pack": document}


def pack_from_payload(payload: dict[str, Any], label: str = "published") -> ContentPack:
    """Validate a stored document, completed from the pack files (see ``completed``).
    Raises ContentPackError."""
    return validate_pack_data(completed(payload)["pack"], label=label)


def ensure_seeded(factory: sessionmaker[Session], now: datetime | None = None) -> None:
    """Version 1 from the pack files when nothing is published; a newer seed when the files
    changed and nobody has edited the content in the console since (a developer's update)."""
    try:
        pack = load_pack_files()
    except ContentPackError as exc:
        log.error("content pack files are invalid; nothing seeded: %s", exc)
        return
    document = payload_of(pack)
    stamp = fingerprint(document["pack"])
    now = now or utcnow()
    try:
        with transaction(factory) as session:
            current = store.published(session)
            if current is None:
                store.add_published(session, document, origin="seed", now=now,
                                    fingerprint=stamp, note="パックファイルから作成")
            elif (current.origin == "seed" and current.fingerprint != stamp
                  and store.draft(session) is None):
                store.add_published(session, document, origin="seed", now=now,
                                    fingerprint=stamp, based_on=current.number,
                                    note="パックファイルの更新を反映")
    except IntegrityError:
        pass  # another process seeded at the same moment


# -- what changed ------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    section: str
    item: str  # the entry's id (or "" for a whole-section value)
    field: str  # "" when the whole item was added or removed
    kind: str  # added | removed | changed
    old: str = ""
    new: str = ""

    @property
    def section_label(self) -> str:
        return SECTION_LABELS.get(self.section, self.section)


def _show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _key(item: Any, index: int) -> str:
    if isinstance(item, dict):
        for name in ("id", "name", "urgent_kind", "topic"):
            if item.get(name):
                return str(item[name])
    return f"#{index + 1}"


def _diff_items(section: str, old: list[Any], new: list[Any]) -> list[Change]:
    before = {_key(x, i): x for i, x in enumerate(old)}
    after = {_key(x, i): x for i, x in enumerate(new)}
    changes: list[Change] = []
    for key, item in after.items():
        if key not in before:
            changes.append(Change(section, key, "", "added", new=_show(item)))
        elif before[key] != item:
            changes += _diff_fields(section, key, before[key], item)
    changes += [Change(section, key, "", "removed", old=_show(item))
                for key, item in before.items() if key not in after]
    return changes


def _diff_fields(section: str, item: str, old: Any, new: Any) -> list[Change]:
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return [Change(section, item, "", "changed", _show(old), _show(new))]
    return [Change(section, item, name, "changed", _show(old.get(name)), _show(new.get(name)))
            for name in dict.fromkeys([*old, *new]) if old.get(name) != new.get(name)]


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Changes from payload ``old`` to payload ``new``, section by section."""
    sections_old = {**(old.get("pack") or {}), "retired_faq": old.get("retired_faq") or []}
    sections_new = {**(new.get("pack") or {}), "retired_faq": new.get("retired_faq") or []}
    changes: list[Change] = []
    for section in dict.fromkeys([*sections_old, *sections_new]):
        a, b = sections_old.get(section), sections_new.get(section)
        if a == b:
            continue
        if isinstance(a, list) or isinstance(b, list):
            changes += _diff_items(section, list(a or []), list(b or []))
        else:
            changes += _diff_fields(section, "", a or {}, b or {})
    return changes
