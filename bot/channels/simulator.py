"""The resident simulator channel: messages are 'delivered' by being readable on the page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.channels.base import Delivery, SendResult
from bot.channels.line_events import parse_event
from handlers.inbound import Inbound


class SimulatorChannel:
    name = "simulator"

    def parse(self, payload: dict[str, Any], received_at: datetime) -> Inbound:
        # The simulator page posts LINE-shaped events, so both share one parser.
        return parse_event(payload, self.name, received_at)

    def send(self, delivery: Delivery) -> SendResult:
        return SendResult("sent", via="simulator")
