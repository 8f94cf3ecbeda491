"""Conversation flows. Each module registers itself with handlers.registry on import."""

from handlers.flows import (  # noqa: F401, I001
    consent,
    context,
    consult,
    faq,
    fallback,
    handoff_request,
    language,
    privacy,
    safety,
    safety_check,
    welcome,
)
from handlers.flows import booking, checkin  # noqa: F401, I001
