"""Message catalogues: every text translated, compiled files current, formats per locale."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from bs4 import BeautifulSoup

from tests import ROOT
from tests.html_helpers import text_of
from tests.web.api.test_planning import sign_in
from tests.web.api.test_planning import url as url  # the demo city with a planner, re-exported
from tests.web.test_english_pages import CJK, stray_chinese
from web import i18n

LOCALE = ROOT / "resourcemap" / "locale"
PLACEHOLDER = re.compile(r"%\(\w+\)s")


def _extracted() -> set[str]:
    method_map = [
        ("web/**.py", "python"),
        ("resourcemap/**.py", "python"),
        ("web/templates/**.html", "jinja2"),
    ]
    options = {"web/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    keywords: dict[str, Any] = {
        "_": None,
        "gettext": None,
        "ngettext": (1, 2),
        "N_": None,
        "pN_": ((1, "c"), 2),
    }
    found: set[str] = set()
    for _file, _line, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options, keywords=keywords
    ):
        found.add(_key(context, message if isinstance(message, str) else message[0]))
    return found


def _key(context: str | None, message: str) -> str:
    """A message's key as gettext spells it: a vocabulary's words carry their context."""
    return f"{context}\x04{message}" if context else message


def _po(locale: str) -> dict[str, str]:
    with (LOCALE / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return {_key(m.context, str(m.id)): str(m.string) for m in read_po(f) if m.id}


def test_every_text_in_the_code_is_in_the_chinese_catalogue_and_translated() -> None:
    zh = _po("zh_CN")
    missing = sorted(_extracted() - zh.keys())
    assert not missing, f"run `make messages` and translate: {missing}"
    untranslated = sorted(k for k, v in zh.items() if not v)
    assert not untranslated, untranslated


# Examples of what an import file may say in Chinese are data, marked with their language.
CHINESE_EXAMPLE = re.compile(r'<code lang="zh-CN">.*?</code>', re.S)


def test_templates_say_their_words_through_the_catalogues() -> None:
    """No Chinese written into a template: its words are gettext messages, so the page is
    in one language and the Chinese is where translators look for it."""
    for template in sorted((ROOT / "web" / "templates").glob("**/*.html")):
        text = re.sub(r"\{#.*?#\}", "", template.read_text(encoding="utf-8"), flags=re.S)
        text = CHINESE_EXAMPLE.sub("", text)
        assert not re.findall(r"[\u4e00-\u9fff]+", text), template.relative_to(ROOT)


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_compiled_catalogues_match_their_sources(locale: str) -> None:
    """The .mo files are committed (so `pip install .` ships them): they must be current."""
    po = _po(locale)
    with (LOCALE / locale / "LC_MESSAGES" / "messages.mo").open("rb") as f:
        mo = {_key(m.context, str(m.id)): str(m.string) for m in read_mo(f) if m.id}
    assert {k: v for k, v in po.items() if v} == mo


def test_placeholders_survive_translation() -> None:
    for msgid, text in _po("zh_CN").items():
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(text)), msgid


def test_dates_and_distances_follow_the_language() -> None:
    day = dt.date(2026, 12, 2)
    i18n.activate(i18n.ZH)
    assert (i18n.day_label(day), i18n.distance(349), i18n.distance(1260)) == (
        "12月2日周三",
        "350米",
        "1.3公里",
    )
    # Just under a kilometre rounds to one: "1公里", not "1,000米".
    assert (i18n.distance(994), i18n.distance(996), i18n.distance(1004)) == (
        "990米",
        "1公里",
        "1公里",
    )
    i18n.activate(i18n.EN)
    try:
        assert (i18n.day_label(day), i18n.distance(349), i18n.distance(1260)) == (
            "Wed, Dec 2",
            "350 m",
            "1.3 km",
        )
        assert i18n.clock(dt.time(14, 30)).startswith("2:30")
    finally:
        i18n.activate(i18n.DEFAULT)


PLANNING_PAGES = (
    "/planning",
    "/planning/indicators",
    "/planning/access",
    "/planning/siting",
    "/planning/jobs",
)


def test_planning_pages_in_english_leave_no_chinese_chrome(
    url: str, make_client: Callable[..., Any]
) -> None:
    """In English, a planning page's own words are English (#18); Chinese remains only where
    it is data marked as such (the areas' names, lang="zh-CN")."""
    with make_client(url) as client:
        headers = sign_in(client, "planner")
        client.get("/planning", params={"lang": "en"})  # remembered in the cookie from now on
        pages = {path: client.get(path) for path in PLANNING_PAGES}
        pages["siting result"] = client.post(
            "/planning/siting", data={"csrf_token": headers["X-CSRF-Token"], "sites": "2"}
        )
        pages["report"] = client.get("/api/v1/coverage/report.html")
    for name, response in pages.items():
        assert response.status_code == 200, name
        assert stray_chinese(response.text) == [], name
        if name in ("/planning/siting", "/planning/jobs"):
            continue  # no area named there
        page = BeautifulSoup(response.text, "html.parser")
        names = [e for e in page.select("[lang^=zh]") if not e.find_parent(class_="lang-switch")]
        rows = [e.get_text() for e in page.select("th[scope=row] .area-name")]
        # The areas' names are there: in English where the areas have English names (the
        # tables' rows), else marked as Chinese.
        assert names or rows, name
        assert not [n for n in rows if CJK.search(n)], (name, rows)
    # Planners get the seed that names the data (residents are told only that it is made up).
    assert "Synthetic demo data · seed " in text_of(
        BeautifulSoup(pages["/planning"].text, "html.parser"), ".dataset-label"
    )
