"""Conversation flows. Each module registers itself with handlers.registry on import."""

from handlers.flows import (  # noqa: F401, I001
    consent,
    consult,
    faq,
    fallback,
    handoff_request,
    language,
    privacy,
    safety,
    welcome,
)
from handlers.flows import booking  # noqa: F401, I001

# Keep last: checkin looks at 見守り requests before the intent handlers registered above.
from handlers.flows import checkin  # noqa: E402,F401
