"""Settings: defaults, environment, refusal of unsafe values, and the README table."""

from __future__ import annotations

import re
import secrets

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from resourcemap.settings import Settings
from tests import ROOT

README = ROOT / "README.md"
DATA_KEY = Fernet.generate_key().decode()


def test_defaults_are_the_embedded_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(Settings.model_fields):
        monkeypatch.delenv(f"RESOURCEMAP_{name.upper()}", raising=False)
    settings = Settings(_env_file=None)
    assert settings.database_url.startswith("sqlite://")
    assert settings.timezone == "Asia/Shanghai"
    assert settings.meili_url is None
    assert settings.tile_url == ""


def test_a_blank_redis_url_counts_limits_in_the_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """docker-compose passes RESOURCEMAP_REDIS_URL empty when the redis profile is off."""
    monkeypatch.setenv("RESOURCEMAP_REDIS_URL", "")
    assert Settings(_env_file=None).redis_url is None
    monkeypatch.setenv("RESOURCEMAP_REDIS_URL", "redis://redis:6379/0")
    url = Settings(_env_file=None).redis_url
    assert url is not None and url.get_secret_value() == "redis://redis:6379/0"


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESOURCEMAP_PORT", "9123")
    monkeypatch.setenv("RESOURCEMAP_TIMEZONE", "Europe/Berlin")
    settings = Settings(_env_file=None)
    assert settings.port == 9123
    assert settings.tz.key == "Europe/Berlin"


def test_links_sent_to_residents_point_at_the_port_served(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A demo on port 8844 sent calendar and text links to :8000, where nothing answered."""
    monkeypatch.delenv("RESOURCEMAP_PUBLIC_URL", raising=False)
    monkeypatch.setenv("RESOURCEMAP_PORT", "8844")
    assert Settings(_env_file=None).public_url == "http://127.0.0.1:8844"
    monkeypatch.setenv("RESOURCEMAP_HOST", "0.0.0.0")
    assert Settings(_env_file=None).public_url == "http://127.0.0.1:8844"
    monkeypatch.setenv("RESOURCEMAP_PUBLIC_URL", "https://xinli.example.cn")
    assert Settings(_env_file=None).public_url == "https://xinli.example.cn"


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("RESOURCEMAP_LOG_LEVEL", "verbose", "'debug', 'info', 'warning', 'error' or 'critical'"),
        ("RESOURCEMAP_PUBLIC_URL", "example.org", "needs its scheme: https://example.org"),
        ("RESOURCEMAP_TILE_URL", "notaurl", "{z}, {x} and {y}"),
        ("RESOURCEMAP_NOTIFY_SENDERS", "smtp", "needs RESOURCEMAP_SMTP_HOST and"),
        ("RESOURCEMAP_HOST", "999.1.1.1", "is no IP address or host name"),
        ("RESOURCEMAP_HOST", "my server", "is no IP address or host name"),
    ],
)
def test_a_setting_that_cannot_work_is_refused_naming_it(
    name: str, value: str, said: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each was taken, and failed later: a traceback from every command, links in texts no
    # phone opens, a map with no tiles, server processes dead at start.
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=re.escape(said)):
        Settings(_env_file=None)


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0", "::", "localhost", "app.example.cn"])
def test_addresses_to_listen_on_are_taken(host: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESOURCEMAP_HOST", host)
    assert Settings(_env_file=None).host == host


def test_the_log_level_is_read_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    # "DEBUG" passed, then uvicorn refused its own --log-level DEBUG.
    monkeypatch.setenv("RESOURCEMAP_LOG_LEVEL", "DEBUG")
    assert Settings(_env_file=None).log_level == "debug"


def test_secret_is_hidden_in_repr() -> None:
    settings = Settings(_env_file=None, secret_key="s3cr3t-value-that-is-long-enough-123")
    assert "s3cr3t" not in repr(settings)
    assert "s3cr3t" not in str(settings.model_dump())


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        (None, "unset"),
        ("change-me", "public placeholder"),
        ("short", "shorter than 32"),
        ("x" * 40, "too little entropy"),
        ("1234567890" * 4, "repeats itself"),
        ("correcthorsebatterystaple" * 2, "repeats itself"),
    ],
)
def test_production_refuses_a_missing_or_weak_secret(secret: str | None, reason: str) -> None:
    with pytest.raises(ValidationError, match=f"secret_key.*{reason}"):
        Settings(_env_file=None, environment="production", secret_key=secret, data_keys=DATA_KEY)


def test_production_accepts_a_random_secret() -> None:
    settings = Settings(
        _env_file=None,
        environment="production",
        secret_key=secrets.token_urlsafe(32),
        data_keys=DATA_KEY,
    )
    assert settings.environment == "production"


def test_production_refuses_missing_data_keys() -> None:
    with pytest.raises(ValidationError, match="data_keys"):
        Settings(_env_file=None, environment="production", secret_key=secrets.token_urlsafe(32))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("timezone", "Mars/Olympus"),
        ("database_url", "mysql://x"),
        ("port", "0"),
        ("data_keys", "not-a-key"),
        ("notify_senders", "log,pigeon"),
        ("waitlist_offer_minutes", "0"),
    ],
)
def test_bad_values_are_refused(field: str, value: str) -> None:
    with pytest.raises(ValidationError, match=field):
        Settings(_env_file=None, **{field: value})  # type: ignore[arg-type]


def test_settings_are_frozen() -> None:
    settings = Settings(_env_file=None)
    with pytest.raises(ValidationError):
        settings.port = 1  # type: ignore[misc]


def test_readme_documents_every_setting() -> None:
    text = README.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `RESOURCEMAP_([A-Z_]+)`", text, flags=re.MULTILINE))
    assert documented == {name.upper() for name in Settings.model_fields}
