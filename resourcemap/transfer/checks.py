"""What the rows of one file are checked for besides ``ResourceIn``: the file as a whole
(``external_id`` present and unique) and the database (areas, organisations, which stored
listing a row updates, and what the importing person may change)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import shapely
from pydantic import ValidationError

from resourcemap.accounts import Principal
from resourcemap.listings import edits, organisations
from resourcemap.models import Area, DatasetInfo, Organisation, Resource
from resourcemap.said import N_, Said, validator_message
from resourcemap.transfer import hsds_terms
from resourcemap.transfer.columns import Candidate, OrgRef
from resourcemap.transfer.records import INSTANCE_KEY, parse_own_key
from resourcemap.transfer.report import ImportReport
from resourcemap.vocab import AreaLevel, OrganisationType, Role

BATCH = 500  # ids per IN (...) query: SQLite allows few bound variables
_T = TypeVar("_T")
# How far beyond the areas loaded a listing's point may lie before the report says so (a
# place just over the border serves their residents too): about 5 km.
OUTSIDE_MARGIN_DEG = 0.05
# Text looked up before it is validated: PostgreSQL refuses NUL, and no key is this long.
UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_KEY = 200


def safe(text: str) -> bool:
    """Whether raw text from a file may be used in a query."""
    return len(text) <= MAX_KEY and UNSAFE.search(text) is None


@dataclass
class Row:
    """A candidate and, when it validates, its ``ResourceIn``. Rows that do not validate
    still go through the file and database checks (read from the raw values), so that
    the report tells all that is wrong with a row at once."""

    candidate: Candidate
    data: edits.ResourceIn | None

    def text(self, name: str) -> str:
        value = self.candidate.values.get(name)
        return value if isinstance(value, str) else ""

    def codes(self) -> list[str]:
        value = self.candidate.values.get("service_area_codes")
        return [c for c in value if isinstance(c, str)] if isinstance(value, list) else []

    @property
    def external_id(self) -> str:
        return self.text("external_id")

    def written(
        self, org_ids: Mapping[str, int | None], stored_org: int | None
    ) -> edits.ResourceIn:
        """What the (valid) row writes: with the organisation it names (its id in
        ``org_ids``), or naming none, the stored listing's (``stored_org``)."""
        data = cast(edits.ResourceIn, self.data)
        ref = self.candidate.organisation
        if ref is not None:
            return data.model_copy(update={"organisation_id": org_ids[ref.key]})
        if data.organisation_id is None and stored_org is not None:
            # A row that names no organisation leaves the listing's as it is.
            return data.model_copy(update={"organisation_id": stored_org})
        return data

    @property
    def organisation_id(self) -> int | None:
        """Only once validated: a raw id may be out of the database's range."""
        return None if self.data is None else self.data.organisation_id


# Pydantic errors about a value's range or type, whose message does not quote the value.
VALUE_ERRORS = frozenset(
    {
        "less_than_equal",
        "greater_than_equal",
        "less_than",
        "greater_than",
        "float_parsing",
        "int_parsing",
        "int_from_float",
    }
)


def error_message(err: Any) -> Said:
    """One pydantic error as a sentence for the report, naming the value at fault."""
    message = validator_message(err)
    if err["type"] in VALUE_ERRORS and isinstance(err.get("input"), int | float | str):
        message = N_("%(value)r: %(problem)s", value=err["input"], problem=message)
    if err["type"] == "enum":
        return N_(
            "%(value)r is not a known code; expected %(expected)s",
            value=err["input"],
            # The codes alone ("'a', 'b' or 'c'" has an English "or" in it).
            expected=", ".join(re.findall(r"'[^']*'", str(err["ctx"]["expected"]))),
        )
    if err["type"] == "missing":
        return N_("required")
    loc = err["loc"]
    if len(loc) > 1 and isinstance(loc[1], int):
        detail = ".".join(str(p) for p in loc[2:])
        if detail:
            return N_(
                "entry %(entry)s %(detail)s: %(problem)s",
                entry=loc[1] + 1,
                detail=detail,
                problem=message,
            )
        return N_("entry %(entry)s: %(problem)s", entry=loc[1] + 1, problem=message)
    return message


def check_external_ids(rows: list[Row], report: ImportReport) -> None:
    first: dict[str, int] = {}
    for r in rows:
        ext = r.external_id
        if not ext:
            continue  # reported as required
        if ext in first:
            report.reject(
                r.candidate.row,
                r.candidate.column("external_id"),
                N_("%(id)r is also the external_id of row %(row)s", id=ext, row=first[ext]),
            )
        else:
            first[ext] = r.candidate.row


def chunks(items: Sequence[_T]) -> Iterable[Sequence[_T]]:
    for i in range(0, len(items), BATCH):
        yield items[i : i + BATCH]


Extent = tuple[float, float, float, float]  # west, south, east, north


async def covered_extent() -> Extent | None:
    """The bounds of the areas loaded, from the coarsest level that has boundaries (a
    province's cities, a city's districts: few shapes); None without any."""
    for level in AreaLevel:
        shapes = await Area.filter(level=level, boundary__isnull=False).values_list(
            "boundary", flat=True
        )
        if shapes:
            bounds = shapely.bounds([shapely.geometry.shape(s) for s in shapes])
            west, south = bounds[:, 0].min(), bounds[:, 1].min()
            east, north = bounds[:, 2].max(), bounds[:, 3].max()
            return float(west), float(south), float(east), float(north)
    return None


def _outside(data: edits.ResourceIn | None, extent: Extent) -> bool:
    if data is None or data.lat is None or data.lon is None:
        return False
    west, south, east, north = extent
    m = OUTSIDE_MARGIN_DEG
    return not (west - m <= data.lon <= east + m and south - m <= data.lat <= north + m)


class DatabaseChecks:
    """What only the database can say about the rows, found before anything is written."""

    def __init__(self, actor: Principal, report: ImportReport) -> None:
        self.actor = actor
        self.report = report
        self.levels: dict[str, str] = {}
        self.existing: dict[str, tuple[int, int | None]] = {}  # external_id → (id, org)
        self.organisations: dict[str, int | None] = {}  # OrgRef.key → id (None: create)
        self.new_organisations: dict[str, organisations.OrganisationIn] = {}
        self.own_organisations: dict[str, int] | None = None  # exported HSDS id → id
        self.extent: Extent | None = None

    async def run(self, rows: list[Row]) -> None:
        self.levels = {str(c): str(lv) for c, lv in await Area.all().values_list("code", "level")}
        self.extent = await covered_extent()
        externals = [r.external_id for r in rows if r.external_id and safe(r.external_id)]
        for chunk in chunks(externals):
            found = await Resource.filter(external_id__in=chunk).values_list(
                "external_id", "id", "organisation_id"
            )
            self.existing |= {str(e): (int(i), o) for e, i, o in found}
        await self._own_keys([e for e in externals if e not in self.existing])
        for r in rows:
            await self._check(r)

    async def _own_keys(self, externals: list[str]) -> None:
        """Keys this database gave, on export, to listings that had no external_id."""
        info = await DatasetInfo.get_or_none(key=INSTANCE_KEY)
        if info is None:
            return
        ids = {k: i for k in externals if (i := parse_own_key(info.value, k)) is not None}
        for chunk in chunks(list(ids)):
            wanted = [ids[k] for k in chunk]
            found = await Resource.filter(id__in=wanted, external_id=None).values_list(
                "id", "organisation_id"
            )
            by_id = {int(i): o for i, o in found}
            self.existing |= {k: (ids[k], by_id[ids[k]]) for k in chunk if ids[k] in by_id}

    def _reject(self, row: Row, field: str, reason: Said) -> None:
        ref = row.candidate.organisation
        if field == "organisation_id" and ref is not None:
            field = ref.column
        self.report.reject(row.candidate.row, row.candidate.column(field), reason)

    async def _check(self, row: Row) -> None:
        community = row.text("community_code")
        if community and self.levels.get(community) != AreaLevel.COMMUNITY:
            reason = (
                N_("%(code)r is not a community", code=community)
                if community in self.levels
                else N_("%(code)r is not a known area code", code=community)
            )
            self._reject(row, "community_code", reason)
        if self.extent is not None and _outside(row.data, self.extent):
            # Said, not refused: another directory's file may hold places elsewhere.
            self.report.note(
                N_(
                    "the point lies outside every area loaded: the listing belongs to no area, "
                    "counts in no area's figures, and residents find it only by distance"
                ),
                row.candidate.row,
            )
        unknown = [c for c in row.codes() if c not in self.levels]
        if unknown:
            self._reject(
                row, "service_area_codes", N_("unknown area code %(code)r", code=unknown[0])
            )
        organisation_id = await self._organisation(row)
        existing = self.existing.get(row.external_id)
        if self.actor.role is Role.STAFF:
            if organisation_id not in (None, self.actor.organisation_id):
                self._reject(
                    row,
                    "organisation_id",
                    N_("staff import their own organisation's listings only"),
                )
            if existing is not None and existing[1] != self.actor.organisation_id:
                self._reject(
                    row,
                    "external_id",
                    N_("%(id)r is another organisation's listing", id=row.external_id),
                )

    async def _organisation(self, row: Row) -> int | None:
        """The organisation id a row names (None: none, or one to be created)."""
        ref = row.candidate.organisation
        if ref is None:
            given = row.organisation_id
            if given is not None and not await Organisation.exists(id=given):
                self._reject(row, "organisation_id", N_("no organisation with id %(id)s", id=given))
            return given
        if ref.key not in self.organisations:
            self.organisations[ref.key] = await self._resolve(row, ref)
        return self.organisations[ref.key]

    async def _own_organisation(self, key: str) -> int | None:
        """An organisation without external id that this database exported under ``key``
        (docs/hsds-mapping.md, "Identifiers"): found again, it keeps having none."""
        if not hsds_terms.is_uuid(key):
            return None
        if self.own_organisations is None:
            info = await DatasetInfo.get_or_none(key=INSTANCE_KEY)
            ids = await Organisation.filter(external_id=None).values_list("id", flat=True)
            self.own_organisations = (
                {}
                if info is None
                else {
                    hsds_terms.record_id("organization", None, info.value, int(cast(int, i))): int(
                        cast(int, i)
                    )
                    for i in ids
                }
            )
        return self.own_organisations.get(key)

    async def _resolve(self, row: Row, ref: OrgRef) -> int | None:
        if not (safe(ref.external_id or "") and safe(ref.name_zh)):
            self._reject(row, "organisation_id", N_("control characters, or longer than 200"))
            return None
        if ref.external_id:
            found = await Organisation.get_or_none(external_id=ref.external_id)
            if found is not None:
                return found.id
            own = await self._own_organisation(ref.external_id)
            if own is not None:
                return own
        elif ref.name_zh:
            ids = await Organisation.filter(name_zh=ref.name_zh).values_list("id", flat=True)
            if len(ids) > 1:
                self._reject(
                    row,
                    "organisation_id",
                    N_(
                        "%(count)s organisations are named %(name)r; give organisation_external_id",
                        count=len(ids),
                        name=ref.name_zh,
                    ),
                )
                return None
            if ids:
                return int(cast(int, ids[0]))
        if self.actor.role is not Role.ADMIN:
            self._reject(row, "organisation_id", N_("only admins create organisations"))
        elif not ref.name_zh or ref.type is None:
            self._reject(
                row,
                "organisation_id",
                N_(
                    "no organisation has the external id %(id)r; give its organisation_name_zh "
                    "and organisation_type to create it (a file's organisation ids are other "
                    "directories' ids, never ours)",
                    id=ref.external_id,
                )
                if ref.external_id
                else N_(
                    "no organisation is named %(name)r; give its organisation_name_zh and "
                    "organisation_type to create it (a file's organisation ids are other "
                    "directories' ids, never ours)",
                    name=ref.name_zh,
                ),
            )
        elif ref.type not in set(OrganisationType):
            self._reject(
                row,
                "organisation_type",
                N_("%(value)r is not an organisation type", value=ref.type),
            )
        else:
            try:
                self.new_organisations[ref.key] = organisation_in(ref)
            except ValidationError as exc:
                err = exc.errors(include_url=False)[0]
                self._reject(
                    row,
                    "organisation_id",
                    N_("%(field)s: %(problem)s", field=err["loc"][0], problem=error_message(err)),
                )
        return None


def organisation_in(ref: OrgRef) -> organisations.OrganisationIn:
    return organisations.OrganisationIn(
        external_id=ref.external_id,
        name_zh=ref.name_zh,
        name_en=ref.name_en,
        type=OrganisationType(cast(str, ref.type)),
        description=ref.description,
        website=ref.website,
        phone=ref.phone,
    )
