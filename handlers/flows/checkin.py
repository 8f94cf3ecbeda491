"""見守り in chat: the check-in message and its answers, and enrolling oneself.

Postbacks: "checkin:ok|uneasy|talk:<checkin id>" answer a check-in; "checkin:enrol:ask|yes|no"
explain and take consent; "checkin:plan:<plan>" picks how often; "checkin:end:yes|no" stops.
Typed answers ("元気です", "熱がある") reach `typed_answer` by their intent while a check-in
is open; with none open they return None, so other flows answer them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from datetime import time

from handlers import casework, registry
from handlers.content import load_pack
from handlers.flows.safety import urgent
from handlers.postback import encode
from handlers.replies import QuickReply, Reply
from handlers.turn import Turn
from storage import cases
from storage import checkins as store
from storage.models import Checkin, CheckinEnrolment

FLOW = "checkin"  # the postback prefix

# What the bot says is in the content pack (copy.toml, keys checkin_*).
ANSWER_KEYS = {"ok": "checkin_answer_ok", "uneasy": "checkin_answer_uneasy",
               "unwell": "checkin_answer_uneasy", "talk": "checkin_answer_talk"}


def _t(key: str, **values: object) -> str:
    return load_pack().text(key, **values)


def _button(key: str, *args: object) -> QuickReply:
    label = _t(key)
    return QuickReply(label=label, data=encode(FLOW, *args), text=label)


DEFAULT_AT = time(10, 0)
# How often, for residents who enrol themselves (staff can set any schedule): the weekdays,
# and the pack's label key.
PLANS: dict[str, tuple[str, tuple[int, ...]]] = {
    "daily": ("checkin_plan_daily", (0, 1, 2, 3, 4, 5, 6)),
    "mon_thu": ("checkin_plan_mon_thu", (0, 3)),
    "mon": ("checkin_plan_mon", (0,)),
}
DEFAULT_PLAN = "mon_thu"

ENROL_WORDS = re.compile(
    r"(見守|みまも)り.{0,12}"
    r"(申し?込|もうしこ|登録|とうろく|始め|はじめ|利用|お願い|したい|ほしい|欲しい)"
)
END_WORDS = re.compile(
    r"(見守|みまも)り.{0,12}(やめ|止め|辞め|解除|終わり|おわり|停止|いらない|不要)"
)


def greeting_for(hour: int) -> str:
    if 4 <= hour < 11:
        return _t("checkin_greeting_morning")
    return _t("checkin_greeting_day" if hour < 18 else "checkin_greeting_evening")


def answer_buttons(checkin_id: int) -> list[QuickReply]:
    return [
        _button("checkin_button_ok", "ok", checkin_id),
        _button("checkin_button_uneasy", "uneasy", checkin_id),
        _button("checkin_button_talk", "talk", checkin_id),
    ]


def checkin_replies(checkin_id: int, local_hour: int) -> list[Reply]:
    text = _t("checkin_message", greeting=greeting_for(local_hour))
    return [Reply(text, answer_buttons(checkin_id))]


def reminder_replies(checkin_id: int) -> list[Reply]:
    return [Reply(_t("checkin_reminder"), answer_buttons(checkin_id))]


# -- answers -------------------------------------------------------------------------


@registry.postback(FLOW)
def on_postback(turn: Turn) -> list[Reply] | None:
    action, arg = turn.postback.arg(0), turn.postback.arg(1)
    if action in ("ok", "uneasy", "talk"):
        return _button_answer(turn, action, arg)
    if action == "enrol":
        return _enrol_step(turn, arg)
    if action == "plan":
        return _choose_plan(turn, arg)
    if action == "end":
        return _end_step(turn, arg)
    return None


def _button_answer(turn: Turn, answer: str, checkin_id: str) -> list[Reply]:
    checkin = turn.session.get(Checkin, int(checkin_id), with_for_update=True) \
        if checkin_id.isdigit() else None
    if checkin is None or checkin.resident_id != turn.resident.id:
        return [Reply(_t("checkin_already"))]
    return answer_checkin(turn, checkin, answer)


def read_in_context(turn: Turn) -> None:
    """A check-in answer is one only while a check-in is open: otherwise 「元気です」 is small
    talk and 「腰が痛くて」 a worry. The reader cannot know whether the bot asked, and it reads
    short replies such as a bare town name (「緑ヶ丘です」) as check-in answers."""
    analysis = turn.analysis
    if analysis is None or analysis.intent not in ("checkin_ok", "checkin_unwell"):
        return
    if store.open_checkin(turn.session, turn.resident.id, turn.now) is None:
        intent = "greeting" if analysis.intent == "checkin_ok" else "consult"
        turn.analysis = replace(analysis, intent=intent)


@registry.intent("checkin_ok", "checkin_unwell")
def typed_answer(turn: Turn) -> list[Reply] | None:
    """A typed reply to an open check-in; None when none is open (other flows proceed)."""
    checkin = store.open_checkin(turn.session, turn.resident.id, turn.now)
    if checkin is None or turn.analysis is None:
        return None
    if turn.analysis.urgent:
        store.record_answer(checkin, "urgent", turn.now)
        replies = urgent(turn)
        found = cases.current_case(turn.session, turn.resident)
        checkin.case_id = found.id if found else checkin.case_id
        return replies
    answer = "ok" if turn.analysis.intent == "checkin_ok" else "unwell"
    return answer_checkin(turn, checkin, answer)


def answer_checkin(turn: Turn, checkin: Checkin, answer: str) -> list[Reply]:
    """Record an answer once; a worry opens (or joins) a case for the case team."""
    late = checkin.status == "escalated"
    if not store.record_answer(checkin, answer, turn.now):
        return [Reply(_t("checkin_already"))]
    if answer != "ok":
        case = open_checkin_case(turn, answer)
        checkin.case_id = case.id
    elif late and checkin.case_id is not None:
        case = turn.session.get(cases.Case, checkin.case_id)
        if case is not None and case.status in cases.OPEN_STATUSES:
            casework.add_note(turn.session, case, None,
                              "見守り: エスカレーション後に「元気です」と返答がありました。",
                              turn.now)
    return [Reply(_t(ANSWER_KEYS[answer]))]


def open_checkin_case(turn: Turn, answer: str) -> cases.Case:
    label = store.ANSWER_LABELS.get(answer, answer)
    return casework.open_case(
        turn.session, turn.resident, reason="checkin", priority="high", now=turn.now,
        analysis=turn.analysis, note=f"見守り: 「{label}」と返答がありました。",
    ).case


# -- enrolling oneself ---------------------------------------------------------------


def _folded(text: str | None) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


def wants_to_enrol(text: str | None) -> bool:
    folded = _folded(text)
    return bool(ENROL_WORDS.search(folded)) and not END_WORDS.search(folded)


def wants_to_end(text: str | None) -> bool:
    return bool(END_WORDS.search(_folded(text)))


def explain() -> list[Reply]:
    return [Reply(_t("checkin_explain"), [
        _button("checkin_button_enrol", "enrol", "yes"),
        _button("checkin_button_not_now", "enrol", "no"),
    ])]


def _plan_buttons() -> list[QuickReply]:
    return [_button(label_key, "plan", key) for key, (label_key, _) in PLANS.items()]


def _enrol_step(turn: Turn, step: str) -> list[Reply]:
    if step == "no":
        return [Reply(_t("checkin_declined"))]
    if step != "yes":
        return explain()
    schedule = store.Schedule.weekly(PLANS[DEFAULT_PLAN][1], DEFAULT_AT)
    store.enrol(turn.session, turn.resident, schedule, consent_by="本人（LINEで同意）",
                consent_at=turn.now, now=turn.now)
    return [Reply(_t("checkin_enrolled", schedule=schedule.describe()), _plan_buttons())]


def _choose_plan(turn: Turn, key: str) -> list[Reply]:
    enrolment = store.current_enrolment(turn.session, turn.resident.id)
    if enrolment is None or key not in PLANS:
        return explain()
    schedule = store.Schedule.weekly(PLANS[key][1], store.parse_hhmm(enrolment.at_time))
    store.change_schedule(turn.session, enrolment, schedule, turn.now)
    return [Reply(_t("checkin_plan_changed", schedule=schedule.describe()))]


def _end_step(turn: Turn, step: str) -> list[Reply]:
    enrolment = store.current_enrolment(turn.session, turn.resident.id)
    if enrolment is None:
        return [Reply(_t("checkin_not_enrolled"))]
    if step == "yes":
        store.end(turn.session, enrolment, "本人の希望（LINE）", turn.now)
        return [Reply(_t("checkin_ended"))]
    if step == "no":
        return [Reply(_t("checkin_kept"))]
    return [Reply(_t("checkin_end_ask"), [
        _button("checkin_button_end", "end", "yes"),
        _button("checkin_button_continue", "end", "no"),
    ])]


@registry.request
def enrolment_request(turn: Turn) -> list[Reply] | None:
    """「見守りを申し込みたい」/「見守りをやめたい」, whatever intent nlu gave it."""
    text = turn.inbound.text
    if wants_to_end(text):
        return _end_step(turn, "ask")
    if wants_to_enrol(text):
        if _active(store.current_enrolment(turn.session, turn.resident.id)):
            return [Reply(_t("checkin_already_enrolled"), _plan_buttons())]
        return explain()
    return None


def _active(enrolment: CheckinEnrolment | None) -> bool:
    return enrolment is not None and enrolment.status != "ended"


