"""With real NLU: the FAQ index is rebuilt from the published version, so an entry staff
retire stops being offered at once and a new one is found, without restarting the worker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from handlers.content import editing, live, load_pack
from handlers.content.loader import load_pack_files
from storage import content as store
from storage.db import transaction
from storage.models import utcnow
from tests.conversation.conftest import OFFICE_HOURS, USER, Chat

NEW_ENTRY = {
    "id": "kaigo_hokenryo", "category": "介護", "topics": ["elderly_care"],
    "question": "介護保険料の金額はいくらですか？",
    "answer": "介護保険料は所得段階で決まります。介護保険課にお問い合わせください。",
    "keywords": ["介護保険料", "保険料", "金額"],
}


@pytest.fixture(autouse=True)
def fresh_live_content() -> Iterator[None]:
    live.reset()
    yield
    live.reset()


def publish(svc, change) -> None:
    with transaction(svc.factory) as session:
        payload = change(store.published(session).payload)
        store.add_published(session, payload, origin="console", now=utcnow())


def test_retired_answers_stop_and_new_ones_are_found_after_publishing(
        client, worker, fake_line, svc, clock):
    from handlers.flows import faq

    clock.now = OFFICE_HOURS
    chat = Chat(client, worker, fake_line, svc, USER)
    salon = load_pack_files().faq_entry("salon")
    assert chat.say(salon.question) == [salon.answer]

    worker._warm = True  # as after Worker.run: the index is rebuilt before the next batch
    publish(svc, lambda p: editing.put_faq(
        editing.retire_faq(p, "salon", utcnow().date()), NEW_ENTRY))
    worker.drain_once()
    assert faq.index_for() is faq._index[1] and faq._index[0] is load_pack()
    assert "kaigo_hokenryo" in {e.id for e in faq.index_for().entries}

    texts = chat.say(salon.question)
    assert salon.answer not in texts
    assert "faq:salon" not in chat.button_data()
    assert chat.say("介護保険料の金額はいくらですか") == [NEW_ENTRY["answer"]]
