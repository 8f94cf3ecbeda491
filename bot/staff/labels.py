"""Japanese labels staff see; the shared vocabulary's labels come from common/."""

from __future__ import annotations

from common.vocabulary import ABOUT_LABELS, TOPIC_LABELS, URGENT_KIND_LABELS, topic_label

__all__ = ["ABOUT_LABELS", "URGENT_KIND_LABELS", "topic_label", "topic_labels"]

CONSENT_LABELS = {"unknown": "未確認", "asked": "確認中", "granted": "同意あり",
                  "declined": "同意なし（支援会議のみ）"}
REASON_LABELS = {"urgent": "緊急", "compound": "複合課題", "human": "職員希望",
                 "not_understood": "自動応答で対応できず", "checkin": "見守りからの連絡",
                 "check_person": "安全確認で職員希望", "check_no_answer": "安全確認に応答なし"}
REFERRAL_LABELS = {"sent": "未確認", "confirmed": "受理済み", "declined": "辞退"}


def topic_labels() -> dict[str, str]:
    return dict(TOPIC_LABELS)


AUDIT_LABELS = {
    "login": "ログイン", "login_failed": "ログイン失敗", "login_locked": "ロック",
    "logout": "ログアウト", "session_expired": "時間切れでログアウト",
    "view_case": "閲覧", "view_messages": "新着を閲覧", "reveal_pii": "個人情報を表示",
    "claim": "担当", "claim_lost": "担当できず", "release": "担当を外す", "reply": "返信",
    "note": "メモ", "refer": "紹介", "referral_confirmed": "紹介の受理を確認",
    "referral_declined": "紹介の辞退を記録", "close": "終了", "export_csv": "CSV出力",
    "staff_create": "職員作成", "staff_update": "職員更新", "slack_claim": "Slackで担当",
    "slack_reply": "Slackから返信",
    "booking_cancel_slot": "予約枠の取消", "booking_attendance": "来談の記録",
    "booking_availability": "受付枠の登録", "booking_closed_day": "休業日の登録",
    "booking_feed_rotate": "カレンダーURLの再発行", "view_booking_names": "予約者名を閲覧",
    "checkin_enrol": "見守りの登録",
    "checkin_pause": "見守りの休止", "checkin_resume": "見守りの再開",
    "checkin_end": "見守りの終了",
    "content_edit": "掲載内容の編集", "content_import": "FAQのCSV取り込み",
    "content_export": "FAQのCSV出力", "content_publish": "掲載内容の公開",
    "content_rollback": "掲載内容の差し戻し", "content_discard": "下書きの破棄",
}
