"""gunicorn settings for `web` (Procfile): gthread workers, app preloaded once."""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from bot.config import process_settings
from bot.observability import redact

_settings = process_settings()
worker_class = "gthread"
threads = _settings.web_threads
workers = _settings.web_concurrency
preload_app = True
bind = f"0.0.0.0:{_settings.port}"
# Webhook requests are tiny; a slow client must not hold a thread for long.
timeout = 30
graceful_timeout = 20


def post_fork(_server: Any, _worker: Any) -> None:
    # Connections opened before the fork must not be shared by the children.
    from bot.wsgi import _svc

    _svc.engine.dispose(close=False)


class RedactingLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger, with calendar-feed secrets masked if an access log is switched on."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value
                for key, value in atoms.items()}


logger_class = RedactingLogger
