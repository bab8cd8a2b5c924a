"""`resourcemap coverage --demand-parquet` (#22): the province's GeoParquet demand, computed by
a real `dask scheduler` + `dask worker` when RESOURCEMAP_DASK_SCHEDULER is set, giving the
same table as the command's own process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from resourcemap.cli import main
from resourcemap.demo.province_load import ProvinceSize, load_demo_province
from tests.conftest import _free_port
from tests.factories import run_in_db


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A Dask scheduler and one worker process on this machine, stopped afterwards."""
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    address = f"tcp://127.0.0.1:{_free_port()}"
    port = address.rsplit(":", 1)[1]
    dask = [sys.executable, "-m", "dask"]
    started = [
        subprocess.Popen(
            [*dask, "scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    started.append(
        subprocess.Popen(
            [*dask, "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    )
    try:
        from distributed import Client

        with Client(address, timeout=60) as client:  # type: ignore[no-untyped-call]
            client.wait_for_workers(1, timeout=60)
        yield address
    finally:
        for process in reversed(started):
            process.terminate()
            process.wait(timeout=30)


def _coverage(url: str, demand: Path, out: Path, scheduler: str = "") -> str:
    result = CliRunner().invoke(
        main,
        [
            *("coverage", "--demand-parquet", str(demand), "--level", "district"),
            *("--out", str(out)),
        ],
        env={"RESOURCEMAP_DATABASE_URL": url, "RESOURCEMAP_DASK_SCHEDULER": scheduler},
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_the_cluster_computes_the_same_table(
    database_url: str, tmp_path: Path, scheduler: str
) -> None:
    demand = tmp_path / "demand"
    run_in_db(database_url, lambda: load_demo_province(3, ProvinceSize(2, 1), demand))
    here = _coverage(database_url, demand, tmp_path / "here.csv")
    there = _coverage(database_url, demand, tmp_path / "there.csv", scheduler)
    assert "computed by this process" in here
    assert "computed by 1 Dask workers" in there
    table = (tmp_path / "there.csv").read_text(encoding="utf-8")
    assert table == (tmp_path / "here.csv").read_text(encoding="utf-8")
    rows = table.splitlines()
    assert rows[0].startswith("code,name,level,population,covered")
    assert len(rows) == 3  # two districts
    assert "of 2,200,000 residents" in there


def test_a_table_only(database_url: str, tmp_path: Path) -> None:
    tmp_path.joinpath("d").mkdir()
    result = CliRunner().invoke(
        main,
        ["coverage", "--demand-parquet", str(tmp_path / "d"), "--out", str(tmp_path / "x.html")],
        env={"RESOURCEMAP_DATABASE_URL": database_url},
    )
    assert result.exit_code == 2 and "--out FILE.csv" in result.output
