"""Every route's answer on the demo city, as a snapshot to compare before and after a change
of the code's shape (#21): method, path, who asks (anonymous, admin), status and content
type. Prints JSON; `--compare FILE` prints the differences from an earlier snapshot.

    python tools/route_snapshot.py > before.json
    ... reshape ...
    python tools/route_snapshot.py --compare before.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import secrets
import sys
import tempfile
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parents[1]))

from resourcemap import accounts, db, schema
from resourcemap.clock import FixedClock
from resourcemap.demo.city import load_demo_city
from resourcemap.settings import Settings
from resourcemap.vocab import Role
from tests.conftest import DEMO_SEED, TEST_NOW
from web.app import create_app

PASSWORD = "snapshot-password-1"
# Sample values for path parameters, valid on the demo city.
SAMPLES = {"id": "1", "code": "12345678", "areacode": "440399"}


async def _prepare(url: str) -> None:
    await schema.migrate(url)
    async with db.database(url):
        await load_demo_city(DEMO_SEED)
        await accounts.create_account(None, username="snapshot", password=PASSWORD, role=Role.ADMIN)


def _routes(routes: list[Any], prefix: str = "") -> list[tuple[str, str]]:
    found = []
    for route in routes:
        if isinstance(route, Mount):
            if route.path.startswith("/static"):
                continue
            found += _routes(list(route.routes), prefix + route.path)
        elif isinstance(route, Route):
            path = prefix + route.path
            for method in sorted(route.methods or {"GET"}):
                if method != "HEAD":
                    found.append((method, path))
    return sorted(set(found))


def _concrete(path: str) -> str:
    return re.sub(r"\{(\w+)(?::(\w+))?\}", lambda m: SAMPLES.get(m[2] or m[1], "1"), path)


def snapshot() -> dict[str, str]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite://{Path(folder) / 'demo.sqlite3'}"
        asyncio.run(_prepare(url))
        settings = Settings(
            _env_file=None,
            database_url=url,
            secret_key=secrets.token_urlsafe(48),
            data_keys=Fernet.generate_key().decode(),
            run_worker=False,
        )
        app = create_app(settings, clock=FixedClock(TEST_NOW))
        out: dict[str, str] = {}
        with TestClient(app) as client:
            routes = _routes(list(app.routes))
            for who in ("anonymous", "admin"):
                headers = {}
                if who == "admin":
                    signed = client.post(
                        "/api/v1/session", json={"username": "snapshot", "password": PASSWORD}
                    )
                    headers = {"X-CSRF-Token": signed.json()["csrf_token"]}
                for method, path in routes:
                    if path in ("/logout", "/api/v1/session") and method in ("POST", "DELETE"):
                        continue  # would end the admin's session halfway
                    answer = client.request(
                        method, _concrete(path), headers=headers, follow_redirects=False
                    )
                    kind = answer.headers.get("content-type", "").split(";")[0]
                    out[f"{who} {method} {path}"] = f"{answer.status_code} {kind}"
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", type=Path, help="an earlier snapshot to compare with")
    args = parser.parse_args()
    now = snapshot()
    if args.compare is None:
        print(json.dumps(now, indent=1, sort_keys=True, ensure_ascii=False))
        return
    before = json.loads(args.compare.read_text())
    changed = 0
    for key in sorted(set(before) | set(now)):
        if before.get(key) != now.get(key):
            changed += 1
            print(f"{key}: {before.get(key)} -> {now.get(key)}")
    print(f"{changed} of {len(set(before) | set(now))} answers differ")


if __name__ == "__main__":
    main()
