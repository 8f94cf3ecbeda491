"""Where flows plug into the dispatcher, so each flow lives in its own module.

- postback(prefix): quick-reply / picker answers whose data starts with "prefix:".
- flow(name): continues a conversation whose stored state.flow == name.
- request: recognises a specific request in a fresh text message whatever its intent
  (e.g. 「見守りを申し込みたい」), tried in registration order before intent routing.
- intent(name): a fresh text message with that NLU intent.
"""

from __future__ import annotations

from collections.abc import Callable

from handlers.replies import Reply
from handlers.turn import Turn

FlowHandler = Callable[[Turn], list[Reply] | None]  # None: "not mine, keep routing"

POSTBACKS: dict[str, FlowHandler] = {}
FLOWS: dict[str, FlowHandler] = {}
INTENTS: dict[str, FlowHandler] = {}
REQUESTS: list[FlowHandler] = []


def postback(prefix: str) -> Callable[[FlowHandler], FlowHandler]:
    def register(fn: FlowHandler) -> FlowHandler:
        POSTBACKS[prefix] = fn
        return fn

    return register


def flow(name: str) -> Callable[[FlowHandler], FlowHandler]:
    def register(fn: FlowHandler) -> FlowHandler:
        FLOWS[name] = fn
        return fn

    return register


def intent(*names: str) -> Callable[[FlowHandler], FlowHandler]:
    def register(fn: FlowHandler) -> FlowHandler:
        for name in names:
            INTENTS[name] = fn
        return fn

    return register


def request(fn: FlowHandler) -> FlowHandler:
    REQUESTS.append(fn)
    return fn
