"""Conversation flows. Each module registers itself with handlers.registry on import."""
