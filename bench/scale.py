"""Province scale (#22): search index, edits, map views and coverage as the listing count and
the demand grow, each against a baseline measured in the same run.

Listings come from the synthetic province (``resourcemap.demo.province``: the demo city's
generator run once per district), so names, kinds, services and placement are realistic.

1. **Search index** at each size (default 10,000 / 50,000 / 200,000 documents): build time
   and its growth per document against the smallest size (linear growth is 1.0), resident
   memory added, in-process query p50/p99 over a mix of text, need, typo, point-and-radius
   queries.
2. **Edits**: one upsert, then the first search that finds it (edit-to-searchable), and the
   documents it re-indexed; against a full rebuild of the same index (the old behaviour).
3. **Map views**: the body ``/api/v1/map/view`` sends (gzip) and the server-side time for
   a whole-province view (zoom 7), a city (zoom 11) and a street (zoom 15), against
   ``/api/v1/map/points``'s every-point body; and the area outlines the map draws with each
   (``/api/v1/areas?bbox=``).
4. **Coverage** of the province's GeoParquet demand (``--demand`` points, cells split to
   reach it) × its services at 500 m: single process in memory, file by file
   (``geo.parquet_coverage``) in process and on a local Dask cluster of 1 and 2 workers,
   and a tuned cKDTree on the same points; results must be identical.

    python bench/scale.py                  # 10k / 50k / 200k documents, 10 M demand points
    python bench/scale.py --quick          # 2k / 10k documents, 1 M demand points
    python bench/scale.py --skip-coverage  # search and map only

The machine is shared (2 cores): ratios within one run are the result; absolute times say
little.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import resource
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import orjson
import pyarrow.parquet as pq
import shapely
from scipy.spatial import cKDTree

from geo.areatree import AreaNode, AreaTree
from geo.clusters import cluster_view
from geo.coverage import Supply, coverage
from geo.crs import metric_crs_for, to_metric
from geo.demand import Demand
from geo.demand_parquet import demand_files, write_demand
from geo.parquet_coverage import coverage_from_parquet
from resourcemap.areas import drawn_outlines, in_view
from resourcemap.demo.province import Province, build_province
from resourcemap.search.base import Criteria, SearchDocument, SearchQuery
from resourcemap.search.documents import document
from resourcemap.search.embedded import EmbeddedBackend

SEED = 20181
DISTRICT_RESOURCES = 275  # about what one generated district holds
QUERIES = [
    {"q": "心理咨询"},
    {"q": "焦虑"},
    {"q": "失眠"},
    {"q": "counselling"},
    {"q": "psychiatirc"},  # a typo
    {"q": "xinli"},
    {"q": "医院", "fee": "free"},
    {"service": "counselling"},
]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def province_for(resources: int) -> Province:
    districts = max(1, -(-resources // (20 * DISTRICT_RESOURCES)))
    cities = 20 if districts > 1 else max(1, -(-resources // DISTRICT_RESOURCES))
    say(f"generating a province of {cities} cities × {districts} districts ...")
    started = time.perf_counter()
    p = build_province(SEED, cities=min(cities, 29), districts=min(districts, 44))
    say(f"  {len(p.resources):,} resources in {time.perf_counter() - started:.0f} s")
    return p


def documents(p: Province, n: int) -> list[SearchDocument]:
    """The first ``n`` listings (ids 1…n) as the search sees them, without a database."""
    docs = []
    for i, r in enumerate(p.resources[:n], start=1):
        row: Any = SimpleNamespace(id=i, **{k: getattr(r, k) for k in vars(r)})
        docs.append(document(row))
    return docs


def search(backend: EmbeddedBackend, params: dict[str, Any]) -> Any:
    return asyncio.run(backend.search(Criteria(SearchQuery.model_validate(params))))


def search_bench(p: Province, sizes: list[int]) -> list[dict[str, float]]:
    rows = []
    rng = np.random.default_rng(SEED)
    for n in sizes:
        docs = documents(p, n)
        located = [d for d in docs if d.lat is not None]
        before = rss_mb()
        backend = EmbeddedBackend()
        asyncio.run(backend.replace_all(docs))
        started, cpu_started = time.perf_counter(), time.process_time()
        asyncio.run(backend.columns())
        build_s = time.perf_counter() - started
        build_cpu_s = time.process_time() - cpu_started
        grown_mb = rss_mb() - before
        # CPU time per query as well as wall time: on a shared machine the wall clock
        # counts other processes' turns. A query's first run (nothing cached) is "cold".
        times, cpu, warm = [], [], []
        shapes: dict[str, list[float]] = {}  # each query shape's runs, its first one first
        for k in range(200):
            params: dict[str, Any] = dict(QUERIES[k % len(QUERIES)])
            if k % 2:
                d = located[int(rng.integers(len(located)))]
                params |= {"lat": d.lat, "lon": d.lon, "radius_m": 3000}
            started, cpu_started = time.perf_counter(), time.process_time()
            search(backend, params)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
            if k >= 2 * len(QUERIES):
                warm.append(cpu[-1])
            shape = " ".join(f"{key}={value}" for key, value in QUERIES[k % len(QUERIES)].items())
            shapes.setdefault(shape + (" near a point" if k % 2 else ""), []).append(cpu[-1])
        for shape, runs in shapes.items():
            FIRST_ROWS.append((n, shape, runs[0] * 1000, float(np.median(runs[1:])) * 1000))
        p50, p99 = np.percentile(times, [50, 99]) * 1000
        cpu50, cpu99 = np.percentile(cpu, [50, 99]) * 1000
        warm99 = float(np.percentile(warm, 99)) * 1000
        # One edit, then the first search that must find it.
        target = next(
            d for d in docs[n // 2 :] if d.status == "active" and d.eligibility == "public"
        )
        work = backend.work.documents
        started = time.perf_counter()
        asyncio.run(backend.upsert([replace(target, name_zh="星海心灵驿站新址")]))
        found = search(backend, {"q": "星海心灵驿站新址"})
        edit_s = time.perf_counter() - started
        assert [h.id for h in found.hits] == [target.id], "the edit is not searchable"
        edited = backend.work.documents - work
        started = time.perf_counter()
        rebuilt = EmbeddedBackend()
        asyncio.run(rebuilt.replace_all(docs))
        asyncio.run(rebuilt.columns())
        rebuild_s = time.perf_counter() - started
        rows.append(
            {
                "n": n,
                "build_s": build_s,
                "build_cpu_s": build_cpu_s,
                "mb": grown_mb,
                "p50": p50,
                "p99": p99,
                "cpu50": cpu50,
                "cpu99": cpu99,
                "warm99": warm99,
                "edit_ms": edit_s * 1000,
                "edited": edited,
                "rebuild_s": rebuild_s,
            }
        )
        say(
            f"  {n:,}: built in {build_s:.1f} s, CPU p99 {cpu99:.1f} ms, edit {edit_s * 1e3:.1f} ms"
        )
        map_bench(backend, p, n)
    return rows


MAP_ROWS: list[tuple[int, str, int, float, int]] = []
FIRST_ROWS: list[tuple[int, str, float, float]] = []  # n, query shape, first run, median


def map_bench(backend: EmbeddedBackend, p: Province, n: int) -> None:
    cols = asyncio.run(backend.columns())
    ok = cols.located & cols.tags["status"].get("active", np.zeros(len(cols.docs), dtype=bool))
    lat, lon, cells = cols.lat[ok], cols.lon[ok], cols.cells[ok]
    docs = [d for d, keep in zip(cols.docs, ok, strict=True) if keep]
    every = orjson.dumps(
        {
            "rows": [
                [d.id, round(d.lat or 0, 5), round(d.lon or 0, 5), d.kind, d.name_zh, d.name_en]
                for d in docs
            ]
        }
    )
    MAP_ROWS.append((n, "every point (/map/points)", len(gzip.compress(every, 5)), 0.0, len(docs)))
    first_city = p.cities[0].boundary["coordinates"]
    xs = [c[0] for poly in first_city for ring in poly for c in ring]
    ys = [c[1] for poly in first_city for ring in poly for c in ring]
    street = (float(lon[0]) - 0.01, float(lat[0]) - 0.01)  # around a listing
    views = [
        ("province, zoom 7", (105.0, 18.0, 120.0, 27.0), 7.0),
        ("a city, zoom 11", (min(xs), min(ys), max(xs), max(ys)), 11.0),
        ("a street, zoom 15", (*street, street[0] + 0.02, street[1] + 0.02), 15.0),
    ]
    areas = p.areas
    codes = np.array([a.code for a in areas], dtype=object)
    levels = np.array([str(a.level) for a in areas], dtype=object)
    shapes = shapely.from_geojson([orjson.dumps(a.boundary) for a in areas])
    boxes = shapely.bounds(shapes)
    drawn = drawn_outlines(codes.tolist(), levels.tolist(), shapes)
    for label, bbox, zoom in views:
        started = time.perf_counter()
        for _ in range(5):
            view = cluster_view(lat, lon, cells, bbox, zoom)
            body = orjson.dumps(
                {
                    "clusters": [[c.lat, c.lon, c.count, f"{c.cell:x}"] for c in view.clusters],
                    "rows": [
                        [docs[i].id, docs[i].lat, docs[i].lon, docs[i].kind, docs[i].name_zh]
                        for i in view.points.tolist()
                    ],
                }
            )
            packed = gzip.compress(body, 5)
        ms = (time.perf_counter() - started) / 5 * 1000
        MAP_ROWS.append((n, label, len(packed), ms, view.total))
        # The outlines the map draws with it (/api/v1/areas?bbox=…): the finest level with
        # at most MAX_IN_VIEW areas in view.
        started = time.perf_counter()
        chosen = set(in_view(codes, levels, boxes, bbox))
        outlines = orjson.dumps(
            {
                "features": [
                    {"id": a.code, "geometry": drawn[a.code], "properties": {"name_zh": a.name_zh}}
                    for a in areas
                    if a.code in chosen
                ]
            }
        )
        packed = gzip.compress(outlines, 5)
        ms = (time.perf_counter() - started) * 1000
        MAP_ROWS.append((n, "  its outlines (/areas)", len(packed), ms, len(chosen)))


def coverage_bench(
    p: Province, demand_points: int, workers: list[int], threads: int | None = None
) -> bool:
    per_cell = max(1, round(demand_points / p.demand_weight.size))
    say(f"splitting {p.demand_weight.size:,} cells into {per_cell} points each ...")
    big = build_province(SEED, cities=len(p.cities), districts=len(p.districts) // len(p.cities),
                         points_per_cell=per_cell)  # fmt: skip
    points = [(r.lon, r.lat) for r in big.resources if r.lon is not None and r.lat is not None]
    supply = Supply.of([x for x, _ in points], [y for _, y in points])
    tree = AreaTree.build(AreaNode(a.code, a.level.value, a.parent_code) for a in big.areas)
    n = big.demand_weight.size
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        say(f"writing {n:,} demand points as GeoParquet ...")
        write_demand(tmp, big.demand_lon, big.demand_lat, big.demand_weight, big.demand_area)
        demand = Demand.of(big.demand_lon, big.demand_lat, big.demand_weight, method="points",
                           source="bench", area=big.demand_area)  # fmt: skip
        timings: list[tuple[str, float, float]] = []

        def timed(label: str, fn: Any) -> Any:
            started = time.perf_counter()
            result = fn()
            timings.append((label, time.perf_counter() - started, rss_mb()))
            say(f"  {label}: {timings[-1][1]:.1f} s")
            return result

        crs = metric_crs_for(float(np.median(supply.lon)))
        tree_kd = cKDTree(np.column_stack(to_metric(supply.lon, supply.lat, crs)))

        def tuned() -> Any:
            x, y = to_metric(big.demand_lon, big.demand_lat, crs)
            d, _ = tree_kd.query(np.column_stack([x, y]), k=1, distance_upper_bound=500, workers=-1)
            return d <= 500

        def tuned_files() -> Any:
            # The same query over the same files, reading only their coordinate columns:
            # what the file-by-file runs are fairly compared with.
            hits = []
            for path in demand_files(tmp):
                xy = pq.read_table(path, columns=["geometry"]).column("geometry").combine_chunks()
                x, y = to_metric(xy.field("x").to_numpy(), xy.field("y").to_numpy(), crs)
                d, _ = tree_kd.query(np.column_stack([x, y]), k=1, distance_upper_bound=500,
                                     workers=-1)  # fmt: skip
                hits.append(d <= 500)
            return np.concatenate(hits)

        base = timed("tuned cKDTree (points in memory, no sums)", tuned)
        base_files = timed("tuned cKDTree reading the same files", tuned_files)
        single = timed("single process, in memory", lambda: coverage(demand, supply, tree, 500))
        files = timed("file by file, in process",
                      lambda: coverage_from_parquet(tmp, supply, tree, 500))  # fmt: skip
        for w in workers:
            from distributed import Client, LocalCluster

            cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=w,
                # As `dask worker` starts by default: the machine's cores shared out.
                threads_per_worker=threads or max(1, (os.cpu_count() or 1) // w),
                processes=True,
                dashboard_address=None,
                silence_logs=50,
            )
            with cluster, Client(cluster) as client:  # type: ignore[no-untyped-call]
                # Workers import the analysis once before the clock starts, as a running
                # cluster would have.
                client.run(_warm)

                def on_dask(c: Any = client) -> Any:
                    return coverage_from_parquet(tmp, supply, tree, 500, client=c)

                n_threads = sum(client.nthreads().values())
                label = f"Dask, {w} worker{'s' if w > 1 else ''}, {n_threads} threads in all"
                on = timed(label, on_dask)
                peak = max(v.get("memory", 0) for v in client.run(_peak).values())
                say(f"    peak worker memory {peak / 2**30:.2f} GB")
            for a, b in ((on, single), (files, single)):
                same = np.array_equal(a.sums.covered, b.sums.covered) and np.array_equal(
                    a.sums.population, b.sums.population
                )
                ok &= same
        print(f"\n## Coverage: {n:,} demand points × {supply.size:,} services at 500 m")
        print(f"covered (tuned cKDTree, points): {int(base.sum()):,}; "
              f"single-process covered population {single.covered_population:,.0f}")  # fmt: skip
        base_s, files_s = timings[0][1], timings[1][1]
        print(f"{'':45s} {'':9s}  × tuned cKDTree (in memory / reading the files)")
        for label, seconds, _ in timings:
            ratios = f"{seconds / base_s:5.2f}  {seconds / files_s:5.2f}"
            print(f"{label:45s} {seconds:7.1f} s  {ratios}")
        assert int(base_files.sum()) == int(base.sum())
        print("identical sums (file by file and Dask vs single process):", "yes" if ok else "NO")
    return ok


def _warm() -> None:
    import geo.parquet_coverage  # noqa: F401


def _peak() -> dict[str, float]:
    """The worker's peak resident memory (VmHWM: unlike ru_maxrss, not inherited from the
    process that started it)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return {"memory": float(line.split()[1]) * 1024.0}
    return {"memory": float("nan")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="2k / 10k documents, 1 M points")
    parser.add_argument("--sizes", help="comma-separated document counts (10000,50000,200000)")
    parser.add_argument("--demand", type=int, help="demand points (10,000,000)")
    parser.add_argument("--workers", default="1,2", help="Dask worker counts (1,2)")
    parser.add_argument("--threads", type=int, help="threads per Dask worker (cores / workers)")
    parser.add_argument("--skip-coverage", action="store_true")
    parser.add_argument("--skip-search", action="store_true")
    args = parser.parse_args(argv)
    default_sizes = "2000,10000" if args.quick else "10000,50000,200000"
    sizes = [int(s) for s in (args.sizes or default_sizes).split(",")]
    demand = args.demand or (1_000_000 if args.quick else 10_000_000)
    print(f"machine: {os.cpu_count()} cores; seed {SEED}")
    ok = True
    if not args.skip_search:
        p = province_for(max(sizes))
        sizes = [min(s, len(p.resources)) for s in sizes]
        rows = search_bench(p, sizes)
        first = rows[0]
        print("\n## Search index (in process)")
        print("docs      build s  CPU s  per-doc vs smallest  +RSS MB  p50 ms  p99 ms  "
              "CPU p50  CPU p99  warm CPU p99  edit→found ms  docs re-indexed  full rebuild s  "
              "edit/rebuild")  # fmt: skip
        for r in rows:
            growth = (r["build_cpu_s"] / r["n"]) / (first["build_cpu_s"] / first["n"])
            share = r["edit_ms"] / 1000 / r["rebuild_s"]
            print(f"{r['n']:<9,} {r['build_s']:7.1f}  {r['build_cpu_s']:5.1f}  {growth:19.2f}  "
                  f"{r['mb']:7.0f}  {r['p50']:6.1f}  {r['p99']:6.1f}  {r['cpu50']:7.1f}  "
                  f"{r['cpu99']:7.1f}  {r['warm99']:12.1f}  {r['edit_ms']:13.1f}  "
                  f"{r['edited']:15.0f}  {r['rebuild_s']:14.1f}  {share:12.4f}")  # fmt: skip
        print("\n## A query's first run in a process (CPU ms; each shape's first, then median)")
        for n, shape, first_ms, median_ms in FIRST_ROWS:
            print(f"{n:<9,} {shape:42s} {first_ms:6.1f}  {median_ms:6.1f}")
        print("\n## Map views (server-side clustering and body, no HTTP)")
        print("docs      view                        gzip KB    ms   in view")
        for n, label, size, ms, total in MAP_ROWS:
            print(f"{n:<9,} {label:27s} {size / 1024:8.1f}  {ms:5.1f}  {total:8,}")
    if not args.skip_coverage:
        p = province_for(DISTRICT_RESOURCES * 20 * 4)
        workers = [int(w) for w in args.workers.split(",") if w]
        ok &= coverage_bench(p, demand, workers, args.threads)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
