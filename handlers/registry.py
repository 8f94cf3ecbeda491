"""Where flows plug into the dispatcher, so each flow lives in its own module.

- postback(prefix): quick-reply / picker answers whose data starts with "prefix:"
  (handlers.postback is the codec);
- flow(name): continues a conversation whose stored state.flow == name;
- request: recognises a specific request in a fresh text message whatever its intent
  (e.g. 「見守りを申し込みたい」), tried in registration order before intent routing;
- intent(name): a fresh text message with that NLU intent.

Flows register with the process's Registry, ``FLOWS_REGISTRY``, through the decorators
below (importing handlers.flows registers them all); tests may build their own Registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from handlers.replies import Reply
from handlers.turn import Turn

FlowHandler = Callable[[Turn], list[Reply] | None]  # None: "not mine, keep routing"
Decorator = Callable[[FlowHandler], FlowHandler]


@dataclass
class Registry:
    postbacks: dict[str, FlowHandler] = field(default_factory=dict)
    flows: dict[str, FlowHandler] = field(default_factory=dict)
    intents: dict[str, FlowHandler] = field(default_factory=dict)
    requests: list[FlowHandler] = field(default_factory=list)

    def postback(self, prefix: str) -> Decorator:
        def register(fn: FlowHandler) -> FlowHandler:
            self.postbacks[prefix] = fn
            return fn

        return register

    def flow(self, name: str) -> Decorator:
        def register(fn: FlowHandler) -> FlowHandler:
            self.flows[name] = fn
            return fn

        return register

    def intent(self, *names: str) -> Decorator:
        def register(fn: FlowHandler) -> FlowHandler:
            for name in names:
                self.intents[name] = fn
            return fn

        return register

    def request(self, fn: FlowHandler) -> FlowHandler:
        self.requests.append(fn)
        return fn

    # -- lookups (handlers.dispatch) ---------------------------------------------------

    def for_postback(self, turn: Turn) -> FlowHandler | None:
        return self.postbacks.get(turn.postback.prefix)

    def for_flow(self, name: str | None) -> FlowHandler | None:
        return self.flows.get(name) if name else None

    def for_intent(self, intent: str | None) -> FlowHandler | None:
        return self.intents.get(intent) if intent else None


FLOWS_REGISTRY = Registry()
postback = FLOWS_REGISTRY.postback
flow = FLOWS_REGISTRY.flow
intent = FLOWS_REGISTRY.intent
request = FLOWS_REGISTRY.request
