"""Opaque keyset cursors: stable pages even while listings are added or removed."""

from __future__ import annotations

import base64
import binascii
import json

from resourcemap.errors import InvalidInput


def encode_cursor(after_id: int) -> str:
    raw = json.dumps({"after": after_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """Return the id after which the next page starts; reject anything we did not issue."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        after = data["after"]
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeEncodeError) as exc:
        raise InvalidInput("cursor is not one this API issued", field="cursor") from exc
    if not isinstance(after, int) or isinstance(after, bool) or after < 0:
        raise InvalidInput("cursor is not one this API issued", field="cursor")
    return after
