"""What kind of data is loaded: the labels every page and response must carry."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from tortoise.exceptions import BaseORMException

from resourcemap.errors import Unavailable
from resourcemap.models import DatasetInfo

SYNTHETIC_KEY = "synthetic"
DEMO_LABEL = "示例数据 / synthetic demo data"
_DEMO = re.compile(re.escape(DEMO_LABEL) + r"(?: \((?P<province>province, )?seed (?P<seed>\d+)\))?")
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


@dataclass(frozen=True)
class DemoData:
    """The demo data a label names, for pages to say in their own language."""

    province: bool
    seed: int | None


def demo_of(label: str | None) -> DemoData | None:
    """The demo city or province a label of ``resourcemap demo`` names; ``None`` for any
    other label.

    >>> demo_of("示例数据 / synthetic demo data (province, seed 7)")
    DemoData(province=True, seed=7)
    >>> demo_of("my city") is None
    True
    """
    found = _DEMO.fullmatch(label or "")
    if found is None:
        return None
    seed = found["seed"]
    return DemoData(province=bool(found["province"]), seed=None if seed is None else int(seed))
