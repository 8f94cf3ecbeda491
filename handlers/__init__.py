"""The conversation: what the bot says and does with each analysed message."""

from handlers.dispatch import handle

__all__ = ["handle"]
