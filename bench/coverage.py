"""Coverage speed: 1,000,000 weighted demand points × 10,000 services at 500 m.

Times, on the same synthetic city (WGS-84 input, clustered like a real one):

- ours: ``geo.coverage.within_radius`` — project, cKDTree nearest service, geodesic check
  of the rim band;
- (a) the naive GeoPandas way: project, ``buffer(500)`` every service, ``union_all``, and
  ``within`` for every point (goal: ours at least 20× faster);
- (b) a tuned scipy baseline: project with a reused transformer, ``cKDTree.query(k=1,
  distance_upper_bound=500, workers=-1)`` (goal: ours at most 1.5× its time).

Ours and (b) must agree on every point. The buffer way cannot: its polygons are chords
inside the circle, so it misses people at the rim; the run checks that every point it
calls covered is covered by ours and that every point it misses lies at the rim.

    python bench/coverage.py           # full size; the naive run takes a minute or so
    python bench/coverage.py --quick   # naive way on 100,000 points, scaled up (and says so)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from geo.coverage import within_radius
from geo.crs import metric_crs_for, to_metric, to_wgs84

T = TypeVar("T")
FloatArray = npt.NDArray[np.float64]

DEMAND, SERVICES, RADIUS = 1_000_000, 10_000, 500.0
CENTRE = (113.93, 22.75)
HALF_SIZE_M = 20_000.0  # a 40 km × 40 km city
GOAL_NAIVE, GOAL_BASELINE = 20.0, 1.5
SEED = 7


def city(rng: np.random.Generator, n: int, cores: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``n`` WGS-84 points: 70 % around dense cores, the rest spread evenly."""
    crs = metric_crs_for(CENTRE[0])
    cx, cy = to_metric(*CENTRE, crs)
    dense = int(n * 0.7)
    which = rng.integers(0, len(cores), dense)
    x = np.concatenate(
        [
            cx + cores[which, 0] + rng.normal(0, cores[which, 2]),
            cx + rng.uniform(-HALF_SIZE_M, HALF_SIZE_M, n - dense),
        ]
    )
    y = np.concatenate(
        [
            cy + cores[which, 1] + rng.normal(0, cores[which, 2]),
            cy + rng.uniform(-HALF_SIZE_M, HALF_SIZE_M, n - dense),
        ]
    )
    return to_wgs84(x, y, crs)


def best_of(repeat: int, fn: Callable[[], T]) -> tuple[float, T]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    assert result is not None
    return min(times), result


def baseline(dlon: FloatArray, dlat: FloatArray, slon: FloatArray, slat: FloatArray) -> Any:
    """(b): what a careful engineer writes with scipy, nothing more."""
    crs = metric_crs_for(float(np.median(slon)))
    dx, dy = to_metric(dlon, dlat, crs)
    sx, sy = to_metric(slon, slat, crs)
    tree = cKDTree(np.column_stack([sx, sy]))
    dist, _ = tree.query(np.column_stack([dx, dy]), k=1, distance_upper_bound=RADIUS, workers=-1)
    return dist <= RADIUS


def naive(dlon: FloatArray, dlat: FloatArray, slon: FloatArray, slat: FloatArray) -> Any:
    """(a): buffer every service, union the buffers, test every point for ``within``."""
    crs = metric_crs_for(float(np.median(slon)))
    services = gpd.GeoSeries(gpd.points_from_xy(slon, slat), crs=4326).to_crs(crs)
    people = gpd.GeoSeries(gpd.points_from_xy(dlon, dlat), crs=4326).to_crs(crs)
    started = time.perf_counter()
    union = services.buffer(RADIUS).union_all()
    union_s = time.perf_counter() - started
    return people.within(union).to_numpy(), union_s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="naive way on 100,000 points")
    parser.add_argument("--demand", type=int, default=DEMAND)
    parser.add_argument("--services", type=int, default=SERVICES)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(SEED)
    cores = np.column_stack(
        [
            rng.uniform(-HALF_SIZE_M * 0.7, HALF_SIZE_M * 0.7, 12),
            rng.uniform(-HALF_SIZE_M * 0.7, HALF_SIZE_M * 0.7, 12),
            rng.uniform(1_500, 5_000, 12),
        ]
    )
    print(f"preparing {args.demand:,} demand points and {args.services:,} services ...",
          file=sys.stderr, flush=True)  # fmt: skip
    dlon, dlat = city(rng, args.demand, cores)
    slon, slat = city(rng, args.services, cores)

    ours_s, ours = best_of(3, lambda: within_radius(dlon, dlat, slon, slat, RADIUS))
    base_s, base = best_of(3, lambda: baseline(dlon, dlat, slon, slat))
    covered = int(ours.sum())
    assert covered == int(base.sum()) and np.array_equal(ours, base), "ours and (b) disagree"

    n_naive = min(100_000, args.demand) if args.quick else args.demand
    print(f"naive buffer + union + within on {n_naive:,} points ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    naive_mask, union_s = naive(dlon[:n_naive], dlat[:n_naive], slon, slat)
    naive_s = time.perf_counter() - started
    estimated = n_naive < args.demand
    if estimated:  # the union does not grow with the points; the within test does
        naive_s = union_s + (naive_s - union_s) * args.demand / n_naive
    # The buffer way only ever misses people, and only at the rim.
    assert not (naive_mask & ~ours[:n_naive]).any(), "buffer covered someone ours did not"
    missed = np.flatnonzero(ours[:n_naive] & ~naive_mask)
    crs = metric_crs_for(float(np.median(slon)))
    tree = cKDTree(np.column_stack(to_metric(slon, slat, crs)))
    rim, _ = tree.query(np.column_stack(to_metric(dlon[missed], dlat[missed], crs)), k=1)
    assert (rim > RADIUS * 0.99).all(), "buffer missed someone well inside a circle"

    print(f"machine: {os.cpu_count()} cores")
    print(f"demand points: {args.demand:,}; services: {args.services:,}; radius {RADIUS:g} m")
    print(f"covered: {covered:,} points (ours == tuned cKDTree, point by point)")
    print(f"ours (within_radius, rim-exact): {ours_s:.3f} s")
    print(f"(b) tuned scipy cKDTree:        {base_s:.3f} s")
    label = f"estimated from {n_naive:,} points" if estimated else "measured"
    print(f"(a) naive buffer+union+within:  {naive_s:.1f} s ({label}; union {union_s:.1f} s)")
    print(f"    buffer way missed {missed.size:,} covered points at the rim "
          f"(of the {n_naive:,} it tested)")  # fmt: skip
    speedup, ratio = naive_s / ours_s, ours_s / base_s
    print(f"ours vs naive: {speedup:.1f}x faster (goal >= {GOAL_NAIVE:g}x)"
          f"{' [estimated]' if estimated else ''}")  # fmt: skip
    print(f"ours vs tuned cKDTree: {ratio:.2f}x its time (goal <= {GOAL_BASELINE:g}x)")
    ok = speedup >= GOAL_NAIVE and ratio <= GOAL_BASELINE
    print("goals met" if ok else "GOALS NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
