"""Content packs: a municipality's windows, FAQ, resources, hotlines, hours and copy (data)."""

from handlers.content.loader import ContentPackError, load_pack, use_pack
from handlers.content.schema import (
    Agency,
    BusinessHours,
    ContentPack,
    FaqEntry,
    Hotline,
    Resource,
    ServedArea,
    Town,
)

__all__ = [
    "Agency",
    "BusinessHours",
    "ContentPack",
    "ContentPackError",
    "FaqEntry",
    "Hotline",
    "Resource",
    "ServedArea",
    "Town",
    "load_pack",
    "use_pack",
]
