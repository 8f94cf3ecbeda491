"""Japanese labels staff see for topic ids, read from the NLU's topic lexicon (no spaCy)."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from handlers.content.schema import TOPIC_IDS

TOPICS_FILE = Path(__file__).resolve().parents[2] / "nlu" / "data" / "topics.toml"
URGENT_KIND_LABELS = {
    "suicide": "自殺・自傷", "violence": "暴力", "abuse": "虐待", "medical": "急病・けが",
    "missing": "行方不明", "disaster": "災害",
}
ABOUT_LABELS = {"self": "本人", "family": "家族", "other": "その他（知人・支援先など）"}
CONSENT_LABELS = {"unknown": "未確認", "asked": "確認中", "granted": "同意あり",
                  "declined": "同意なし（支援会議のみ）"}
REASON_LABELS = {"urgent": "緊急", "compound": "複合課題", "human": "職員希望",
                 "not_understood": "自動応答で対応できず", "checkin": "見守りからの連絡",
                 "check_person": "安全確認で職員希望", "check_no_answer": "安全確認に応答なし"}
REFERRAL_LABELS = {"sent": "未確認", "confirmed": "受理済み", "declined": "辞退"}


@lru_cache(maxsize=1)
def topic_labels() -> dict[str, str]:
    labels = {topic: topic for topic in TOPIC_IDS}
    try:
        data = tomllib.loads(TOPICS_FILE.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return labels  # the ids still identify the topic
    for topic, entry in data.items():
        if isinstance(entry, dict) and isinstance(entry.get("label"), str):
            labels[topic] = entry["label"]
    return labels


def topic_label(topic: str) -> str:
    return topic_labels().get(topic, topic)


AUDIT_LABELS = {
    "login": "ログイン", "login_failed": "ログイン失敗", "login_locked": "ロック",
    "logout": "ログアウト",
    "view_case": "閲覧", "view_messages": "新着を閲覧", "reveal_pii": "個人情報を表示",
    "claim": "担当", "claim_lost": "担当できず", "release": "担当を外す", "reply": "返信",
    "note": "メモ", "refer": "紹介", "referral_confirmed": "紹介の受理を確認",
    "referral_declined": "紹介の辞退を記録", "close": "終了", "export_csv": "CSV出力",
    "staff_create": "職員作成", "staff_update": "職員更新", "slack_claim": "Slackで担当",
    "slack_reply": "Slackから返信",
}
