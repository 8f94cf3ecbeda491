"""The shared vocabulary: what nlu/ finds in a message, handlers/ answer by, storage/ keeps
and staff see. Ids are stable (stored with every message and case); labels are for staff.
Residents never see these labels: their wording is in the content pack."""

from __future__ import annotations

# The 22 welfare topics (multi-label) with the Japanese name staff see.
TOPIC_LABELS: dict[str, str] = {
    "elderly_care": "高齢・介護",
    "dementia": "認知症",
    "disability": "障がい",
    "child_parenting": "子育て・子ども",
    "living_hardship": "生活困窮・お金",
    "employment": "仕事・就労",
    "hikikomori": "ひきこもり",
    "isolation": "孤立・孤独",
    "housing": "住まい",
    "health": "健康・医療",
    "mental_health": "こころの健康",
    "suicide_risk": "自殺・自傷のおそれ",
    "abuse": "虐待",
    "domestic_violence": "DV",
    "young_carer": "ヤングケアラー",
    "double_care": "ダブルケア",
    "foreign_resident": "外国人・ことば",
    "disaster": "災害・防災",
    "hoarding": "ごみ屋敷・セルフネグレクト",
    "daily_living": "買い物・移動・生活支援",
    "rights_advocacy": "権利擁護・成年後見",
    "participation": "地域活動・居場所",
}
TOPIC_IDS: tuple[str, ...] = tuple(TOPIC_LABELS)

# What the resident wants from this message.
INTENTS: tuple[str, ...] = (
    "consult",
    "faq",
    "book",
    "change_booking",
    "human",
    "checkin_ok",
    "checkin_unwell",
    "delete_data",
    "greeting",
)

# Whom the message is about.
ABOUT_LABELS: dict[str, str] = {
    "self": "本人",
    "family": "家族",
    "other": "その他（知人・支援先など）",
}
ABOUT: tuple[str, ...] = tuple(ABOUT_LABELS)

# Risk bands: "urgent" = present danger (crisis numbers first, an urgent case); "check" =
# possible danger the reader is not sure of (the bot asks plainly); "none".
RISK_LEVELS: tuple[str, ...] = ("urgent", "check", "none")

# Kinds of present danger; handlers pick emergency numbers by kind.
URGENT_KIND_LABELS: dict[str, str] = {
    "suicide": "自殺・自傷",
    "violence": "暴力",
    "abuse": "虐待",
    "medical": "急病・けが",
    "missing": "行方不明",
    "disaster": "災害",
}
URGENT_KINDS: tuple[str, ...] = tuple(URGENT_KIND_LABELS)


def topic_label(topic: str) -> str:
    """The staff label of a topic id (the id itself for one we do not know)."""
    return TOPIC_LABELS.get(topic, topic)
