"""The secret key (signs sessions) and the data keys (encrypt residents' contact details):
configured, or — in development only — generated once and kept in the data directory.

A default install used to sign sessions with the public placeholder ``change-me`` and derive
the data key from it, so anyone could forge an admin cookie (#15). Now nothing public is ever
in force: production refuses to start without real secrets (``Settings``), and development
generates random ones on first start, in ``<data_dir>/.resourcemap-secrets.json`` (mode 0600),
reused by every later start and by every command run in the same directory.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import ipaddress
import json
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet
from pydantic import SecretStr

from resourcemap.settings import PLACEHOLDER_SECRET, Environment, Settings

log = logging.getLogger(__name__)

SECRETS_FILE = ".resourcemap-secrets.json"


@dataclass(frozen=True)
class Resolved:
    settings: Settings
    """The settings with ``secret_key`` and ``data_keys`` set."""
    generated: bool
    """Whether they came from the development secrets file rather than configuration."""


def resolve(settings: Settings) -> Resolved:
    """``settings`` with a secret key and data keys, generating them in development.

    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> first = resolve(Settings(_env_file=None, data_dir=folder))
    >>> again = resolve(Settings(_env_file=None, data_dir=folder))
    >>> first.generated, first.settings.secret_key == again.settings.secret_key
    (True, True)
    """
    if settings.secret_key is not None and settings.data_keys is not None:
        return Resolved(settings, generated=False)
    if settings.environment is Environment.PRODUCTION:  # Settings refuses this already
        raise ValueError("production needs RESOURCEMAP_SECRET_KEY and RESOURCEMAP_DATA_KEYS")
    stored = _development_secrets(Path(settings.data_dir))
    update: dict[str, SecretStr] = {}
    if settings.secret_key is None:
        update["secret_key"] = SecretStr(stored["secret_key"])
    if settings.data_keys is None:
        # The key a development install derived from the old placeholder still decrypts
        # (never encrypts) what it sealed; `resourcemap rotate-keys` moves that to the new key.
        update["data_keys"] = SecretStr(f"{stored['data_key']},{_legacy_placeholder_key()}")
    return Resolved(settings.model_copy(update=update), generated=True)


def _development_secrets(folder: Path) -> dict[str, str]:
    path = folder / SECRETS_FILE
    if not path.exists():
        _create(path)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        log.warning("%s is readable by other users (mode %o); chmod 600 it", path, mode)
    try:
        stored = json.loads(path.read_text())
        secret, data_key = str(stored["secret_key"]), str(stored["data_key"])
        Fernet(data_key.encode())
    except (OSError, ValueError, KeyError, TypeError) as exc:
        # Never replace it: its data key decrypts what is stored.
        raise ValueError(
            f"{path} cannot be read ({type(exc).__name__}); restore it from a backup, or set "
            "RESOURCEMAP_SECRET_KEY and RESOURCEMAP_DATA_KEYS"
        ) from None
    return {"secret_key": secret, "data_key": data_key}


def _create(path: Path) -> None:
    """Write the file whole, then link it into place: several worker processes starting at
    once agree on one set of secrets, and none reads a half-written file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        # Said as the setting, not as "[Errno 17] File exists".
        raise ValueError(f"RESOURCEMAP_DATA_DIR {path.parent} is a file, not a directory") from None
    body = json.dumps(
        {"secret_key": secrets.token_urlsafe(48), "data_key": Fernet.generate_key().decode()}
    )
    temp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(body)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temp, path)
        except FileExistsError:
            return  # another process won; use its secrets
        log.warning(
            "generated a development secret key and data key in %s (mode 0600); set "
            "RESOURCEMAP_SECRET_KEY and RESOURCEMAP_DATA_KEYS to use your own",
            path,
        )
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def _legacy_placeholder_key() -> str:
    digest = hashlib.sha256(b"resourcemap data key:" + PLACEHOLDER_SECRET.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
