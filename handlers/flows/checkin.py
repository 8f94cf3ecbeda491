"""見守り in chat: the check-in message and its answers, and enrolling oneself.

Postbacks: "checkin:ok|uneasy|talk:<checkin id>" answer a check-in; "checkin:enrol:ask|yes|no"
explain and take consent; "checkin:plan:<plan>" picks how often; "checkin:end:yes|no" stops.
Typed answers ("元気です", "熱がある") reach `typed_answer` by their intent while a check-in
is open; with none open they return None, so other flows answer them.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import time

from handlers import casework, registry
from handlers.flows.safety import urgent
from handlers.postback import encode
from handlers.replies import QuickReply, Reply
from handlers.turn import Turn
from storage import cases
from storage import checkins as store
from storage.models import Checkin, CheckinEnrolment

FLOW = "checkin"  # the postback prefix

# -- what the bot says ---------------------------------------------------------------

CHECKIN_TEXT = (
    "{greeting}。まどぐちの見守りです。\n"
    "お変わりありませんか？ 下のボタンから、ひとことお返事ください。"
)
REMINDER_TEXT = (
    "先ほどのお声がけ、ご覧になれましたか。\nボタンを押していただくだけで大丈夫です。"
    "お返事がないときは、相談員からご様子を伺うことがあります。"
)
ANSWER_TEXTS = {
    "ok": "お返事ありがとうございます。お元気そうで安心しました。また次回お声がけしますね。",
    "uneasy": (
        "教えてくださって、ありがとうございます。担当の相談員にお伝えしました。"
        "こちらからご連絡しますので、少しお待ちください。\n"
        "気になることを、ここに書いていただいても大丈夫です。"
        "具合が急に悪くなったときは、119番にお電話ください。"
    ),
    "talk": (
        "ありがとうございます。相談員にお伝えしました。順番にご連絡しますので、"
        "少しお待ちください。\nお話ししたいことを、ここに書いていただいても大丈夫です。"
    ),
}
ANSWER_TEXTS["unwell"] = ANSWER_TEXTS["uneasy"]
ALREADY_TEXT = "お返事はもう届いています。ありがとうございます。"
EXPLAIN_TEXT = (
    "見守りのお声がけについてご説明します。\n"
    "・決まった日時に、LINEで「お変わりありませんか」とお声がけします。\n"
    "・ボタンでお返事いただくだけで大丈夫です。\n"
    "・お返事がないときは、もう一度お声がけします。それでもお返事がないときは、"
    "市の相談員がご様子を確かめます。\n"
    "・お返事の記録は、担当の相談員だけが見ます。\n"
    "・夜9時から朝8時までは、お送りしません。\n"
    "・いつでもお休みしたり、やめたりできます。\n"
    "申し込みますか？"
)
ENROLLED_TEXT = (
    "お申し込みありがとうございます。{schedule}にお声がけします。\n"
    "回数を変えたいときは、下から選んでください。"
)
PLAN_TEXT = "わかりました。{schedule}にお声がけします。"
DECLINED_TEXT = "わかりました。またいつでも「見守りを申し込みたい」とお送りください。"
END_ASK_TEXT = "見守りのお声がけを、やめますか？"
ENDED_TEXT = "見守りのお声がけをやめました。これまでありがとうございました。またいつでもどうぞ。"
KEPT_TEXT = "わかりました。これまでどおりお声がけします。"
NOT_ENROLLED_TEXT = "いまは見守りのお声がけをしていません。"

DEFAULT_AT = time(10, 0)
# How often, for residents who enrol themselves (staff can set any schedule).
PLANS: dict[str, tuple[str, tuple[int, ...]]] = {
    "daily": ("毎日", (0, 1, 2, 3, 4, 5, 6)),
    "mon_thu": ("月・木", (0, 3)),
    "mon": ("毎週月曜", (0,)),
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
        return "おはようございます"
    return "こんにちは" if hour < 18 else "こんばんは"


def answer_buttons(checkin_id: int) -> list[QuickReply]:
    return [
        QuickReply(label="元気です", data=encode(FLOW, "ok", checkin_id), text="元気です"),
        QuickReply(label="少し不安", data=encode(FLOW, "uneasy", checkin_id), text="少し不安"),
        QuickReply(label="話したい", data=encode(FLOW, "talk", checkin_id), text="話したい"),
    ]


def checkin_replies(checkin_id: int, local_hour: int) -> list[Reply]:
    text = CHECKIN_TEXT.format(greeting=greeting_for(local_hour))
    return [Reply(text, answer_buttons(checkin_id))]


def reminder_replies(checkin_id: int) -> list[Reply]:
    return [Reply(REMINDER_TEXT, answer_buttons(checkin_id))]


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
        return [Reply(ALREADY_TEXT)]
    return answer_checkin(turn, checkin, answer)


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
        return [Reply(ALREADY_TEXT)]
    if answer != "ok":
        case = open_checkin_case(turn, answer)
        checkin.case_id = case.id
    elif late and checkin.case_id is not None:
        case = turn.session.get(cases.Case, checkin.case_id)
        if case is not None and case.status in cases.OPEN_STATUSES:
            casework.add_note(turn.session, case, None,
                              "見守り: エスカレーション後に「元気です」と返答がありました。",
                              turn.now)
    return [Reply(ANSWER_TEXTS[answer])]


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
    return [Reply(EXPLAIN_TEXT, [
        QuickReply(label="申し込む", data=encode(FLOW, "enrol", "yes"), text="申し込む"),
        QuickReply(label="やめておく", data=encode(FLOW, "enrol", "no"), text="やめておく"),
    ])]


def _plan_buttons() -> list[QuickReply]:
    return [QuickReply(label=label, data=encode(FLOW, "plan", key), text=label)
            for key, (label, _) in PLANS.items()]


def _enrol_step(turn: Turn, step: str) -> list[Reply]:
    if step == "no":
        return [Reply(DECLINED_TEXT)]
    if step != "yes":
        return explain()
    schedule = store.Schedule.weekly(PLANS[DEFAULT_PLAN][1], DEFAULT_AT)
    store.enrol(turn.session, turn.resident, schedule, consent_by="本人（LINEで同意）",
                consent_at=turn.now, now=turn.now)
    return [Reply(ENROLLED_TEXT.format(schedule=schedule.describe()), _plan_buttons())]


def _choose_plan(turn: Turn, key: str) -> list[Reply]:
    enrolment = store.current_enrolment(turn.session, turn.resident.id)
    if enrolment is None or key not in PLANS:
        return explain()
    schedule = store.Schedule.weekly(PLANS[key][1], store.parse_hhmm(enrolment.at_time))
    store.change_schedule(turn.session, enrolment, schedule, turn.now)
    return [Reply(PLAN_TEXT.format(schedule=schedule.describe()))]


def _end_step(turn: Turn, step: str) -> list[Reply]:
    enrolment = store.current_enrolment(turn.session, turn.resident.id)
    if enrolment is None:
        return [Reply(NOT_ENROLLED_TEXT)]
    if step == "yes":
        store.end(turn.session, enrolment, "本人の希望（LINE）", turn.now)
        return [Reply(ENDED_TEXT)]
    if step == "no":
        return [Reply(KEPT_TEXT)]
    return [Reply(END_ASK_TEXT, [
        QuickReply(label="やめる", data=encode(FLOW, "end", "yes"), text="やめる"),
        QuickReply(label="続ける", data=encode(FLOW, "end", "no"), text="続ける"),
    ])]


@registry.request
def enrolment_request(turn: Turn) -> list[Reply] | None:
    """「見守りを申し込みたい」/「見守りをやめたい」, whatever intent nlu gave it."""
    text = turn.inbound.text
    if wants_to_end(text):
        return _end_step(turn, "ask")
    if wants_to_enrol(text):
        if _active(store.current_enrolment(turn.session, turn.resident.id)):
            return [Reply("見守りのお声がけは、もうお申し込みいただいています。"
                          "回数を変えるときは、下から選んでください。", _plan_buttons())]
        return explain()
    return None


def _active(enrolment: CheckinEnrolment | None) -> bool:
    return enrolment is not None and enrolment.status != "ended"


