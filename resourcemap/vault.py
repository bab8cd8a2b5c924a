"""Encryption of residents' contact details at rest, and how they are shown masked.

Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) under a ``MultiFernet``: the
first key in ``RESOURCEMAP_DATA_KEYS`` encrypts, every listed key decrypts. To rotate, put
a new key first, run ``resourcemap rotate-keys`` (re-encrypts every stored value with it),
then drop the old key. Without configured keys, development generates one on first start
(``resourcemap.keys``); production refuses to start without keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from resourcemap.contact import phone_identity
from resourcemap.errors import InvalidInput
from resourcemap.settings import Settings


class Undecryptable(RuntimeError):
    """A stored value none of the data keys opens: the key that sealed it is missing from
    ``RESOURCEMAP_DATA_KEYS`` (a key rotated away too soon, or another install's keys)."""


def generate_key() -> str:
    return Fernet.generate_key().decode()


DIGEST_INFO = b"resourcemap contact digest v1"


def _digest_key(fernet_key: str) -> bytes:
    """A key for digests derived from a data key (HKDF): digests rotate with the data keys
    and no key material is stored in the database."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=DIGEST_INFO).derive(
        base64.urlsafe_b64decode(fernet_key)
    )


class Vault:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise InvalidInput("at least one data key is needed", field="data_keys")
        try:
            fernets = [Fernet(k.encode()) for k in keys]
            self._first = fernets[0]
            self._fernet = MultiFernet(fernets)
            self._digest_keys = [_digest_key(k) for k in keys]
        except (ValueError, TypeError) as exc:
            raise InvalidInput(
                "data keys must be Fernet keys (32 url-safe base64-encoded bytes)",
                field="data_keys",
            ) from exc

    @classmethod
    def from_settings(cls, settings: Settings) -> Vault:
        if settings.data_keys is None:
            raise RuntimeError("no data keys: pass the settings through keys.resolve first")
        keys = [k.strip() for k in settings.data_keys.get_secret_value().split(",")]
        return cls([k for k in keys if k])

    def digest(self, text: str) -> str:
        """A keyed digest (HMAC-SHA256 under the first data key's digest key): comparable,
        but unlike a plain SHA-256 of a phone number not reversible by trying every number
        without the key, which never enters the database.

        >>> vault = Vault([generate_key()])
        >>> vault.digest("13812345678") == vault.digest("13812345678")
        True
        >>> vault.digest("13812345678") == Vault([generate_key()]).digest("13812345678")
        False
        """
        return hmac.new(self._digest_keys[0], text.encode(), hashlib.sha256).hexdigest()

    def digests(self, text: str) -> list[str]:
        """``text``'s digest under every data key, the first key's first: to look a stored
        digest up (a feedback link's) also when it was made before a key rotation."""
        return [hmac.new(k, text.encode(), hashlib.sha256).hexdigest() for k in self._digest_keys]

    def digest_matches(self, text: str, stored: str) -> bool:
        """Whether ``stored`` is the digest of ``text`` under any data key (so digests made
        before a key rotation still match)."""
        return any(
            hmac.compare_digest(hmac.new(key, text.encode(), hashlib.sha256).hexdigest(), stored)
            for key in self._digest_keys
        )

    def seal(self, text: str) -> str:
        return self._fernet.encrypt(text.encode()).decode()

    def seal_optional(self, text: str | None) -> str | None:
        return None if not text else self.seal(text)

    def open(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            # Never show the token: it is ciphertext of personal data.
            raise Undecryptable("a stored value cannot be decrypted with the data keys") from exc

    def open_optional(self, token: str | None) -> str | None:
        return None if token is None else self.open(token)

    def rotate(self, token: str) -> str:
        """The same value encrypted with the first key."""
        return self._fernet.rotate(token.encode()).decode()

    def is_current(self, token: str) -> bool:
        """Whether ``token`` is encrypted with the first key (needs no rotation)."""
        try:
            self._first.decrypt(token.encode())
        except InvalidToken:
            return False
        return True


# Hong Kong and Macau mobiles are stored with their country code (booking.requests).
ABROAD_CODE = re.compile(r"^\+(852|853)")


def mask_phone(phone: str | None) -> str:
    """``13812345678`` → ``138****5678``: enough to confirm with a caller, not to dial.

    >>> mask_phone("13812345678"), mask_phone("+86 138 1234 5678"), mask_phone("110")
    ('138****5678', '138****5678', '***')
    >>> mask_phone("8392 3333"), mask_phone("1234567")
    ('******33', '*****67')

    A Hong Kong or Macau mobile keeps its country code, as its holder writes it:

    >>> mask_phone("+85291234567")
    '+852 ****4567'
    """
    if not phone:
        return ""
    digits = phone_identity(phone)
    abroad = ABROAD_CODE.match(phone.strip())
    if abroad is not None:
        return f"+{abroad[1]} ****{digits[-4:]}"
    if len(digits) >= 11:  # a mobile: the operator prefix and the last four
        return f"{digits[:3]}****{digits[-4:]}"
    # A landline or short number would be nearly whole with seven shown: two, at most.
    return "*" * (len(digits) - 2) + digits[-2:] if len(digits) > 4 else "*" * len(digits)


def mask_email(email: str | None) -> str:
    """``wang.li@example.cn`` → ``w***@example.cn``.

    >>> mask_email("wang.li@example.cn")
    'w***@example.cn'
    """
    if not email:
        return ""
    name, _, domain = email.partition("@")
    return f"{name[:1]}***@{domain}" if domain else "***"


def mask_name(name: str | None) -> str:
    """A nickname shows its first character: ``王小明`` → ``王**``."""
    if not name:
        return ""
    return name[0] + "*" * min(len(name) - 1, 4) if len(name) > 1 else "*"
