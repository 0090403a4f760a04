"""Input that PostgreSQL would refuse with an error is refused first, with a message or a
400, on both databases: text that normalising lengthens past its column, lists longer than
a query's 65,535 parameters, a year that does not convert to UTC."""
from __future__ import annotations

import unicodedata

from sqlalchemy import func, select

from confmgr.conferences.models import Topic
from confmgr.db import db
from confmgr.demo.loader import SLUG
from confmgr.points.models import BroadcastPoint, ConnectionTestSlot
from confmgr.roster.models import Category
from confmgr.web import MAX_TICKED
from tests.helpers import COORDINATOR, ORGANISER, field_errors, logged_in, post_form

C = f"/manage/c/{SLUG}"
#: One character typed, three stored: NFC decomposes U+1D160 (a musical note).
GROWS = "\U0001D160"


def test_normalising_lengthens_it_past_the_column():
    assert len(unicodedata.normalize("NFC", GROWS)) == 3


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_a_category_name_is_measured_as_stored(client, demo):
    logged_in(client, ORGANISER)
    before = count(demo, Category)
    page = post_form(client, f"{C}/categories", {
        "form": "category", "category-name": GROWS * 100, "category-rank": "5",
    }).get_data(as_text=True)
    assert field_errors(page, "category-name") == ["Không được dài quá 200 ký tự."]
    assert count(demo, Category) == before


def test_a_topic_number_is_measured_as_stored(client, demo):
    logged_in(client, ORGANISER)
    before = count(demo, Topic)
    page = post_form(client, f"{C}/topics/new", {
        "number": GROWS * 7, "title": "Chuyên đề mới", "summary": "",
    }).get_data(as_text=True)
    assert field_errors(page, "number") == ["Dài quá 20 ký tự."]
    assert count(demo, Topic) == before


def test_a_coordinators_contacts_are_measured_as_stored(client, demo):
    logged_in(client, COORDINATOR)
    page = post_form(client, f"{C}/points/22/edit", {
        "chair_name": GROWS * 100, "address": "Số 1", "technical_officer_phone": "",
    }).get_data(as_text=True)
    assert field_errors(page, "chair_name") == ["Không được dài quá 200 ký tự."]
    with demo.app_context():
        assert db.session.scalar(select(BroadcastPoint.address).where(
            BroadcastPoint.code == "22")) != "Số 1"


def test_more_boxes_than_a_page_shows_are_refused(client, demo):
    logged_in(client, ORGANISER)
    many = [f"zz{n}" for n in range(MAX_TICKED + 1)]
    assert post_form(client, f"{C}/coordinators/bulk", {"code": many}).status_code == 400
    ids = [str(n) for n in range(1, MAX_TICKED + 2)]
    assert post_form(client, f"{C}/questions/bulk",
                     {"action": "merge", "ids": ids}).status_code == 400
    # The same box ticked twice counts once.
    assert post_form(client, f"{C}/coordinators/bulk",
                     {"code": ["79"] * (MAX_TICKED + 1)}).status_code == 200


def test_a_coordinator_is_given_at_most_a_thousand_codes(client, demo):
    logged_in(client, ORGANISER)
    page = post_form(client, f"{C}/coordinators", {
        "display_name": "X", "login": "many@example.org",
        "point_codes": ", ".join(f"zz{n}" for n in range(1001)),
    }).get_data(as_text=True)
    assert field_errors(page, "point_codes") == [
        "Tối đa 1000 mã điểm cầu cho một tài khoản; người điều phối một tỉnh chỉ cần mã điểm "
        "cầu của tỉnh, đã gồm mọi điểm cầu bên dưới."]


def test_a_connection_test_in_the_year_one_is_refused(client, demo):
    logged_in(client, ORGANISER)
    before = count(demo, ConnectionTestSlot)
    page = post_form(client, f"{C}/connection-tests", {
        "day": "0001-01-01", "start": "00:00", "end": "01:00", "note": "",
    }).get_data(as_text=True)
    assert field_errors(page, "day") == ["Năm phải từ 2000 đến 2100."]
    assert count(demo, ConnectionTestSlot) == before
