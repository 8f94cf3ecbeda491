"""LINE Messaging API adapter (line-bot-sdk v3): reply while the token is fresh, else push."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
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
from handlers.replies import (
    MAX_DISPLAY_TEXT,
    MAX_LABEL,
    MAX_QUICK_REPLIES,
    MAX_TEXT,
    Reply,
    clip,
)

log = logging.getLogger(__name__)

# connect, read (seconds); a timed-out push is retried with the same retry key.
CONNECT_TIMEOUT = 3.05


class UnbuildableMessageError(ValueError):
    """A reply LINE would refuse whatever we retry (e.g. postback data over 300 units)."""


def _picker_value(value: datetime | None, mode: str) -> str | None:
    if value is None:
        return None
    return value.strftime({"date": "%Y-%m-%d", "time": "%H:%M"}.get(mode, "%Y-%m-%dT%H:%M"))


def to_line_message(reply: Reply) -> TextMessage:
    """The SDK message for a reply: texts and labels clipped to LINE's limits (in UTF-16
    units), at most 13 buttons with the date pickers always kept (they are the way to
    choose another time); UnbuildableMessageError when it cannot be sent at all."""
    problems = reply.problems()
    if problems:
        raise UnbuildableMessageError("; ".join(problems))
    room = MAX_QUICK_REPLIES - len(reply.pickers)
    buttons = reply.quick_replies[:room]
    if len(reply.quick_replies) > room:
        log.warning("%d quick replies dropped to keep within LINE's 13",
                    len(reply.quick_replies) - room)
    items: list[QuickReplyItem] = []
    try:
        for qr in buttons:
            if qr.data is not None:
                action: Any = PostbackAction(
                    label=clip(qr.label, MAX_LABEL), data=qr.data,
                    display_text=clip(qr.text or qr.label, MAX_DISPLAY_TEXT))
            else:
                action = MessageAction(label=clip(qr.label, MAX_LABEL),
                                       text=clip(qr.text or qr.label, MAX_DISPLAY_TEXT))
            items.append(QuickReplyItem(action=action))
        for picker in reply.pickers:
            items.append(QuickReplyItem(action=DatetimePickerAction(
                label=clip(picker.label, MAX_LABEL), data=picker.data, mode=picker.mode,
                initial=_picker_value(picker.initial, picker.mode),
                min=_picker_value(picker.min, picker.mode),
                max=_picker_value(picker.max, picker.mode),
            )))
        quick = QuickReply(items=items) if items else None
        return TextMessage(text=clip(reply.text, MAX_TEXT) or " ", quick_reply=quick)
    except ValueError as exc:  # pydantic's ValidationError: the SDK refuses the shape
        raise UnbuildableMessageError(f"the LINE SDK refused the message: {type(exc).__name__}"
                                 ) from None


MONTHLY_LIMIT = "monthly limit"  # in LINE's 429 body: "You have reached your monthly limit."
# Warn when this share of the month's push quota is used (replies are free); keep the last
# share for staff replies and urgent messages.
QUOTA_WARN_SHARE = 0.8
QUOTA_RESERVE_SHARE = 0.05


@dataclass(frozen=True)
class PushQuota:
    limit: int | None  # None: the plan has no limit
    used: int

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(self.limit - self.used, 0)

    @property
    def running_out(self) -> bool:
        return self.limit is not None and self.used >= self.limit * QUOTA_WARN_SHARE

    @property
    def short(self) -> bool:
        """Only the reserve is left: pushes go to staff replies and urgent messages."""
        remaining = self.remaining
        return remaining is not None and remaining <= max(1, self.limit * QUOTA_RESERVE_SHARE)


class LineChannel:
    name = "line"

    def __init__(self, access_token: str, endpoint: str = "https://api.line.me",
                 timeout_seconds: float = 10.0) -> None:
        self._timeout = (CONNECT_TIMEOUT, timeout_seconds)
        self._configuration = Configuration(host=endpoint, access_token=access_token)
        self._client = ApiClient(self._configuration)
        self._api = MessagingApi(self._client)
        self._quota: tuple[float, PushQuota] | None = None  # (read at, monotonic), value

    def parse(self, payload: dict[str, Any], received_at: datetime) -> Inbound:
        return parse_event(payload, self.name, received_at)

    def quota(self, max_age: float = 0.0) -> PushQuota:
        """This month's push quota and use (GET /v2/bot/message/quota[/consumption]); a
        reading younger than `max_age` seconds is reused."""
        cached = self._quota
        if cached is not None and time.monotonic() - cached[0] < max_age:
            return cached[1]
        limit = self._api.get_message_quota(_request_timeout=self._timeout)
        used = self._api.get_message_quota_consumption(_request_timeout=self._timeout)
        value = limit.value if limit.type == "limited" else None
        quota = PushQuota(limit=value, used=int(used.total_usage or 0))
        self._quota = (time.monotonic(), quota)
        return quota

    def send(self, delivery: Delivery) -> SendResult:
        try:
            messages = [to_line_message(r) for r in delivery.replies]
        except UnbuildableMessageError as exc:  # built before any call: retrying cannot help
            return SendResult("failed", error=f"unbuildable: {exc}")
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
    if status == 429 and MONTHLY_LIMIT in _body(exc).lower():
        # Not a rate limit: no retry helps before the month turns. Staff see it as failed.
        log.error("LINE push refused: the monthly message limit is reached")
        return SendResult("failed", error="LINE API 429: monthly message limit reached")
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
