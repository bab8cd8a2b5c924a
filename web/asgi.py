"""ASGI entry point for servers: ``uvicorn web.asgi:app``. Reads the environment once."""

from __future__ import annotations

from resourcemap.settings import Settings
from web.app import create_app

app = create_app(Settings())
