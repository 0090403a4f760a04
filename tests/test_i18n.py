"""Every interface string has its English translation, and the compiled catalogue is current."""
from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "confmgr" / "translations" / "en" / "LC_MESSAGES"


def _extracted():
    """What `pybabel extract -F babel.cfg` finds, with the keywords README.md gives."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None,
                "lazy_pgettext": ((1, "c"), 2), "counted": (1, 1)}
    found = extract_from_dir(
        ROOT, method_map, options_map, keywords=keywords,
        directory_filter=lambda path: Path(path).name in {"confmgr", "templates"}
        or Path(path).parent != ROOT,
    )
    return [(message, context) for _, _, message, _comments, context in found]


def extract_messages() -> set[tuple[str, str | None]]:
    """Every source string with its context; a plural message by its singular."""
    return {(message if isinstance(message, str) else message[0], context)
            for message, context in _extracted()}


def extract_plural_ids() -> set[str]:
    """The messages given to ``counted`` (or ngettext), by their singular."""
    return {message[0] for message, _context in _extracted() if not isinstance(message, str)}


def _plain(value):  # plural messages come as lists or tuples
    return value if isinstance(value, str) else tuple(value)


def test_every_source_string_has_an_english_translation():
    with (CATALOGUE / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    translated = {(m.id if isinstance(m.id, str) else m.id[0], m.context) for m in catalogue
                  if m.id and all(_plain(m.string)) and not m.fuzzy}
    extracted = extract_messages()
    missing = extracted - translated
    assert missing == set(), f"untranslated (run pybabel update, then translate): {missing}"
    # What the sources no longer say goes, or `pybabel update` keeps it as obsolete.
    assert translated - extracted == set()
    # English inflects where Vietnamese does not: a message given to ``counted`` needs both
    # English forms, and any other has one.
    plural_in_catalogue = {m.id[0] for m in catalogue if m.id and not isinstance(m.id, str)}
    assert plural_in_catalogue == extract_plural_ids()


def test_compiled_catalogue_matches_the_po_file():
    with (CATALOGUE / "messages.po").open("rb") as handle:
        po = {_plain(m.id): _plain(m.string) for m in read_po(handle) if m.id}
    with (CATALOGUE / "messages.mo").open("rb") as handle:
        mo = {_plain(m.id): _plain(m.string) for m in read_mo(BytesIO(handle.read())) if m.id}
    assert mo == po, "run: pybabel compile -d confmgr/translations"


def test_wtforms_messages_have_a_current_vietnamese_catalogue():
    vi = ROOT / "confmgr" / "translations" / "vi" / "LC_MESSAGES"
    with (vi / "wtforms.po").open("rb") as handle:
        po = {_plain(m.id): _plain(m.string) for m in read_po(handle) if m.id}
    with (vi / "wtforms.mo").open("rb") as handle:
        mo = {_plain(m.id): _plain(m.string) for m in read_mo(BytesIO(handle.read())) if m.id}
    assert mo == po, "run: pybabel compile -D wtforms -d confmgr/translations -l vi"
    assert po["This field is required."] == "Chưa điền mục này."


def test_form_errors_follow_the_interface_language(client, demo):
    from tests.conftest import csrf_token
    from tests.helpers import field_errors

    token = csrf_token(client, "/login")
    page = client.post("/login", data={"csrf_token": token, "email": "", "password": ""})
    assert field_errors(page.get_data(as_text=True), "email") == ["Chưa điền mục này."]
    client.post("/language", data={"csrf_token": token, "lang": "en", "next": "/login"})
    page = client.post("/login", data={"csrf_token": token, "email": "", "password": ""})
    assert field_errors(page.get_data(as_text=True), "email") == ["This field is required."]


@pytest.mark.parametrize(("language", "count", "expected"), [
    ("vi", 1, "Đã gửi 1 câu hỏi."), ("vi", 2, "Đã gửi 2 câu hỏi."),
    ("en", 1, "Sent 1 question."), ("en", 2, "Sent 2 questions."), ("en", 0, "Sent 0 questions."),
])
def test_counted_messages_take_the_english_singular_for_one(app, language, count, expected):
    from flask import session

    from confmgr.i18n import counted

    with app.test_request_context("/"):
        session["lang"] = language
        assert counted("Đã gửi %(count)d câu hỏi.", count) == expected


def test_what_is_left_unlisted_is_counted_in_english_singular_and_plural(app):
    """"1 more errors not listed", "and 1 other columns": said of one as of many."""
    from types import SimpleNamespace

    from flask import get_flashed_messages, session

    from confmgr.api.problems import _more
    from confmgr.spreadsheets import LISTED_HEADINGS, listed_headings
    from confmgr.web import MAX_FLASHED, show_problems

    headings = [f"C{n}" for n in range(LISTED_HEADINGS + 2)]
    with app.test_request_context("/"):
        session["lang"] = "en"
        show_problems(None, [SimpleNamespace(field=None, message=f"Problem {n}")
                             for n in range(MAX_FLASHED + 1)])
        assert get_flashed_messages()[-1] == "1 more error not listed."
        assert [listed_headings(headings[:-1]).rsplit(" and ", 1)[1],
                listed_headings(headings).rsplit(" and ", 1)[1]] == [
            "1 other column", "2 other columns"]
        assert [more.detail for more in _more(1) + _more(2)] == [
            "1 more error not listed.", "2 more errors not listed."]


def test_a_page_counts_in_english_singular_and_plural(client, demo):
    from tests.conftest import csrf_token
    from tests.helpers import ORGANISER, logged_in

    logged_in(client, ORGANISER)
    client.post("/language", data={"csrf_token": csrf_token(client), "lang": "en", "next": "/"})
    url = "/manage/c/tap-huan-cap-xa-2025/points"
    one = client.get(url, query_string={"q": "Uông Bí"}).get_data(as_text=True)
    assert "1 broadcast point<" in one
    every = client.get(url).get_data(as_text=True)
    assert "11 broadcast points<" in every


def test_the_conference_tabs_name_whole_lists_in_english(client, demo):
    from tests.conftest import csrf_token
    from tests.helpers import ORGANISER, logged_in

    def tabs() -> list[str]:
        page = client.get("/manage/c/tap-huan-cap-xa-2025/points").get_data(as_text=True)
        menu = page[page.index('class="nav nav-tabs manage-tabs"'):]
        return re.findall(r'class="nav-link[^"]*" href="[^"]+">([^<]+)</a>',
                          menu[:menu.index("</ul>")])

    logged_in(client, ORGANISER)
    assert tabs()[:9] == ["Chương trình", "Chuyên đề", "Báo cáo viên", "Phòng", "Công bố",
                        "Điểm cầu", "Điều phối viên", "Đại biểu", "Thành phần"]
    client.post("/language", data={"csrf_token": csrf_token(client), "lang": "en", "next": "/"})
    assert tabs()[:9] == ["Agenda", "Topics", "Presenters", "Rooms", "Publish", "Points",
                        "Coordinators", "Delegates", "Categories"]


def test_a_word_both_label_and_button_reads_each_in_english(client, demo):
    """"Thêm" is the button "Add" and the label of something added; "Gửi câu hỏi" the
    button "Send" and the logged action. One English word for both made the buttons
    read "Added" and the log's filter "Send"."""
    from flask import session

    from confmgr.audit.labels import ACTION_GROUPS
    from confmgr.conferences.labels import CHANGE_LABELS
    from tests.conftest import csrf_token
    from tests.helpers import ORGANISER, logged_in

    logged_in(client, ORGANISER)
    client.post("/language", data={"csrf_token": csrf_token(client), "lang": "en", "next": "/"})
    page = client.get("/manage/c/tap-huan-cap-xa-2025/categories").get_data(as_text=True)
    assert re.findall(r'<button class="btn btn-sm btn-primary">([^<]*)</button>', page)[
        0] == "Add"
    with demo.test_request_context("/"):
        session["lang"] = "en"
        actions = {action: str(label) for _group, labels in ACTION_GROUPS
                   for action, label in labels.items()}
        assert (str(CHANGE_LABELS["added"]), actions["question.raise"]) == (
            "Added", "Question raised")
