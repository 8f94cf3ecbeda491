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


class SlackSendError(RuntimeError):
    """A Slack call failed; the notice stays queued and is retried."""


@dataclass(frozen=True)
class CaseCard:
    case_id: int
    alias: str
    priority: str
    status: str
    topics: list[str] = field(default_factory=list)  # Japanese labels
    excerpt: str = ""  # masked
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
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{_escape(card.title)}*"}},
        {"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*話題*\n{_escape('、'.join(card.topics) or '未分類')}"},
            {"type": "mrkdwn", "text": f"*状態*\n{_escape(status)}"},
        ]},
    ]
    if card.excerpt:
        blocks.append({"type": "section", "text": {
            "type": "mrkdwn", "text": "> " + _escape(_excerpt(card.excerpt))}})
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


def _escape(text: str) -> str:
    # Slack mrkdwn control characters; keeps resident text from forming mentions or links.
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

    def post_in_thread(self, channel: str, ts: str, text: str, broadcast: bool = False) -> None:
        self._call("chat_postMessage", channel=channel, thread_ts=ts, text=text,
                   reply_broadcast=broadcast, unfurl_links=False)

    def post_ephemeral(self, channel: str, user: str, text: str, thread_ts: str | None = None
                       ) -> None:
        kwargs = {"thread_ts": thread_ts} if thread_ts else {}
        self._call("chat_postEphemeral", channel=channel, user=user, text=text, **kwargs)

    def _call(self, method: str, **kwargs: object) -> dict:
        try:
            response = getattr(self.client, method)(**kwargs)
        except SlackApiError as exc:
            raise SlackSendError(f"{method}: {exc.response.get('error', 'error')}") from None
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
