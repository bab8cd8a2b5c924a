"""``load_documents``: every listing as a search document, read a batch at a time."""

from __future__ import annotations

import pytest

from resourcemap.models import Resource
from resourcemap.search import documents
from resourcemap.search.base import SearchDocument
from tests.factories import run_in_db, small_city


def test_full_load_reads_every_listing_across_batches(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(documents, "BATCH", 2)  # five listings: three batches

    async def load() -> tuple[list[SearchDocument], list[Resource]]:
        await small_city()
        return await documents.load_documents(), await Resource.all().order_by("id")

    docs, stored = run_in_db(database_url, load)
    assert [d.id for d in docs] == [r.id for r in stored]
    assert docs == [documents.document(r) for r in stored]
