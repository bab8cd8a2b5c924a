"""Not collected by a normal run (no ``test_`` prefix): ``tests/project/test_harness.py``
runs it in a pytest subprocess and interrupts it while a PostgreSQL test database exists."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.conftest import Backend


def test_waits_to_be_interrupted(database_url: str, backend: Backend) -> None:
    # The next test's database is copied in the background: ready once that is done, so that
    # no database is still being made when the run is stopped or killed.
    backend.settle()
    Path(os.environ["RESOURCEMAP_PROBE_READY"]).write_text(database_url)
    time.sleep(120)
