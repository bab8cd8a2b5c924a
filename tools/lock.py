"""Write the hashed lock files the Dockerfile installs from (``pip install --require-hashes``).

pip resolves the project's dependencies for this interpreter and platform (CPython 3.11,
manylinux x86-64: the ``python:3.11-slim`` image's) without installing anything, and its
report gives each file's sha256; a changed or substituted wheel then fails the image build.

    python tools/lock.py   rewrite requirements.lock and requirements-cluster.lock
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCKS = {"": ROOT / "requirements.lock", "cluster": ROOT / "requirements-cluster.lock"}
HEADER = "# Written by tools/lock.py from pyproject.toml; do not edit by hand.\n"


def resolve(extras: str) -> list[tuple[str, str, str]]:
    """(name, version, sha256) of every package ``pip install .[extras]`` would install."""
    target = f"{ROOT}[{extras}]" if extras else str(ROOT)
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
             "--quiet", "--report", str(report), target],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        found = json.loads(report.read_text())["install"]
    out = []
    for item in found:
        name = item["metadata"]["name"]
        if name == "resourcemap":
            continue
        digest = item["download_info"]["archive_info"]["hashes"]["sha256"]
        out.append((name.lower(), item["metadata"]["version"], digest))
    return sorted(out)


def render(pins: list[tuple[str, str, str]]) -> str:
    return HEADER + "".join(f"{n}=={v} \\\n    --hash=sha256:{h}\n" for n, v, h in pins)


def main() -> None:
    for extras, path in LOCKS.items():
        path.write_text(render(resolve(extras)))
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
