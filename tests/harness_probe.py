"""Not collected by a normal run (no ``test_`` prefix): ``tests/project/test_harness.py``
runs it in a pytest subprocess and interrupts it while a PostgreSQL test database exists."""

from __future__ import annotations

import os
import time
from pathlib import Path


def test_waits_to_be_interrupted(database_url: str) -> None:
    Path(os.environ["RESOURCEMAP_PROBE_READY"]).write_text(database_url)
    time.sleep(120)
