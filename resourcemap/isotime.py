"""A datetime field for typed views that serialises exactly as ``datetime.isoformat()``.

Pydantic writes UTC as ``Z``; the API has always answered ``+00:00`` (and the local offset
otherwise), so views that replaced ``.isoformat()`` strings keep the same text.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import PlainSerializer

IsoDatetime = Annotated[
    dt.datetime,
    PlainSerializer(lambda moment: moment.isoformat(), return_type=str, when_used="json"),
]
