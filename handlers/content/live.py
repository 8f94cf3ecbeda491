"""The published content version, followed by every process without a restart.

Each worker batch, web request and scheduler sweep calls ``refresh(factory)``: one cheap
query for the published version's (number, published_at). When it changed, the stored
document is validated and swapped in; ``load_pack()`` then returns it, and the FAQ index
(keyed on the pack object) is rebuilt from it. Processes that never call ``refresh`` (tests
and tools without a database) keep reading the pack files.

A stored version that no longer validates is logged and not served: the previous pack (or
the files) stays, so residents are never left without answers.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from handlers.content.loader import ContentPackError
from handlers.content.schema import ContentPack

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Served:
    key: tuple[int, int, Any]  # (id of the session factory, number, published_at)
    number: int
    pack: ContentPack


_served: Served | None = None
_lock = threading.Lock()
_seeded: weakref.WeakSet[Any] = weakref.WeakSet()
_last_check: dict[int, float] = {}
problem: str | None = None  # why the published version is not served, for the console


def current() -> ContentPack | None:
    served = _served
    return served.pack if served else None


def current_number() -> int | None:
    served = _served
    return served.number if served else None


def reset() -> None:
    """Forget the served version (tests; a process switching databases)."""
    global _served, problem
    with _lock:
        _served, problem = None, None
        _seeded.clear()
        _last_check.clear()


def refresh(factory: sessionmaker[Session], min_interval: float = 0.0) -> bool:
    """Serve the published version of ``factory``'s database; True when it changed.

    ``min_interval`` (seconds) lets busy callers (web requests) skip the query when it ran
    that recently in this process."""
    if min_interval:
        last = _last_check.get(id(factory), 0.0)
        if time.monotonic() - last < min_interval and _is_for(factory):
            return False
    _last_check[id(factory)] = time.monotonic()
    try:
        from handlers.content.versions import ensure_seeded

        if factory not in _seeded:  # once per process: also picks up changed pack files
            ensure_seeded(factory)
            _seeded.add(factory)
        changed = _follow(factory)
        if changed is None:  # nothing published (a new or emptied database): seed, retry
            ensure_seeded(factory)
            changed = _follow(factory)
        return bool(changed)
    except SQLAlchemyError as exc:  # not migrated yet, database away: keep what we serve
        log.warning("content: cannot read the published version (%s)", type(exc).__name__)
        return False


def _is_for(factory: sessionmaker[Session]) -> bool:
    served = _served
    return served is not None and served.key[0] == id(factory)


def _follow(factory: sessionmaker[Session]) -> bool | None:
    """True when a new version is served now, False when unchanged, None when nothing is
    published."""
    global _served, problem
    from storage import content as store

    with factory() as session:
        stamp = store.published_stamp(session)
    if stamp is None:
        return None
    key = (id(factory), *stamp)
    if _served is not None and _served.key == key:
        return False
    with _lock:
        if _served is not None and _served.key == key:
            return False
        from handlers.content.versions import pack_from_payload

        with factory() as session:
            version = store.published(session)
            if version is None:
                return None
            number, published_at, payload = version.number, version.published_at, version.payload
        try:
            pack = pack_from_payload(payload, label=f"version {number}")
        except ContentPackError as exc:
            problem = f"公開中の版 {number} を読み込めません: {exc}"
            log.error("content: published version %s is not served: %s", number, exc)
            return False
        _served = Served((id(factory), number, published_at), number, pack)
        problem = None
        log.info("content: serving version %s", number)
        return True
