"""Intent and "about" (who the message is about), from the rules in nlu/data/intents.toml.

Intent decision order (first match wins):
  delete_data > change_booking > book > human > check-in answers (short messages) >
  greeting > faq (a factual question, no distress) > consult (a worry) > greeting (nothing else).
About: other (a third party: 民生委員, neighbour, friend) > self markers (the writer's own
burden, the writer as victim) > family (a family member is the subject of concern) > self.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from nlu.lexicon import load_toml, regex_list
from nlu.text import fold

_EMOJI_OR_SYMBOLS = re.compile(r"^[\W_\d\sー〜]*$")


@dataclass
class IntentModel:
    ja: dict[str, list[re.Pattern]]
    en: dict[str, list[re.Pattern]]
    about: dict


@lru_cache(maxsize=1)
def model() -> IntentModel:
    data = load_toml("intents.toml")
    ja, en = {}, {}
    for key, pats in data["intent"].items():
        if key.endswith("_en"):
            en[key[:-3]] = [re.compile(p, re.IGNORECASE) for p in pats]
        else:
            ja[key] = regex_list(pats)
    a = data["about"]
    about = {
        "other": regex_list(a["other"]),
        "other_en": [re.compile(p, re.IGNORECASE) for p in a["other_en"]],
        "other_unless": regex_list(a["other_unless"]),
        "family": re.compile(a["family_nouns"] + a["family_follow"]),
        "family_en": [re.compile(p, re.IGNORECASE) for p in a["family_en"]],
        "deceased": re.compile(a["deceased"]),
        "self": regex_list(a["self_markers"]),
        "self_weak": regex_list(a["self_weak"]),
        "self_en": [re.compile(p, re.IGNORECASE) for p in a["self_en"]],
        "victim": [re.compile(p) for p in a["victim"]],
        "ex_partner": re.compile(a["ex_partner"]),
    }
    return IntentModel(ja, en, about)


def _has(im: IntentModel, key: str, flat: str, lower: str) -> re.Match | None:
    for p in im.ja.get(key, []):
        mt = p.search(flat)
        if mt:
            return mt
    for p in im.en.get(key, []):
        mt = p.search(lower)
        if mt:
            return mt
    return None


def _last_question_end(im: IntentModel, flat: str, lower: str) -> int | None:
    end = None
    spaced = re.sub(r"\s+", " ", lower)
    for p in im.ja["question"]:
        for mt in p.finditer(flat):
            end = max(end or 0, mt.end())
        for mt in p.finditer(fold(spaced)):
            # map the end back to flat by counting non-space characters
            end = max(end or 0, len(spaced[: mt.end()].replace(" ", "")))
    for p in im.en["question"]:
        if p.search(lower):
            end = max(end or 0, len(flat))
    return end


def classify_intent(
    flat: str, lower: str, *, has_when: bool, topics: set[str], urgent: bool, third_party: bool
) -> str:
    im = model()
    if not flat or _EMOJI_OR_SYMBOLS.match(flat):
        return "greeting"
    if _has(im, "delete_data", flat, lower):
        return "delete_data"
    if _has(im, "change_booking", flat, lower):
        return "change_booking"
    if _has(im, "book", flat, lower) or (has_when and _has(im, "book_with_when", flat, lower)):
        return "book"
    if _has(im, "human", flat, lower):
        return "human"
    distress = bool(_has(im, "consult", flat, lower)) and not _has(
        im, "consult_unless", flat, lower
    )
    serious = topics & {"suicide_risk", "abuse", "domestic_violence"}
    short = len(flat) <= 22
    question_end = _last_question_end(im, flat, lower)
    if short and not serious and question_end is None and not third_party:
        if _has(im, "checkin_ok", flat, lower) and not (topics - {"isolation"}):
            return "checkin_ok"
        if _has(im, "checkin_unwell", flat, lower) and not re.search(
            r"(相談|そうだん)(したい|させて)", flat
        ):
            return "checkin_unwell"
    if urgent:
        return "consult"
    greeting = _has(im, "greeting", flat, lower)
    if greeting and not distress and (question_end is None or len(flat) <= 12):
        return "greeting"
    if question_end is not None and not distress:
        tail = flat[question_end:]
        if len(tail) < 15:
            return "faq"
    if not distress and _has(im, "checkin_ok", flat, lower) and len(flat) <= 40 and not topics:
        return "checkin_ok"
    if topics or distress:
        return "consult"
    if question_end is not None:
        return "faq"
    return "greeting"


def classify_about(flat: str, lower: str, *, topics: set[str], intent: str) -> str:
    a = model().about
    if intent in ("checkin_ok", "checkin_unwell"):
        return "self"
    other = any(p.search(flat) for p in a["other"]) or any(p.search(lower) for p in a["other_en"])
    if other and not any(p.search(flat) for p in a["other_unless"]):
        return "other"
    victim = next((mt for p in a["victim"] if (mt := p.search(flat))), None)
    if victim:
        before = flat[max(0, flat.rfind("。", 0, victim.start()) + 1) : victim.start()]
        if not a["family"].search(before):
            return "self"
    if a["ex_partner"].search(flat):
        return "self"
    if any(p.search(flat) for p in a["self"]) or any(p.search(lower) for p in a["self_en"]):
        return "self"
    if "double_care" in topics:
        return "self"
    weak_self = any(p.search(flat) for p in a["self_weak"])
    if weak_self and "young_carer" in topics:
        return "self"  # the writer is the young carer
    if not topics and intent in ("book", "change_booking", "faq", "human", "delete_data"):
        return "self"  # logistics: 夫も一緒に行っていいですか
    family = False
    for mt in a["family"].finditer(flat):
        after = flat[mt.end() : mt.end() + 10]
        if a["deceased"].search(after[:8]):
            continue
        family = True
        break
    if family or any(p.search(lower) for p in a["family_en"]):
        return "family"
    return "self"
