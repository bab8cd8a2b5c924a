"""The ``resourcemap`` command: help, migrate, clear errors, and a real server process."""

from __future__ import annotations

import asyncio
import json
import re
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from resourcemap.cli import main
from tests.conftest import TEST_NOW, Backend, _pg_url
from tests.conftest import http_get as _get


def test_help_lists_the_commands() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    commands = ("demo", "serve", "migrate", "import", "export", "worker", "purge", "keygen")
    for command in (*commands, "rotate-keys"):
        assert f"  {command} " in result.output


def test_migrate_creates_the_schema_and_is_repeatable(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESOURCEMAP_DATABASE_URL", database_url)
    for _ in range(2):
        result = CliRunner().invoke(main, ["migrate"])
        assert result.exit_code == 0, result.output
        assert "up to date" in result.output


def test_migrate_on_a_new_sqlite_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "new.sqlite3"
    monkeypatch.setenv("RESOURCEMAP_DATABASE_URL", f"sqlite://{target}")
    result = CliRunner().invoke(main, ["migrate"])
    assert result.exit_code == 0, result.output
    assert target.exists()


def test_bad_setting_is_a_message_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESOURCEMAP_TIMEZONE", "Nowhere/Land")
    result = CliRunner().invoke(main, ["migrate"])
    assert result.exit_code != 0
    assert "RESOURCEMAP_TIMEZONE" in result.output
    assert "Traceback" not in result.output


def test_unreachable_database_is_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESOURCEMAP_DATABASE_URL", "postgres://postgres@127.0.0.1:1/none")
    result = CliRunner().invoke(main, ["migrate"])
    assert result.exit_code == 1
    assert "cannot reach the database" in result.output


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("sqlite://{tmp}/no-such-dir/x.sqlite3", "unable to open database file"),
        ("sqlite://{tmp}", "unable to open database file"),  # a directory
        ("sqlite://{tmp}/notes.txt", "file is not a database"),
        ("sqlite://", "No path specified"),
        ("postgres://postgres@127.0.0.1:notaport/x", "Port is not an integer"),
    ],
)
def test_a_database_url_that_cannot_work_is_a_message_not_a_hang(
    url: str, said: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A path in a missing directory hung every command without a word: the connection's
    # lock stayed taken when the connection could not be made.
    (tmp_path / "notes.txt").write_text("not a database, though the URL says so\n" * 100)
    monkeypatch.setenv("RESOURCEMAP_DATABASE_URL", url.format(tmp=tmp_path))
    for command in (["migrate"], ["user", "token", "someone"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 1, result.output
        assert said in result.output and "RESOURCEMAP_DATABASE_URL" in result.output
        assert "Traceback" not in result.output


def test_a_database_not_there_or_not_migrated_is_a_message(
    postgres_backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESOURCEMAP_DATABASE_URL", _pg_url("resourcemap_no_such_db"))
    result = CliRunner().invoke(main, ["migrate"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert 'database "resourcemap_no_such_db" does not exist' in result.output
    # A database never migrated: the command to run, not "no such table".
    monkeypatch.setenv("RESOURCEMAP_DATABASE_URL", f"sqlite://{tmp_path / 'new.sqlite3'}")
    result = CliRunner().invoke(main, ["user", "token", "someone"])
    assert result.exit_code == 1 and "run `resourcemap migrate` first" in result.output


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("RESOURCEMAP_STREETS_FILE", "{tmp}/streets.geojson", "RESOURCEMAP_STREETS_FILE: no file"),
        ("RESOURCEMAP_HOLIDAYS_FILE", "{tmp}/holidays.csv", "holidays"),
    ],
)
def test_a_file_a_setting_names_is_checked_before_serving(
    name: str, value: str, said: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESOURCEMAP_DATABASE_URL", f"sqlite://{tmp_path / 'never.sqlite3'}")
    monkeypatch.setenv(name, value.format(tmp=tmp_path))
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 1 and said in result.output, result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "never.sqlite3").exists()  # before any work


@pytest.mark.parametrize("command", [["serve"], ["demo"]])
def test_a_busy_port_is_a_message_before_any_work(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "never.sqlite3"
    monkeypatch.setenv("RESOURCEMAP_DATABASE_URL", f"sqlite://{target}")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # The variable rather than --port, which the command exports for its workers: the
        # test's environment is restored afterwards.
        monkeypatch.setenv("RESOURCEMAP_PORT", str(port))
        result = CliRunner().invoke(main, command)
    assert result.exit_code == 1
    assert f"port {port} on 127.0.0.1 is not available" in result.output
    assert "--port or RESOURCEMAP_PORT" in result.output
    assert "Traceback" not in result.output
    assert not target.exists()  # nothing migrated or loaded first


@pytest.mark.parametrize("command", [["serve"], ["demo"]])
def test_a_bad_holidays_file_is_a_message_before_any_work(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "never.sqlite3"
    holidays = tmp_path / "holidays.csv"
    holidays.write_text("date,day\n2027-01-01,holiday\n2027-02-30,workday\n", encoding="utf-8")
    monkeypatch.setenv("RESOURCEMAP_DATABASE_URL", f"sqlite://{target}")
    monkeypatch.setenv("RESOURCEMAP_HOLIDAYS_FILE", str(holidays))
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    monkeypatch.setenv("RESOURCEMAP_PORT", str(port))
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 1
    assert "holidays.csv line 3, column date: '2027-02-30' is not a date" in result.output
    assert "Traceback" not in result.output and "ResourceMap on" not in result.output
    assert not target.exists()  # nothing migrated or loaded first


def test_demo_serves_the_map_and_its_data(demo_server: str) -> None:
    status, html = _get(demo_server + "/")
    assert status == 200
    assert "示例数据：".encode() in html  # the label, in the page's language (#18)
    # The page names the script by its content-hashed name; the plain name answers too.
    [script] = re.findall(rb"/static/vendor/leaflet/leaflet\.[0-9a-f]{10}\.js", html)
    for path in (script.decode(), "/static/vendor/leaflet/leaflet.js"):
        status, _ = _get(demo_server + path)
        assert status == 200, path
    _, raw = _get(demo_server + "/api/v1/resources.geojson")
    features = json.loads(raw)["features"]
    assert len(features) >= 200
    first = features[0]
    _, raw = _get(f"{demo_server}/api/v1/resources/{first['id']}")
    detail = json.loads(raw)
    assert detail["name_zh"] and detail["address_zh"] and detail["phone"]
    assert detail["hours_summary"]["zh"]


def test_the_demo_says_how_to_reach_the_staff_and_planner_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo city has no accounts: it says how to make one (someone trying it found only
    the residents' pages), and stops saying so once there is one."""
    monkeypatch.setenv("RESOURCEMAP_DATABASE_URL", f"sqlite://{tmp_path / 'demo.sqlite3'}")
    monkeypatch.setenv("RESOURCEMAP_DATA_DIR", str(tmp_path))
    first = CliRunner().invoke(main, ["demo", "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "resourcemap user create admin --role admin" in first.output
    made = CliRunner().invoke(main, ["user", "create", "ada", "--role", "admin", "--password",
                                     "a long enough password 42"])  # fmt: skip
    assert made.exit_code == 0, made.output
    again = CliRunner().invoke(main, ["demo", "--no-serve"])
    assert again.exit_code == 0, again.output
    assert "user create" not in again.output


def test_an_operator_lists_accounts_and_sets_a_forgotten_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An administrator locked out, or who forgot the password: the operator sets a new one
    from the command line (no other admin may exist to do it on the accounts page)."""
    monkeypatch.setenv("RESOURCEMAP_DATABASE_URL", f"sqlite://{tmp_path / 'ops.sqlite3'}")
    monkeypatch.setenv("RESOURCEMAP_DATA_DIR", str(tmp_path))
    made = CliRunner().invoke(main, ["user", "create", "ada", "--role", "admin", "--password",
                                     "a long enough password 42"])  # fmt: skip
    assert made.exit_code == 0, made.output
    listed = CliRunner().invoke(main, ["user", "list"])
    assert listed.exit_code == 0 and "ada\tadmin\t-\t-\tactive" in listed.output
    weak = CliRunner().invoke(main, ["user", "password", "ada", "--password", "short"])
    assert weak.exit_code == 1 and "at least 10 characters" in weak.output
    unknown = CliRunner().invoke(main, ["user", "password", "bob", "--password", "x" * 12])
    assert unknown.exit_code == 1 and "user list" in unknown.output
    new = "another long password 7"
    reset = CliRunner().invoke(main, ["user", "password", "ADA", "--password", new])
    assert reset.exit_code == 0, reset.output

    async def signs_in() -> bool:
        from resourcemap import accounts, db

        async with db.database(f"sqlite://{tmp_path / 'ops.sqlite3'}"):
            account = await accounts.authenticate("ada", new, now=TEST_NOW)
        return account.username == "ada"

    assert asyncio.run(signs_in())


def test_an_account_kept_to_an_area_is_made_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A district's planner is kept to the district: before, only the API or the accounts
    page could say so (a planner's walk-through); DataV's 6-digit code is read as 12."""
    url = f"sqlite://{tmp_path / 'area.sqlite3'}"
    monkeypatch.setenv("RESOURCEMAP_DATABASE_URL", url)
    monkeypatch.setenv("RESOURCEMAP_DATA_DIR", str(tmp_path))
    assert CliRunner().invoke(main, ["migrate"]).exit_code == 0

    async def areas() -> None:
        from resourcemap import db
        from resourcemap.models import Area

        async with db.database(url):
            city = await Area.create(code="440300000000", level="city", name_zh="深圳市")
            await Area.create(code="440311000000", level="district", name_zh="光明区", parent=city)

    asyncio.run(areas())
    password = ["--password", "a long enough password 42"]
    made = CliRunner().invoke(
        main, ["user", "create", "gm-planner", "--role", "planner", "--area", "440311", *password]
    )
    assert made.exit_code == 0, made.output
    listed = CliRunner().invoke(main, ["user", "list"])
    assert "gm-planner\tplanner\t-\t440311000000\tactive" in listed.output, listed.output
    unknown = CliRunner().invoke(
        main, ["user", "create", "nowhere", "--role", "planner", "--area", "449999", *password]
    )
    assert unknown.exit_code == 1 and "Traceback" not in unknown.output
    assert "449999000000" in unknown.output, unknown.output


def test_a_data_directory_that_is_a_file_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data").write_text("not a directory")
    monkeypatch.setenv("RESOURCEMAP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RESOURCEMAP_DATABASE_URL", f"sqlite://{tmp_path / 'x.sqlite3'}")
    result = CliRunner().invoke(main, ["migrate"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "RESOURCEMAP_DATA_DIR" in result.output and "is a file, not a directory" in result.output
