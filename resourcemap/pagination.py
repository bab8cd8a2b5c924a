"""Opaque cursors for paged answers.

Listings page by key (the last id seen), which stays stable while listings are added or
removed; search results page by offset into a ranking.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json

from resourcemap.errors import InvalidInput

MAX_OFFSET = 10_000


def _encode(key: str, value: int) -> str:
    raw = json.dumps({key: value}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, key: str, upper: int | None) -> int:
    """The integer under ``key``; anything we did not issue is refused."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))[key]
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeEncodeError) as exc:
        raise InvalidInput("cursor is not one this API issued", field="cursor") from exc
    valid = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if not valid or (upper is not None and value > upper):
        raise InvalidInput("cursor is not one this API issued", field="cursor")
    return int(value)


def encode_cursor(after_id: int) -> str:
    return _encode("after", after_id)


def decode_cursor(cursor: str) -> int:
    """Return the id after which the next page starts."""
    return _decode(cursor, "after", None)


@functools.lru_cache(maxsize=1024)  # a few offsets, one per page: asked on every search
def encode_offset(offset: int) -> str:
    return _encode("offset", offset)


def decode_offset(cursor: str) -> int:
    """The result offset a search cursor stands for."""
    return _decode(cursor, "offset", MAX_OFFSET)
