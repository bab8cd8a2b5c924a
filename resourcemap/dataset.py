"""What kind of data is loaded: the labels every page and response must carry."""

from __future__ import annotations

from resourcemap.models import DatasetInfo

SYNTHETIC_KEY = "synthetic"


async def synthetic_label() -> str | None:
    """The "示例数据 / synthetic demo data" label when demo data is loaded, else ``None``."""
    info = await DatasetInfo.get_or_none(key=SYNTHETIC_KEY)
    return None if info is None else info.value
