"""What every channel adapter provides to the worker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from handlers.inbound import Inbound
from handlers.replies import Reply


@dataclass(frozen=True)
class Delivery:
    """One send as the channel sees it (decrypted from the outbox row)."""

    user_id: str
    replies: list[Reply]
    idempotency_key: str
    reply_token: str | None  # None when stale or already answered
    # False when an earlier attempt may have used the token: a refusal then means
    # "already delivered", and pushing would send the message twice.
    may_push: bool = True


TOKEN_REFUSED = "token_refused"


@dataclass(frozen=True)
class SendResult:
    status: str  # sent | retry | failed | token_refused
    via: str | None = None  # reply | push | simulator
    error: str | None = None
    retry_after: float | None = None


class Channel(Protocol):
    name: str

    def parse(self, payload: dict[str, Any], received_at: datetime) -> Inbound: ...

    def send(self, delivery: Delivery) -> SendResult: ...
