"""Secrets on a default install (#15): nothing public signs sessions or encrypts contacts.

Development generates a secret key and a data key once, keeps them in the data directory
(mode 0600) and reuses them; a cookie signed with the old public placeholder opens nothing;
a server with generated secrets stays on this machine; production refuses weak secrets.
"""

from __future__ import annotations

import json
import logging
import re
import stat
from base64 import b64encode
from pathlib import Path

import pytest
from click.testing import CliRunner
from itsdangerous import TimestampSigner
from starlette.testclient import TestClient

from resourcemap import accounts, keys
from resourcemap.cli import main
from resourcemap.clock import FixedClock
from resourcemap.models import Account
from resourcemap.settings import PLACEHOLDER_SECRET, Settings
from resourcemap.vault import Vault, generate_key
from resourcemap.vocab import Role
from tests import ROOT
from tests.conftest import NO_LIMITS, TEST_NOW
from tests.factories import run_in_db
from web.app import create_app


def development(folder: Path, **overrides: object) -> Settings:
    return Settings(_env_file=None, data_dir=folder, **overrides)  # type: ignore[arg-type]


def test_first_start_generates_private_secrets_and_later_starts_reuse_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="resourcemap.keys")
    first = keys.resolve(development(tmp_path))
    path = tmp_path / keys.SECRETS_FILE
    assert first.generated
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = json.loads(path.read_text())
    assert first.settings.signing_secret() == stored["secret_key"]
    assert len(stored["secret_key"]) >= 48 and stored["secret_key"] != PLACEHOLDER_SECRET
    again = keys.resolve(development(tmp_path))
    assert again.settings.secret_key == first.settings.secret_key
    assert again.settings.data_keys == first.settings.data_keys
    said = [r.getMessage() for r in caplog.records if "generated" in r.getMessage()]
    assert len(said) == 1 and str(path) in said[0]
    # Another directory, another install: other secrets.
    other = keys.resolve(development(tmp_path / "other"))
    assert other.settings.secret_key != first.settings.secret_key


def test_configured_secrets_are_used_and_nothing_is_written(tmp_path: Path) -> None:
    configured = development(tmp_path, secret_key="s" * 8 + "x" * 40, data_keys=generate_key())
    resolved = keys.resolve(configured)
    assert not resolved.generated and resolved.settings is configured
    assert not (tmp_path / keys.SECRETS_FILE).exists()


def test_a_damaged_secrets_file_is_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / keys.SECRETS_FILE
    path.write_text("{not json")
    with pytest.raises(ValueError, match="restore it from a backup"):
        keys.resolve(development(tmp_path))
    assert path.read_text() == "{not json"


def test_contacts_sealed_under_the_old_placeholder_key_stay_readable(tmp_path: Path) -> None:
    legacy = Vault([keys._legacy_placeholder_key()])
    sealed = legacy.seal("13912345678")
    vault = Vault.from_settings(keys.resolve(development(tmp_path)).settings)
    assert vault.open(sealed) == "13912345678"
    assert not vault.is_current(sealed)  # `resourcemap rotate-keys` moves it to the new key
    assert vault.open(vault.seal("x")) == "x"


def _cookie(secret: str, session: dict[str, object]) -> str:
    """A session cookie as Starlette's SessionMiddleware signs it."""
    data = b64encode(json.dumps(session).encode())
    return TimestampSigner(secret).sign(data).decode()


def test_a_cookie_signed_with_the_old_placeholder_opens_nothing(
    database_url: str, tmp_path: Path
) -> None:
    async def admin() -> Account:
        await accounts.create_account(
            None, username="root", password="correct-horse-9", role=Role.ADMIN
        )
        return await Account.get(username="root")

    account = run_in_db(database_url, admin)
    session = {"uid": account.id, "ver": account.session_version}
    settings = keys.resolve(development(tmp_path, database_url=database_url, **NO_LIMITS)).settings
    app = create_app(settings, clock=FixedClock(TEST_NOW))
    with TestClient(app) as client:
        client.cookies.set("rm_session", _cookie(PLACEHOLDER_SECRET, session))
        assert client.get("/api/v1/session").status_code == 401
        # The same cookie signed with the install's own secret is a session: the check bites.
        client.cookies.set("rm_session", _cookie(settings.signing_secret(), session))
        assert client.get("/api/v1/session").json()["username"] == "root"


@pytest.mark.parametrize("command", [["serve"], ["demo"]])
def test_generated_secrets_never_listen_beyond_this_machine(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RESOURCEMAP_DATABASE_URL", f"sqlite://{tmp_path / 'db.sqlite3'}")
    monkeypatch.setenv("RESOURCEMAP_HOST", "0.0.0.0")
    for name in ("SECRET_KEY", "DATA_KEYS", "ENVIRONMENT"):
        monkeypatch.delenv(f"RESOURCEMAP_{name}", raising=False)
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 1
    assert "refusing to listen on 0.0.0.0 with generated development secrets" in result.output
    assert not (tmp_path / "db.sqlite3").exists()  # refused before any work


def _image_environment() -> dict[str, str]:
    """The variables the Dockerfile's ENV instructions set."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    found: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            found.update(re.findall(r"([A-Z_]+)=(\S+)", line))
    return found


def test_the_image_refuses_to_start_without_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The image's own command with the image's environment and no secrets: a message naming
    what to set, no traceback, nothing served."""
    image_env = _image_environment()
    assert image_env["RESOURCEMAP_ENVIRONMENT"] == "production"
    monkeypatch.chdir(tmp_path)
    for name in ("SECRET_KEY", "DATA_KEYS"):
        monkeypatch.delenv(f"RESOURCEMAP_{name}", raising=False)
    for name, value in image_env.items():
        monkeypatch.setenv(name, value)
    # The command exports its --host/--port for the server's workers: let monkeypatch own
    # those variables, so they are put back for the tests that follow.
    for name in ("HOST", "PORT", "WORKERS"):
        monkeypatch.setenv(f"RESOURCEMAP_{name}", "")
        monkeypatch.delenv(f"RESOURCEMAP_{name}")
    cmd = json.loads(re.search(r"^CMD (.+)$", (ROOT / "Dockerfile").read_text(), re.M)[1])  # type: ignore[index]
    assert cmd[0] == "resourcemap"
    result = CliRunner().invoke(main, cmd[1:])
    assert result.exit_code == 1
    assert "RESOURCEMAP_SECRET_KEY" in result.output and "Traceback" not in result.output
    assert not (tmp_path / keys.SECRETS_FILE).exists()
