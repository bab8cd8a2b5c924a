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


def test_a_reload_keeps_the_documents_that_did_not_change(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # After a bulk import the old index answers while the new one is built: listings that
    # did not change are held once, as the same objects, not twice.
    monkeypatch.setattr(documents, "BATCH", 2)

    async def load() -> tuple[list[SearchDocument], list[SearchDocument], int]:
        await small_city()
        first = await documents.load_documents()
        edited = await Resource.all().order_by("id").first()
        assert edited is not None
        edited.name_zh = "新名字心理咨询室"
        await edited.save()
        known = {d.id: d for d in first}
        return first, await documents.load_documents(known=known), edited.id

    first, again, edited_id = run_in_db(database_url, load)
    assert [d.id for d in again] == [d.id for d in first]
    for old, new in zip(first, again, strict=True):
        if old.id == edited_id:
            assert new is not old and new.name_zh == "新名字心理咨询室"
        else:
            assert new is old
