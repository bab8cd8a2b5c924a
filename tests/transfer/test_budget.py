"""What an upload may cost (#15): nothing of it is read for someone who may not send it, and
reading it stops at the import budget (rows, cells, seconds) with 413 and the reason."""

from __future__ import annotations

import io
import itertools
import zipfile
from collections.abc import Iterator, MutableMapping
from typing import Any

import pytest
from openpyxl import Workbook
from starlette.testclient import TestClient

from resourcemap.errors import TooLarge
from resourcemap.models import Resource
from resourcemap.transfer.budget import Budget
from resourcemap.transfer.formats import read_listings
from resourcemap.transfer.hsds_schedules import Zone
from tests.conftest import TEST_NOW
from tests.factories import run_in_db
from tests.transfer_helpers import GOOD_ROWS, HEADER, csv_bytes, transfer_client
from tests.web.api.test_transfer import _sign_in, _upload
from tests.web.api.test_transfer import url as url  # the fixture, re-exported

ZONE = Zone(TEST_NOW.tzinfo, TEST_NOW)  # type: ignore[arg-type]


def _rows(n: int) -> bytes:
    row = GOOD_ROWS[0].split(",", 1)[1]
    return csv_bytes(*(f"room-{i},{row}" for i in range(n)))


def test_reading_stops_at_the_rows_and_cells_of_the_budget() -> None:
    assert len(read_listings(_rows(20), "rooms.csv", ZONE, Budget(rows=21)).candidates) == 20
    with pytest.raises(TooLarge, match="more than 10 rows"):
        read_listings(_rows(20), "rooms.csv", ZONE, Budget(rows=10))
    columns = len(HEADER.split(","))
    with pytest.raises(TooLarge, match="more than 50 cells"):
        read_listings(_rows(20), "rooms.csv", ZONE, Budget(cells=50))
    assert columns * 21 > 50
    # No budget (the command line): no limit.
    assert len(read_listings(_rows(20), "rooms.csv", ZONE).candidates) == 20


def test_reading_stops_when_its_seconds_are_spent() -> None:
    ticks = itertools.count()  # a clock that moves one second per reading

    def ticker() -> float:
        return float(next(ticks))

    with pytest.raises(TooLarge, match="longer than 5 s"):
        read_listings(_rows(20), "rooms.csv", ZONE, Budget(seconds=5, ticker=ticker))


def _xlsx(rows: int, columns: int) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER.split(","))
    for _ in range(rows):
        sheet.append([None] * (columns - 1) + ["x"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_small_workbook_of_many_cells_is_refused_early() -> None:
    """A few KB of XLSX that unpack to a sheet of 100,000 cells: refused by its cells (or by
    its unpacked size) long before they are all read."""
    data = _xlsx(2000, 50)
    assert len(data) < 40_000
    with pytest.raises(TooLarge, match=r"cells|unpack"):
        read_listings(data, "rooms.xlsx", ZONE, Budget(cells=20_000))
    with pytest.raises(TooLarge, match="unpack"):
        read_listings(data, "rooms.xlsx", ZONE, Budget(cells=1_000))


def test_a_zip_of_tables_that_unpacks_beyond_the_budget_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("services.csv", "id,name\n" + "1,a\n" * 200_000)
    with pytest.raises(TooLarge, match="unpack"):
        read_listings(out.getvalue(), "package.zip", ZONE, Budget(cells=1_000))


def test_an_upload_over_the_budget_is_a_413_with_the_reason(url: str) -> None:
    with transfer_client(url, import_max_rows=5) as client:
        csrf = _sign_in(client, "admin")
        refused = _upload(client, csrf, _rows(8))
        assert refused.status_code == 413, refused.text
        assert refused.json()["reason"] == "the file has more than 5 rows; import it in parts"
        assert _upload(client, csrf, _rows(4)).status_code == 200
        # The staff page says it too, in the reader's language.
        page = client.post(
            "/staff/import",
            data={"csrf_token": csrf, "coords": "wgs84"},
            files={"file": ("rooms.csv", _rows(8), "text/csv")},
        )
        assert page.status_code == 413
        assert "请分批导入" in page.text  # one language at a time (#18)
        english = client.post(
            "/staff/import?lang=en",
            data={"csrf_token": csrf, "coords": "wgs84", "lang": "en"},
            files={"file": ("rooms.csv", _rows(8), "text/csv")},
        )
        assert english.status_code == 413 and "more than 5 rows" in english.text
    assert run_in_db(url, lambda: Resource.all().count()) == 4


BOUNDARY = "rm-boundary"
CHUNK = b"x" * 65_536


def _post_counting(
    client: TestClient, path: str, headers: dict[str, str], chunks: int
) -> tuple[int, int]:
    """POST a multipart body of ``chunks`` chunks to the app directly (ASGI); the status and
    how many chunks the app pulled before it answered."""
    pulled = 0
    status = 0
    body: Iterator[bytes] = iter([f"--{BOUNDARY}\r\n".encode()] + [CHUNK] * chunks)

    async def receive() -> MutableMapping[str, Any]:
        nonlocal pulled
        part = next(body, None)
        pulled += part is not None
        return {"type": "http.request", "body": part or b"", "more_body": part is not None}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode()),
            *((k.lower().encode(), v.encode()) for k, v in headers.items()),
        ],
        "state": {},
    }

    async def call() -> None:
        await client.app(scope, receive, send)

    client.portal.call(call)  # type: ignore[union-attr]
    return status, pulled


def _cookie(client: TestClient) -> dict[str, str]:
    return {"cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items())}


@pytest.mark.parametrize("path", ["/api/v1/imports", "/staff/import", "/planning/siting"])
def test_nothing_of_an_upload_is_read_before_the_sender_is_known(url: str, path: str) -> None:
    """5 MB sent by nobody, or by someone who may not upload there: answered from the
    headers, not one chunk read (so none spooled to disk)."""
    with transfer_client(url) as client:
        status, pulled = _post_counting(client, path, {}, chunks=80)
        assert status in (401, 303) and pulled == 0, (status, pulled)
        _sign_in(client, "planner" if path != "/planning/siting" else "staff")
        status, pulled = _post_counting(client, path, _cookie(client), chunks=80)
        assert status == 403 and pulled == 0, (status, pulled)
        bearer = {"authorization": "Bearer not-a-token"}
        status, pulled = _post_counting(client, path, bearer, chunks=80)
        assert status in (401, 303) and pulled == 0, (status, pulled)
