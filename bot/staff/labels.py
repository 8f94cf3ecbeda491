"""Japanese labels staff see; the shared vocabulary's labels come from common/."""

from __future__ import annotations

from common.vocabulary import ABOUT_LABELS, TOPIC_LABELS, URGENT_KIND_LABELS, topic_label

__all__ = ["ABOUT_LABELS", "URGENT_KIND_LABELS", "topic_label", "topic_labels"]

CONSENT_LABELS = {"unknown": "未確認", "asked": "確認中", "granted": "同意あり",
                  "declined": "同意なし（支援会議のみ）"}
REASON_LABELS = {"urgent": "緊急", "compound": "複合課題", "human": "職員希望",
                 "not_understood": "自動応答で対応できず", "checkin": "見守りからの連絡"}
REFERRAL_LABELS = {"sent": "未確認", "confirmed": "受理済み", "declined": "辞退"}


def topic_labels() -> dict[str, str]:
    return dict(TOPIC_LABELS)


AUDIT_LABELS = {
    "login": "ログイン", "login_failed": "ログイン失敗", "login_locked": "ロック",
    "logout": "ログアウト",
    "view_case": "閲覧", "view_messages": "新着を閲覧", "reveal_pii": "個人情報を表示",
    "claim": "担当", "claim_lost": "担当できず", "release": "担当を外す", "reply": "返信",
    "note": "メモ", "refer": "紹介", "referral_confirmed": "紹介の受理を確認",
    "referral_declined": "紹介の辞退を記録", "close": "終了", "export_csv": "CSV出力",
    "staff_create": "職員作成", "staff_update": "職員更新", "slack_claim": "Slackで担当",
    "slack_reply": "Slackから返信",
    "content_edit": "掲載内容の編集", "content_import": "FAQのCSV取り込み",
    "content_export": "FAQのCSV出力", "content_publish": "掲載内容の公開",
    "content_rollback": "掲載内容の差し戻し", "content_discard": "下書きの破棄",
}
