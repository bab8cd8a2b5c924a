"""Public phone numbers of services: one spelling for what people type, and what a number
stored as a spreadsheet number can still be.

People paste numbers with full-width digits (``０７５５－２５５３３５２４``), area codes in
brackets (``（0755）83923333``), quotes or an extension (``转8001``, ``ext. 12``). NFKC folds
full-width characters; brackets around a leading area code become ``0755-``. The result
still has to look like a phone number (:data:`PHONE`): nothing else is changed.

Excel stores a number typed into a cell not formatted as text as a number, and so drops the
leading 0 of every Chinese landline (``0755 2553 3524`` → ``75525533524``). Such a value is
a valid number only if it never had a leading 0: an 11-digit mobile number, a 400/800
number or a short service number (12320, 12355, 95…); anything else is refused rather than
stored wrong (:func:`numeric_cell_problem`).

>>> normalise("（0755）83923333"), normalise("０７５５－２５５３３５２４")
('0755-83923333', '0755-25533524')
>>> normalise('"+44 1234 234567"'), normalise("0755-83923333 转 8001")
('+44 1234 234567', '0755-83923333 转8001')
"""

from __future__ import annotations

import re
import unicodedata

from resourcemap.said import N_

PHONE = re.compile(r"^\+?[0-9][0-9 -]{2,30}(?: ?(?:转|ext\. )[0-9]{1,6})?$")
PHONE_RULE = N_(
    "a phone number has digits, spaces, '-', an optional leading '+' and an optional "
    "extension (转123 or ext. 123)"
)
_QUOTES = "\"'“”‘’「」"
_LEADING_AREA = re.compile(r"^\(\s*(\+?[0-9]{1,5})\s*\)\s*")
_BRACKETED = re.compile(r"\(\s*([0-9]{1,5})\s*\)\s*")
_EXTENSION = re.compile(r"\s*(?:转|分机|ext\.?|x|#)\s*([0-9]{1,6})$", re.IGNORECASE)
_SPACES = re.compile(r"\s+")

_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
_SERVICE = re.compile(r"^[48]00[0-9]{7}$")  # 400/800 numbers
_SHORT = re.compile(r"^(?:1[0-9]{2,4}|9[0-9]{4})$")  # 110, 120, 12320, 12355, 95xxx


def normalise(text: str) -> str:
    """One spelling of a phone number as typed; see the module docstring."""
    value = unicodedata.normalize("NFKC", text)
    value = value.translate({ord(q): None for q in _QUOTES}).strip()
    value = value.replace("—", "-").replace("－", "-").replace("–", "-")
    extension = ""
    match = _EXTENSION.search(value)
    if match is not None and match.start() > 0:
        word = match.group(0).strip()[0]
        extension = f" 转{match[1]}" if word in "转分" else f" ext. {match[1]}"
        value = value[: match.start()]
    value = _LEADING_AREA.sub(r"\1-", value)
    value = _BRACKETED.sub(r" \1 ", value)
    value = _SPACES.sub(" ", value).strip(" -")
    return (value + extension).replace("- ", "-").replace(" -", "-")


def numeric_cell_problem(digits: str) -> str | None:
    """Why a phone stored as a *number* (XLSX cell, JSON number) cannot be kept, or None.

    >>> numeric_cell_problem("13800138000") is None, numeric_cell_problem("12320") is None
    (True, True)
    >>> numeric_cell_problem("75525533524")[:40]
    '75525533524 is stored as a number, which'
    """
    if _MOBILE.match(digits) or _SERVICE.match(digits) or _SHORT.match(digits):
        return None
    return (
        f"{digits} is stored as a number, which drops a leading 0 (a landline such as "
        f"0{digits[:3]}-{digits[3:]} would need it) and is not a mobile, 400/800 or short "
        "service number: format the column as text and type the whole number"
    )
