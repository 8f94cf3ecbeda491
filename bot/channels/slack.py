"""Slack as a staff channel: case cards with a Claim button, thread messages, alerts.

Only aliases, topic labels and masked text ever leave for Slack. Calls go through
slack_sdk's WebClient, whose base URL is configurable so tests talk to a fake on loopback.
Nothing here is called inside a resident's event transaction (see scheduler/jobs/sla.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

log = logging.getLogger(__name__)

CLAIM_ACTION = "case_claim"
EXCERPT_CHARS = 120
PRIORITY_LABELS = {"urgent": "緊急", "high": "高", "normal": "通常"}
PRIORITY_MARKS = {"urgent": ":rotating_light:", "high": ":large_orange_diamond:", "normal": ""}
STATUS_LABELS = {"new": "未対応", "claimed": "対応中", "waiting": "返信待ち", "closed": "終了"}
REQUEST_TIMEOUT = 10  # seconds


# Answers worth trying again later; any other refusal (invalid_blocks, channel_not_found,
# msg_too_long …) will be refused again, so the notice is recorded as failed at once.
RETRYABLE = {"ratelimited", "internal_error", "fatal_error", "service_unavailable",
             "request_timeout", "team_is_limited"}


class SlackSendError(RuntimeError):
    """A Slack call failed; retried later unless `permanent`."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class CaseCard:
    case_id: int
    alias: str
    priority: str
    status: str
    topics: list[str] = field(default_factory=list)  # Japanese labels
    excerpt: str = ""  # masked
    link: str | None = None  # mrkdwn link to the console, instead of the excerpt
    assignee: str | None = None
    outcome: str | None = None  # Japanese label when closed

    @property
    def title(self) -> str:
        mark = PRIORITY_MARKS.get(self.priority, "")
        label = PRIORITY_LABELS.get(self.priority, self.priority)
        return f"{mark} 相談 #{self.case_id}（{label}）{self.alias}".strip()


def card_blocks(card: CaseCard) -> list[dict]:
    status = STATUS_LABELS.get(card.status, card.status)
    if card.assignee:
        status += f"（担当: {card.assignee}）"
    if card.outcome:
        status += f"／{card.outcome}"
    blocks: list[dict] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{escape(card.title)}*"}},
        {"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*話題*\n{escape('、'.join(card.topics) or '未分類')}"},
            {"type": "mrkdwn", "text": f"*状態*\n{escape(status)}"},
        ]},
    ]
    if card.excerpt:
        blocks.append({"type": "section", "text": {
            "type": "mrkdwn", "text": "> " + escape(_excerpt(card.excerpt))}})
    if card.link:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": card.link}})
    if card.status == "new":
        blocks.append({"type": "actions", "elements": [{
            "type": "button", "action_id": CLAIM_ACTION, "value": str(card.case_id),
            "text": {"type": "plain_text", "text": "担当する"},
            **({"style": "danger"} if card.priority == "urgent" else {"style": "primary"}),
        }]})
    blocks.append({"type": "context", "elements": [{
        "type": "mrkdwn",
        "text": "このスレッドへの返信は相談者のLINEに届きます（担当者のみ）。",
    }]})
    return blocks


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1] + "…"


def escape(text: str) -> str:
    """Slack's three control characters; resident text then cannot form a mention
    (<!channel>, <@U…>) or a disguised link (<https://evil|市役所>)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SlackNotifier:
    """Posts and updates case cards in one channel."""

    def __init__(self, token: str, channel: str, base_url: str = "https://slack.com/api/",
                 client: WebClient | None = None) -> None:
        self.channel = channel
        self.client = client or WebClient(token=token, base_url=_slash(base_url),
                                          timeout=REQUEST_TIMEOUT)

    def post_card(self, card: CaseCard) -> tuple[str, str]:
        """Post a new card; returns (channel id, ts) that identify its thread."""
        data = self._call("chat_postMessage", channel=self.channel, text=card.title,
                          blocks=card_blocks(card), unfurl_links=False)
        return str(data.get("channel") or self.channel), str(data["ts"])

    def update_card(self, channel: str, ts: str, card: CaseCard) -> None:
        self._call("chat_update", channel=channel, ts=ts, text=card.title,
                   blocks=card_blocks(card))

    def post_in_thread(self, channel: str, ts: str, text: str, broadcast: bool = False
                       ) -> tuple[str, str]:
        """Post in a card's thread (`text` is mrkdwn: escape what a resident wrote)."""
        data = self._call("chat_postMessage", channel=channel, thread_ts=ts, text=text,
                          reply_broadcast=broadcast, unfurl_links=False, unfurl_media=False)
        return str(data.get("channel") or channel), str(data.get("ts") or "")

    def delete(self, channel: str, ts: str) -> None:
        """Delete one of our messages; one already gone counts as deleted."""
        try:
            self._call("chat_delete", channel=channel, ts=ts)
        except SlackSendError as exc:
            if "message_not_found" not in str(exc):
                raise

    def post_ephemeral(self, channel: str, user: str, text: str, thread_ts: str | None = None
                       ) -> None:
        kwargs = {"thread_ts": thread_ts} if thread_ts else {}
        self._call("chat_postEphemeral", channel=channel, user=user, text=text, **kwargs)

    def _call(self, method: str, **kwargs: object) -> dict:
        try:
            response = getattr(self.client, method)(**kwargs)
        except SlackApiError as exc:
            error = str(exc.response.get("error", "error"))
            permanent = exc.response.status_code < 500 and error not in RETRYABLE
            raise SlackSendError(f"{method}: {error}", permanent=permanent) from None
        except (SlackClientError, OSError) as exc:
            raise SlackSendError(f"{method}: {type(exc).__name__}") from None
        return dict(response.data) if isinstance(response.data, dict) else {}


def _slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def notifier_for(config: object) -> SlackNotifier | None:
    """The notifier when Slack is configured with a channel, else None (console only)."""
    token = getattr(config, "slack_bot_token", None)
    secret = getattr(config, "slack_signing_secret", None)
    channel = getattr(config, "slack_channel", None)
    if not (token and secret and channel):
        return None
    return SlackNotifier(token, channel, getattr(config, "slack_api_url", "https://slack.com/api/"))


def mention(user_ids: list[str]) -> str:
    return " ".join(f"<@{uid}>" for uid in user_ids if uid)
