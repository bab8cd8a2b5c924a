"""A synthetic district: boundary, streets, communities and a 100 m population grid.

Pure geometry, no ORM. Everything is drawn from one ``numpy.random.Generator`` so the same
seed gives the same city. Shapes are built in the metric CRS of the city (geo.crs) and
returned in WGS-84; the metric versions are kept for sampling and area checks.

>>> import numpy as np
>>> geo = generate_geography(np.random.default_rng(1))
>>> int(geo.grid.population.sum())
1100000
>>> len(geo.communities) == len(geo.community_street) == 30
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyproj
import shapely

from geo.crs import metric_crs_for, to_metric, to_wgs84

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
GeomArray = npt.NDArray[np.object_]

CENTRE_LON, CENTRE_LAT = 113.93, 22.75
DISTRICT_SIZE_M = (14_000.0, 11_000.0)
N_STREETS = 6
N_COMMUNITIES = 30
MIN_COMMUNITIES_PER_STREET = 3
CELL_SIZE_M = 100.0
TOTAL_POPULATION = 1_100_000
# Snap overlay results to a 1 mm grid so neighbouring cells share identical edges.
GRID_SIZE_M = 0.001


@dataclass(frozen=True)
class PopulationGrid:
    """Centres of populated grid cells (WGS-84) with integer residents per cell.

    ``community`` indexes ``SyntheticGeography.communities``.
    """

    lon: FloatArray
    lat: FloatArray
    population: IntArray
    community: IntArray
    cell_size_m: float

    @property
    def size(self) -> int:
        return int(self.population.size)


@dataclass(frozen=True)
class SyntheticGeography:
    """The demo district. Geometry arrays hold shapely objects; ``*_m`` are in ``crs``."""

    crs: pyproj.CRS
    district: Any
    streets: GeomArray
    communities: GeomArray
    community_street: IntArray
    grid: PopulationGrid
    district_m: Any
    streets_m: GeomArray
    communities_m: GeomArray
    cores_lon: FloatArray
    cores_lat: FloatArray

    def community_population(self) -> IntArray:
        counts = np.bincount(
            self.grid.community, weights=self.grid.population, minlength=len(self.communities)
        )
        return counts.round().astype(np.int64)

    def street_population(self) -> IntArray:
        counts = np.bincount(
            self.community_street,
            weights=self.community_population(),
            minlength=len(self.streets),
        )
        return counts.round().astype(np.int64)


def generate_geography(
    rng: np.random.Generator,
    *,
    centre: tuple[float, float] = (CENTRE_LON, CENTRE_LAT),
    n_streets: int = N_STREETS,
    n_communities: int = N_COMMUNITIES,
    total_population: int = TOTAL_POPULATION,
) -> SyntheticGeography:
    """Draw a district that streets and communities tile exactly, with its population."""
    if n_communities < n_streets * MIN_COMMUNITIES_PER_STREET:
        raise ValueError("too few communities for the number of streets")
    crs = metric_crs_for(centre[0])
    # Jitter the centre by up to ~500 m so different seeds move the district a little.
    cx, cy = to_metric(
        centre[0] + rng.uniform(-0.005, 0.005), centre[1] + rng.uniform(-0.005, 0.005), crs
    )
    district = district_polygon(rng, float(cx), float(cy))

    streets_m = relaxed_voronoi(district, n_streets, rng)
    street_areas = shapely.area(streets_m)
    per_street = MIN_COMMUNITIES_PER_STREET + largest_remainder(
        street_areas, n_communities - n_streets * MIN_COMMUNITIES_PER_STREET
    )
    parts = [
        relaxed_voronoi(street, int(k), rng)
        for street, k in zip(streets_m, per_street, strict=True)
    ]
    communities_m = np.concatenate(parts)
    community_street = np.repeat(np.arange(n_streets, dtype=np.int64), per_street)
    # Streets are the unions of their communities, so both levels tile the district.
    streets_m = np.array(
        [shapely.union_all(part, grid_size=GRID_SIZE_M) for part in parts], dtype=object
    )
    district = shapely.union_all(streets_m, grid_size=GRID_SIZE_M)

    cores_x, cores_y = random_points_in(district, int(rng.integers(4, 7)), rng)
    unproject = _unprojector(crs)
    communities = shapely.transform(communities_m, unproject)
    grid = population_grid(district, communities, cores_x, cores_y, total_population, rng, crs)
    cores_lon, cores_lat = to_wgs84(cores_x, cores_y, crs)
    return SyntheticGeography(
        crs=crs,
        district=shapely.transform(district, unproject),
        streets=shapely.transform(streets_m, unproject),
        communities=communities,
        community_street=community_street,
        grid=grid,
        district_m=district,
        streets_m=streets_m,
        communities_m=communities_m,
        cores_lon=cores_lon,
        cores_lat=cores_lat,
    )


def district_polygon(rng: np.random.Generator, cx: float, cy: float) -> Any:
    """An irregular, star-shaped polygon about ``DISTRICT_SIZE_M`` across (metric)."""
    theta = np.linspace(0.0, 2.0 * np.pi, 160, endpoint=False)
    # Harmonics with random phase and decaying amplitude give an outline with bays and
    # headlands; a little per-vertex noise roughens it like a boundary following roads.
    harmonics = np.arange(2, 13)
    amplitude = rng.uniform(0.03, 0.08, harmonics.size) / (harmonics - 1) ** 0.8
    phase = rng.uniform(0.0, 2.0 * np.pi, harmonics.size)
    wobble = 1.0 + (amplitude * np.cos(np.outer(theta, harmonics) + phase)).sum(axis=1)
    wobble += rng.normal(0.0, 0.004, theta.size)
    a, b = DISTRICT_SIZE_M[0] / 2.0, DISTRICT_SIZE_M[1] / 2.0
    tilt = rng.uniform(-0.25, 0.25)
    ex, ey = a * np.cos(theta) * wobble, b * np.sin(theta) * wobble
    x = cx + ex * np.cos(tilt) - ey * np.sin(tilt)
    y = cy + ex * np.sin(tilt) + ey * np.cos(tilt)
    return shapely.polygons(np.column_stack([x, y]))


def random_points_in(
    polygon: Any, n: int, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """``n`` uniform random points inside ``polygon`` by vectorised rejection sampling."""
    xmin, ymin, xmax, ymax = shapely.bounds(polygon)
    xs: list[FloatArray] = []
    ys: list[FloatArray] = []
    found = 0
    while found < n:
        x = rng.uniform(xmin, xmax, 4 * n)
        y = rng.uniform(ymin, ymax, 4 * n)
        inside = shapely.contains_xy(polygon, x, y)
        xs.append(x[inside])
        ys.append(y[inside])
        found += int(inside.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def relaxed_voronoi(
    polygon: Any, n: int, rng: np.random.Generator, iterations: int = 4
) -> GeomArray:
    """``n`` cells tiling ``polygon``: Voronoi cells of random seeds, Lloyd-relaxed so that
    cells have similar sizes, clipped to the polygon."""
    x, y = random_points_in(polygon, n, rng)
    seeds = shapely.points(x, y)
    cells = _clipped_voronoi(polygon, seeds)
    for _ in range(iterations):
        seeds = shapely.centroid(cells)
        cells = _clipped_voronoi(polygon, seeds)
    return cells


def _clipped_voronoi(polygon: Any, seeds: GeomArray) -> GeomArray:
    diagram = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=polygon, ordered=True)
    cells = shapely.get_parts(diagram)
    clipped: GeomArray = shapely.intersection(cells, polygon, grid_size=GRID_SIZE_M)
    return clipped


def largest_remainder(weights: npt.ArrayLike, total: int) -> IntArray:
    """Integers proportional to ``weights`` that sum to exactly ``total`` (Hamilton's
    method; ties go to the lower index so results are reproducible).

    >>> largest_remainder([1, 1, 1], 10).tolist()
    [4, 3, 3]
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.size == 0 or total < 0 or (w < 0).any() or w.sum() <= 0:
        raise ValueError("weights must be non-negative with a positive sum")
    quota = w / w.sum() * total
    base: IntArray = np.floor(quota).astype(np.int64)
    short = total - int(base.sum())
    order = np.argsort(-(quota - base), kind="stable")
    base[order[:short]] += 1
    return base


def population_grid(
    district: Any,
    communities: GeomArray,
    cores_x: FloatArray,
    cores_y: FloatArray,
    total: int,
    rng: np.random.Generator,
    crs: pyproj.CRS,
) -> PopulationGrid:
    """Cells of ``CELL_SIZE_M`` whose centres fall in ``district`` (metric); density is a
    low baseline plus gaussian cores, with per-cell noise.

    ``communities`` are in WGS-84: cells are assigned in the coordinates they are returned
    in, so a centre that lies on a shared edge goes to a polygon that really holds it.
    """
    xmin, ymin, xmax, ymax = shapely.bounds(district)
    half = CELL_SIZE_M / 2.0
    gx = np.arange(np.floor(xmin / CELL_SIZE_M) * CELL_SIZE_M + half, xmax, CELL_SIZE_M)
    gy = np.arange(np.floor(ymin / CELL_SIZE_M) * CELL_SIZE_M + half, ymax, CELL_SIZE_M)
    xx, yy = np.meshgrid(gx, gy)
    x, y = xx.ravel(), yy.ravel()
    inside = shapely.contains_xy(district, x, y)
    x, y = x[inside], y[inside]

    sigma = rng.uniform(700.0, 1_800.0, cores_x.size)
    peak = rng.uniform(1.0, 3.0, cores_x.size)
    d2 = (x[:, None] - cores_x) ** 2 + (y[:, None] - cores_y) ** 2
    density = 0.1 + (peak * np.exp(-d2 / (2.0 * sigma**2))).sum(axis=1)
    density *= rng.lognormal(0.0, 0.35, x.size)
    population = largest_remainder(density, total)

    lon, lat = to_wgs84(x, y, crs)
    community = assign_to_polygons(communities, lon, lat)
    return PopulationGrid(lon, lat, population, community, CELL_SIZE_M)


def assign_to_polygons(polygons: GeomArray, x: FloatArray, y: FloatArray) -> IntArray:
    """Index of the polygon containing each point (first match on shared edges); points
    in no polygon go to the nearest one. One bulk STRtree query, no per-point loop."""
    tree = shapely.STRtree(polygons)
    points = shapely.points(x, y)
    point_idx, poly_idx = tree.query(points, predicate="intersects")
    result = np.full(x.size, -1, dtype=np.int64)
    # Reverse so the first match of each point is the one written last.
    result[point_idx[::-1]] = poly_idx[::-1]
    missing = np.flatnonzero(result < 0)
    if missing.size:
        near_point, near_poly = tree.query_nearest(points[missing])
        result[missing[near_point[::-1]]] = near_poly[::-1]
    return result


def sample_near_population(
    geo: SyntheticGeography,
    community: npt.ArrayLike,
    rng: np.random.Generator,
    *,
    jitter_m: float = 45.0,
    margin_m: float = 10.0,
) -> tuple[FloatArray, FloatArray]:
    """One WGS-84 point per entry of ``community``, inside that community and drawn with
    probability proportional to the population of its grid cells.

    Points keep ``margin_m`` from the community's edge, so rounding stored coordinates
    cannot move them into a neighbour.
    """
    which = np.asarray(community, dtype=np.int64)
    grid = geo.grid
    order = np.argsort(grid.community, kind="stable")
    cum = np.cumsum(grid.population[order])
    totals = geo.community_population()
    starts = np.cumsum(totals) - totals
    inner = shapely.buffer(geo.communities_m, -margin_m)
    cell_x, cell_y = to_metric(grid.lon, grid.lat, geo.crs)

    x = np.full(which.size, np.nan)
    y = np.full(which.size, np.nan)
    todo = np.flatnonzero(totals[which] > 0)
    for _ in range(20):
        if todo.size == 0:
            break
        c = which[todo]
        target = starts[c] + rng.random(todo.size) * totals[c]
        cell = order[np.searchsorted(cum, target, side="right")]
        px = cell_x[cell] + rng.uniform(-jitter_m, jitter_m, todo.size)
        py = cell_y[cell] + rng.uniform(-jitter_m, jitter_m, todo.size)
        ok = shapely.contains_xy(inner[c], px, py)
        x[todo[ok]], y[todo[ok]] = px[ok], py[ok]
        todo = todo[~ok]
    # Communities without people, or unlucky draws: a point well inside the polygon.
    rest = np.flatnonzero(np.isnan(x))
    if rest.size:
        fallback = shapely.point_on_surface(inner[which[rest]])
        x[rest], y[rest] = shapely.get_x(fallback), shapely.get_y(fallback)
    return to_wgs84(x, y, geo.crs)


def _unprojector(crs: pyproj.CRS) -> Callable[[FloatArray], FloatArray]:
    def unproject(coords: FloatArray) -> FloatArray:
        lon, lat = to_wgs84(coords[:, 0], coords[:, 1], crs)
        return np.column_stack([lon, lat])

    return unproject
