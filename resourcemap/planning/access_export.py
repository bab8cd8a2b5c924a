"""Access reports as the API gives them: JSON per area, CSV per grid cell."""

from __future__ import annotations

import csv
import io

from geo.access import DistanceDecay
from resourcemap.cells import guarded_row
from resourcemap.planning.access import AccessReport


def report_json(report: AccessReport) -> dict[str, object]:
    """The report as the API gives it: per area, the three figures and their counts."""
    q = report.query
    decay = DistanceDecay.luo_qi(q.catchment_m)

    def share(value: float | None) -> float | None:
        return None if value is None else round(value, 4)

    return {
        "level": str(q.level),
        "now": report.now.isoformat(),
        "supply": q.supply.value,
        "unit": f"{report.unit} per 1,000 residents",
        "catchment_m": q.catchment_m,
        "steps": {"edges_m": [round(e, 1) for e in decay.edges_m], "weights": list(decay.weights)},
        "radius_m": q.radius_m,
        "kinds": [k.value for k in q.kinds],
        "demand": {"method": report.demand_method, "source": report.demand_source},
        "totals": {
            "population": round(report.population, 1),
            "access": None if report.access is None else round(report.access, 4),
            "supply": round(report.supply_total, 1),
            "services": report.services,
            "evening_services": report.evening_services,
            "evening_share": share(report.evening_share),
        },
        "areas": [
            {
                "code": r.code,
                "name": r.name,
                "population": round(r.population, 1),
                "access": None if r.access is None else round(r.access, 4),
                "no_service_share": share(r.no_service_share),
                "evening_share": share(r.evening_share),
                "waiting": {
                    "median_days": None
                    if r.waiting.median_days is None
                    else round(r.waiting.median_days, 2),
                    "beyond_horizon": r.waiting.beyond_horizon,
                    "bookable_services": r.waiting.services,
                    "with_free_slot": r.waiting.with_free_slot,
                    "horizon_days": r.waiting.horizon_days,
                },
            }
            for r in report.rows
        ],
    }


def cells_csv(report: AccessReport) -> str:
    """Access per demand point (grid cell): where, how many live there, their access."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["lon", "lat", "area", "population", f"access_per_1000 ({report.unit})"])
    d = report.cells
    for x, y, a, w, v in zip(
        d.lon.tolist(), d.lat.tolist(), d.area.tolist(), d.weight.tolist(),
        report.cell_access.tolist(), strict=True,
    ):  # fmt: skip
        writer.writerow(guarded_row([f"{x:.6f}", f"{y:.6f}", a, f"{w:g}", f"{v:.6g}"]))
    return out.getvalue()
