"""Questions: answered only from the pack's FAQ, never composed.

BM25 over the FAQ on GiNZA lemmas (handlers/faq.py), with the message's topics as a small
bonus. Confident → the entry's answer; unsure → up to three entries as buttons
("faq:<id>"); nothing → a person is offered (or, if the message names a worry, its window).
"""

from __future__ import annotations

from functools import lru_cache

from handlers import registry
from handlers.content import ContentPack, FaqEntry, load_pack
from handlers.faq import FaqIndex, decide
from handlers.flows.consult import consult
from handlers.postback import encode
from handlers.replies import QuickReply, Reply
from handlers.turn import Turn

MENU_SIZE = 8  # entries shown by the よくある質問 button (LINE allows 13 buttons)
OFFER_PERSON = QuickReply(label="職員に聞く", data=encode("handoff", "faq"), text="職員に聞きたい")
NONE_OF_THESE = QuickReply(label="どれでもない", data=encode("faq", "none"), text="どれでもない")


@lru_cache(maxsize=4096)
def _lemmas(text: str) -> tuple[str, ...]:
    import nlu

    return tuple(nlu.analyze(text).lemmas)


def _lemmatize(text: str) -> list[str]:
    # Cached per text: rebuilding the index after a publish re-reads only what changed.
    return list(_lemmas(text))


_index: tuple[ContentPack, FaqIndex] | None = None


def index_for(pack: ContentPack | None = None) -> FaqIndex:
    """The index of ``pack`` (default: the content served now), built with the same
    lemmatizer as the messages (GiNZA). Rebuilt when a new version is published, so a
    retired entry is no longer offered."""
    global _index
    pack = pack or load_pack()
    cached = _index
    if cached is not None and cached[0] is pack:
        return cached[1]
    index = FaqIndex(pack.faq, _lemmatize)
    _index = (pack, index)
    return index


@registry.intent("faq")
def question(turn: Turn) -> list[Reply] | None:
    analysis = turn.analysis
    if analysis is None:
        return None
    pack = load_pack()
    decision = decide(index_for(pack).search(analysis.lemmas, analysis.topic_ids))
    if decision.kind == "answer" and decision.entry is not None:
        return [answer_reply(decision.entry)]
    if decision.kind == "candidates":
        buttons = [_button(e) for e in decision.entries]
        return [Reply(pack.text("faq_candidates_intro"), [*buttons, NONE_OF_THESE])]
    if analysis.topics:
        return consult(turn)  # no listed answer, but a worry we can route
    return [Reply(pack.text("faq_not_found"), [OFFER_PERSON])]


def answer_reply(entry: FaqEntry) -> Reply:
    return Reply(entry.answer, [OFFER_PERSON])


def faq_menu() -> list[Reply]:
    pack = load_pack()
    firsts: dict[str, FaqEntry] = {}
    for entry in pack.faq:  # one question per category, in pack order
        firsts.setdefault(entry.category, entry)
    buttons = [_button(e) for e in list(firsts.values())[:MENU_SIZE]]
    return [Reply(pack.text("faq_menu"), buttons)]


@registry.postback("faq")
def chosen(turn: Turn) -> list[Reply]:
    pack = load_pack()
    entry_id = turn.postback.arg(0)
    if entry_id != "none":
        try:
            return [answer_reply(pack.faq_entry(entry_id))]
        except KeyError:
            pass  # an entry removed from the pack since the button was sent
    return [Reply(pack.text("faq_not_found"), [OFFER_PERSON])]


def _button(entry: FaqEntry) -> QuickReply:
    # The label is cut to LINE's 20 characters; the full question is echoed when tapped.
    label = entry.question if len(entry.question) <= 20 else entry.question[:19] + "…"
    return QuickReply(label=label, data=encode("faq", entry.id), text=entry.question)
