"""The test suite, in folders that mirror the code (``tests/booking`` tests
``resourcemap/booking``, ``tests/web/staff`` the staff pages …); helpers shared by several
folders live here at the top."""

from pathlib import Path

# The repository's root and the tests' data files, wherever a test module sits.
ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
