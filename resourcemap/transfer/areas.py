# Over 400 lines: one importer reads every boundary format (our columns, DataV's, any CRS)
# and checks a whole file, row by row, before anything is written.
"""Importing administrative areas and their population from GeoJSON, Shapefile or GeoPackage.

Columns: ``code`` (statistical division code, up to 12 digits), ``level`` (city, district,
street, community, or 市/区/县/街道/镇/乡/社区/村), ``name_zh``, ``parent`` (the code of the
area one level up; empty for the city), ``population``; optional ``name_en`` and
``population_source``. Boundaries are polygons, reprojected to WGS-84 (EPSG:4326) when the
file has another CRS. Every row is checked first; nothing is written unless all pass. Areas
already stored are updated by code, so a corrected file can be loaded again.

DataV/AMap boundary files (``geo.datav.aliyun.com``, ``440300_full.json``), the usual public
source of Chinese districts, are read as they are: ``adcode`` (6 digits, padded to the
12-digit code), ``name``, ``level``, ``parent.adcode``; they carry no population (stored as
0, unknown). Their coordinates are GCJ-02: ``coords`` says how the file's longitudes and
latitudes are given, and GCJ-02/BD-09 boundaries are converted to WGS-84 vertex by vertex
(holes and multipolygons kept). A DataV file without ``coords`` is refused rather than
stored ~500 m off; any other file without it is read as WGS-84, and the report says so.

The synthetic demo city is never mixed with real areas: load a real city into a new database.

Example (tortoise initialised)::

    report = await import_areas("districts.gpkg", dry_run=True)
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tortoise import timezone
from tortoise.transactions import in_transaction

from geo.chinacoords import CoordSystem, to_wgs84
from geo.codes import twelve_digits
from geo.shapes import mended
from resourcemap import db
from resourcemap.dataset import SYNTHETIC_KEY
from resourcemap.models import Area, DatasetInfo
from resourcemap.said import N_
from resourcemap.search import changes
from resourcemap.transfer.checks import UNSAFE
from resourcemap.transfer.report import ImportReport
from resourcemap.vocab import AREA_LEVEL_SAID, AreaLevel

REQUIRED = ("code", "level", "name_zh", "parent", "population")
OPTIONAL = ("name_en", "population_source")
LEVEL_NAMES: dict[str, AreaLevel] = {
    **{level.value: level for level in AreaLevel},
    **dict.fromkeys(("市", "地级市", "直辖市"), AreaLevel.CITY),
    **dict.fromkeys(("区", "县", "县级市", "市辖区", "旗"), AreaLevel.DISTRICT),
    **dict.fromkeys(("街道", "镇", "乡", "街道办事处", "subdistrict", "town"), AreaLevel.STREET),
    **dict.fromkeys(("社区", "村", "居委会", "村委会", "village"), AreaLevel.COMMUNITY),
}
CODE = re.compile(r"^\d{1,12}$")
WGS84 = 4326
DATAV_COLUMNS = frozenset({"adcode", "acroutes", "childrennum", "subfeatureindex"})
COORD_NAMES = {CoordSystem.WGS84: "WGS-84", CoordSystem.GCJ02: "GCJ-02", CoordSystem.BD09: "BD-09"}


@dataclass
class AreaRow:
    row: int
    code: str
    level: AreaLevel
    name_zh: str
    name_en: str
    parent: str | None
    population: int
    population_source: str
    boundary: dict[str, Any] | None


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _datav(frame: Any, report: ImportReport) -> Any:
    """DataV/AMap properties as our columns: 12-digit codes, parent codes, population 0."""

    def code(value: Any) -> str:
        return twelve_digits(_text(value))

    def parent(value: Any) -> str:
        return code(value.get("adcode")) if isinstance(value, dict) else ""

    frame = frame.assign(code=frame["adcode"].map(code), name_zh=frame["name"])
    frame["parent"] = frame["parent"].map(parent) if "parent" in frame.columns else ""
    # A city's parent is its province, a level the areas do not have: a province's file
    # (440000_full.json) holds the cities, the one to load before a city's districts.
    if "level" in frame.columns:
        frame.loc[frame["level"].map(_text).str.lower() == "city", "parent"] = ""
    if "population" not in frame.columns:
        frame["population"] = 0
        report.note(N_("a DataV/AMap file has no population: stored as 0 (unknown)"))
    return frame


def _converted(frame: Any, coords: CoordSystem) -> Any:
    """Every vertex GCJ-02/BD-09 → WGS-84, in one vectorised call; rings, holes and parts
    stay as they are."""
    import numpy as np
    import shapely

    def to_wgs(xy: Any) -> Any:
        lon, lat = to_wgs84(xy[:, 0], xy[:, 1], coords)
        return np.column_stack([lon, lat])

    return frame.set_geometry(shapely.transform(frame.geometry.array, to_wgs))


def read_areas(
    path: Path, report: ImportReport, coords: CoordSystem | None = None
) -> list[AreaRow]:
    """Read and check one file on its own (no database); problems go to ``report``, the
    number of features to ``report.rows``. ``coords``: how longitudes and latitudes are
    given (None: not said, WGS-84 assumed unless the file is DataV's)."""
    import geopandas as gpd
    import shapely

    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises its own DataSourceError, OSError, ValueError…
        report.reject(
            0,
            "",
            N_(
                "cannot read %(file)s as GeoJSON, Shapefile or GeoPackage: %(detail)s",
                file=path.name,
                detail=str(exc),
            ),
        )
        return []
    frame.columns = [str(c).strip().lower() if c != "geometry" else c for c in frame.columns]
    datav = "adcode" in frame.columns and bool(DATAV_COLUMNS & set(frame.columns) - {"adcode"})
    if datav and coords is None:
        report.reject(
            0,
            "",
            N_(
                "%(file)s is a DataV/AMap boundary file (adcode, acroutes): its coordinates are "
                "GCJ-02; give --coords gcj02 (or --coords wgs84 if it was converted already)",
                file=path.name,
            ),
        )
        return []
    if datav:
        frame = _datav(frame, report)
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        report.reject(
            0,
            ", ".join(missing),
            N_("missing column (needs %(columns)s)", columns=", ".join(REQUIRED)),
        )
        return []
    if frame.crs is None:
        minx, miny, maxx, maxy = frame.total_bounds if len(frame) else (0, 0, 0, 0)
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            report.reject(
                0, "geometry", N_("the file has no CRS and its coordinates are not degrees")
            )
            return []
    elif frame.crs.to_epsg() != WGS84:
        if coords not in (None, CoordSystem.WGS84):
            report.reject(
                0,
                "geometry",
                N_(
                    "the file's CRS is %(crs)s; --coords %(coords)s applies to "
                    "longitude/latitude files only",
                    crs=frame.crs.to_string(),
                    coords=coords.value,
                ),
            )
            return []
        frame = frame.to_crs(epsg=WGS84)
    system = coords or CoordSystem.WGS84
    if system is not CoordSystem.WGS84:
        frame = _converted(frame, system)
        vertices = int(shapely.get_num_coordinates(frame.geometry.array).sum())
        report.note(
            N_(
                "boundaries converted from %(system)s to WGS-84, vertex by vertex "
                "(%(vertices)s vertices)",
                system=COORD_NAMES[system],
                vertices=f"{vertices:,}",
            )
        )
    elif coords is None:
        report.note(
            N_(
                "coordinates read as WGS-84 (no --coords given; AMap/DataV and Tencent "
                "boundaries are GCJ-02: --coords gcj02, Baidu's BD-09: --coords bd09)"
            )
        )
    else:
        report.note(N_("coordinates read as WGS-84 (--coords wgs84)"))
    report.rows = len(frame)
    geometry = frame.geometry.array
    kinds = shapely.get_type_id(geometry)
    valid = shapely.is_valid(geometry)
    rows = []
    for i, record in enumerate(frame.drop(columns="geometry").to_dict("records")):
        row = _row(i + 1, record, geometry[i], int(kinds[i]), bool(valid[i]), report)
        if row is not None:
            rows.append(row)
    return rows


def _row(
    number: int, record: dict[str, Any], geom: Any, kind: int, valid: bool, report: ImportReport
) -> AreaRow | None:
    import shapely

    before = len(report.problems)
    code = _text(record.get("code"))
    if not CODE.match(code):
        report.reject(
            number, "code", N_("%(code)r is not a statistical division code (digits)", code=code)
        )
    level_text = _text(record.get("level"))
    level = LEVEL_NAMES.get(level_text.lower())
    if level is None:
        report.reject(
            number,
            "level",
            N_("%(level)r is not city, district, street or community", level=level_text),
        )
    name_zh = _text(record.get("name_zh"))
    if not 1 <= len(name_zh) <= 100:
        report.reject(number, "name_zh", N_("required, at most 100 characters"))
    for column in ("name_zh", "name_en", "population_source"):
        if UNSAFE.search(_text(record.get(column))):
            report.reject(number, column, N_("contains control characters"))
    population_text = _text(record.get("population"))
    try:
        population = int(float(population_text))
        if population < 0:
            raise ValueError
    except ValueError:
        population = 0
        report.reject(
            number,
            "population",
            N_("%(text)r is not a number of people (0 if unknown)", text=population_text),
        )
    boundary = None
    if geom is not None and not shapely.is_empty(geom):
        if kind not in (3, 6):  # Polygon, MultiPolygon
            report.reject(
                number,
                "geometry",
                N_("a boundary is a polygon, not a %(type)s", type=geom.geom_type),
            )
        elif not valid and (repaired := mended(geom)) is not None:
            # Published boundaries cross themselves now and then (DataV's Guangdong file:
            # three cities): mended as GEOS makes them valid, said, not refused.
            boundary = json.loads(shapely.to_geojson(repaired))
            report.note(
                N_(
                    "a boundary that crossed itself was mended (%(why)s)",
                    why=shapely.is_valid_reason(geom),
                ),
                row=number,
            )
        elif not valid:
            report.reject(
                number,
                "geometry",
                N_("invalid boundary: %(why)s", why=shapely.is_valid_reason(geom)),
            )
        else:
            boundary = json.loads(shapely.to_geojson(geom))
    if len(report.problems) > before or level is None:
        return None
    return AreaRow(
        row=number,
        code=code,
        level=level,
        name_zh=name_zh,
        name_en=_text(record.get("name_en"))[:200],
        parent=_text(record.get("parent")) or None,
        population=population,
        population_source=_text(record.get("population_source"))[:200],
        boundary=boundary,
    )


async def _check_hierarchy(rows: list[AreaRow], report: ImportReport) -> dict[str, str]:
    """Codes unique, parents one level up (in the file or stored); stored levels unchanged."""
    stored = {str(c): str(lv) for c, lv in await Area.all().values_list("code", "level")}
    levels = dict(stored)
    seen: dict[str, int] = {}
    for r in rows:
        if r.code in seen:
            report.reject(
                r.row,
                "code",
                N_("%(code)r is also the code of row %(row)s", code=r.code, row=seen[r.code]),
            )
        seen.setdefault(r.code, r.row)
        if stored.get(r.code, r.level) != r.level:
            report.reject(
                r.row,
                "level",
                N_(
                    "%(code)r is stored as a %(level)s; levels stay",
                    code=r.code,
                    level=AREA_LEVEL_SAID[AreaLevel(stored[r.code])],
                ),
            )
        levels[r.code] = r.level
    for r in rows:
        if r.level is AreaLevel.CITY:
            if r.parent is not None:
                report.reject(r.row, "parent", N_("a city has no parent (leave it empty)"))
            continue
        expected = list(AreaLevel)[r.level.depth - 1]
        if r.parent is None:
            report.reject(
                r.row,
                "parent",
                N_(
                    "a %(level)s needs its %(parent)s's code",
                    level=AREA_LEVEL_SAID[r.level],
                    parent=AREA_LEVEL_SAID[expected],
                ),
            )
        elif r.parent not in levels:
            report.reject(
                r.row,
                "parent",
                N_(
                    "unknown area code %(code)r: load its %(parent)s first (from DataV, the "
                    "file one level up, such as the province's for its cities)",
                    code=r.parent,
                    parent=AREA_LEVEL_SAID[expected],
                ),
            )
        elif levels[r.parent] != expected:
            report.reject(
                r.row,
                "parent",
                N_(
                    "%(code)r is a %(level)s, not a %(expected)s",
                    code=r.parent,
                    level=AREA_LEVEL_SAID[AreaLevel(levels[r.parent])],
                    expected=AREA_LEVEL_SAID[expected],
                ),
            )
    return stored


async def import_areas(
    path: str | Path,
    *,
    dry_run: bool = False,
    source: str | None = None,
    coords: CoordSystem | None = None,
) -> ImportReport:
    """Check, then (unless ``dry_run`` or a row is rejected) write every area of the file;
    ``coords`` as in :func:`read_areas`."""
    path = Path(path)
    report = ImportReport(format="areas", dry_run=dry_run, noun="areas")
    if await DatasetInfo.exists(key=SYNTHETIC_KEY):
        report.reject(
            0,
            "",
            N_(
                "the database holds the synthetic demo city; load real areas into a new database "
                "(set RESOURCEMAP_DATABASE_URL and run resourcemap migrate)"
            ),
        )
        return report
    rows = await asyncio.to_thread(read_areas, path, report, coords)  # reading is CPU work
    if not rows and report.ok:
        report.reject(0, "", N_("the file holds no areas"))
    stored = await _check_hierarchy(rows, report)
    if not report.ok:
        return report
    report.existing = sum(1 for r in rows if r.code in stored)
    report.created = len(rows) - report.existing
    if dry_run:
        return report
    label = source or f"import:{path.name}"
    async with in_transaction(Area._meta.default_connection):
        for level in AreaLevel:  # parents first: the parent link is a foreign key
            for r in (r for r in rows if r.level is level):
                fields: dict[str, Any] = {
                    "level": r.level,
                    "name_zh": r.name_zh,
                    "name_en": r.name_en,
                    "parent_id": r.parent,
                    "population": r.population,
                    "population_source": r.population_source or label,
                    "boundary": r.boundary,
                    "source": label[:100],
                }
                if r.code in stored:
                    # An update in place sets no auto_now: said here, so that what reads
                    # areas by their last change (the map's outlines) sees this one.
                    await Area.filter(code=r.code).update(**fields, updated_at=timezone.now())
                else:
                    await Area.create(code=r.code, **fields)
        # Running app processes reload areas (and the point → area index) from this.
        await changes.record_rebuild()
    await db.analyse(Area)
    return report
