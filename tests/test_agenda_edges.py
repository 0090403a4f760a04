"""The agenda editor's edges: times the clocks skip (a new time zone, a cancelled session,
the registration window), zone names that are no place, topic numbers with odd digits,
long file names, rooms typed in another case, and our own feed read back."""
from __future__ import annotations

from io import BytesIO

import pytest
from sqlalchemy import func, select

from confmgr.conferences.models import AgendaSession, Conference, Room, TopicMaterial
from confmgr.db import db
from confmgr.demo.loader import SLUG
from tests.conftest import csrf_token
from tests.helpers import ORGANISER, field_errors, flashes, logged_in, post_form
from tests.test_agenda import (
    EDITOR,
    NEW_SESSION,
    conference_form,
    ids,
    local_times,
    session_form,
)
from tests.test_agenda_import import upload

EDIT_CONFERENCE = f"/manage/c/{SLUG}/edit"
SOMEONE_ELSE = "Người khác vừa thay đổi cùng dữ liệu này; hãy xem lại rồi thử lại."
#: Cairo's clocks jump from 00:00 to 01:00 on 25/04/2025: 00:30 never happens there.
CAIRO_GAP_DAY = "2025-04-25"
SKIPPED = ("Không có giờ 00:30 ngày 25/04/2025 theo múi giờ Africa/Cairo: đồng hồ nhảy qua "
           "giờ đó (giờ mùa hè).")


def status_of(client, url: str) -> int:
    """The status code, 500 where the view raises (the test client re-raises in TESTING)."""
    try:
        return client.get(url).status_code
    except Exception:  # noqa: BLE001 - a server error is what is being looked for
        return 500


# -------------------------------------------------------- a new time zone and a daylight-saving gap


def _session_at_half_past_midnight(client, end: str) -> int:
    """The demo conference from 25/04 (still in Hồ Chí Minh's zone), with a session at 00:30."""
    assert post_form(client, EDIT_CONFERENCE, conference_form(
        first_day=CAIRO_GAP_DAY)).status_code == 302
    assert post_form(client, NEW_SESSION, session_form(
        day=CAIRO_GAP_DAY, start="00:30", end=end, title="Phiên đêm")).status_code == 302
    with client.application.app_context():
        return db.session.scalar(select(AgendaSession.id).where(AgendaSession.title == "Phiên đêm"))


@pytest.mark.parametrize("end", ["01:15", "02:00"])
def test_a_new_zone_that_skips_a_sessions_local_time_is_refused_on_its_field(
        client, demo, end):
    """00:30 on 25/04 never happens in Cairo. Ending at 01:15 the session became a reversed
    interval, which the database refused ("someone else changed the data"); ending at
    02:00 it was saved as 01:30–02:00 while the page said every session kept its times."""
    logged_in(client, ORGANISER)
    session_id = _session_at_half_past_midnight(client, end)
    page = post_form(client, EDIT_CONFERENCE, conference_form(
        first_day=CAIRO_GAP_DAY, timezone="Africa/Cairo")).get_data(as_text=True)
    assert field_errors(page, "timezone") == [
        f"Phiên «Phiên đêm» không giữ được giờ địa phương: {SKIPPED}"]
    assert local_times(demo, session_id) == ("25/04 00:30", end)
    with demo.app_context():
        assert db.session.scalar(select(Conference.timezone).where(
            Conference.slug == SLUG)) == "Asia/Ho_Chi_Minh"


# ------------------------------------------------------------- a cancelled session and the same gap


def _cancelled_session_in_cairo(client, demo) -> tuple[str, int]:
    session_id = ids(demo)["sessions"][3]
    assert post_form(client, EDIT_CONFERENCE, conference_form(
        first_day=CAIRO_GAP_DAY, timezone="Africa/Cairo")).status_code == 302
    client.post(f"/manage/c/{SLUG}/sessions/{session_id}/cancel",
                data={"csrf_token": csrf_token(client, EDITOR)})
    return f"/manage/c/{SLUG}/sessions/{session_id}/edit", session_id


def test_a_cancelled_session_is_told_its_start_never_happens(client, demo):
    """A cancelled session takes no room, but its times must happen: its 00:30–01:15 was
    a reversed interval the database refused ("someone else changed the data")."""
    logged_in(client, ORGANISER)
    edit, _session_id = _cancelled_session_in_cairo(client, demo)
    response = post_form(client, edit, session_form(day=CAIRO_GAP_DAY, start="00:30",
                                                   end="01:15"), follow_redirects=True)
    page = response.get_data(as_text=True)
    assert SOMEONE_ELSE not in flashes(page)
    assert field_errors(page, "start") == [SKIPPED]


def test_a_cancelled_session_is_not_moved_an_hour_silently(client, demo):
    """Its 00:30–02:00 was saved as 01:30–02:00, without a word."""
    logged_in(client, ORGANISER)
    edit, session_id = _cancelled_session_in_cairo(client, demo)
    before = local_times(demo, session_id)
    response = post_form(client, edit, session_form(day=CAIRO_GAP_DAY, start="00:30",
                                                   end="02:00"))
    assert response.status_code == 200, "saved without a word"
    assert field_errors(response.get_data(as_text=True), "start") == [SKIPPED]
    assert local_times(demo, session_id) == before


# --------------------------------------------------------- the registration window and the same gap


def test_a_registration_time_the_clocks_skip_is_refused_on_its_field(client, demo):
    """00:30 on 25/04 in Cairo is stored as 01:30, shown back as 01:30, without a word."""
    logged_in(client, ORGANISER)
    response = post_form(client, EDIT_CONFERENCE, conference_form(
        first_day=CAIRO_GAP_DAY, timezone="Africa/Cairo",
        registration_opens=f"{CAIRO_GAP_DAY}T00:30", registration_closes="2025-06-01T10:00"))
    assert response.status_code == 200, "saved"
    assert field_errors(response.get_data(as_text=True), "registration_opens") == [SKIPPED]


# ---------------------------------------------------------- a topic number with a superscript digit


def test_a_topic_number_with_a_superscript_digit_breaks_no_page(client, demo):
    """"8²" (or "①") was saved, then sorting topics read "²" as a number: the topics page,
    every session form and the questions pages answered 500."""
    logged_in(client, ORGANISER)
    response = post_form(client, f"/manage/c/{SLUG}/topics/new",
                         {"number": "8²", "title": "Chuyên đề thử", "summary": ""})
    assert response.status_code == 302
    assert {url: status_of(client, url) for url in (
        f"/manage/c/{SLUG}/topics", NEW_SESSION, f"/manage/c/{SLUG}/questions")} == {
        f"/manage/c/{SLUG}/topics": 200, NEW_SESSION: 200, f"/manage/c/{SLUG}/questions": 200}


# ------------------------------------------------------------- a long file name loses its extension


def test_a_long_file_name_keeps_its_extension(client, demo):
    topic = ids(demo)["topic_1"]
    logged_in(client, ORGANISER)
    name = "Bài giảng " + "chuyên đề một " * 25 + ".pdf"  # longer than 255 characters
    response = post_form(client, f"/manage/c/{SLUG}/topics/{topic}/materials/file",
                         {"title": "Bài giảng", "file": (BytesIO(b"%PDF-1.4 x"), name)},
                         content_type="multipart/form-data")
    assert response.status_code == 302
    with demo.app_context():
        material = db.session.scalar(select(TopicMaterial).order_by(TopicMaterial.id.desc()))
        assert material.original_name.endswith(".pdf"), material.original_name[-20:]
        material_id = material.id
    disposition = client.get(f"/c/{SLUG}/materials/{material_id}").headers["Content-Disposition"]
    assert disposition.endswith(".pdf"), disposition[-30:]


# ------------------------------------------------------------------- one room typed in another case


def test_a_room_typed_in_other_case_is_the_room_there(client, demo):
    """"HỘI TRƯỜNG CHÍNH, …" made a second room, whose sessions clashed with the hall's
    unseen; presenters were already compared so, and the .ics import folds names."""
    logged_in(client, ORGANISER)
    response = post_form(client, f"/manage/c/{SLUG}/rooms", {
        "name": "HỘI TRƯỜNG CHÍNH, HỌC VIỆN CHÍNH TRỊ QUỐC GIA HỒ CHÍ MINH"})
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), "name") == ["Đã có phòng tên này."]
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(Room)) == 1


# ----------------------------------------------------------------- time zones that are no IANA zone


def test_the_servers_localtime_is_no_conference_time_zone(client, demo):
    """zoneinfo lists "localtime" (whatever the server is set to; feeds would say
    TZID:localtime) and "Factory"."""
    logged_in(client, ORGANISER)
    for zone in ("localtime", "Factory"):
        page = post_form(client, EDIT_CONFERENCE, conference_form(timezone=zone))
        assert page.status_code == 200, f"{zone} accepted"
        assert field_errors(page.get_data(as_text=True), "timezone") == [
            "Múi giờ không hợp lệ: hãy dùng tên IANA."]


# ------------------------------------------------------------------------- our own feed re-imported


def test_our_own_feed_imports_a_topic_session_with_a_long_title(client, demo):
    """The editor takes titles of 500 characters, the feed writes "Chuyên đề N: " before
    them, and the import measured that against 500, refusing its own feed."""
    known = ids(demo)
    logged_in(client, ORGANISER)
    title = ("Hướng dẫn nghiệp vụ " * 30)[:495].strip()
    assert post_form(client, f"/manage/c/{SLUG}/sessions/{known['sessions'][3]}/edit",
                     session_form(day="2025-06-14", start="09:00", end="09:45",
                                  kind="topic", title=title, topic=known["topic_1"])
                     ).status_code == 302
    assert post_form(client, f"/manage/c/{SLUG}/publish", {"comment": ""}).status_code == 302
    feed = client.get(f"/c/{SLUG}/agenda.ics").data
    page = upload(client, feed, "tap-huan.ics").get_data(as_text=True)
    assert ("Không có gì để nhập: mọi sự kiện đều đã có trong chương trình hoặc được bỏ qua."
            in page)
