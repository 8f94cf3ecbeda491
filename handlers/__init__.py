"""The conversation: what the bot says and does with each analysed message."""

from handlers.dispatch import handle

__all__ = ["handle", "warm_up"]


def warm_up() -> None:
    """Build what the first message would otherwise build (content pack, FAQ index), so a
    worker that says it is ready answers its first resident without a pause."""
    from handlers.content import load_pack
    from handlers.flows.faq import index_for

    index_for(load_pack())
