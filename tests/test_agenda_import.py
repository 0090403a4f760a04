"""Importing an agenda from a calendar file (.ics): preview, refusals, confirmation."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timezone
from html import unescape
from io import BytesIO

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from confmgr.audit.models import AuditEntry
from confmgr.conferences import editing, ics_import, publishing
from confmgr.conferences.models import AgendaSession, Conference, Room, Topic
from confmgr.points.models import BroadcastPoint
from confmgr.db import db
from confmgr.demo.loader import SLUG
from confmgr.enums import SessionKind, SessionStatus
from tests.conftest import csrf_token
from tests.helpers import ADMIN, COORDINATOR, ORGANISER, flashes, logged_in, post_form

IMPORT = f"/manage/c/{SLUG}/agenda/import"
EDITOR = f"/manage/c/{SLUG}/agenda"
HALL = "Hội trường chính, Học viện Chính trị quốc gia Hồ Chí Minh"
CONFIRM = re.compile(rf'action="{IMPORT}/([A-Za-z0-9_-]+)"')
UTC = timezone.utc


def event(*lines: str) -> str:
    return "\r\n".join(("BEGIN:VEVENT", *lines, "END:VEVENT"))


def calendar(*events: str) -> bytes:
    return "\r\n".join(("BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Thu nghiem//VI", *events,
                        "END:VCALENDAR", "")).encode()


#: Four events that fit the demo agenda, each written the way a different tool writes time.
LUNCH = event("UID:an-trua@example.org", "DTSTART;TZID=Europe/Paris:20250614T070000",
              "DTEND;TZID=Europe/Paris:20250614T073000", "SUMMARY:Ăn trưa", "LOCATION:Nhà ăn")
VISIT = event("UID:tham-quan@example.org", "DTSTART;TZID=Asia/Ho_Chi_Minh:20250614T113000",
              "DTEND;TZID=Asia/Ho_Chi_Minh:20250614T120000", "SUMMARY:Tham quan Học viện",
              r"LOCATION:hoi truong chinh\, HOC VIEN chinh tri quoc gia Ho Chi Minh",
              r"DESCRIPTION:Đi theo đoàn.\nMang thẻ đại biểu.")
REVIEW = event("UID:on-tap@example.org", "DTSTART:20250615T044500Z", "DTEND:20250615T054500Z",
               "SUMMARY:Chuyên đề 3: Ôn tập kiểm tra\\, giám sát")
PHOTO = event("UID:chup-anh@example.org", "DTSTART:20250615T163000", "DURATION:PT30M",
              "SUMMARY:Chụp ảnh lưu niệm")
GOOD = calendar(LUNCH, VISIT, REVIEW, PHOTO)


def upload(client, data: bytes, filename: str = "lich.ics", **kwargs):
    return post_form(client, IMPORT, {"file": (BytesIO(data), filename)},
                     content_type="multipart/form-data", **kwargs)


def confirm_token(page: str) -> str:
    match = CONFIRM.search(page)
    assert match, "no confirmation form on the page"
    return match.group(1)


def session_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AgendaSession))


def checked(app, data: bytes) -> ics_import.CheckedCalendar:
    with app.app_context():
        conference = db.session.scalar(select(Conference).where(Conference.slug == SLUG))
        result = ics_import.check_calendar(conference, data, "lich.ics")
        db.session.rollback()
        return result


def problems(app, data: bytes) -> list[str]:
    with app.app_context():
        result = checked(app, data)
        return result.errors + [ics_import.numbered(e, m) for e in result.events for m in e.errors]


def preview_rows(page: str) -> list[list[str]]:
    body = page.split('<table class="table table-sm preview">', 1)[1].split("</table>", 1)[0]
    rows = []
    for row in re.findall(r"<tr id=\"event-\d+\".*?</tr>", body, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        rows.append([" ".join(unescape(re.sub(r"<[^>]+>", " ", c)).split()) for c in cells])
    return rows


# ---------------------------------------------------------------- preview, then confirmation


def test_preview_writes_nothing_then_confirmation_writes_every_event(client, demo):
    logged_in(client, ORGANISER)
    assert "Nhập từ tệp lịch (.ics)" in client.get(EDITOR).get_data(as_text=True)
    page = upload(client, GOOD).get_data(as_text=True)
    topic_3 = "Những điểm mới cơ bản trong công tác kiểm tra, giám sát của Đảng"
    assert preview_rows(page) == [
        ["1", "14/06/2025", "12:00 – 12:30", "Ăn trưa", "Nhà ăn phòng mới", "Thêm mới", ""],
        ["2", "14/06/2025", "11:30 – 12:00", "Tham quan Học viện", HALL, "Thêm mới", ""],
        ["3", "15/06/2025", "11:45 – 12:45", "Chuyên đề 3 Ôn tập kiểm tra, giám sát", "",
         "Thêm mới", f"Chuyên đề này đã được xếp ở phiên «{topic_3}»."],
        ["4", "15/06/2025", "16:30 – 17:00", "Chụp ảnh lưu niệm", "", "Thêm mới",
         "Giờ không kèm múi giờ: đã hiểu theo giờ của hội nghị (Asia/Ho_Chi_Minh)."],
    ]
    assert "Tệp hợp lệ: 4 phiên mới, 0 phiên cập nhật, 0 bỏ qua." in page
    assert session_count(demo) == 16
    with demo.app_context():
        assert db.session.scalar(select(Room.id).where(Room.name == "Nhà ăn")) is None

    response = post_form(client, f"{IMPORT}/{confirm_token(page)}", {})
    assert response.headers["Location"] == EDITOR
    assert ("Đã nhập từ tệp lịch: 4 phiên mới, 0 phiên cập nhật, 0 bỏ qua."
            in flashes(client.get(EDITOR).get_data(as_text=True)))
    with demo.app_context():
        rows = db.session.execute(
            select(AgendaSession.title, AgendaSession.starts_at, AgendaSession.ends_at,
                   AgendaSession.kind, Room.name, Topic.number, AgendaSession.description,
                   AgendaSession.status)
            .outerjoin(Room, Room.id == AgendaSession.room_id)
            .outerjoin(Topic, Topic.id == AgendaSession.topic_id)
            .where(AgendaSession.id > 16).order_by(AgendaSession.id)
        ).all()
        assert [tuple(r) for r in rows] == [
            ("Ăn trưa", datetime(2025, 6, 14, 5, 0, tzinfo=UTC),
             datetime(2025, 6, 14, 5, 30, tzinfo=UTC), SessionKind.OTHER, "Nhà ăn", None, "",
             SessionStatus.CONFIRMED),
            ("Tham quan Học viện", datetime(2025, 6, 14, 4, 30, tzinfo=UTC),
             datetime(2025, 6, 14, 5, 0, tzinfo=UTC), SessionKind.OTHER, HALL, None,
             "Đi theo đoàn.\nMang thẻ đại biểu.", SessionStatus.CONFIRMED),
            ("Ôn tập kiểm tra, giám sát", datetime(2025, 6, 15, 4, 45, tzinfo=UTC),
             datetime(2025, 6, 15, 5, 45, tzinfo=UTC), SessionKind.TOPIC, None, "3", "",
             SessionStatus.CONFIRMED),
            ("Chụp ảnh lưu niệm", datetime(2025, 6, 15, 9, 30, tzinfo=UTC),
             datetime(2025, 6, 15, 10, 0, tzinfo=UTC), SessionKind.OTHER, None, None, "",
             SessionStatus.CONFIRMED),
        ]
        assert db.session.scalar(select(func.count()).select_from(Room)) == 2
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "agenda.import"))
        assert entry.details == {"file": "lich.ics", "created": 4, "updated": 0, "skipped": 0,
                                 "rooms": ["Nhà ăn"]}
        assert entry.user_id is not None
        # Nothing reaches the published version until the organisers publish.
        assert publishing.latest_version(db.session.scalar(select(Conference))).number == 1

    # The kept file is used once: a second confirmation finds nothing.
    response = post_form(client, f"{IMPORT}/{confirm_token(page)}", {}, follow_redirects=True)
    assert "Không tìm thấy tệp đã xem trước; hãy tải lên lại." in flashes(
        response.get_data(as_text=True))
    assert session_count(demo) == 20


def test_imported_sessions_reach_the_feed_once_published(client, demo):
    logged_in(client, ORGANISER)
    page = upload(client, GOOD).get_data(as_text=True)
    post_form(client, f"{IMPORT}/{confirm_token(page)}", {})
    assert "Chụp ảnh lưu niệm" not in client.get(f"/c/{SLUG}/agenda.ics").get_data(as_text=True)
    assert post_form(client, f"/manage/c/{SLUG}/publish", {"comment": "Nhập lịch"}).status_code == 302

    feed = Calendar.from_ical(client.get(f"/c/{SLUG}/agenda.ics").data)
    by_summary = {str(e["SUMMARY"]): e for e in feed.walk("VEVENT")}
    photo = by_summary["Chụp ảnh lưu niệm"]
    assert photo.start == datetime(2025, 6, 15, 9, 30, tzinfo=UTC)
    assert photo.end == datetime(2025, 6, 15, 10, 0, tzinfo=UTC)
    assert photo["DTSTART"].params["TZID"] == "Asia/Ho_Chi_Minh"
    assert str(by_summary["Ăn trưa"]["LOCATION"]) == "Nhà ăn"
    assert "Chuyên đề 3: Ôn tập kiểm tra, giám sát" in by_summary
    assert str(photo["UID"]).endswith("@confmgr") and "chup-anh" not in str(photo["UID"])


# ---------------------------------------------------------------- updates and duplicates


def demo_sessions(app) -> dict[str, AgendaSession]:
    with app.app_context():
        sessions = db.session.scalars(select(AgendaSession).order_by(AgendaSession.starts_at)).all()
        db.session.expunge_all()
        return {"welcome": sessions[0], "break": sessions[4], "closing": sessions[15]}


def test_our_own_uid_updates_a_session_and_a_repeat_is_skipped(client, demo):
    known = demo_sessions(demo)
    with demo.app_context():
        db.session.get(AgendaSession, known["break"].id).description = "Trà, cà phê."
        db.session.commit()
    data = calendar(
        # As our feed writes it: the description there is built, not the session's own.
        event(f"UID:{known['break'].uid}@confmgr", "DTSTART;TZID=Asia/Ho_Chi_Minh:20250614T101500",
              "DTEND;TZID=Asia/Ho_Chi_Minh:20250614T102500", "SUMMARY:Giải lao ngắn",
              f"LOCATION:{HALL.replace(',', chr(92) + ',')}", "CATEGORIES:Giải lao",
              "DESCRIPTION:https://example.org/c/x#s5"),
        # A bare UID, no LOCATION and no DESCRIPTION: room and description stay.
        event(f"UID:{known['welcome'].uid}", "DTSTART;TZID=Asia/Ho_Chi_Minh:20250614T073000",
              "DTEND;TZID=Asia/Ho_Chi_Minh:20250614T075500", "SUMMARY:Đón tiếp đại biểu"),
        # Same start, end and title as the closing session, under another UID.
        event("UID:be-mac@example.org", "DTSTART:20250615T083000Z", "DTEND:20250615T090000Z",
              "SUMMARY:Bế mạc hội nghị"),
        event("UID:huy@example.org", "DTSTART:20250615T100000Z", "DTEND:20250615T103000Z",
              "SUMMARY:Giao lưu", "STATUS:CANCELLED"),
        event("UID:trung-1@example.org", "DTSTART:20250615T100000Z", "DTEND:20250615T103000Z",
              "SUMMARY:Văn nghệ"),
        event("UID:trung-2@example.org", "DTSTART:20250615T100000Z", "DTEND:20250615T103000Z",
              "SUMMARY:văn nghệ"),
    )
    result = checked(demo, data)
    assert [(e.number, e.action, e.note) for e in result.events] == [
        (1, "update", ""), (2, "update", ""),
        (3, "skip", "Đã có trong chương trình — bỏ qua."),
        (4, "skip", "Đã hủy trong tệp lịch (STATUS:CANCELLED) — bỏ qua."),
        (5, "new", ""),
        (6, "skip", "Trùng với sự kiện 5 trong tệp — bỏ qua."),
    ]
    logged_in(client, ORGANISER)
    page = upload(client, data).get_data(as_text=True)
    assert "Tệp hợp lệ: 1 phiên mới, 2 phiên cập nhật, 3 bỏ qua." in page
    post_form(client, f"{IMPORT}/{confirm_token(page)}", {})
    assert session_count(demo) == 17
    with demo.app_context():
        brk = db.session.get(AgendaSession, known["break"].id)
        assert (brk.title, brk.starts_at, brk.ends_at, brk.kind, brk.description, brk.uid) == (
            "Giải lao ngắn", datetime(2025, 6, 14, 3, 15, tzinfo=UTC),
            datetime(2025, 6, 14, 3, 25, tzinfo=UTC), SessionKind.BREAK, "Trà, cà phê.",
            known["break"].uid)
        welcome = db.session.get(AgendaSession, known["welcome"].id)
        assert (welcome.title, welcome.ends_at, welcome.room_id, welcome.kind) == (
            "Đón tiếp đại biểu", datetime(2025, 6, 14, 0, 55, tzinfo=UTC),
            known["welcome"].room_id, SessionKind.OTHER)
        assert db.session.scalar(select(func.count()).select_from(AgendaSession).where(
            AgendaSession.title == "Bế mạc hội nghị")) == 1
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "agenda.import"))
        assert entry.details == {"file": "lich.ics", "created": 1, "updated": 2, "skipped": 3,
                                 "rooms": []}


def test_cancelled_event_with_our_uid_cancels_the_session(client, demo):
    known = demo_sessions(demo)
    data = calendar(event(f"UID:{known['break'].uid}@confmgr",
                          "DTSTART;TZID=Asia/Ho_Chi_Minh:20250614T101500",
                          "DTEND;TZID=Asia/Ho_Chi_Minh:20250614T103000", "SUMMARY:Giải lao",
                          "STATUS:CANCELLED"))
    result = checked(demo, data)
    assert [(e.action, e.note) for e in result.events] == [
        ("update", "Phiên sẽ bị hủy (STATUS:CANCELLED).")]
    logged_in(client, ORGANISER)
    page = upload(client, data).get_data(as_text=True)
    post_form(client, f"{IMPORT}/{confirm_token(page)}", {})
    with demo.app_context():
        assert db.session.get(AgendaSession, known["break"].id).status == SessionStatus.CANCELLED


def test_our_own_published_feed_imports_as_no_change(client, demo):
    feed = client.get(f"/c/{SLUG}/agenda.ics").data
    result = checked(demo, feed)
    assert len(result.events) == 16
    assert {(e.action, e.note) for e in result.events} == {("skip", "Không có thay đổi — bỏ qua.")}
    assert result.error_count == 0 and not result.ready
    logged_in(client, ORGANISER)
    page = upload(client, feed, "tap-huan.ics").get_data(as_text=True)
    assert ("Không có gì để nhập: mọi sự kiện đều đã có trong chương trình hoặc được bỏ qua."
            in page)
    assert CONFIRM.search(page) is None


def test_a_points_own_feed_imports_as_no_change_and_makes_no_room(client, demo):
    """A point's feed gives the point's address as LOCATION: imported back, every session
    was to move to a new room named after the address."""
    import re as patterns

    with demo.app_context():
        point = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "06811"))
        point.address = "Hội trường UBND phường Uông Bí"
        db.session.commit()
    logged_in(client, ORGANISER)
    page = client.get(f"/manage/c/{SLUG}/points/06811").get_data(as_text=True)
    token = patterns.search(r"/feeds/([A-Za-z0-9_-]{43})\.ics", page).group(1)
    feed = client.get(f"/feeds/{token}.ics").data
    assert "LOCATION:Điểm cầu Uông Bí\\, Hội trường UBND phường Uông Bí\r\n" in feed.decode()
    result = checked(demo, feed)
    assert len(result.events) == 16
    assert {(e.action, e.note, e.new_room) for e in result.events} == {
        ("skip", "Không có thay đổi — bỏ qua.", False)}


def test_a_title_stored_decomposed_or_with_double_spaces_is_no_change(client, demo):
    """The import tidies what it reads (NFC, one space); a title stored untidy, as the
    editor may have saved it, is the same title, not an update."""
    import unicodedata

    feed = client.get(f"/c/{SLUG}/agenda.ics").data
    with demo.app_context():
        first = db.session.scalar(select(AgendaSession).order_by(AgendaSession.starts_at))
        first.title = unicodedata.normalize("NFD", first.title.replace(" ", "   ", 1))
        db.session.commit()
    result = checked(demo, feed)
    assert {(e.action, e.note) for e in result.events} == {("skip", "Không có thay đổi — bỏ qua.")}


# ---------------------------------------------------------------- refusals


def with_bad_second(*lines: str) -> bytes:
    return calendar(LUNCH, event(*lines))


START = "DTSTART;TZID=Asia/Ho_Chi_Minh:20250615T170000"
END = "DTEND;TZID=Asia/Ho_Chi_Minh:20250615T173000"
#: Quoted in a message, it is cut at 100 characters.
LONG_BROKEN_LINE = 'DESCRIPTION;ALTREP="cid:x:' + "Nội dung " * 20


@pytest.mark.parametrize(("lines", "message"), [
    ((END, "SUMMARY:Họp"), "Sự kiện 2 («Họp»): Thiếu giờ bắt đầu (DTSTART)."),
    (("DTSTART;VALUE=DATE:20250615", "DTEND;VALUE=DATE:20250616", "SUMMARY:Họp"),
     "Sự kiện 2 («Họp»): Sự kiện cả ngày (DTSTART chỉ có ngày, không có giờ) không nhập được; "
     "hãy đặt giờ bắt đầu và kết thúc."),
    ((START, "SUMMARY:Họp"), "Sự kiện 2 («Họp»): Thiếu giờ kết thúc (DTEND hoặc DURATION)."),
    ((START, "DTEND;TZID=Asia/Ho_Chi_Minh:20250615T160000", "SUMMARY:Họp"),
     "Sự kiện 2 («Họp»): Giờ kết thúc phải sau giờ bắt đầu."),
    ((START, "DURATION:PT0M", "SUMMARY:Họp"),
     "Sự kiện 2 («Họp»): Giờ kết thúc phải sau giờ bắt đầu."),
    (("DTSTART;TZID=Asia/Ho_Chi_Minh:20250614T233000", "DURATION:PT1H", "SUMMARY:Họp"),
     "Sự kiện 2 («Họp»): Phiên phải kết thúc trong ngày bắt đầu (trước 24 giờ)."),
    ((START, END, "SUMMARY:Họp", "RRULE:FREQ=DAILY;COUNT=2"),
     "Sự kiện 2 («Họp»): Sự kiện lặp lại (RRULE, RDATE hoặc RECURRENCE-ID) không được hỗ trợ; "
     "hãy tạo từng phiên thành sự kiện riêng."),
    ((START, END, "SUMMARY:Họp", "RECURRENCE-ID:20250615T100000Z"),
     "Sự kiện 2 («Họp»): Sự kiện lặp lại (RRULE, RDATE hoặc RECURRENCE-ID) không được hỗ trợ; "
     "hãy tạo từng phiên thành sự kiện riêng."),
    (("DTSTART;TZID=Asia/Ho_Chi_Minh:20250616T080000",
      "DTEND;TZID=Asia/Ho_Chi_Minh:20250616T090000", "SUMMARY:Họp"),
     "Sự kiện 2 («Họp»): Phiên phải nằm trong các ngày của hội nghị (14/06/2025 – 15/06/2025)."),
    (("DTSTART:20250613T153000Z", "DTEND:20250613T163000Z", "SUMMARY:Họp"),  # 13/06 22:30 local
     "Sự kiện 2 («Họp»): Phiên phải nằm trong các ngày của hội nghị (14/06/2025 – 15/06/2025)."),
    ((START, END), "Sự kiện 2: Thiếu tiêu đề (SUMMARY)."),
    ((START, END, "SUMMARY:  "), "Sự kiện 2: Thiếu tiêu đề (SUMMARY)."),
    ((START, END, "SUMMARY:" + "a" * 501),
     f"Sự kiện 2 («{'a' * 501}»): SUMMARY dài 501 ký tự; tối đa 500."),
    ((START, END, "SUMMARY:Họp", "DESCRIPTION:" + "b" * 10_001),
     "Sự kiện 2 («Họp»): DESCRIPTION dài 10001 ký tự; tối đa 10000."),
    ((START, END, "SUMMARY:Họp", "LOCATION:" + "c" * 201),
     "Sự kiện 2 («Họp»): LOCATION dài 201 ký tự; tối đa 200."),
    (("DTSTART;TZID=Sao Hỏa:20250615T170000", END, "SUMMARY:Họp"),
     "Sự kiện 2 («Họp»): Không nhận ra múi giờ «Sao Hỏa» của DTSTART."),
    (("DTSTART:15/06/2025 17:00", END, "SUMMARY:Họp"),
     "Sự kiện 2 («Họp»): Không đọc được DTSTART: «15/06/2025 17:00»."),
    ((START, "DURATION:nua gio", "SUMMARY:Họp"),
     "Sự kiện 2 («Họp»): Không đọc được DURATION: «nua gio»."),
    # Past the year 9999, or before the year 1 in UTC: refused, never a server error.
    ((START, "DURATION:P999999W", "SUMMARY:Họp"),
     "Sự kiện 2 («Họp»): Không đọc được DURATION: «P6999993D»."),
    (("DTSTART;TZID=Asia/Ho_Chi_Minh:00010101T000000", END, "SUMMARY:Họp"),
     "Sự kiện 2 («Họp»): Không đọc được DTSTART: «00010101T000000»."),
    # Outside the years a conference may have (2000–2100), refused before any conversion.
    (("DTSTART:99991231T230000Z", END, "SUMMARY:Họp"),
     "Sự kiện 2 («Họp»): Không đọc được DTSTART: «99991231T230000Z»."),
    ((START, "DTEND:99991231T233000Z", "SUMMARY:Họp"),
     "Sự kiện 2 («Họp»): Không đọc được DTEND: «99991231T233000Z»."),
    (("DTSTART:19991231T230000", "DURATION:PT30M", "SUMMARY:Họp"),
     "Sự kiện 2 («Họp»): Không đọc được DTSTART: «19991231T230000»."),
    ((START, "DURATION:P40000W", "SUMMARY:Họp"),
     "Sự kiện 2 («Họp»): Không đọc được DURATION: «P280000D»."),
    # Ends at 9999-12-31 20:00 UTC, the next day in Hanoi: it used to overflow there.
    ((START, "DURATION:P2912642DT10H", "SUMMARY:Họp"),
     "Sự kiện 2 («Họp»): Không đọc được DURATION: «P2912642DT10H»."),
    (("UID:an-trua@example.org", START, END, "SUMMARY:Họp"),
     "Sự kiện 2 («Họp»): UID trùng với sự kiện 1 trong cùng tệp."),
    (("UID:an-trua@example.org@confmgr", START, END, "SUMMARY:Họp"),
     "Sự kiện 2 («Họp»): UID trùng với sự kiện 1 trong cùng tệp."),
    (("DTSTART;TZID=Asia/Ho_Chi_Minh:20250614T081500", "DURATION:PT30M", "SUMMARY:Họp",
      r"LOCATION:Hội trường chính\, Học viện Chính trị quốc gia Hồ Chí Minh"),
     "Sự kiện 2 («Họp»): Phòng này đã có phiên «Phát biểu khai mạc hội nghị» từ 08:00 đến 08:30."),
    (("DTSTART;TZID=Asia/Ho_Chi_Minh:20250614T121500", "DURATION:PT30M", "SUMMARY:Họp",
      "LOCATION:nhà ĂN"),  # the new room of event 1, spelt differently
     "Sự kiện 2 («Họp»): Phòng này đã có phiên «Ăn trưa» từ 12:00 đến 12:30."),
    # RFC 5545 allows each of these once: which one was meant would be a guess.
    ((START, "DTSTART;TZID=Asia/Ho_Chi_Minh:20250615T171000", END, "SUMMARY:Họp"),
     "Sự kiện 2 («Họp»): DTSTART được ghi nhiều lần; mỗi sự kiện chỉ được có một DTSTART."),
    ((START, END, "DTEND;TZID=Asia/Ho_Chi_Minh:20250615T174000", "SUMMARY:Họp"),
     "Sự kiện 2 («Họp»): DTEND được ghi nhiều lần; mỗi sự kiện chỉ được có một DTEND."),
    ((START, "DURATION:PT30M", "DURATION:PT30M", "SUMMARY:Họp"),
     "Sự kiện 2 («Họp»): DURATION được ghi nhiều lần; mỗi sự kiện chỉ được có một DURATION."),
    ((START, END, "SUMMARY:Họp", "SUMMARY:Họp lại"),
     "Sự kiện 2 («Họp»): SUMMARY được ghi nhiều lần; mỗi sự kiện chỉ được có một SUMMARY."),
    (("UID:hop-1@example.org", "UID:hop-2@example.org", START, END, "SUMMARY:Họp"),
     "Sự kiện 2 («Họp»): UID được ghi nhiều lần; mỗi sự kiện chỉ được có một UID."),
    ((START, END, "SUMMARY:Họp", "LOCATION:Phòng A", "LOCATION:Phòng B"),
     "Sự kiện 2 («Họp»): LOCATION được ghi nhiều lần; mỗi sự kiện chỉ được có một LOCATION."),
    ((START, END, "SUMMARY:Họp", "DESCRIPTION:Mang thẻ.", "DESCRIPTION:Không cần thẻ."),
     "Sự kiện 2 («Họp»): DESCRIPTION được ghi nhiều lần; mỗi sự kiện chỉ được có một "
     "DESCRIPTION."),
    ((START, END, "DURATION:PT30M", "SUMMARY:Họp"),
     "Sự kiện 2 («Họp»): Sự kiện có cả DTEND và DURATION; chỉ được dùng một trong hai."),
    ((START, "DTEND;VALUE=DATE:20250616", "SUMMARY:Họp"),
     "Sự kiện 2 («Họp»): DTSTART có ngày và giờ nhưng DTEND chỉ có ngày (VALUE=DATE); giờ bắt "
     "đầu và giờ kết thúc phải cùng ghi cả ngày và giờ."),
    (("DTSTART;VALUE=DATE:20250615", END, "SUMMARY:Họp"),
     "Sự kiện 2 («Họp»): DTEND có ngày và giờ nhưng DTSTART chỉ có ngày (VALUE=DATE); giờ bắt "
     "đầu và giờ kết thúc phải cùng ghi cả ngày và giờ."),
    # A value the parser read but that is no length is quoted as written.
    ((START, "DURATION;VALUE=DATE-TIME:20250615T173000", "SUMMARY:Họp"),
     "Sự kiện 2 («Họp»): Không đọc được DURATION: «20250615T173000»."),
    # A line the parser cannot split (here an unclosed quote) is dropped by it: present, so
    # neither missing nor ignored.
    (('DTSTART;TZID="Asia/Ho_Chi_Minh:20250615T170000', END, "SUMMARY:Họp"),
     'Sự kiện 2 («Họp»): Không đọc được DTSTART: '
     '«DTSTART;TZID="Asia/Ho_Chi_Minh:20250615T170000».'),
    ((START, 'DTEND;TZID="Asia/Ho_Chi_Minh:20250615T173000', "SUMMARY:Họp"),
     'Sự kiện 2 («Họp»): Không đọc được DTEND: «DTEND;TZID="Asia/Ho_Chi_Minh:20250615T173000».'),
    ((START, 'DURATION;X-A="b:PT30M', "SUMMARY:Họp"),
     'Sự kiện 2 («Họp»): Không đọc được DURATION: «DURATION;X-A="b:PT30M».'),
    ((START, END, 'SUMMARY;LANGUAGE="vi:Họp'),
     'Sự kiện 2: Không đọc được SUMMARY: «SUMMARY;LANGUAGE="vi:Họp».'),
    ((START, END, "SUMMARY:Họp", 'LOCATION;ALTREP="cid:phong-2:Phòng 2'),
     'Sự kiện 2 («Họp»): Không đọc được LOCATION: «LOCATION;ALTREP="cid:phong-2:Phòng 2».'),
    ((START, END, "SUMMARY:Họp", LONG_BROKEN_LINE),
     f"Sự kiện 2 («Họp»): Không đọc được DESCRIPTION: «{LONG_BROKEN_LINE[:99]}…»."),
    # A folded line whose continuation lost its leading space.
    ((START, END, "SUMMARY:Họp", "DESCRIPTION:Đi theo đoàn.", "Mang thẻ đại biểu."),
     "Sự kiện 2 («Họp»): Không đọc được dòng «Mang thẻ đại biểu.»."),
    # A wall time the clocks skip in the zone named, as the editor refuses it.
    (("DTSTART;TZID=Europe/Paris:20250330T021500", "DURATION:PT30M", "SUMMARY:Họp"),
     "Sự kiện 2 («Họp»): Không có giờ 02:15 ngày 30/03/2025 theo múi giờ Europe/Paris: đồng "
     "hồ nhảy qua giờ đó (giờ mùa hè)."),
])
def test_each_refusal_names_the_event(demo, lines, message):
    found = problems(demo, with_bad_second(*lines))
    # Two imported events clashing are each told about the other.
    assert [m for m in found if m.startswith("Sự kiện 2")] == [message]
    assert session_count(demo) == 16


def test_an_event_in_the_year_9999_is_refused_not_a_server_error(client, demo):
    logged_in(client, ORGANISER)
    data = calendar(event("UID:x@example.org", "SUMMARY:Họp", "DTSTART:99991231T230000Z",
                          "DTEND:99991231T233000Z"))
    assert upload(client, data).status_code == 200
    assert problems(demo, data) == [
        "Sự kiện 1 («Họp»): Không đọc được DTSTART: «99991231T230000Z».",
        "Sự kiện 1 («Họp»): Không đọc được DTEND: «99991231T233000Z».",
    ]


def test_a_broken_status_line_refuses_the_file_rather_than_import_a_confirmed_session(demo):
    """The parser drops a line it cannot split; read without it, a cancelled event would
    become a new confirmed session."""
    result = checked(demo, calendar(event(
        "UID:huy@example.org", START, END, "SUMMARY:Họp", 'STATUS;X-REASON="moved:CANCELLED')))
    assert (result.error_count, result.ready) == (1, False)
    assert problems(demo, calendar(event(
        "UID:huy@example.org", START, END, "SUMMARY:Họp", 'STATUS;X-REASON="moved:CANCELLED'))) == [
        'Sự kiện 1 («Họp»): Không đọc được STATUS: «STATUS;X-REASON="moved:CANCELLED».']


def test_status_given_twice_is_refused_not_imported_as_confirmed(demo):
    """STATUS:CONFIRMED then STATUS:CANCELLED in one event imported a new confirmed session:
    only the first was read."""
    data = calendar(event("UID:hop@example.org", START, END, "SUMMARY:Họp",
                          "STATUS:CONFIRMED", "STATUS:CANCELLED"))
    assert problems(demo, data) == [
        "Sự kiện 1 («Họp»): STATUS được ghi nhiều lần; mỗi sự kiện chỉ được có một STATUS."]
    assert not checked(demo, data).ready


@pytest.mark.parametrize(("line", "written"), [
    ("DTSTART;VALUE=TEXT:hello", "hello"),
    ("DTSTART;VALUE=INTEGER:15", "15"),
    ("DTSTART;VALUE=FLOAT:1.5", "1.5"),
    ("DTSTART;VALUE=UTC-OFFSET:+0700", "+0700"),
    ("DTSTART;VALUE=TIME:100000", "100000"),
    ("DTSTART;VALUE=PERIOD:20250615T100000Z/PT1H", "20250615T100000Z/PT1H"),
])
def test_a_start_of_another_value_type_is_refused_not_a_server_error(client, demo, line,
                                                                      written):
    """A DTSTART given as text, a number, an offset or a time of day has no date and time
    to read: the upload was answered with a server error (500)."""
    data = calendar(LUNCH, event(line, END, "SUMMARY:Họp"))
    message = f"Không đọc được DTSTART: «{written}»."
    assert problems(demo, data) == [f"Sự kiện 2 («Họp»): {message}"]
    logged_in(client, ORGANISER)
    response = upload(client, data)
    assert response.status_code == 200
    assert preview_rows(response.get_data(as_text=True))[1][-1] == message


def test_an_end_of_another_value_type_is_refused_not_a_server_error(client, demo):
    """DTEND;VALUE=TIME (a time of day, no date) was answered with a server error (500)."""
    data = calendar(LUNCH, event(START, "DTEND;VALUE=TIME:100000", "SUMMARY:Họp"))
    message = "Không đọc được DTEND: «100000»."
    assert problems(demo, data) == [f"Sự kiện 2 («Họp»): {message}"]
    logged_in(client, ORGANISER)
    response = upload(client, data)
    assert response.status_code == 200
    assert preview_rows(response.get_data(as_text=True))[1][-1] == message


@pytest.mark.parametrize(("line", "message"), [
    ("SUMMARY;ENCODING=BASE64;VALUE=BINARY:SOG7jXA=",
     "Sự kiện 1: Không đọc được SUMMARY: «SOG7jXA=»."),
    ("LOCATION;ENCODING=BASE64;VALUE=BINARY:SOG7jXA=",
     "Sự kiện 1 («Họp»): Không đọc được LOCATION: «SOG7jXA=»."),
    ("DESCRIPTION;ENCODING=BASE64;VALUE=BINARY:SOG7jXA=",
     "Sự kiện 1 («Họp»): Không đọc được DESCRIPTION: «SOG7jXA=»."),
    ("STATUS;VALUE=INTEGER:3", "Sự kiện 1 («Họp»): Không đọc được STATUS: «3»."),
])
def test_text_given_as_another_value_type_is_refused_not_imported_as_its_repr(demo, line,
                                                                              message):
    """Base64 text (VALUE=BINARY) was imported as Python's picture of it: a session titled,
    or a new room named, "vBinary(b'SOG7jXA=')"."""
    lines = [START, END, line] if line.startswith("SUMMARY") else [START, END, "SUMMARY:Họp",
                                                                   line]
    result = checked(demo, calendar(event("UID:hop@example.org", *lines)))
    assert problems(demo, calendar(event("UID:hop@example.org", *lines))) == [message]
    [imported] = result.events
    assert (imported.summary, imported.location, imported.description, imported.action,
            result.ready) == ("" if line.startswith("SUMMARY") else "Họp", None, None, "", False)


def test_a_location_naming_a_room_exactly_gets_that_room(demo):
    """Rooms were matched without diacritics, so "Phòng Ba" and "Phòng Bà", two rooms to
    the room editor, were one: a location naming one exactly could get the other."""
    with demo.app_context():
        conference = db.session.scalar(select(Conference).where(Conference.slug == SLUG))
        rooms = [Room(conference_id=conference.id, name=name)
                 for name in ("Phòng Ba", "Phòng Bà")]
        db.session.add_all(rooms)
        db.session.commit()
        ba, grandma = (room.id for room in rooms)
    result = checked(demo, calendar(*(
        event(f"UID:hop-{hour}@example.org", f"DTSTART;TZID=Asia/Ho_Chi_Minh:20250615T{hour}0000",
              f"DTEND;TZID=Asia/Ho_Chi_Minh:20250615T{hour}3000", "SUMMARY:Họp",
              f"LOCATION:{location}")
        for hour, location in enumerate(("Phòng Ba", "PHÒNG BÀ", "Phong Ba"), start=16))))
    assert [(e.room_id, e.room_name, e.new_room) for e in result.events[:2]] == [
        (ba, "Phòng Ba", False), (grandma, "Phòng Bà", False)]
    # Without its diacritics the name fits both: which one is meant is not guessed.
    assert [ics_import.numbered(e, m) for e in result.events for m in e.errors] == [
        "Sự kiện 3 («Họp»): Không rõ LOCATION «Phong Ba» là phòng nào trong số «Phòng Ba», "
        "«Phòng Bà»; hãy ghi đúng tên phòng."]


def test_a_location_with_diacritics_is_its_own_room_though_another_folds_alike(demo):
    """With only "Phòng Bà" in the agenda, "Phòng Ba" went into it: written without its
    diacritics a location may find a room, written with them it names its own."""
    with demo.app_context():
        conference = db.session.scalar(select(Conference).where(Conference.slug == SLUG))
        grandma = Room(conference_id=conference.id, name="Phòng Bà")
        db.session.add(grandma)
        db.session.commit()
        grandma_id = grandma.id
    result = checked(demo, calendar(*(
        event(f"UID:hop-{hour}@example.org", f"DTSTART;TZID=Asia/Ho_Chi_Minh:20250615T{hour}0000",
              f"DTEND;TZID=Asia/Ho_Chi_Minh:20250615T{hour}3000", f"SUMMARY:Họp {hour}",
              f"LOCATION:{location}")
        for hour, location in enumerate(("Phòng Ba", "Phòng Bá", "phong ba"), start=16))))
    assert [(e.room_id, e.room_name, e.new_room) for e in result.events] == [
        (None, "Phòng Ba", True), (None, "Phòng Bá", True), (grandma_id, "Phòng Bà", False)]


def test_new_rooms_are_told_apart_as_the_room_editor_tells_them(demo):
    """Rooms a file brings were made one by their names without diacritics: "Phòng Ba" and
    "Phòng Bà" became one room. Case aside, as the editor compares, they are two."""
    data = calendar(*(
        event(f"UID:hop-{hour}@example.org", f"DTSTART;TZID=Asia/Ho_Chi_Minh:20250615T{hour}0000",
              f"DTEND;TZID=Asia/Ho_Chi_Minh:20250615T{hour}3000", f"SUMMARY:Họp {hour}",
              f"LOCATION:{location}")
        for hour, location in enumerate(("Phòng Ba", "Phòng Bà", "PHÒNG BA"), start=16)))
    with demo.app_context():
        conference = db.session.scalar(select(Conference).where(Conference.slug == SLUG))
        result = ics_import.check_calendar(conference, data, "lich.ics")
        token = ics_import.keep_for_confirmation(conference, None, result)
        counts = ics_import.confirm(conference, None, token)
        db.session.commit()
        placed = db.session.execute(
            select(AgendaSession.title, Room.name).join(Room, Room.id == AgendaSession.room_id)
            .where(AgendaSession.title.like("Họp 1%")).order_by(AgendaSession.title)).all()
    assert counts.rooms == 2
    assert placed == [("Họp 16", "Phòng Ba"), ("Họp 17", "Phòng Bà"), ("Họp 18", "Phòng Ba")]


def test_a_cancelled_event_does_not_hide_the_live_one_at_its_time(demo):
    """A session moved in the source calendar may leave a cancelled copy at the same time
    and title; the live event after it was skipped as its repeat, and nothing imported."""
    cancelled = event("UID:a@example.org", START, END, "SUMMARY:Họp", "STATUS:CANCELLED")
    live = event("UID:b@example.org", START, END, "SUMMARY:Họp")
    again = event("UID:c@example.org", START, END, "SUMMARY:Họp")
    result = checked(demo, calendar(cancelled, live, again))
    assert [(e.number, e.action, e.note) for e in result.events] == [
        (1, "skip", "Đã hủy trong tệp lịch (STATUS:CANCELLED) — bỏ qua."),
        (2, "new", ""),
        (3, "skip", "Trùng với sự kiện 2 trong tệp — bỏ qua.")]
    assert result.ready


def _vtimezone(tzid: str, offset: str) -> str:
    return "\r\n".join(("BEGIN:VTIMEZONE", f"TZID:{tzid}", "BEGIN:STANDARD",
                         "DTSTART:19700101T000000", f"TZOFFSETFROM:{offset}",
                         f"TZOFFSETTO:{offset}", "END:STANDARD", "END:VTIMEZONE"))


@pytest.mark.parametrize("tzid", ["Customized Time Zone", "SE Asia Standard Time"])
def test_a_zone_defined_by_an_earlier_upload_does_not_decide_a_later_one(demo, tzid):
    """icalendar kept the first definition of a TZID for the whole process, and Outlook
    names every custom zone "Customized Time Zone": after one organiser's file defined it as
    +02:00, another's +07:00 17:00 was read as 15:00 UTC, and a file naming the zone without
    defining it was read in the other file's zone."""
    meeting = event("UID:hop@example.org", f"DTSTART;TZID={tzid}:20250615T170000",
                    f"DTEND;TZID={tzid}:20250615T173000", "SUMMARY:Họp")
    [elsewhere] = checked(demo, calendar(_vtimezone(tzid, "+0200"), meeting)).events
    assert elsewhere.starts_at == datetime(2025, 6, 15, 15, 0, tzinfo=UTC)
    [imported] = checked(demo, calendar(_vtimezone(tzid, "+0700"), meeting)).events
    assert (imported.starts_at, imported.ends_at, imported.errors) == (
        datetime(2025, 6, 15, 10, 0, tzinfo=UTC), datetime(2025, 6, 15, 10, 30, tzinfo=UTC), [])
    # Named without being defined: unknown, or the zone a Windows name stands for.
    [undefined] = checked(demo, calendar(meeting)).events
    if tzid == "Customized Time Zone":
        assert (undefined.starts_at, undefined.errors) == (None, [
            "Không nhận ra múi giờ «Customized Time Zone» của DTSTART.",
            "Không nhận ra múi giờ «Customized Time Zone» của DTEND."])
    else:  # Asia/Bangkok, +07:00
        assert (undefined.starts_at, undefined.errors) == (
            datetime(2025, 6, 15, 10, 0, tzinfo=UTC), [])


def test_a_broken_vtimezone_is_named_not_called_no_calendar(demo):
    """A VTIMEZONE the zone reader could not read (here with neither STANDARD nor
    DAYLIGHT) refused the whole file as "not a valid iCalendar file"."""
    broken = "\r\n".join(("BEGIN:VTIMEZONE", "TZID:Giờ Hà Nội", "END:VTIMEZONE"))
    result = checked(demo, calendar(broken, event(
        "UID:hop@example.org", "DTSTART;TZID=Giờ Hà Nội:20250615T170000",
        "DTEND;TZID=Giờ Hà Nội:20250615T173000", "SUMMARY:Họp")))
    assert (result.errors, result.events, result.ready) == ([
        "Không đọc được múi giờ «Giờ Hà Nội» (VTIMEZONE) trong tệp: định nghĩa múi giờ không "
        "hợp lệ."], [], False)


def paris_conference() -> Conference:
    conference = Conference(slug="paris-2025", title="Paris", timezone="Europe/Paris",
                            first_day=date(2025, 3, 29), last_day=date(2025, 3, 30))
    db.session.add(conference)
    db.session.flush()
    return conference


@pytest.mark.parametrize(("start", "end", "message"), [
    ("DTSTART:20250330T021500", "DURATION:PT30M", "Không có giờ 02:15 ngày 30/03/2025 theo "
     "múi giờ Europe/Paris: đồng hồ nhảy qua giờ đó (giờ mùa hè)."),
    ("DTSTART;TZID=Europe/Paris:20250330T021500", "DURATION:PT30M", "Không có giờ 02:15 ngày "
     "30/03/2025 theo múi giờ Europe/Paris: đồng hồ nhảy qua giờ đó (giờ mùa hè)."),
    ("DTSTART;TZID=Europe/Paris:20250330T013000", "DTEND;TZID=Europe/Paris:20250330T023000",
     "Không có giờ 02:30 ngày 30/03/2025 theo múi giờ Europe/Paris: đồng hồ nhảy qua giờ đó "
     "(giờ mùa hè)."),
])
def test_a_wall_time_the_clocks_skip_is_refused_as_in_the_editor(ctx, start, end, message):
    """30/03/2025 02:00–03:00 never happens in Europe/Paris; read as it stands, 02:15 would
    become 03:15 without a word."""
    conference = paris_conference()
    result = ics_import.check_calendar(conference, calendar(event(
        "UID:gio-mua-he@example.org", start, end, "SUMMARY:Họp")), "lich.ics")
    assert [ics_import.numbered(e, m) for e in result.events for m in e.errors] == [
        f"Sự kiện 1 («Họp»): {message}"]
    assert not result.ready
    with pytest.raises(editing.RuleBroken) as refused:
        editing.save_session(conference, None, editing.SessionFields(
            day=date(2025, 3, 30), start=time(2, 15), end=time(3, 15), kind=SessionKind.OTHER,
            title="Họp"))
    assert [p.message for p in refused.value.problems] == [
        "Không có giờ 02:15 ngày 30/03/2025 theo múi giờ Europe/Paris: đồng hồ nhảy qua giờ đó "
        "(giờ mùa hè)."]


def test_several_problems_of_one_event_are_all_told(demo):
    assert problems(demo, with_bad_second("DTSTART;VALUE=DATE:20250615", "RRULE:FREQ=DAILY")) == [
        "Sự kiện 2: Sự kiện lặp lại (RRULE, RDATE hoặc RECURRENCE-ID) không được hỗ trợ; hãy tạo "
        "từng phiên thành sự kiện riêng.",
        "Sự kiện 2: Sự kiện cả ngày (DTSTART chỉ có ngày, không có giờ) không nhập được; hãy đặt "
        "giờ bắt đầu và kết thúc.",
        "Sự kiện 2: Thiếu tiêu đề (SUMMARY).",
    ]


@pytest.mark.parametrize(("data", "message"), [
    (b"", "Không đọc được tệp: đây không phải tệp lịch iCalendar (.ics) hợp lệ."),
    (b"%PDF-1.4 not a calendar",
     "Không đọc được tệp: đây không phải tệp lịch iCalendar (.ics) hợp lệ."),
    (LUNCH.encode(), "Không đọc được tệp: đây không phải tệp lịch iCalendar (.ics) hợp lệ."),
    (calendar(), "Tệp lịch không có sự kiện nào (VEVENT)."),
    (calendar(*[LUNCH.replace("an-trua", f"e{i}") for i in range(2001)]),
     "Tệp có 2001 sự kiện, quá giới hạn 2000; hãy tách thành nhiều tệp."),
    (GOOD + b" " * (2 * 1024 * 1024), "Tệp lớn hơn 2 MB."),
    # Two exports joined into one file.
    (calendar(LUNCH) + calendar(VISIT) + calendar(PHOTO),
     "Không đọc được tệp: tệp gồm 3 lịch (BEGIN:VCALENDAR) nối tiếp nhau; mỗi tệp chỉ được "
     "chứa một lịch."),
    # An event never closed, then the calendar's end; a file cut short within an event.
    (calendar(LUNCH, "BEGIN:VEVENT\r\nUID:x@example.org\r\nSUMMARY:Họp"),
     "Không đọc được tệp: khối BEGIN:VEVENT ở dòng 11 không được đóng (thiếu END:VEVENT); tệp "
     "có thể bị cắt dở."),
    (calendar(LUNCH, VISIT).decode()[:-40].encode(),
     "Không đọc được tệp: khối BEGIN:VEVENT ở dòng 11 không được đóng (thiếu END:VEVENT); tệp "
     "có thể bị cắt dở."),
])
def test_files_refused_as_a_whole(demo, data, message):
    result = checked(demo, data)
    assert (result.errors, result.events, result.ready) == ([message], [], False)


NOT_UTF8 = ("Tệp lịch phải dùng bảng mã UTF-8; tệp này dùng bảng mã khác (byte không hợp lệ "
            "ở dòng %d). Hãy lưu lại hoặc xuất lại tệp với bảng mã UTF-8.")


@pytest.mark.parametrize(("encoding", "line"), [("cp1258", 8), ("latin-1", 8), ("utf-16", 1)])
def test_a_calendar_not_in_utf8_is_refused_whole(client, demo, encoding, line):
    """An old Windows export would otherwise import "Phiên" as "Phi\ufffdn"."""
    data = calendar(event("UID:phien@example.org", START, END, "SUMMARY:Phiên")
                    ).decode().encode(encoding)
    result = checked(demo, data)
    assert (result.errors, result.events) == ([NOT_UTF8 % line], [])
    logged_in(client, ORGANISER)
    page = unescape(upload(client, data).get_data(as_text=True))
    assert NOT_UTF8 % line in page and CONFIRM.search(page) is None
    assert session_count(demo) == 16


def test_a_line_folded_inside_a_character_is_read_whole(demo):
    """Some tools fold at 75 bytes whatever the character there: only the whole line is
    UTF-8, the pieces are not."""
    title = "Hội nghị tập huấn chuyên đề về công tác tổ chức xây dựng Đảng"
    line = f"SUMMARY:{title}".encode()
    cut = next(i for i in range(60, len(line)) if line[i] & 0xC0 == 0x80)  # inside "ậ"
    for fold in (b"\r\n ", b"\n\t"):
        data = calendar(event("UID:gap@example.org", START, END, "SUMMARY:x")).replace(
            b"SUMMARY:x", line[:cut] + fold + line[cut:])
        result = checked(demo, data)
        assert result.errors == []
        assert [(e.summary, e.errors, e.action) for e in result.events] == [(title, [], "new")]


def test_the_line_of_a_byte_not_in_utf8_counts_folded_lines(demo):
    data = calendar(event("UID:phien@example.org", START, END, "DESCRIPTION:Mot\r\n  hai",
                          "SUMMARY:Phiên")).decode().encode("cp1258")
    assert checked(demo, data).errors == [NOT_UTF8 % 10]


def test_a_byte_order_mark_is_read_past(demo):
    result = checked(demo, b"\xef\xbb\xbf" + calendar(event(
        "UID:phien@example.org", START, END, "SUMMARY:Phiên họp")))
    assert result.errors == []
    assert [(e.summary, e.errors, e.action) for e in result.events] == [("Phiên họp", [], "new")]


def test_nothing_is_written_when_any_event_has_an_error(client, demo):
    logged_in(client, ORGANISER)
    data = calendar(LUNCH, VISIT, event("DTSTART:20250615T170000", "SUMMARY:Họp"))
    page = upload(client, data).get_data(as_text=True)
    assert "Chưa nhập gì: tệp có 1 lỗi." in page
    assert CONFIRM.search(page) is None
    assert preview_rows(page)[2] == [
        "3", "15/06/2025", "17:00 – —", "Họp", "", "—",
        "Thiếu giờ kết thúc (DTEND hoặc DURATION). "
        "Giờ không kèm múi giờ: đã hiểu theo giờ của hội nghị (Asia/Ho_Chi_Minh)."]
    assert session_count(demo) == 16
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(Room)) == 1

    page = upload(client, b"not a calendar").get_data(as_text=True)
    assert "Không đọc được tệp: đây không phải tệp lịch iCalendar (.ics) hợp lệ." in page
    assert CONFIRM.search(page) is None


def test_confirmation_checks_again_and_writes_nothing_on_a_new_clash(client, demo):
    logged_in(client, ORGANISER)
    page = upload(client, GOOD).get_data(as_text=True)
    token = confirm_token(page)
    with demo.app_context():  # meanwhile, someone takes the hall at the visit's time
        conference = db.session.scalar(select(Conference))
        hall = db.session.scalar(select(Room.id))
        db.session.add(AgendaSession(
            conference_id=conference.id, kind=SessionKind.OTHER, title="Họp báo",
            starts_at=datetime(2025, 6, 14, 4, 45, tzinfo=UTC),
            ends_at=datetime(2025, 6, 14, 5, 15, tzinfo=UTC), room_id=hall))
        db.session.commit()
    response = post_form(client, f"{IMPORT}/{token}", {}, follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == [
        "Sự kiện 2 («Tham quan Học viện»): Phòng này đã có phiên «Họp báo» từ 11:45 đến 12:15."
    ]
    assert session_count(demo) == 17
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(Room)) == 1
        assert db.session.scalar(select(AuditEntry).where(
            AuditEntry.action == "agenda.import")) is None


def test_confirmation_refuses_an_event_that_would_no_longer_do_what_the_preview_said(
        client, demo):
    """The preview said the closing session, our own and unchanged, would be skipped;
    another organiser then renamed it: confirming decided afresh and wrote the file's old
    title back over theirs, a change nobody had previewed. Nothing is written now."""
    with demo.app_context():
        closing = db.session.scalars(select(AgendaSession).order_by(
            AgendaSession.starts_at)).all()[-1]
        session_id, uid, title = closing.id, closing.uid, closing.title
        start, end = (moment.strftime("%Y%m%dT%H%M%SZ")
                      for moment in (closing.starts_at, closing.ends_at))
    data = calendar(
        event(f"UID:{uid}@confmgr", f"DTSTART:{start}", f"DTEND:{end}", f"SUMMARY:{title}"),
        event("UID:moi@x", "DTSTART;TZID=Asia/Ho_Chi_Minh:20250614T173000",
              "DTEND;TZID=Asia/Ho_Chi_Minh:20250614T180000", "SUMMARY:Giao lưu"))
    logged_in(client, ORGANISER)
    page = upload(client, data).get_data(as_text=True)
    assert "1 phiên mới, 0 phiên cập nhật, 1 bỏ qua" in page
    with demo.app_context():  # meanwhile another organiser renames the closing session
        db.session.get(AgendaSession, session_id).title = "Bế mạc và trao giấy chứng nhận"
        db.session.commit()
    response = post_form(client, f"{IMPORT}/{confirm_token(page)}", {}, follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == [
        f"Sự kiện 1 («{title}»): chương trình đã được sửa từ khi xem trước, nên sự kiện này "
        "không còn được nhập như bản xem trước đã ghi; hãy tải tệp lên lại để xem trước lần "
        "nữa."]
    assert session_count(demo) == 16
    with demo.app_context():
        assert db.session.get(AgendaSession, session_id).title == (
            "Bế mạc và trao giấy chứng nhận")


def test_an_event_moved_in_its_calendar_and_imported_again_updates_its_session(client, demo):
    """The visit was imported from the organisers' shared calendar, then moved there half an
    hour later, and the file imported again: its UID was not kept, and at another time its
    title found nothing, so a second visit was added beside the first."""
    logged_in(client, ORGANISER)
    token = confirm_token(upload(client, GOOD).get_data(as_text=True))
    assert post_form(client, f"{IMPORT}/{token}", {}).status_code == 302
    assert session_count(demo) == 20
    moved = calendar(event(
        "UID:tham-quan@example.org", "DTSTART;TZID=Asia/Ho_Chi_Minh:20250614T120000",
        "DTEND;TZID=Asia/Ho_Chi_Minh:20250614T123000", "SUMMARY:Tham quan Học viện"))
    page = upload(client, moved).get_data(as_text=True)
    assert "0 phiên mới, 1 phiên cập nhật, 0 bỏ qua" in page
    assert post_form(client, f"{IMPORT}/{confirm_token(page)}", {}).status_code == 302
    assert session_count(demo) == 20
    with demo.app_context():
        visits = db.session.execute(select(AgendaSession.starts_at, AgendaSession.ends_at).where(
            AgendaSession.title == "Tham quan Học viện")).all()
        assert [(start.astimezone(UTC).time(), end.astimezone(UTC).time())
                for start, end in visits] == [(time(5, 0), time(5, 30))]


def test_the_preview_leaves_nothing_behind_even_if_the_caller_commits(demo):
    with demo.app_context():
        conference = db.session.scalar(select(Conference))
        assert ics_import.check_calendar(conference, GOOD, "lich.ics").ready
        db.session.commit()
    assert session_count(demo) == 16
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(Room)) == 1


# ---------------------------------------------------------------- who may import


def test_a_token_of_another_user_is_refused(client, app, demo):
    logged_in(client, ORGANISER)
    token = confirm_token(upload(client, GOOD).get_data(as_text=True))
    other = logged_in(app.test_client(), ADMIN)
    response = post_form(other, f"{IMPORT}/{token}", {}, follow_redirects=True)
    assert "Tệp đã xem trước thuộc người dùng hoặc hội nghị khác." in flashes(
        response.get_data(as_text=True))
    assert session_count(demo) == 16
    for bad in ("../../etc/passwd", "short", "x" * 30):
        response = post_form(client, f"{IMPORT}/{bad}", {}, follow_redirects=True)
        assert response.status_code in (200, 404)
        assert session_count(demo) == 16


def test_coordinators_and_anonymous_visitors_cannot_import(client, demo):
    response = client.get(IMPORT)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    response = client.post(f"{IMPORT}/{'x' * 24}", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")

    organiser = logged_in(demo.test_client(), ORGANISER)
    token = confirm_token(upload(organiser, GOOD).get_data(as_text=True))
    logged_in(client, COORDINATOR)
    assert client.get(IMPORT).status_code == 403
    assert upload(client, GOOD).status_code == 403
    assert post_form(client, f"{IMPORT}/{token}", {}).status_code == 403
    assert session_count(demo) == 16


def test_the_csrf_token_is_required(client, demo):
    logged_in(client, ORGANISER)
    response = client.post(IMPORT, data={"file": (BytesIO(GOOD), "lich.ics")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    token = confirm_token(upload(client, GOOD).get_data(as_text=True))
    assert client.post(f"{IMPORT}/{token}").status_code == 400
    assert session_count(demo) == 16
    assert post_form(client, f"{IMPORT}/{token}", {}).status_code == 302
    assert session_count(demo) == 20


def test_control_characters_in_an_imported_description_are_dropped(demo):
    """PostgreSQL cannot store a NUL, and no calendar should carry the others."""
    data = calendar(event(START, END, "SUMMARY:Họp tổ", "DESCRIPTION:Một\x00hai\x1bba"))
    [imported] = checked(demo, data).events
    assert imported.errors == [] and imported.description == "Mộthaiba"
