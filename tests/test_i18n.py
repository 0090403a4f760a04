"""Every interface string has its English translation, and the compiled catalogue is current."""
from __future__ import annotations

from io import BytesIO
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "confmgr" / "translations" / "en" / "LC_MESSAGES"


def extract_messages() -> set[str]:
    """What `pybabel extract -F babel.cfg` finds, with the keywords README.md gives."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    found = extract_from_dir(
        ROOT, method_map, options_map, keywords=keywords,
        directory_filter=lambda path: Path(path).name in {"confmgr", "templates"}
        or Path(path).parent != ROOT,
    )
    return {message if isinstance(message, str) else message[0] for _, _, message, *_ in found}


def test_every_source_string_has_an_english_translation():
    with (CATALOGUE / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    translated = {m.id for m in catalogue if m.id and m.string and not m.fuzzy}
    missing = extract_messages() - translated
    assert missing == set(), f"untranslated (run pybabel update, then translate): {missing}"


def test_compiled_catalogue_matches_the_po_file():
    with (CATALOGUE / "messages.po").open("rb") as handle:
        po = {m.id: m.string for m in read_po(handle) if m.id}
    with (CATALOGUE / "messages.mo").open("rb") as handle:
        mo = {m.id: m.string for m in read_mo(BytesIO(handle.read())) if m.id}
    assert mo == po, "run: pybabel compile -d confmgr/translations"


def test_wtforms_messages_have_a_current_vietnamese_catalogue():
    vi = ROOT / "confmgr" / "translations" / "vi" / "LC_MESSAGES"
    def plain(value):  # plural messages come as lists or tuples
        return value if isinstance(value, str) else tuple(value)

    with (vi / "wtforms.po").open("rb") as handle:
        po = {plain(m.id): plain(m.string) for m in read_po(handle) if m.id}
    with (vi / "wtforms.mo").open("rb") as handle:
        mo = {plain(m.id): plain(m.string) for m in read_mo(BytesIO(handle.read())) if m.id}
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
