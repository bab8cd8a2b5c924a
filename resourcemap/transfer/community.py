"""A listing's community from its point, when its row names none.

A listing counts in an area's figures, and is seen by staff kept to an area, through its
community. Another directory's records name none of our communities; their points say
where they are. A row that gives ``community_code`` keeps it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry import shape

from resourcemap.models import Area
from resourcemap.said import N_
from resourcemap.transfer.columns import Candidate
from resourcemap.vocab import AreaLevel


async def place(candidates: Sequence[Candidate]) -> None:
    """Give each located candidate without a community the one around its point (on a
    shared edge, the lower code), saying so in a note; one vectorised query for all."""
    wanted = [
        c
        for c in candidates
        if not c.values.get("community_code")
        and isinstance(c.values.get("lat"), float | int)
        and isinstance(c.values.get("lon"), float | int)
    ]
    if not wanted:
        return
    areas = await Area.filter(level=AreaLevel.COMMUNITY, boundary__isnull=False).values_list(
        "code", "boundary"
    )
    if not areas:
        return
    codes = np.array(sorted(str(code) for code, _ in areas))
    boundaries = dict(areas)
    tree = shapely.STRtree([shape(boundaries[code]) for code in codes.tolist()])
    points = shapely.points(
        [float(c.values["lon"]) for c in wanted], [float(c.values["lat"]) for c in wanted]
    )
    # "covered_by": a point on an edge is in both neighbours, not in neither.
    which, hit = tree.query(points, predicate="covered_by")
    chosen: dict[int, str] = {}
    for i, j in zip(which.tolist(), hit.tolist(), strict=True):
        if i not in chosen or codes[j] < chosen[i]:  # codes are sorted: the lower one
            chosen[i] = str(codes[j])
    for i, code in chosen.items():
        wanted[i].values["community_code"] = code
        wanted[i].notes.append(
            N_("community_code not given: taken from the community the point lies in")
        )
