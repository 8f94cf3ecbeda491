"""The "check" band: nlu is not sure whether someone is in danger, so the bot asks.

One question, plainly and at once, as crisis counsellors are trained to: the first reply
acknowledges, asks whether anyone's life or safety is in danger now, and — in the same
message — gives one line that is open now (a 24-hour line at night). Quick replies:

* 「今、危ない」 → the urgent path (numbers first, an urgent case);
* 「そうではない」 → the conversation carries on with the original message, as if the
  question had not been needed (a flow it interrupted, e.g. a booking, is resumed);
* 「人と話したい」 → a case for a person (high priority) and the open line again;
* no answer within ``WAIT`` → a high-priority case, opened by the scheduler's sweep
  (scheduler/jobs/safety_checks.py).

The question is never asked twice while it waits: a second unsure message is answered the
normal way, with the open line. The question and its answer are durable rows
(storage/safety_checks.py) in the event's transaction and the conversation state marks what
is awaited, so a crash or restart loses nothing; the dashboard counts the answers.
"""

from __future__ import annotations

import re
from dataclasses import asdict, fields, replace
from datetime import datetime, timedelta
from typing import Any

from common.vocabulary import TOPIC_LABELS
from handlers import casework, registry
from handlers.content import load_pack
from handlers.flows import english
from handlers.hotlines import Lines, line_text, listening_line
from handlers.hours import is_open
from handlers.inbound import TEXT
from handlers.postback import encode
from handlers.replies import QuickReply, Reply
from handlers.turn import Turn
from nlu.analysis import Analysis, PiiSpan, TimeRange, TopicHit
from storage import cases, conversation
from storage import safety_checks as store
from storage.models import Message, SafetyCheck

FLOW, ASKED = "safety_check", "asked"
PREFIX = "safety"
WAIT = timedelta(minutes=10)
# Why the case was opened, for staff (the console is in Japanese).
REASON_DANGER = "確認の質問に「今、危ない」と回答（{evidence}）"
REASON_PERSON = "確認の質問に「人と話したい」と回答（{evidence}）"
REASON_NO_ANSWER = "確認の質問に{minutes}分応答なし（{evidence}）"
ANSWERS = ("danger", "fine", "person")  # the buttons, labelled check_button_<answer>

MAX_TYPED_ANSWER = 30  # characters: a longer message is a new message, not an answer
# Answers typed instead of tapped. Danger first: 「大丈夫じゃない」 is not 「大丈夫」.
_TYPED = (
    ("danger", re.compile(r"危な(?!く)|危険|あぶな(?!く)|助けて|たすけて|"
                          r"大丈夫じゃ|だいじょうぶじゃ|大丈夫では")),
    ("danger", re.compile(r"^(yes|help)\b|(?<!not in )danger", re.I)),
    ("person", re.compile(r"人と話|職員|話したい|電話したい|相談したい|person|staff|talk to",
                          re.I)),
    ("fine", re.compile(r"^(いいえ|いえ|違い|ちがい|違う|ちがう|大丈夫|だいじょうぶ|平気|そうでは|"
                        r"そうじゃ|危なくない|ない|no\b|i'?m (ok|fine|safe))|not now|not in danger",
                        re.I)),
)


def is_check(turn: Turn) -> bool:
    return turn.analysis is not None and turn.analysis.risk == "check"


def check(turn: Turn) -> list[Reply]:
    """A message in the check band: ask — unless the question is already waiting."""
    from handlers import dispatch
    from handlers.flows.safety import lines_for

    analysis = turn.analysis
    assert analysis is not None
    lines = lines_for(turn, analysis, urgent=False)
    if store.waiting(turn.session, turn.resident) is not None:
        # Asked once already: answer this message the normal way, with a line open now.
        return [*dispatch.handle_text(turn),
                Reply(open_line_text(turn.now, lines, _english(turn)))]
    _attach_to_claimed_case(turn)
    asked = store.ask(
        turn.session, turn.resident, now=turn.now, wait=WAIT,
        message_id=_message_id(turn),
        risk_score=analysis.risk_score, topics=analysis.topic_ids, evidence=_evidence(analysis),
        analysis=dump_analysis(analysis),
    )
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    resume = _flow_of(state) if state.flow and state.flow != FLOW else None
    conversation.enter(state, FLOW, ASKED, turn.now, {"check_id": asked.id, "resume": resume})
    pack = load_pack()
    if english.is_english(turn):  # English writers are asked in English
        turn.resident.language = "en"
    en = _english(turn)
    question = pack.text("en_check_question" if en else "check_question")
    text = "\n".join([question, open_line_text(turn.now, lines, en)])
    labels = [(key, pack.text(f"{'en_' if en else ''}check_button_{key}")) for key in ANSWERS]
    buttons = [QuickReply(label=label, data=encode(PREFIX, key, asked.id), text=label)
               for key, label in labels]
    return [Reply(text, buttons)]


def open_line_text(now: datetime, lines: Lines | None = None, en: bool = False) -> str:
    pack = load_pack()
    line = listening_line(pack, now, lines)
    if en:
        return "\n".join([pack.text("en_check_open_line"), english.line_text(pack, line)])
    return "\n".join([pack.text("check_open_line"), line_text(line)])


def _english(turn: Turn) -> bool:
    return turn.resident.language == "en"


@registry.postback(PREFIX)
def tapped(turn: Turn) -> list[Reply] | None:
    answer, check_id = turn.postback.arg(0), turn.postback.int_arg(1)
    asked = turn.session.get(SafetyCheck, check_id) if check_id is not None else None
    if asked is None or asked.resident_id != turn.resident.id or answer not in ANSWERS:
        return None  # not this resident's question: the dispatcher says the button expired
    return _answer(turn, asked, answer)


@registry.flow(FLOW)
def typed(turn: Turn) -> list[Reply] | None:
    """An answer written instead of tapped; anything else is routed as usual (the question
    stands, and the sweep still opens a case if it is never answered). The dispatcher asks
    this before the English path and a case held by a person, which would take the words."""
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    if state.flow != FLOW:
        return None
    asked = turn.session.get(SafetyCheck, state.data.get("check_id") or 0)
    text = (turn.inbound.text or "").strip()
    if asked is None or asked.answer is not None:
        conversation.clear(state, turn.now)
        return None
    for answer, pattern in _TYPED:
        if len(text) <= MAX_TYPED_ANSWER and pattern.search(text):
            return _answer(turn, asked, answer)
    return None


def is_a_button_label(turn: Turn) -> bool:
    """The message is exactly one of the question's button labels (typed, or sent as text by
    an older client): an answer, not a new message to read for danger."""
    pack = load_pack()
    text = (turn.inbound.text or "").strip()
    return any(text == pack.text(f"{prefix}check_button_{key}")
               for prefix in ("", "en_") for key in ANSWERS)


def answered_in_words(turn: Turn) -> None:
    """An urgent message while the question waits answers it: 「今、危ない」 in their words."""
    asked = store.waiting(turn.session, turn.resident)
    if asked is None:
        return
    store.record(turn.session, asked.id, "danger", turn.now)
    asked.analysis = None
    _leave_flow(turn, asked, resume=True)


# -- the answers -------------------------------------------------------------------


def _answer(turn: Turn, asked: SafetyCheck, answer: str) -> list[Reply]:
    # Only the first answer counts (a tap after the sweep's "no answer" is still acted on).
    store.record(turn.session, asked.id, answer, turn.now)
    original = load_analysis(asked.analysis) if asked.analysis else None
    about = replace(turn, analysis=original or Analysis(text=""))
    if answer == "fine":
        return _carry_on(turn, asked, original)
    asked.analysis = None
    _leave_flow(turn, asked, resume=answer == "danger")
    replies = _urgent(about, asked) if answer == "danger" else _person(about, asked)
    _link_case(turn, asked)
    return replies


def _urgent(turn: Turn, asked: SafetyCheck) -> list[Reply]:
    from handlers.flows.safety import urgent

    reason = REASON_DANGER.format(evidence=asked.evidence or "—")
    if _english(turn):
        kind = turn.analysis.urgent_kind if turn.analysis else None
        return english.urgent(turn, kind, risk_reason=reason)
    return urgent(turn, risk_reason=reason)


def _person(turn: Turn, asked: SafetyCheck) -> list[Reply]:
    from handlers.case_filing import hand_over

    reason = REASON_PERSON.format(evidence=asked.evidence or "—")
    how = english.hand_over if _english(turn) else hand_over
    replies = how(turn, reason="check_person", priority="high", risk="check",
                  risk_reason=reason)
    return [replies[0], Reply(open_line_text(turn.now, en=_english(turn))), *replies[1:]]


def _carry_on(turn: Turn, asked: SafetyCheck, original: Analysis | None) -> list[Reply]:
    """「そうではない」: go on with the message the question interrupted."""
    from handlers import dispatch

    pack = load_pack()
    _leave_flow(turn, asked, resume=True)
    asked.analysis = None
    thanks = Reply(pack.text("en_check_fine_thanks" if _english(turn) else "check_fine_thanks"))
    if original is None or not original.text:  # already carried on (a second tap)
        return [thanks]
    calm = replace(original, risk="none", urgent=False)
    inbound = replace(turn.inbound, kind=TEXT, text=original.text, postback_data=None,
                      postback_params={})
    return [thanks, *dispatch.handle_text(replace(turn, inbound=inbound, analysis=calm))]


# -- no answer (the scheduler's sweep) ------------------------------------------------


def no_answer_case(session: Any, asked: SafetyCheck, now: datetime) -> list[Reply]:
    """Open the high-priority case for an unanswered question; what to tell the resident."""
    from handlers.case_filing import hours_note
    from storage.models import Resident

    resident = session.get(Resident, asked.resident_id)
    pack = load_pack()
    reason = REASON_NO_ANSWER.format(minutes=int(WAIT.total_seconds() // 60),
                                     evidence=asked.evidence or "—")
    original = load_analysis(asked.analysis) if asked.analysis else Analysis(
        text="", risk="check", risk_score=asked.risk_score,
        topics=[TopicHit(t, 1.0, []) for t in asked.topics or []])
    case = casework.open_case(
        session, resident, reason="check_no_answer", priority="high", now=now,
        analysis=original, message_id=asked.message_id, risk="check", risk_reason=reason,
    ).case
    asked.case_id = case.id
    if resident.language == "en":
        replies = [Reply("\n".join([pack.text("en_check_no_answer"),
                                    open_line_text(now, en=True)]))]
        if not is_open(now, pack):
            replies.append(Reply(pack.text("en_out_of_hours",
                                           next_open=english.when_text(now))))
        return replies
    replies = [Reply("\n".join([pack.text("check_no_answer"), open_line_text(now)]))]
    if (note := hours_note(now)) is not None:
        replies.append(note)
    return replies


# -- pieces ---------------------------------------------------------------------------


def _leave_flow(turn: Turn, asked: SafetyCheck, *, resume: bool) -> None:
    state = conversation.load(turn.session, turn.resident.id, turn.now)
    if state.flow != FLOW or state.data.get("check_id") != asked.id:
        return
    previous = state.data.get("resume")
    conversation.clear(state, turn.now)
    if resume and previous:
        expires = datetime.fromisoformat(previous["expires_at"]) if previous["expires_at"] \
            else None
        if expires is None or expires > turn.now:
            conversation.enter(state, previous["flow"], previous["step"], turn.now,
                               previous["data"], timeout=(expires - turn.now) if expires
                               else conversation.FLOW_TIMEOUT)


def _flow_of(state: Any) -> dict[str, Any]:
    return {"flow": state.flow, "step": state.step, "data": dict(state.data or {}),
            "expires_at": state.expires_at.isoformat() if state.expires_at else None}


def _message_id(turn: Turn) -> int | None:
    return turn.message.id if turn.message is not None else None


def _attach_original(turn: Turn, asked: SafetyCheck) -> None:
    """Staff who pick the case up see the message the question was about."""
    if asked.message_id is None:
        return
    case = cases.current_case(turn.session, turn.resident)
    message = turn.session.get(Message, asked.message_id)
    if case is not None and message is not None and message.case_id is None:
        message.case_id = case.id


def _link_case(turn: Turn, asked: SafetyCheck) -> None:
    case = cases.current_case(turn.session, turn.resident)
    if case is not None:
        asked.case_id = case.id
        _attach_original(turn, asked)


def _attach_to_claimed_case(turn: Turn) -> None:
    """A person holding the case sees the message too (the bot still asks: it may be night)."""
    case = cases.handled_by_person(turn.session, turn.resident)
    if case is None:
        return
    casework.resident_wrote(turn.session, case, _message_id(turn), turn.now)


def _evidence(analysis: Analysis) -> str:
    """What staff see as the reason: nlu's own explanation, else the topics' evidence."""
    if analysis.urgent_reason:
        return analysis.urgent_reason
    parts = [f"{TOPIC_LABELS.get(t.id, t.id)}（{'、'.join(t.evidence)}）" if t.evidence
             else TOPIC_LABELS.get(t.id, t.id) for t in analysis.topics]
    score = f"危険度スコア {analysis.risk_score:.2f}"
    return "／".join([score, *parts])


def dump_analysis(analysis: Analysis) -> dict[str, Any]:
    data = asdict(analysis)
    data["when"] = [{"start": r.start.isoformat(), "end": r.end.isoformat(), "text": r.text}
                    for r in analysis.when]
    return data


def load_analysis(data: dict[str, Any]) -> Analysis:
    known = {f.name for f in fields(Analysis)}
    values = {k: v for k, v in data.items() if k in known}
    values["topics"] = [TopicHit(**t) for t in values.get("topics", [])]
    values["pii"] = [PiiSpan(**p) for p in values.get("pii", [])]
    values["when"] = [TimeRange(datetime.fromisoformat(w["start"]),
                                datetime.fromisoformat(w["end"]), w["text"])
                      for w in values.get("when", [])]
    return Analysis(**values)
