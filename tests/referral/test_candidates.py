"""The services a referral can go to (#23), on SQLite and PostgreSQL: those the resident can
use first, the services dedicated to the need among them even when farther than general
ones, members-only places left out (or, asked for, after them and marked), distances from
the referring service."""

from __future__ import annotations

from typing import Any

import pytest

from geo.distance import geodesic_m
from resourcemap import db
from resourcemap.accounts import Principal
from resourcemap.errors import InvalidInput
from resourcemap.models import Account, Resource
from resourcemap.referral import directory
from resourcemap.vocab import Eligibility, ResourceKind, Role
from tests.referral_helpers import KANGLE, crowded_city


@pytest.mark.anyio
async def test_candidates_for_school_refusal_lead_with_the_public_minors_centres(
    database_url: str,
) -> None:
    async with db.database(database_url):
        ids = await crowded_city()
        found = await directory.candidates(ids["other_staff"], ids["kangle"], "school_refusal")
        listed = [c.id for c in found.items]
        assert len(listed) == directory.MAX_CANDIDATES
        # The two minors' guidance centres lead, nearest first, though twenty public
        # counselling places and twelve school rooms are nearer.
        assert listed[:2] == [ids["centre"], ids["second_centre"]]
        assert all(c.dedicated for c in found.items[:2])
        assert not any(c.dedicated for c in found.items[2:])
        # School rooms take only their own students: none is offered, all are counted.
        assert not set(listed) & {*ids["schools"], ids["school"], ids["local_there"]}
        assert not any(c.members_only for c in found.items)
        assert found.members_only_left_out == 14
        # The station for local residents of the room's own street is usable, and says so.
        here = next(c for c in found.items if c.id == ids["local_here"])
        assert here.eligibility is Eligibility.AREA_RESIDENTS and not here.members_only
        # Then nearest first: the station, then the public centres outwards.
        assert listed[2:] == [ids["local_here"], *ids["public"][:17]]
        metres = [c.distance_m for c in found.items[2:]]
        assert all(m is not None for m in metres) and metres == sorted(metres)  # type: ignore[type-var]
        centre = found.items[0]
        expected = float(geodesic_m(*KANGLE, [22.706], [114.006])[0])
        assert centre.reach == "walk" and centre.distance_m == pytest.approx(expected, abs=1)
        assert 5_700 < expected < 5_900


@pytest.mark.anyio
async def test_members_only_places_come_after_the_others_marked_when_asked_for(
    database_url: str,
) -> None:
    async with db.database(database_url):
        ids = await crowded_city()
        actor = ids["other_staff"]
        plain = await directory.candidates(actor, ids["kangle"], "school_refusal")
        found = await directory.candidates(
            actor, ids["kangle"], "school_refusal", members_only=True
        )
        usable, members = found.items[:20], found.items[20:]
        assert usable == plain.items
        assert len(members) == directory.MAX_MEMBERS_ONLY
        assert all(c.members_only for c in members)
        # The nearest of them, each with who it serves.
        assert [c.id for c in members] == [ids["schools"][n] for n in range(5)] + [
            ids["local_there"],
            *ids["schools"][5:9],
        ]
        school = members[0]
        assert school.eligibility is Eligibility.STUDENTS
        assert school.eligibility_note_zh == "仅限本校学生及家长"
        assert school.distance_m == pytest.approx(103, abs=1)
        assert found.members_only_left_out == 4


@pytest.mark.anyio
async def test_candidates_answer_the_need_and_refuse_an_unknown_one(database_url: str) -> None:
    async with db.database(database_url):
        ids = await crowded_city()
        actor = ids["other_staff"]
        found = await directory.candidates(actor, ids["kangle"], "anxiety")
        # Anxiety names no kind: nothing is dedicated, and the list is nearest first.
        assert not any(c.dedicated for c in found.items)
        assert found.items[0].id == ids["local_here"]
        assert ResourceKind.HOTLINE not in {c.kind for c in found.items}
        assert ids["kangle"] not in {c.id for c in found.items}
        with pytest.raises(InvalidInput):
            await directory.candidates(actor, ids["kangle"], "moon")


@pytest.mark.anyio
async def test_the_demo_city_refers_a_pupil_from_kangle_to_its_minors_centres(
    demo_url: str,
) -> None:
    """The walk-through: 厌学 from 康乐社区心理咨询室 offered school rooms that take only
    their own pupils, and not the district's two public minors' centres."""
    async with db.database(demo_url):
        admin = Principal.of(await Account.create(username="a", password_hash="x", role=Role.ADMIN))
        kangle = await Resource.get(name_zh="康乐社区心理咨询室")
        centres = await Resource.filter(
            kind=ResourceKind.MINORS_CENTRE, eligibility=Eligibility.PUBLIC
        ).values_list("id", flat=True)
        assert len(centres) >= 2
        found = await directory.candidates(admin, kangle.id, "school_refusal")
        listed = [c.id for c in found.items]
        assert set(listed[: len(centres[:3])]) <= set(centres)
        assert not any(c.members_only for c in found.items)
        assert ResourceKind.SCHOOL_ROOM not in {c.kind for c in found.items}
        assert found.members_only_left_out > 12
        assert all(c.distance_m is not None and c.distance_m > 0 for c in found.items)


@pytest.mark.anyio
@pytest.mark.parametrize("need", ["school_refusal", "anxiety", ""])
@pytest.mark.parametrize("members_only", [False, True])
async def test_reading_around_the_service_gives_the_list_reading_everything_would(
    demo_url: str, monkeypatch: pytest.MonkeyPatch, need: str, members_only: bool
) -> None:
    """Listings are read around the referring service, wider step by step (#22: a
    province's 200,000 took 14 s a call); the list, its order and the members-only count
    are those of one read of every listing."""
    async with db.database(demo_url):
        admin = Principal.of(await Account.create(username="a", password_hash="x", role=Role.ADMIN))
        origins = await Resource.filter(kind=ResourceKind.COMMUNITY_ROOM).order_by("id").limit(4)
        read: list[int] = []
        rows = directory._located

        async def counted(*args: Any) -> list[Any]:
            found = await rows(*args)
            read.append(len(found))
            return found

        monkeypatch.setattr(directory, "_located", counted)
        stepped = [
            await directory.candidates(admin, o.id, need, members_only=members_only)
            for o in origins
        ]
        steps = list(read)
        monkeypatch.setattr(directory, "WINDOWS_M", (10_000_000.0,))  # everything at once
        whole = [
            await directory.candidates(admin, o.id, need, members_only=members_only)
            for o in origins
        ]
    assert stepped == whole
    assert all(len(c.items) >= directory.MAX_CANDIDATES for c in stepped)
    # The first reads held a part of the city: they were enough for some services.
    everything = read[-1]
    assert min(steps) < everything / 2


@pytest.mark.anyio
async def test_a_service_beyond_the_widest_step_is_not_a_referrals(database_url: str) -> None:
    """A minors' centre 40 km away is another district's: the list is of what is near."""
    async with db.database(database_url):
        ids = await crowded_city()
        far = await Resource.create(
            kind="minors_centre",
            name_zh="远方未成年人中心",
            services=["counselling"],
            audiences=["children", "adolescents"],
            lat=KANGLE[0] + 0.36,  # ~40 km north
            lon=KANGLE[1],
        )
        found = await directory.candidates(ids["other_staff"], ids["kangle"], "school_refusal")
        listed = [c.id for c in found.items]
        assert far.id not in listed
        assert listed[:2] == [ids["centre"], ids["second_centre"]]
        assert len(listed) == directory.MAX_CANDIDATES


@pytest.mark.anyio
async def test_an_urgent_referral_shows_three_lines_with_a_number(database_url: str) -> None:
    async with db.database(database_url):
        lines = [
            await Resource.create(kind="hotline", name_zh=f"热线{n}", phone=phone)
            for n, phone in enumerate(["", "12356", "400-161-9995", "12320", "010-82951332"])
        ]
        await Resource.filter(id=lines[2].id).update(status="suspended")
        shown = await directory.crisis_lines()
    # The first without a number and the suspended one are passed over, not left short.
    assert [line.phone for line in shown] == ["12356", "12320", "010-82951332"]
