"""Who a phone number or e-mail address belongs to, as one comparable identity.

Limits and digests must treat ``+86 138 1234 5678``, ``0086-13812345678`` and
``１３８１２３４５６７８`` (full-width digits) as one person, and ``Wang.Li+clinic@Gmail.com``
as ``wangli@gmail.com``; otherwise a limit is passed by retyping a number.
"""

from __future__ import annotations

import re
import unicodedata

# Providers that ignore dots in the local part, and the old name of one mailbox domain.
DOTLESS_DOMAINS = frozenset({"gmail.com"})
SAME_MAILBOX = {"googlemail.com": "gmail.com"}


def phone_identity(phone: str) -> str:
    """The national number's digits.

    >>> phone_identity("+86 138-1234-5678") == phone_identity("１３８１２３４５６７８")
    True
    >>> phone_identity("0086 (0755) 8392 3333") == phone_identity("+86 755 8392 3333")
    True
    >>> phone_identity("+86 755 8392 3333")
    '075583923333'
    """
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", phone))
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) >= 10:
            national = digits[len(prefix) :]
            # Mobiles are 11 digits from 1; a landline dialled from abroad drops its trunk 0.
            is_mobile = len(national) == 11 and national.startswith("1")
            return national if is_mobile or national.startswith("0") else "0" + national
    return digits


# An extension after a number: "ext. 100", "x100", "转100", "分机 100".
EXTENSION = re.compile(r"(?:ext(?:ension)?\.?|x|转|分机)\s*(\d+)\s*$", re.IGNORECASE)


def dial_uri(phone: str) -> str:
    """The ``tel:`` link of a number as it is written (RFC 3966): digits and a leading
    "+", an extension as ``;ext=``. Quotes, brackets, dashes and words are not dialled.

    >>> dial_uri("0755-2000 0009"), dial_uri("+852 9123 4567")
    ('tel:075520000009', 'tel:+85291234567')
    >>> dial_uri('"+44 1234 234567" ext. 100'), dial_uri("0755-8392 3333 转 8")
    ('tel:+441234234567;ext=100', 'tel:075583923333;ext=8')
    """
    text = unicodedata.normalize("NFKC", phone).strip()
    extension = EXTENSION.search(text)
    number = text[: extension.start()] if extension else text
    digits = re.sub(r"\D", "", number)
    plus = "+" if number.lstrip("\"'(（ ").startswith("+") else ""
    return f"tel:{plus}{digits}" + (f";ext={extension[1]}" if extension else "")


def email_identity(email: str) -> str:
    """Lower case, without ``+tag`` plus-addressing, Gmail's dots folded.

    >>> email_identity("Wang.Li+clinic@Gmail.com"), email_identity("wangli@googlemail.com")
    ('wangli@gmail.com', 'wangli@gmail.com')
    >>> email_identity("wang.li@example.cn")
    'wang.li@example.cn'
    """
    local, _, domain = unicodedata.normalize("NFKC", email).strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    domain = SAME_MAILBOX.get(domain, domain)
    if domain in DOTLESS_DOMAINS:
        local = local.replace(".", "")
    return f"{local}@{domain}"


def identities(phone: str | None, email: str | None) -> list[str]:
    """The identities a request names, labelled by kind."""
    found = []
    if phone and (number := phone_identity(phone)):
        found.append("phone:" + number)
    if email:
        found.append("email:" + email_identity(email))
    return found
