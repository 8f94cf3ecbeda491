"""Load and validate a content pack from TOML files (stdlib tomllib).

``load_pack_files()`` reads a pack directory (cached); ``load_pack()`` serves the published
version from the database when the process has one (handlers.content.live), else the files.
Any problem is raised as
``ContentPackError`` whose message names the pack, the file and the field, e.g.::

    content pack 'zushi' is invalid:
      - agencies.toml: agencies[2] (id='west_center') → phone: phone '046-87x' is not a phone number

so ``python -m bot`` can print one clear line instead of a stack trace.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from handlers.content.schema import SECTION_FILES, ContentPack

PACKS_DIR = Path(__file__).resolve().parent / "packs"
DEFAULT_PACK = "zushi"
ENV_VAR = "CONTENT_PACK"

# file → the top-level keys it may contribute
PACK_FILES: dict[str, tuple[str, ...]] = {
    "pack.toml": ("meta", "business_hours", "retention"),
    "agencies.toml": ("agencies",),
    "towns.toml": ("towns",),
    "faq.toml": ("faq",),
    "resources.toml": ("resources",),
    "hotlines.toml": ("hotlines", "situations", "open_now"),
    "copy.toml": ("copy", "labels"),
}
OPTIONAL_FILES = {"resources.toml"}
FAQ_CSV = "faq.csv"  # optional: the municipality's FAQ export, merged after faq.toml


class ContentPackError(Exception):
    """A content pack is missing, unreadable or invalid. The message is for humans."""


def pack_dir(name: str) -> Path:
    """The directory of pack ``name``: a directory under packs/, or a path to one."""
    candidate = Path(name)
    if candidate.is_dir() and (candidate / "pack.toml").exists():
        return candidate.resolve()
    if "/" in name or "\\" in name or name.startswith("."):
        raise ContentPackError(f"content pack directory {name!r} not found (no pack.toml there)")
    directory = PACKS_DIR / name
    if not (directory / "pack.toml").exists():
        available = sorted(p.name for p in PACKS_DIR.iterdir() if (p / "pack.toml").exists())
        raise ContentPackError(
            f"content pack {name!r} not found in {PACKS_DIR} (available: {', '.join(available)}); "
            f"set {ENV_VAR} to one of these or to a pack directory"
        )
    return directory


_selected = DEFAULT_PACK  # the process's pack: Config.content_pack, set by use_pack()


def use_pack(name: str) -> None:
    """Make ``name`` the pack load_pack() returns (bot.services does this from Config)."""
    global _selected
    pack_dir(name)  # a pack that is not there is an error now, not at the first message
    if name != _selected:
        from handlers.content import live

        live.reset()  # the version served was published from the other pack's files
    _selected = name


def load_pack(name: str | None = None) -> ContentPack:
    """The content residents read now: the version published in the database when this
    process has a live source (see handlers.content.live), else the pack files.

    ``name`` (a pack name or directory) always reads those files."""
    if name is None:
        from handlers.content import live

        published = live.current()
        if published is not None:
            return published
    return load_pack_files(name)


def load_pack_files(name: str | None = None) -> ContentPack:
    """The validated pack ``name`` from its files (default: the one in use, see use_pack).
    Cached."""
    return _load_cached(str(pack_dir(name or _selected)))


def clear_cache() -> None:
    _load_cached.cache_clear()


load_pack.cache_clear = clear_cache  # type: ignore[attr-defined]


@lru_cache(maxsize=8)
def _load_cached(directory: str) -> ContentPack:
    return load_pack_dir(Path(directory))


def read_pack_data(directory: Path) -> dict[str, Any]:
    """The raw merged TOML data of a pack directory (not yet validated)."""
    label = directory.name
    data: dict[str, Any] = {}
    for filename, keys in PACK_FILES.items():
        path = directory / filename
        if not path.exists():
            if filename in OPTIONAL_FILES:
                continue
            raise ContentPackError(f"content pack {label!r}: missing file {filename}")
        try:
            with path.open("rb") as fh:
                parsed = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ContentPackError(
                f"content pack {label!r}: {filename} is not valid TOML: {exc}"
            ) from None
        except UnicodeDecodeError as exc:
            raise ContentPackError(
                f"content pack {label!r}: {filename} is not UTF-8: {exc}"
            ) from None
        unexpected = sorted(set(parsed) - set(keys))
        if unexpected:
            raise ContentPackError(
                f"content pack {label!r}: {filename} has unexpected top-level key(s) "
                f"{unexpected}; expected {list(keys)}"
            )
        data.update(parsed)
    csv_path = directory / FAQ_CSV
    if csv_path.exists():
        from handlers.content.faq_csv import FaqCsvError, read_faq_csv_rows

        try:
            rows = read_faq_csv_rows(csv_path)
        except FaqCsvError as exc:
            raise ContentPackError(f"content pack {label!r}: {exc}") from None
        data.setdefault("faq", [])
        data["faq"] = list(data["faq"]) + rows
    return data


def load_pack_dir(directory: Path) -> ContentPack:
    """Validate the pack in ``directory`` (uncached; used by tests and tools)."""
    data = read_pack_data(directory)
    return validate_pack_data(data, label=directory.name)


def validate_pack_data(data: dict[str, Any], label: str = "pack") -> ContentPack:
    try:
        return ContentPack.model_validate(data)
    except ValidationError as exc:
        lines = [_describe(err, data) for err in exc.errors()]
        raise ContentPackError(
            f"content pack {label!r} is invalid:\n" + "\n".join(f"  - {line}" for line in lines)
        ) from None


def _describe(err: dict[str, Any], data: dict[str, Any]) -> str:
    loc = list(err.get("loc", ()))
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    if not loc:
        return msg  # whole-pack checks already name their file
    section = str(loc[0])
    filename = SECTION_FILES.get(section, "?")
    where = section
    rest = loc[1:]
    if rest and isinstance(rest[0], int):
        index = rest[0]
        where = f"{section}[{index}]"
        items = data.get(section)
        if isinstance(items, list) and index < len(items) and isinstance(items[index], dict):
            item_id = items[index].get("id")
            if item_id:
                where += f" (id={item_id!r})"
        rest = rest[1:]
    if rest:
        where += " → " + ".".join(str(part) for part in rest)
    if err.get("type") == "missing":
        msg = "required field is missing"
    return f"{filename}: {where}: {msg}"
