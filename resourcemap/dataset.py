"""What kind of data is loaded: the labels every page and response must carry."""

from __future__ import annotations

import logging

from tortoise.exceptions import BaseORMException

from resourcemap.errors import Unavailable
from resourcemap.models import DatasetInfo

SYNTHETIC_KEY = "synthetic"
log = logging.getLogger(__name__)


# As last read: pages still say it while the database does not answer (#16).
_last: str | None = None


async def synthetic_label() -> str | None:
    """The "示例数据 / synthetic demo data" label when demo data is loaded, else ``None``."""
    global _last
    try:
        info = await DatasetInfo.get_or_none(key=SYNTHETIC_KEY)
    except Unavailable:
        return _last
    except BaseORMException as exc:  # not migrated yet: no label until it is
        log.warning("dataset label not readable (%s)", type(exc).__name__)
        return _last
    _last = None if info is None else info.value
    return _last
