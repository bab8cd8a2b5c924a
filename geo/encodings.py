"""Text as files from Chinese offices come: UTF-8, or GB18030 (GBK) as Excel in Chinese
saves "CSV", with or without a UTF-8 byte-order mark (some tools put one in front of text
they did not convert). Listing imports and demand tables read it alike."""

from __future__ import annotations

ENCODINGS = ("utf-8", "gb18030")


def decoded(data: bytes) -> str | None:
    """``data`` as text in the first of :data:`ENCODINGS` that reads it; None if neither.

    >>> decoded("社区".encode("gbk")), decoded(b"\\xef\\xbb\\xbfcode"), decoded(b"\\xff\\xfe\\xff")
    ('社区', 'code', None)
    """
    body = data.removeprefix(b"\xef\xbb\xbf")
    for encoding in ENCODINGS:
        try:
            return body.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None
