"""Fixtures for content-pack tests. No spaCy, no nlu: FAQ retrieval uses ngram_lemmatize."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from handlers.content.loader import PACKS_DIR, load_pack  # noqa: E402
from handlers.faq import FaqIndex, ngram_lemmatize  # noqa: E402

SEED = Path("/work/shared/seeds/000_34f8e4ce90558a7e.txt")


@pytest.fixture(scope="session")
def pack():
    return load_pack("zushi")


@pytest.fixture(scope="session")
def faq_index(pack):
    return FaqIndex(pack.faq, ngram_lemmatize)


@pytest.fixture
def pack_copy(tmp_path) -> Path:
    """A writable copy of the zushi pack, to break on purpose."""
    target = tmp_path / "mypack"
    shutil.copytree(PACKS_DIR / "zushi", target)
    return target


def _replace_in(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


@pytest.fixture
def replace_in():
    """replace_in(path, old, new): edit a pack file in place (old must be present)."""
    return _replace_in
