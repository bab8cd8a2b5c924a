"""ASGI entry point for servers: ``uvicorn web.asgi:app``. Reads the environment once."""

from __future__ import annotations

from resourcemap import keys
from resourcemap.logs import configure
from resourcemap.settings import Settings
from web.app import create_app

settings = Settings()
configure(settings.log_level)
app = create_app(keys.resolve(settings).settings)
