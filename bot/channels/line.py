"""LINE Messaging API adapter (line-bot-sdk v3): reply while the token is fresh, else push."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    DatetimePickerAction,
    MessageAction,
    MessagingApi,
    PostbackAction,
    PushMessageRequest,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    TextMessage,
)
from urllib3.exceptions import HTTPError as Urllib3Error

from bot.channels.base import TOKEN_REFUSED, Delivery, SendResult
from bot.channels.line_events import parse_event
from handlers.inbound import Inbound
from handlers.replies import Reply

log = logging.getLogger(__name__)

MAX_TEXT = 5000  # LINE's limit per text message
MAX_LABEL = 20  # LINE's limit per quick-reply label
MAX_QUICK_REPLIES = 13
# connect, read (seconds); a timed-out push is retried with the same retry key.
CONNECT_TIMEOUT = 3.05


def _label(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _picker_value(value: datetime | None, mode: str) -> str | None:
    if value is None:
        return None
    return value.strftime({"date": "%Y-%m-%d", "time": "%H:%M"}.get(mode, "%Y-%m-%dT%H:%M"))


def to_line_message(reply: Reply) -> TextMessage:
    items: list[QuickReplyItem] = []
    for qr in reply.quick_replies:
        if qr.data is not None:
            action: Any = PostbackAction(
                label=_label(qr.label), data=qr.data, display_text=qr.text or qr.label
            )
        else:
            action = MessageAction(label=_label(qr.label), text=qr.text or qr.label)
        items.append(QuickReplyItem(action=action))
    for picker in reply.pickers:
        items.append(
            QuickReplyItem(
                action=DatetimePickerAction(
                    label=_label(picker.label), data=picker.data, mode=picker.mode,
                    initial=_picker_value(picker.initial, picker.mode),
                    min=_picker_value(picker.min, picker.mode),
                    max=_picker_value(picker.max, picker.mode),
                )
            )
        )
    text = reply.text if len(reply.text) <= MAX_TEXT else reply.text[: MAX_TEXT - 1] + "…"
    quick = QuickReply(items=items[:MAX_QUICK_REPLIES]) if items else None
    return TextMessage(text=text, quick_reply=quick)


class LineChannel:
    name = "line"

    def __init__(self, access_token: str, endpoint: str = "https://api.line.me",
                 timeout_seconds: float = 10.0) -> None:
        self._timeout = (CONNECT_TIMEOUT, timeout_seconds)
        self._configuration = Configuration(host=endpoint, access_token=access_token)
        self._client = ApiClient(self._configuration)
        self._api = MessagingApi(self._client)

    def parse(self, payload: dict[str, Any], received_at: datetime) -> Inbound:
        return parse_event(payload, self.name, received_at)

    def send(self, delivery: Delivery) -> SendResult:
        messages = [to_line_message(r) for r in delivery.replies]
        if delivery.reply_token:
            result = self._reply(delivery.reply_token, messages)
            if result.status != TOKEN_REFUSED or not delivery.may_push:
                return result
            # The token was refused (expired, or spent by an earlier attempt): push.
        return self._push(delivery, messages)

    def _reply(self, token: str, messages: list[TextMessage]) -> SendResult:
        try:
            self._api.reply_message_with_http_info(
                ReplyMessageRequest(reply_token=token, messages=messages),
                _request_timeout=self._timeout,
                _preload_content=False,  # we need only the status, not the parsed body
            )
            return SendResult("sent", via="reply")
        except ApiException as exc:
            if exc.status == 400 and "reply token" in _body(exc).lower():
                return SendResult(TOKEN_REFUSED, error="reply token refused")
            return _classify(exc)
        except (Urllib3Error, OSError) as exc:
            # Unknown whether it arrived; a push with the retry key is the safe retry.
            return SendResult("retry", error=f"reply transport error: {type(exc).__name__}")

    def _push(self, delivery: Delivery, messages: list[TextMessage]) -> SendResult:
        try:
            self._api.push_message_with_http_info(
                PushMessageRequest(to=delivery.user_id, messages=messages),
                x_line_retry_key=delivery.idempotency_key,
                _request_timeout=self._timeout,
                _preload_content=False,
            )
            return SendResult("sent", via="push")
        except ApiException as exc:
            if exc.status == 409:  # this retry key was already accepted: delivered once
                return SendResult("sent", via="push")
            return _classify(exc)
        except (Urllib3Error, OSError) as exc:
            return SendResult("retry", error=f"push transport error: {type(exc).__name__}")


def _classify(exc: ApiException) -> SendResult:
    status = exc.status or 0
    if status == 429 or status >= 500:
        retry_after = None
        headers = dict(exc.headers or {})
        if "Retry-After" in headers:
            try:
                retry_after = float(headers["Retry-After"])
            except ValueError:
                retry_after = None
        return SendResult("retry", error=f"LINE API {status}", retry_after=retry_after)
    return SendResult("failed", error=f"LINE API {status}: {_body(exc)[:200]}")


def _body(exc: ApiException) -> str:
    body = exc.body
    return body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
