"""Reading rendered pages and CSV downloads in tests: typed lookups that fail the test
with a clear message.

BeautifulSoup answers `None` for an element that is not there and a list for a multi-valued
attribute; these helpers turn both into a failed test naming the selector or attribute, so a
test reads as what a user sees and mypy knows every value is a `Tag` or a `str`.
"""

from __future__ import annotations

from typing import Protocol

import pytest
from bs4 import Tag

BOM = "\ufeff".encode()


def one(node: Tag, selector: str) -> Tag:
    """The first element under `node` that `selector` matches; the test fails if none does."""
    found = node.select_one(selector)
    if found is None:
        pytest.fail(f"no element matches {selector!r} in:\n{str(node)[:2000]}")
    return found


def next_sibling(tag: Tag, name: str) -> Tag:
    """The next sibling element of `tag` named `name` (a <dd> after its <dt>, say)."""
    found = tag.find_next_sibling(name)
    if found is None:
        pytest.fail(f"no <{name}> after {str(tag)[:500]}")
    return found


def text_of(node: Tag, selector: str) -> str:
    """The text of the first element under `node` that `selector` matches."""
    return one(node, selector).get_text()


def attr(tag: Tag, name: str, default: str | None = None) -> str:
    """The value of an attribute; without a `default`, the test fails if it is missing."""
    value = tag.get(name, default)
    if value is None:
        pytest.fail(f"<{tag.name}> has no {name!r} attribute: {str(tag)[:500]}")
    if not isinstance(value, str):
        # Multi-valued attributes (class, rel) are lists: join them as they were written.
        return " ".join(value)
    return value


def hidden_fields(form: Tag) -> dict[str, str]:
    """The names and values of a form's hidden inputs, as the browser would send them."""
    return {attr(i, "name"): attr(i, "value") for i in form.select("input[type=hidden]")}


class Download(Protocol):
    @property
    def content(self) -> bytes: ...


def csv_text(response: Download) -> str:
    """A CSV download's text as a spreadsheet reads it: the test fails unless it starts
    with a UTF-8 byte-order mark (without one, Excel on a Chinese Windows reads GBK)."""
    if not response.content.startswith(BOM):
        pytest.fail(f"no byte-order mark in the CSV: {response.content[:60]!r}")
    return response.content.decode("utf-8-sig")
