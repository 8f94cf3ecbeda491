"""The layers import one way: bot → scheduler → handlers → nlu | storage → common
(the contract in pyproject.toml, also run by `make lint`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import common.vocabulary as vocabulary
import nlu
from handlers.content import schema

ROOT = Path(__file__).resolve().parents[2]


def test_the_import_contract_holds():
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(linter)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]


def test_importing_nlu_does_not_load_the_reader():
    code = "import sys, nlu; print('nlu.analyzer' in sys.modules, 'spacy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["False", "False"]


def test_the_vocabulary_has_one_home():
    assert nlu.TOPIC_IDS is vocabulary.TOPIC_IDS is schema.TOPIC_IDS
    assert nlu.URGENT_KINDS is vocabulary.URGENT_KINDS is schema.URGENT_KINDS
    assert set(vocabulary.TOPIC_LABELS) == set(vocabulary.TOPIC_IDS)
