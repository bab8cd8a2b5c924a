"""Update the message catalogues: extract, merge into each locale, compile ``.mo``.

``make messages`` runs this. Translations are edited in ``resourcemap/locale/*/LC_MESSAGES/*.po``;
the compiled ``.mo`` files are committed so that ``pip install .`` ships them without a
build step (``tests/web/test_i18n.py`` fails when they are stale or a translation is missing).
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).parents[1]
LOCALES = ROOT / "resourcemap" / "locale"
POT = LOCALES / "messages.pot"
# A fixed date in the headers, so that the committed files change only when texts do.
STAMP = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def main() -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_",
            "-k",
            "gettext",
            "-k",
            "N_",
            "-k",
            "pN_:1c,2",
            "-k",
            "ngettext:1,2",
            "--no-location",
            "--sort-output",
            "--omit-header",
            "-o",
            str(POT),
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    with POT.open("rb") as f:
        template = read_po(f)
    for locale in ("zh_CN", "en"):
        po_path = LOCALES / locale / "LC_MESSAGES" / "messages.po"
        po_path.parent.mkdir(parents=True, exist_ok=True)
        if po_path.exists():
            with po_path.open("rb") as f:
                catalog = read_po(f, locale=locale)
        else:
            catalog = read_po(POT.open("rb"), locale=locale)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.creation_date = catalog.revision_date = STAMP
        with po_path.open("wb") as f:
            write_po(
                f, catalog, omit_header=True, sort_output=True, ignore_obsolete=True, width=100
            )
        with po_path.with_suffix(".mo").open("wb") as f:
            write_mo(f, catalog)


if __name__ == "__main__":
    main()
