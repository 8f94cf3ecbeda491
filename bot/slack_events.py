"""Slack at /slack/events (slack-bolt's Flask adapter): Claim buttons and thread replies.

Enabled only when SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are set. Bolt verifies the
signing secret and rejects requests older than five minutes; retries are acted on once,
by event id (table slack_events). A Slack user acts as the StaffUser whose slack_user_id
matches; anyone else is told so and nothing happens.

Slack wants an answer within three seconds, so every listener only acknowledges; the work
(database, ephemeral messages) runs as a bolt lazy listener after the answer has gone. The
card updates it causes are queued notices the worker sends (bot/staff/notices.py).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, abort, current_app, request
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.channels.slack import CLAIM_ACTION, SlackNotifier, SlackSendError
from bot.channels.slack_text import to_plain
from bot.services import Services
from handlers import casework
from storage.db import transaction
from storage.models import Case, StaffUser, utcnow
from storage.models.handoff import SlackEventSeen, SlackThread

log = logging.getLogger(__name__)
bp = Blueprint("slack_events", __name__)
EXTENSION = "madoguchi_slack"
# Thread replies staff write: plain ones, and ones also sent to the channel.
RELAYED_SUBTYPES = (None, "thread_broadcast", "file_share")
FILES_NOT_RELAYED = ("添付ファイルは相談者に送信されません（文字のみ届きます）。"
                     "資料は文章やURLでお伝えください。")
NOT_LINKED = ("この Slack アカウントはまどぐちの職員アカウントに紐付いていません。"
              "管理者に Slack ユーザーIDの登録を依頼してください。")


@bp.post("/slack/events")
def slack_events() -> Any:
    handler = current_app.extensions.get(EXTENSION)
    if handler is None:
        abort(404)
    return handler.handle(request)


def register(app: Flask, svc: Services) -> None:
    """Mount /slack/events; without Slack settings it answers 404."""
    app.register_blueprint(bp)
    if svc.config.slack_enabled:
        app.extensions[EXTENSION] = SlackRequestHandler(build_bolt(svc))


def build_bolt(svc: Services) -> App:
    config = svc.config
    base_url = config.slack_api_url if config.slack_api_url.endswith("/") else (
        config.slack_api_url + "/")
    bolt = App(
        token=config.slack_bot_token, signing_secret=config.slack_signing_secret,
        client=WebClient(token=config.slack_bot_token, base_url=base_url, timeout=10),
        # Acknowledge inside the request; lazy listeners do the work after the answer.
        process_before_response=True, token_verification_enabled=False,
    )
    listeners = SlackListeners(svc)
    bolt.action(CLAIM_ACTION)(ack=_ack, lazy=[listeners.on_claim])
    bolt.event("message")(ack=_ack, lazy=[listeners.on_message])
    return bolt


def _ack(ack: Any) -> None:
    ack()


class SlackListeners:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    # -- the Claim button ----------------------------------------------------------

    def on_claim(self, body: dict, client: WebClient) -> None:
        user = (body.get("user") or {}).get("id", "")
        value = ((body.get("actions") or [{}])[0]).get("value", "")
        channel = (body.get("channel") or {}).get("id", "")
        if not value.isdigit():
            return
        now = utcnow()
        with transaction(self.svc.factory) as session:
            staff = _staff_for(session, user)
            if staff is None:
                result, owner = None, None
            else:
                result = casework.claim(session, int(value), staff.id, now, via="slack")
                owner = _name(session, result.owner_id)
        if staff is None:
            _tell(client, channel, user, NOT_LINKED)
        elif result is not None and result.case is not None and not result.won:
            _tell(client, channel, user, f"相談 #{value} はすでに{owner}さんが担当しています。")

    # -- replies in a card's thread ---------------------------------------------------

    def on_message(self, event: dict, body: dict, client: WebClient) -> None:
        if event.get("subtype") not in RELAYED_SUBTYPES or event.get("bot_id"):
            return  # edits, deletions, joins, bots (ourselves included)
        if not event.get("thread_ts") or event.get("thread_ts") == event.get("ts"):
            return  # top-level chatter
        user, channel = event.get("user", ""), event.get("channel", "")
        thread_ts = str(event["thread_ts"])
        key = str(body.get("event_id") or f"{channel}:{event.get('ts')}")
        files = bool(event.get("files")) or event.get("subtype") == "file_share"
        notice = self._relay(key, channel, thread_ts, user, event.get("text") or "", files,
                             utcnow())
        if notice:
            _tell(client, channel, user, notice, thread_ts=thread_ts)

    def _relay(self, key: str, channel: str, thread_ts: str, user: str, markup: str,
               files: bool, now: datetime) -> str | None:
        """Send the thread reply to the resident; a message for the Slack user, or None."""
        try:
            with transaction(self.svc.factory) as session:
                if not _first_time(session, key, now):
                    return None  # a retry of something already relayed
                thread = session.scalar(select(SlackThread).where(
                    SlackThread.channel == channel, SlackThread.ts == thread_ts))
                text = to_plain(markup, lambda uid: _slack_name(session, uid))
                if thread is None:
                    return None
                if not text:
                    return FILES_NOT_RELAYED if files else None
                case = session.get(Case, thread.case_id)
                staff = _staff_for(session, user)
                if staff is None:
                    return NOT_LINKED
                if case is None or case.status == "closed":
                    return "このケースは終了しています。相談者には送信されていません。"
                if case.status == "new":
                    casework.claim(session, case.id, staff.id, now, via="slack")
                    session.refresh(case)
                if case.assignee_id != staff.id:
                    owner = _name(session, case.assignee_id)
                    return f"担当は{owner}さんです。相談者には送信されていません。"
                casework.reply(session, case, staff.id, text, now, via="slack")
        except casework.CaseError as exc:
            return f"{exc}（相談者には送信されていません）"
        return FILES_NOT_RELAYED if files else None


def _first_time(session: Any, key: str, now: datetime) -> bool:
    try:
        with session.begin_nested():
            session.add(SlackEventSeen(event_key=key[:128], received_at=now))
    except IntegrityError:
        return False
    return True


def _staff_for(session: Any, slack_user: str) -> StaffUser | None:
    if not slack_user:
        return None
    return session.scalar(select(StaffUser).where(
        StaffUser.slack_user_id == slack_user, StaffUser.active.is_(True)))


def _slack_name(session: Any, slack_user: str) -> str | None:
    """How a mentioned colleague is called to the resident: their display name."""
    staff = _staff_for(session, slack_user)
    return (staff.display_name or None) if staff else None


def _name(session: Any, staff_id: int | None) -> str:
    user = session.get(StaffUser, staff_id) if staff_id else None
    return (user.display_name or user.username) if user else "ほかの職員"


def _tell(client: WebClient, channel: str, user: str, text: str,
          thread_ts: str | None = None) -> None:
    if not (channel and user):
        return
    try:
        SlackNotifier("", channel, client=client).post_ephemeral(channel, user, text, thread_ts)
    except SlackSendError as exc:
        log.warning("slack ephemeral not sent: %s", exc)
