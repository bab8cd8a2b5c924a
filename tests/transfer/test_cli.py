"""``resourcemap import`` and ``resourcemap export``: reports, exit codes, messages."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from shapely.geometry import box

from resourcemap.cli import main
from resourcemap.cli.transfer import PROGRESS_MIN_ROWS
from resourcemap.models import Area, Resource
from tests.factories import run_in_db
from tests.transfer_helpers import EAST, GOOD_ROWS, city_areas, csv_bytes


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("RESOURCEMAP_DATABASE_URL", database_url)
    return CliRunner()


def test_import_dry_run_then_import_then_export(
    cli: CliRunner, database_url: str, tmp_path: Path
) -> None:
    run_in_db(database_url, city_areas)
    path = tmp_path / "rooms.csv"
    path.write_bytes(csv_bytes(*GOOD_ROWS))

    dry = cli.invoke(main, ["import", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "dry run: all 2 listings are valid (2 would be created, 0 updated)" in dry.output
    assert run_in_db(database_url, lambda: Resource.all().count()) == 0

    done = cli.invoke(main, ["import", str(path)])
    assert done.exit_code == 0, done.output
    assert "imported 2 listings: 2 created, 0 updated" in done.output
    again = cli.invoke(main, ["import", str(path)])
    # The same file again changes nothing, and says so.
    assert "imported 2 listings: 0 created, 0 updated, 2 unchanged" in again.output

    exported = cli.invoke(main, ["export", "--format", "geojson"])
    assert exported.exit_code == 0, exported.output
    names = {f["properties"]["name_zh"] for f in json.loads(exported.stdout)["features"]}
    assert names == {"东湖社区心理咨询室", "西山社区心理咨询室"}

    out = tmp_path / "listings.xlsx"
    written = cli.invoke(main, ["export", "--format", "xlsx", "--out", str(out)])
    assert written.exit_code == 0, written.output
    sheet = load_workbook(out).active
    assert sheet is not None and sheet.max_row == 3


def test_rejected_rows_exit_1_with_row_column_reason(
    cli: CliRunner, database_url: str, tmp_path: Path
) -> None:
    run_in_db(database_url, city_areas)
    path = tmp_path / "rooms.csv"
    bad = f"room-9,castle,城堡,,counselling,22.70,114.00,{EAST},Mon 9-12,"
    path.write_bytes(csv_bytes(GOOD_ROWS[0], bad))
    result = cli.invoke(main, ["import", str(path)])
    assert result.exit_code == 1
    assert "row 3, kind: 'castle' is not a known code" in result.output
    assert "row 3, hours: '9-12' is not a time range like 09:00-12:00" in result.output
    assert "nothing was written" in result.output
    assert "Traceback" not in result.output
    assert run_in_db(database_url, lambda: Resource.all().count()) == 0


def test_gcj02_option_and_unreadable_files(
    cli: CliRunner, database_url: str, tmp_path: Path
) -> None:
    run_in_db(database_url, city_areas)
    path = tmp_path / "rooms.csv"
    path.write_bytes(csv_bytes(*GOOD_ROWS))
    result = cli.invoke(main, ["import", str(path), "--coords", "gcj02"])
    assert result.exit_code == 0, result.output
    room = run_in_db(database_url, lambda: Resource.get(external_id="room-1"))
    assert room.lon < 114.005 and room.lat > 22.705  # shifted back from GCJ-02

    broken = tmp_path / "rooms.xlsx"
    broken.write_bytes(b"PK\x03\x04 broken")
    result = cli.invoke(main, ["import", str(broken)])
    assert result.exit_code == 1
    assert "file: not a readable XLSX workbook" in result.output
    assert "Traceback" not in result.output
    result = cli.invoke(main, ["import", str(tmp_path / "missing.csv")])
    assert result.exit_code == 2 and "does not exist" in result.output
    result = cli.invoke(main, ["export"])
    assert result.exit_code == 2 and "--format" in result.output


def test_import_areas_from_a_geopackage(cli: CliRunner, database_url: str, tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        [
            {"code": "449900000000", "level": "city", "name_zh": "测试市", "parent": None},
            {"code": "449901000000", "level": "district", "name_zh": "测试区", "parent": None},
        ],
        geometry=[box(113.9, 22.7, 114.0, 22.8)] * 2,
        crs="EPSG:4326",
    ).assign(population=[100, 100])
    path = tmp_path / "areas.gpkg"
    frame.to_crs("EPSG:3857").to_file(path, driver="GPKG")
    result = cli.invoke(main, ["import", str(path), "--areas"])
    assert result.exit_code == 1
    assert "row 2, parent: a district needs its city's code" in result.output
    frame.loc[1, "parent"] = "449900000000"
    frame.to_crs("EPSG:3857").to_file(path, driver="GPKG")
    result = cli.invoke(main, ["import", str(path), "--areas"])
    assert result.exit_code == 0, result.output
    assert "imported 2 areas: 2 created, 0 updated" in result.output
    assert run_in_db(database_url, lambda: Area.all().count()) == 2


def test_large_files_show_a_progress_bar(cli: CliRunner, database_url: str, tmp_path: Path) -> None:
    run_in_db(database_url, city_areas)
    rows = [
        f"bulk-{i},community_room,社区心理咨询室{i},,counselling,22.705,114.005,{EAST},,"
        for i in range(PROGRESS_MIN_ROWS)
    ]
    path = tmp_path / "bulk.csv"
    path.write_bytes(csv_bytes(*rows))
    result = cli.invoke(main, ["import", str(path)])
    assert result.exit_code == 0, result.output
    assert "writing listings" in result.stderr
    assert f"imported {PROGRESS_MIN_ROWS} listings" in result.stdout
