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


# ---------------------------------------------------------------- two organisers at once


def _conference_with_hall(app) -> tuple[int, int]:
    from datetime import date

    with app.app_context():
        conference = Conference(slug="hai-ngay", title="Hội nghị hai ngày",
                                first_day=date(2025, 7, 1), last_day=date(2025, 7, 2))
        db.session.add(conference)
        db.session.flush()
        hall = Room(conference_id=conference.id, name="Hội trường")
        db.session.add(hall)
        db.session.commit()
        return conference.id, hall.id


def _fields(start: int, title: str, room_id: int | None = None):
    from datetime import date, time

    from confmgr.conferences import editing
    from confmgr.enums import SessionKind

    return editing.SessionFields(day=date(2025, 7, 1), start=time(start), end=time(start + 1),
                                 kind=SessionKind.OTHER, title=title, room_id=room_id)


def test_a_shift_moves_a_session_from_where_another_organiser_just_put_it(app):
    """The shift read the session before waiting for the conference: a time saved meanwhile
    (08:00 to 10:00) was undone, the session landing at 08:15."""
    from confmgr.conferences import editing

    conference_id, _hall = _conference_with_hall(app)
    with app.app_context():
        session, _warnings = editing.save_session(db.session.get(Conference, conference_id),
                                                  None, _fields(8, "Phiên A"))
        db.session.commit()
        session_id = session.id
    with app.app_context():  # the shift's request has read the session...
        shifted = db.session.get(AgendaSession, session_id)
        with app.app_context():  # ...when another organiser's save commits
            editing.save_session(db.session.get(Conference, conference_id),
                                 db.session.get(AgendaSession, session_id),
                                 _fields(10, "Phiên A"))
            db.session.commit()
        editing.shift_sessions(shifted, 15, following=False)
        db.session.commit()
    with app.app_context():
        assert db.session.get(AgendaSession, session_id).local_start().strftime(
            "%H:%M") == "10:15"


def test_a_session_restored_is_checked_where_it_is_now(app):
    """A cancelled session (holding no room) moved onto the hall's 10:00 session while
    another organiser restored it: checked where it had been, two confirmed sessions
    shared the hall."""
    from confmgr.conferences import editing
    from confmgr.enums import SessionStatus

    conference_id, hall = _conference_with_hall(app)
    with app.app_context():
        conference = db.session.get(Conference, conference_id)
        editing.save_session(conference, None, _fields(10, "Phiên 10 giờ", hall))
        session, _warnings = editing.save_session(conference, None,
                                                  _fields(8, "Phiên 8 giờ", hall))
        db.session.flush()
        editing.cancel_session(session)
        db.session.commit()
        session_id = session.id
    with app.app_context():
        restored = db.session.get(AgendaSession, session_id)
        with app.app_context():
            editing.save_session(db.session.get(Conference, conference_id),
                                 db.session.get(AgendaSession, session_id),
                                 _fields(10, "Phiên 8 giờ", hall))
            db.session.commit()
        with pytest.raises(editing.RuleBroken):
            editing.reinstate_session(restored)
        db.session.rollback()
    with app.app_context():
        assert db.session.scalars(select(AgendaSession.title).where(
            AgendaSession.room_id == hall,
            AgendaSession.status == SessionStatus.CONFIRMED)).all() == ["Phiên 10 giờ"]


def _form_sent(page: str) -> dict[str, str]:
    """What the page's form sends untouched: its inputs, text areas and chosen options."""
    import re
    from html import unescape

    form = re.search(r'<form method="post" novalidate[^>]*>(.*?)</form>', page, re.S).group(1)
    sent = {name: unescape(value) for name, value in re.findall(
        r'<input[^>]*\bname="([^"]+)"[^>]*\bvalue="([^"]*)"', form)}
    for name, text in re.findall(r'<textarea[^>]*\bname="([^"]+)"[^>]*>(.*?)</textarea>',
                                 form, re.S):
        sent[name] = unescape(text.removeprefix("\r\n").removeprefix("\n"))
    for name, options in re.findall(r'<select[^>]*\bname="([^"]+)"[^>]*>(.*?)</select>',
                                    form, re.S):
        chosen = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected',
                           options)
        if chosen:
            sent[name] = unescape(next(v for v in chosen.groups() if v is not None))
    return sent


@pytest.mark.parametrize(("url_of", "change", "other_change", "refusal"), [
    (lambda ids: f"/manage/c/{SLUG}/topics/{ids['topic']}/edit", {"number": "17"},
     {"summary": "Tóm tắt mới"}, "Người khác vừa sửa chuyên đề này sau khi bạn mở trang; hãy "
     "mở lại trang để xem thay đổi đó rồi sửa lại."),
    (lambda ids: f"/manage/c/{SLUG}/presenters/{ids['presenter']}/edit",
     {"name": "Nguyễn Văn Sửa"}, {"unit": "Đơn vị mới"}, "Người khác vừa sửa báo cáo viên "
     "này sau khi bạn mở trang; hãy mở lại trang để xem thay đổi đó rồi sửa lại."),
    (lambda ids: f"/manage/c/{SLUG}/edit", {"last_day": "2025-06-16"},
     {"description": "Giới thiệu mới"}, "Người khác vừa sửa thông tin hội nghị sau khi bạn "
     "mở trang; hãy mở lại trang để xem thay đổi đó rồi sửa lại."),
], ids=["topic", "presenter", "conference"])
def test_a_form_opened_before_anothers_save_does_not_undo_it(demo, url_of, change,
                                                             other_change, refusal):
    """Topic 1 renumbered 17 went back to 1 (every calendar retitles its sessions), a
    presenter's corrected name came back, a day added was dropped: the later of two
    organisers' forms saved what it had shown over the other's change, unseen."""
    from confmgr.conferences.models import Presenter, Topic

    with demo.app_context():
        ids = {"topic": db.session.scalar(select(Topic.id).where(Topic.number == "1")),
               "presenter": db.session.scalar(select(Presenter.id).order_by(Presenter.id))}
    url = url_of(ids)
    first, second = (logged_in(demo.test_client(), ORGANISER) for _ in range(2))
    shown = [_form_sent(c.get(url).get_data(as_text=True)) for c in (first, second)]
    assert post_form(first, url, {**shown[0], **change}).status_code == 302
    page = post_form(second, url, {**shown[1], **other_change}).get_data(as_text=True)
    assert refusal in page
    # Opened again, it saves: both changes stand.
    again = _form_sent(second.get(url).get_data(as_text=True))
    assert {name: again[name] for name in change} == change
    assert post_form(second, url, {**again, **other_change}).status_code == 302
    assert {name: _form_sent(second.get(url).get_data(as_text=True))[name]
            for name in [*change, *other_change]} == {**change, **other_change}


@pytest.mark.parametrize(("typed", "told"), [("8h30", ["Giờ không hợp lệ."]),
                                             ("24:00", ["Giờ không hợp lệ."]),
                                             ("08:30:15", [])])
def test_a_time_typed_but_not_understood_is_told_so_not_called_missing(client, demo, typed,
                                                                       told):
    """Where a browser shows a plain box for a time, "8h30" was told "not filled in"; a
    time sent with its seconds was refused too."""
    logged_in(client, ORGANISER)
    response = post_form(client, f"/manage/c/{SLUG}/sessions/new", {
        "day": "2025-06-14", "start": typed, "end": "18:00", "kind": "other",
        "title": "Phiên bổ sung", "topic": "", "room": "", "description": ""})
    if told:
        assert field_errors(response.get_data(as_text=True), "start") == told
    else:
        assert response.status_code == 302
        with demo.app_context():
            added = db.session.scalar(select(AgendaSession).where(
                AgendaSession.title == "Phiên bổ sung"))
            assert added.local_start().strftime("%H:%M:%S") == "08:30:00"


def test_a_conference_day_typed_but_not_understood_is_told_so(client, demo):
    logged_in(client, ORGANISER)
    page = post_form(client, "/manage/conferences/new", {
        "title": "Tập huấn 2026", "slug": "tap-huan-2026", "organising_unit": "",
        "description": "", "timezone": "Asia/Ho_Chi_Minh", "first_day": "02/03/2026",
        "last_day": "2026-03-03", "checkin_opens_minutes": "60",
        "checkin_closes_minutes": "120", "visibility": "public"}).get_data(as_text=True)
    assert field_errors(page, "first_day") == ["Ngày không hợp lệ."]
