"""Topic detection: lexicon evidence (nlu/data/topics.toml) plus a few structural rules.

Score of a topic = sum of the weights of the distinct terms that fired (strong 1.0, weak 0.5),
plus rule evidence. A topic is reported when its score reaches 1.0; confidence = 1 - 0.5**score
(1.0 → 0.5, 2.0 → 0.75, 3.0 → 0.875), so staff see how much evidence there was.

Structural rules (in code because they combine several signals):
* age: a person aged 65+ (82歳, 80代, ８０すぎ, 父(88)) → elderly_care
* dementia implies elderly_care, except 若年性
* young_carer: a school-age person (小5, 中2, 高校生, 16歳, I am 15) who does care work
  (世話, 介護, 家事, 通訳, お風呂を手伝う) — as the carer, not as the one cared for
* double_care: child-rearing and care for an elderly or disabled relative at the same time
* language: a non-Japanese consultation → foreign_resident
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from common.vocabulary import TOPIC_LABELS
from nlu.analysis import TOPIC_IDS
from nlu.lexicon import Hit, Matcher, MessageText, compile_regex, load_toml, regex_list


@dataclass
class TopicModel:
    labels: dict[str, str]
    matchers: dict[str, Matcher]
    blocks: dict[str, list[re.Pattern]]


@lru_cache(maxsize=1)
def model() -> TopicModel:
    data = load_toml("topics.toml")
    labels, matchers, blocks = {}, {}, {}
    for tid in TOPIC_IDS:
        spec = data.get(tid, {})
        labels[tid] = TOPIC_LABELS[tid]
        matchers[tid] = Matcher.build(spec)
        blocks[tid] = regex_list(spec.get("block", []))
    return TopicModel(labels, matchers, blocks)


@dataclass
class TopicScore:
    score: float = 0.0
    evidence: list[str] = field(default_factory=list)

    def add(self, weight: float, evidence: str) -> None:
        if evidence in self.evidence:
            return
        self.score += weight
        self.evidence.append(evidence)


_AGE = compile_regex(
    r"(?<![\d.])([6-9]\d|1[01]\d)(歳|才|さい|代|すぎ|過ぎ|を過ぎ|になる|近い|\)|）)"
    r"|(?<![\d.])([6-9]\d|1[01]\d)(の|になる)(母|父|祖母|祖父|夫|妻|義母|義父|おかん|おとん|親)"
    r"|(はちじゅう|ななじゅう|きゅうじゅう)(さい|だい|すぎ)|([6-9]\d|1[01]\d)で(免許|一人|ひとり)"
    r"|(わし|私|わたし)(も|は)?(もう)?([6-9]\d|1[01]\d)(じゃ|や|だ|です)"
)
_YOUNG = compile_regex(
    r"(?<![\d])(小|中|高)[1-6](?![\d])|小学生|中学生|高校生|大学生|女子高生|男子高生|生徒|(?<![\d])(1[0-9]|[6-9])(歳|才|さい)(?!の(子|息子|娘))"
    r"|(息子|娘|子)\((1[0-9]|[6-9])\)|(^|[^\d])(1[0-9])(です|だけど)|i'?a?m1\d|1\dyearsold"
    r"|(友達|友だち)と遊べない|部活"
)
_CARE_WORK = compile_regex(
    r"(世話|せわ|介護|かいご|面倒(を)?み|めんどうみ|家事|(ごはん|ご飯|食事|弁当)(を|も)?[^。]{0,10}(作|つく)|料理|通訳|つうやく|translate|お風呂|トイレを手伝|"
    r"おむつ|おんぶ|代わりに|かわりに|看病|送り迎え|お迎え|ケア|(進学|部活)(を|も|は)?(あきらめ|諦め|やめ|辞め)|遊べない)"
)
_CARED_CHILD = compile_regex(
    r"((小|中|高)[1-6]|小学生|中学生|高校生|\d{1,2}歳)(の[^、。が]{0,7})?の(世話|ケア|介護|面倒|療育)"
)
_CHILD_REARING = compile_regex(
    r"(育児|子育て|保育園|不登校|幼稚園|お迎え|妊娠|産後|抱っこ|双子|夜泣き|授乳|一時預かり|[0-9]歳の(子|息子|娘)|子ども(が)?[2-9]人|子供(が)?[2-9]人|"
    r"小さい(お子さん|子)|子ども(の|と)|子供(の|と)|こども(の|と)|子(の|を)(世話|ケア)|息子のケア|娘のケア|赤ちゃん|子ども2人|子どもの朝ごはん)"
)
_CHILD_VICTIM = compile_regex(
    r"((子ども|子供|こども)(?!の頃|のころ|の時|のとき)|児童|(?<![\d])(小|中|高)[1-6](?![\d])|小学生|中学生|赤ちゃん|乳児|幼児|お子さん)"
)
_CARE_ADULT = compile_regex(
    r"(介護|かいご|おむつ|寝たきり|要介護|デイ|送迎|認知症|ケア|見ている|みている|看病|見守り|ショートステイ)"
)


def _school_age_carer(flat: str) -> str | None:
    """A school-age person doing care work, as the carer. Returns the evidence or None."""
    for m in _YOUNG.finditer(flat):
        if _CARED_CHILD.match(flat, m.start()):
            continue
        lo = max(0, m.start() - 40)
        for care in _CARE_WORK.finditer(flat, lo, m.end() + 60):
            if care.end() <= m.start() or care.start() >= m.end():
                return f"{m.group(0)}…{care.group(0)}"
    return None


def score_topics(
    m: MessageText, language: str, intent_hint: str | None = None
) -> dict[str, TopicScore]:
    tm = model()
    flat = m.view.flat
    scores: dict[str, TopicScore] = {tid: TopicScore() for tid in TOPIC_IDS}
    fiction_spans = _fiction_spans(m)
    for tid, matcher in tm.matchers.items():
        blocked_spans = list(fiction_spans)
        for b in tm.blocks[tid]:
            for mt in b.finditer(flat):
                blocked_spans.append(m.view.flat_span_to_norm(mt.start(), mt.end()))
        counted: list[tuple[int, int]] = []
        # longest first, so 年金暮らし is not counted again as 年金
        for hit in sorted(matcher.find(m), key=lambda h: (h.start - h.end, -h.weight)):
            if any(s < hit.end and hit.start < e for s, e in blocked_spans):
                continue
            if any(s <= hit.start and hit.end <= e for s, e in counted):
                continue
            counted.append((hit.start, hit.end))
            scores[tid].add(hit.weight, _evidence(m, hit))

    age = _AGE.search(flat)
    if age:
        scores["elderly_care"].add(1.0, f"年齢: {age.group(0)}")
    if scores["dementia"].score >= 1.0 and "若年性" not in flat:
        scores["elderly_care"].add(1.0, "認知症")

    carer = _school_age_carer(flat)
    if carer:
        scores["young_carer"].add(1.0, carer)
    if scores["young_carer"].score < 1.0:
        child = _CHILD_REARING.search(flat)
        adult = _CARE_ADULT.search(flat)
        elder_or_dis = scores["elderly_care"].score >= 1.0 or scores["disability"].score >= 1.0
        if child and adult and elder_or_dis and child.group(0) != adult.group(0):
            scores["double_care"].add(1.0, f"{child.group(0)}＋{adult.group(0)}")
    if scores["double_care"].score >= 1.0:
        scores["child_parenting"].add(0.5, "ダブルケア")
    if scores["abuse"].score >= 1.0 or scores["domestic_violence"].score >= 1.0:
        child = _CHILD_VICTIM.search(flat)
        if child:
            scores["child_parenting"].add(1.0, f"子どもへの虐待: {child.group(0)}")
    if language == "other" and intent_hint in (None, "consult", "faq"):
        scores["foreign_resident"].add(1.0, "日本語以外のメッセージ")
    return scores


def _fiction_spans(m: MessageText) -> list[tuple[int, int]]:
    """Sentences about a drama, film, novel, news or a dream: not the resident's problem."""
    from nlu.features import sentence_spans
    from nlu.urgency import model as urgency_model

    frames = urgency_model().frames["fiction"]
    out = []
    for s, e in sentence_spans(m.view.folded):
        sent = re.sub(r"\s", "", m.view.folded[s:e])
        if any(p.search(sent) for p in frames):
            out.append((s, e))
    return out


def _evidence(m: MessageText, hit: Hit) -> str:
    s, e = m.view.orig_span(hit.start, hit.end)
    return m.view.text[s:e].strip() or hit.term
