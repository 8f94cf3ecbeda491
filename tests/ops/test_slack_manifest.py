"""The Slack app manifest in docs/ asks for what the code uses, and no more."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Flask

from bot.slack_events import bp

MANIFEST = Path(__file__).resolve().parents[2] / "docs" / "slack-manifest.json"


def test_the_manifest_points_slack_at_our_endpoint_for_events_and_buttons():
    settings = json.loads(MANIFEST.read_text(encoding="utf-8"))["settings"]
    app = Flask(__name__)
    app.register_blueprint(bp)
    [path] = [r.rule for r in app.url_map.iter_rules() if r.endpoint.startswith(bp.name)]
    assert settings["event_subscriptions"]["request_url"].endswith(path)
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["interactivity"]["request_url"].endswith(path)
    # thread replies in public and private channels; nothing else is listened to
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "message.channels", "message.groups"}


def test_the_manifest_asks_only_for_the_scopes_used():
    scopes = json.loads(MANIFEST.read_text(encoding="utf-8"))["oauth_config"]["scopes"]["bot"]
    # chat.postMessage / update / delete / postEphemeral need chat:write; reading thread
    # replies needs the history scope of the channel's kind.
    assert sorted(scopes) == ["channels:history", "chat:write", "groups:history"]
