"""What a fresh machine gets: the wheel ships assets and migrations; compose is valid."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from tests import ROOT


def test_wheel_ships_templates_static_assets_and_migrations(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
    )
    (wheel,) = tmp_path.glob("resourcemap-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "web/static/vendor/leaflet/leaflet.js",
        "web/static/vendor/leaflet/leaflet.css",
        "web/static/map.js",
        "web/templates/resident/home.html",
        "web/static/vendor/markercluster/leaflet.markercluster.js",
        "resourcemap/locale/zh_CN/LC_MESSAGES/messages.mo",
        "resourcemap/locale/en/LC_MESSAGES/messages.mo",
        "web/templates/staff/form.html",
        "web/static/pick.js",
        "resourcemap/migrations/0001_initial.py",
        "resourcemap/migrations/0002_postgis.py",
        "resourcemap/py.typed",
    ):
        assert required in names, required
    assert not any(n.startswith("tests/") for n in names)


def _compose() -> list[str] | None:
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


COMPOSE = _compose()
needs_compose = pytest.mark.skipif(
    COMPOSE is None, reason="no docker compose client installed (.ci/run installs docker-compose)"
)
SECRETS = {
    "POSTGRES_PASSWORD": "pw-for-config-check",
    "MEILI_MASTER_KEY": "meili-key-for-config-check",
    "RESOURCEMAP_SECRET_KEY": "x" * 40,
    "RESOURCEMAP_DATA_KEYS": "k" * 43 + "=",
    "RESOURCEMAP_PUBLIC_URL": "https://resourcemap.example.cn",
}


def _run_compose(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    assert COMPOSE is not None
    clean = {k: v for k, v in os.environ.items() if k not in SECRETS}
    return subprocess.run(
        [*COMPOSE, "-f", str(ROOT / "docker-compose.yml"), *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


@needs_compose
def test_compose_file_is_valid_and_describes_production() -> None:
    assert _run_compose("config", "-q", env=SECRETS).returncode == 0
    services = set(_run_compose("config", "--services", env=SECRETS).stdout.split())
    dask = {"dask-scheduler", "dask-worker"}  # profile "dask": province coverage (#22)
    core = {"db", "meilisearch", "migrate", "app"}
    # docker-compose 1.x lists every profile's services too.
    assert core <= services <= {*core, *dask, "redis"}
    with_dask = _run_compose("--profile", "dask", "config", "--services", env=SECRETS).stdout
    assert dask <= set(with_dask.split())
    with_redis = _run_compose("--profile", "redis", "config", "--services", env=SECRETS).stdout
    assert "redis" in with_redis.split()
    # One image for the app, its migration and the Dask services: the app can reach the
    # cluster (it needs the Dask client) and the workers run the app's own functions.
    built = yaml.safe_load(_run_compose("--profile", "dask", "config", env=SECRETS).stdout)
    builds = [built["services"][name]["build"] for name in ("migrate", "app", *sorted(dask))]
    assert all(b == builds[0] for b in builds)
    assert builds[0]["args"] == {"EXTRAS": "cluster"}
    rendered = _run_compose("config", env=SECRETS).stdout
    assert "postgis/postgis" in rendered
    assert "RESOURCEMAP_ENVIRONMENT: production" in rendered
    # The app reads the demand where the shared volume is mounted (the Dask workers' too).
    assert "RESOURCEMAP_DEMAND_DATASET: /demand" in rendered


COMPOSE_VARIABLE = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


def _as_compose_passes(value: object, given: dict[str, str]) -> str:
    """``${VAR:-default}``, ``${VAR-default}`` and ``${VAR:?message}`` as compose fills them
    in with only ``given`` set."""

    def filled(match: re.Match[str]) -> str:
        name, operator, rest = match.groups()
        if name in given:
            return given[name]
        assert operator in (":-", "-"), f"{name} is required: {rest}"
        return rest

    return COMPOSE_VARIABLE.sub(filled, str(value))


def test_every_compose_setting_is_one_the_app_reads_and_accepts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The compose file's settings are the app's own names (a misspelt one is silently
    ignored), and as compose passes them with only the required secrets given (every
    variable it names, empty ones too) the app's settings accept them."""
    import secrets

    from resourcemap.settings import Settings
    from resourcemap.vault import generate_key

    given = {
        **SECRETS,
        "RESOURCEMAP_SECRET_KEY": secrets.token_urlsafe(32),
        "RESOURCEMAP_DATA_KEYS": generate_key(),
    }
    env = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["x-resourcemap-env"]
    known = {f"RESOURCEMAP_{name.upper()}" for name in Settings.model_fields}
    assert set(env) <= known, set(env) - known
    # What an operator sets for a city: its holidays, its tiles, its mail server.
    for name in ("HOLIDAYS_FILE", "TIMEZONE", "TILE_ATTRIBUTION", "LOG_LEVEL", "SMTP_PORT"):
        assert f"RESOURCEMAP_{name}" in env
    for name in [n for n in os.environ if n.startswith("RESOURCEMAP_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, _as_compose_passes(value, given))
    settings = Settings(_env_file=None)
    assert settings.holidays_file is None and settings.map_attribution_prefix == "Leaflet"


@needs_compose
def test_compose_refuses_to_start_without_secrets() -> None:
    result = _run_compose("config", "-q", env={})
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr or "set it" in result.stderr


def test_the_image_installs_from_a_hashed_lock_that_fits_pyproject() -> None:
    """The Dockerfile's dependencies are pinned with hashes (#15): every dependency
    pyproject.toml names is in each lock at a version it allows, and every pin has a hash."""
    import tomllib

    from packaging.requirements import Requirement

    root = ROOT
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    wanted = {"requirements.lock": project["dependencies"]}
    extras = project["optional-dependencies"]
    wanted["requirements-cluster.lock"] = project["dependencies"] + extras["dask"] + extras["redis"]
    for name, requirements in wanted.items():
        text = (root / name).read_text()
        pins = dict(
            re.findall(r"^([a-z0-9._-]+)==(\S+) \\\n\s+--hash=sha256:[0-9a-f]{64}$", text, re.M)
        )
        assert len(pins) == text.count("==") and pins, name
        for line in requirements:
            requirement = Requirement(line)
            key = requirement.name.lower().replace("_", "-")
            found = pins.get(key) or pins.get(key.replace("-", "_"))
            assert found is not None, f"{name}: {requirement.name} is not locked"
            assert requirement.specifier.contains(found, prereleases=True), (name, line, found)
    dockerfile = (root / "Dockerfile").read_text()
    assert "--require-hashes -r" in dockerfile and "pip install --no-deps" in dockerfile


def test_no_file_the_repository_ignores_is_committed() -> None:
    """A generated secrets file (``.resourcemap-secrets.json``) once slipped into a commit:
    every fresh clone then signed sessions with the same, public key. Whatever .gitignore
    names (secrets, databases, builds) must never be tracked."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    tracked_but_ignored = subprocess.run(
        ["git", "ls-files", "--cached", "--ignored", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert tracked_but_ignored == []
