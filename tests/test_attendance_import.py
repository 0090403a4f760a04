"""Paper attendance lists uploaded after the session: preview, exact writes, all or nothing."""
from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from confmgr.attendance.models import (
    Attendance,
    AttendanceChange,
    SessionPointCategoryCount,
    SessionPointCount,
)
from confmgr.conferences.models import AgendaSession
from confmgr.db import db, utcnow
from confmgr.demo.loader import SLUG
from confmgr.enums import CheckInMethod, SessionKind, SessionStatus
from confmgr.points.models import BroadcastPoint
from confmgr.roster.models import Participant
from confmgr.text import fold
from tests.conftest import csrf_token
from tests.helpers import (
    COORDINATOR,
    ORGANISER,
    flashes,
    logged_in,
    post_form,
    race,
    unread_alert,
)
from tests.test_attendance_web import people_at, publish_agenda

UONG_BI = "06811"
SHEET = f"/manage/c/{SLUG}/points/{UONG_BI}/attendance"
WORDS = ("«có mặt», «x», «có», «✓», «✔», «muộn», «đến muộn», «đi muộn», «trễ», «đến trễ», "
         "«vắng có lý do», «có lý do», «vắng có phép», «có phép», «phép», «vắng», «vắng mặt», "
         "«vắng không phép», «vắng không lý do» (để trống là có mặt)")


def move_session(app, starts_in: timedelta, length: timedelta = timedelta(hours=1)) -> int:
    """Move the last topic session (nothing recorded for it in the demo) and publish the
    move; return its id."""
    with app.app_context():
        session = db.session.scalars(
            select(AgendaSession).where(AgendaSession.kind == SessionKind.TOPIC)
            .order_by(AgendaSession.starts_at.desc())).first()
        session.starts_at = utcnow() + starts_in
        session.ends_at = session.starts_at + length
        publish_agenda()
        return session.id


def ended_session(app) -> int:
    """Started 3 h ago, ended 2 h ago: past the 120-minute closing of check-in."""
    return move_session(app, -timedelta(hours=3))


def session_title(app, session_id: int) -> str:
    with app.app_context():
        return db.session.get(AgendaSession, session_id).title


def csv_file(rows) -> tuple[io.BytesIO, str]:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return io.BytesIO(buffer.getvalue().encode("utf-8-sig")), "danh-sach.csv"


def xlsx_file(rows) -> tuple[io.BytesIO, str]:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer, "danh-sach.xlsx"


def upload(client, session_id: int, file: tuple[io.BytesIO, str], code: str = UONG_BI):
    return client.post(f"/manage/c/{SLUG}/points/{code}/attendance/{session_id}/import",
                       data={"csrf_token": csrf_token(client), "file": file},
                       content_type="multipart/form-data")


def preview(client, session_id: int, rows, kind=csv_file) -> str:
    response = upload(client, session_id, kind(rows))
    assert response.status_code == 200
    return response.get_data(as_text=True)


def token_in(page: str) -> str:
    return re.search(r'/attendance/\d+/import/([A-Za-z0-9_-]{20,40})"', page).group(1)


def confirm(client, session_id: int, token: str, code: str = UONG_BI, **kwargs):
    return post_form(client, f"/manage/c/{SLUG}/points/{code}/attendance/{session_id}/import/"
                     f"{token}", {}, **kwargs)


def preview_rows(page: str) -> dict[str, tuple[str, str, list[str]]]:
    """Row number -> (matched delegate, action, errors), as the preview table shows them."""
    table = page.split('<table class="table table-sm preview">')[1].split("</table>")[0]
    found = {}
    for number, matched, action, errors in re.findall(
            r'<tr[^>]*><td>(\d+)</td><td>.*?</td><td>(.*?)</td><td>.*?</td>\s*'
            r'<td class="row-action">(.*?)</td>\s*<td class="row-errors text-danger">(.*?)</td>'
            r'</tr>', table, re.S):
        found[number] = (unescape(matched), unescape(action),
                         [unescape(e) for e in re.findall(r"<div>(.*?)</div>", errors)])
    return found


def written(app, session_id: int) -> dict[int, tuple[str, str]]:
    with app.app_context():
        return {p: (s.value, m.value) for p, s, m in db.session.execute(
            select(Attendance.participant_id, Attendance.status, Attendance.method)
            .where(Attendance.session_id == session_id))}


def point_id(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(select(BroadcastPoint.id).where(BroadcastPoint.code == code))


def counters(app, session_id: int, code: str = UONG_BI) -> tuple[int, int, int, int]:
    """(present, late, excused, absent) of the point's counters, checked against its rows."""
    pid = point_id(app, code)
    with app.app_context():
        row = db.session.get(SessionPointCount, (session_id, pid))
        totals = (row.present, row.late, row.excused, row.absent) if row else (0, 0, 0, 0)
        by_category = db.session.execute(
            select(*(func.coalesce(func.sum(getattr(SessionPointCategoryCount, name)), 0)
                     for name in ("present", "late", "excused", "absent")))
            .where(SessionPointCategoryCount.session_id == session_id,
                   SessionPointCategoryCount.point_id == pid)).one()
        from_rows = dict(db.session.execute(
            select(Attendance.status, func.count()).where(
                Attendance.session_id == session_id, Attendance.point_id == pid)
            .group_by(Attendance.status)).all())
    assert tuple(by_category) == totals
    assert tuple(from_rows.get(s, 0) for s in ("present", "late", "excused", "absent")) == totals
    return totals


def change_count(app, session_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AttendanceChange).where(
            AttendanceChange.session_id == session_id))


def without_diacritics(name: str) -> str:
    return fold(name).upper()


def rename(app, people: dict[int, tuple[str, str]]) -> None:
    """Give delegates the (name, phone) wanted, to build namesakes."""
    with app.app_context():
        for person_id, (name, phone) in people.items():
            person = db.session.get(Participant, person_id)
            person.full_name, person.phone = name, phone
        db.session.commit()


# ---------------------------------------------------------------- writing a list


def test_a_csv_list_after_the_session_writes_exactly_its_rows(client, demo):
    session_id = ended_session(demo)
    people = people_at(demo, UONG_BI)
    ids = [pid for pid, _name in people]
    logged_in(client, COORDINATOR)
    # Tapping is closed by now; the paper list is the way left.
    response = post_form(client, f"{SHEET}/{session_id}", {"mark": f"{ids[0]}:present"},
                         follow_redirects=True)
    assert any(m.startswith("Đã hết giờ điểm danh phiên") for m in flashes(
        response.get_data(as_text=True)))
    sheet = client.get(f"{SHEET}?session={session_id}").get_data(as_text=True)
    assert (f'href="{SHEET}/{session_id}/import">Tải lên danh sách giấy</a>') in sheet

    rows = [["STT", "Họ và tên", "Điểm danh"],
            [1, without_diacritics(people[0][1]), "có mặt"],
            [2, people[1][1], "Muộn"],
            [3, people[2][1], "vang co ly do"],
            [4, people[3][1], "VẮNG"],
            [5, people[4][1], "x"],
            [6, people[5][1], "có mặt"],
            [7, people[6][1], "phép"]]
    page = preview(client, session_id, rows)
    assert "Tệp hợp lệ: 7 dòng, 7 ghi mới, 0 sửa, 0 không đổi." in page
    assert preview_rows(page) == {
        str(n): (people[n - 2][1], "Ghi mới", []) for n in range(2, 9)}
    assert written(demo, session_id) == {}  # nothing before the confirmation

    response = confirm(client, session_id, token_in(page))
    assert response.status_code == 302
    assert response.headers["Location"] == f"{SHEET}?session={session_id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert flashes(page) == [
        "Đã ghi danh sách giấy: 7 đại biểu được ghi mới hoặc sửa, 0 không đổi."]
    assert written(demo, session_id) == {
        ids[0]: ("present", "import"), ids[1]: ("late", "import"),
        ids[2]: ("excused", "import"), ids[3]: ("absent", "import"),
        ids[4]: ("present", "import"), ids[5]: ("present", "import"),
        ids[6]: ("excused", "import")}
    assert counters(demo, session_id) == (3, 1, 2, 1)
    assert change_count(demo, session_id) == 7

    # The same list again: every row unchanged, nothing logged, counters as they were.
    page = preview(client, session_id, rows)
    assert "Tệp hợp lệ: 7 dòng, 0 ghi mới, 0 sửa, 7 không đổi." in page
    assert {action for _m, action, _e in preview_rows(page).values()} == {"Không đổi"}
    response = confirm(client, session_id, token_in(page), follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == [
        "Đã ghi danh sách giấy: 0 đại biểu được ghi mới hoặc sửa, 7 không đổi."]
    assert counters(demo, session_id) == (3, 1, 2, 1)
    assert change_count(demo, session_id) == 7


def test_an_xlsx_list_with_other_headings_corrects_what_was_recorded(client, demo):
    from confmgr.attendance import checkin
    from confmgr.enums import AttendanceStatus

    session_id = ended_session(demo)
    people = people_at(demo, UONG_BI)
    ids = [pid for pid, _name in people]
    with demo.app_context():
        session = db.session.get(AgendaSession, session_id)
        point = db.session.get(BroadcastPoint, point_id(demo, UONG_BI))
        checkin.record(session, point, ids[0], AttendanceStatus.ABSENT, user_id=None,
                       method=CheckInMethod.MANUAL, after_the_fact=True)
        checkin.record(session, point, ids[1], AttendanceStatus.LATE, user_id=None,
                       method=CheckInMethod.MANUAL, after_the_fact=True)
        db.session.commit()
    logged_in(client, ORGANISER)
    page = preview(client, session_id, [
        ["Họ và tên đại biểu", "Tình trạng"],
        [people[0][1], "Có"],
        [people[1][1], "đến muộn"],
        [people[2][1], "Có lý do"],
    ], kind=xlsx_file)
    assert "Tệp hợp lệ: 3 dòng, 1 ghi mới, 1 sửa, 1 không đổi." in page
    assert preview_rows(page) == {
        "2": (people[0][1], "Sửa từ «Vắng»", []),
        "3": (people[1][1], "Không đổi", []),
        "4": (people[2][1], "Ghi mới", []),
    }
    response = confirm(client, session_id, token_in(page), follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == [
        "Đã ghi danh sách giấy: 2 đại biểu được ghi mới hoặc sửa, 1 không đổi."]
    assert written(demo, session_id) == {
        ids[0]: ("present", "import"), ids[1]: ("late", "manual"),
        ids[2]: ("excused", "import")}
    assert counters(demo, session_id) == (1, 1, 1, 0)
    assert change_count(demo, session_id) == 4


def test_namesakes_are_told_apart_by_phone(client, demo):
    session_id = ended_session(demo)
    ids = [pid for pid, _name in people_at(demo, UONG_BI)]
    rename(demo, {ids[0]: ("Nguyễn Văn An", "0912000001"), ids[1]: ("Nguyễn Văn An", "0912000002"),
                  ids[2]: ("Nguyễn Văn Ân", "0912000003")})
    logged_in(client, COORDINATOR)
    page = preview(client, session_id, [
        ["Họ và tên", "Điểm danh", "Điện thoại"],
        ["Nguyen Van An", "", ""],
        ["Nguyễn Văn An", "", "0912 000 009"],
        ["Nguyễn Văn Ân", "vắng", ""],
    ], kind=xlsx_file)
    assert preview_rows(page) == {
        "2": ("", "", ["Họ và tên: Có 3 đại biểu tên «Nguyen Van An» ở điểm cầu này; hãy ghi "
                       "số điện thoại ở cột «Điện thoại» hoặc mã đại biểu ở cột «Mã đại biểu» "
                       "(mẫu danh sách tải từ trang điểm danh có sẵn mã) để phân biệt."]),
        "3": ("", "", ["Điện thoại: Không có đại biểu «Nguyễn Văn An» nào có số điện thoại "
                       "0912000009 ở điểm cầu này."]),
        # Written with its own diacritics, the name is no longer ambiguous.
        "4": ("Nguyễn Văn Ân", "Ghi mới", []),
    }
    assert "Chưa ghi gì: tệp có 2 lỗi." in page

    page = preview(client, session_id, [
        ["Họ và tên", "Điểm danh", "Số điện thoại"],
        ["nguyen van an", "muộn", 912000002],  # Excel dropped the leading zero
        ["NGUYỄN VĂN AN", "", "+84 912 000 001"],
        ["Nguyễn Văn Ân", "vắng", ""],
    ], kind=xlsx_file)
    assert preview_rows(page) == {"2": ("Nguyễn Văn An", "Ghi mới", []),
                                  "3": ("Nguyễn Văn An", "Ghi mới", []),
                                  "4": ("Nguyễn Văn Ân", "Ghi mới", [])}
    confirm(client, session_id, token_in(page))
    assert written(demo, session_id) == {ids[1]: ("late", "import"),
                                         ids[0]: ("present", "import"),
                                         ids[2]: ("absent", "import")}
    assert counters(demo, session_id) == (1, 1, 0, 1)


def test_the_template_lists_the_points_delegates_and_goes_back_as_it_is(client, demo):
    session_id = ended_session(demo)
    ids = [pid for pid, _name in people_at(demo, UONG_BI)]
    rename(demo, {ids[0]: ("Nguyễn Văn An", "0912000001"),
                  ids[1]: ("Nguyễn Văn An", "0912000002")})
    people = people_at(demo, UONG_BI)
    logged_in(client, COORDINATOR)
    response = client.get(f"{SHEET}/{session_id}/import/template.csv")
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="diem-danh-{UONG_BI}-phien-{session_id}.csv"')
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["Họ và tên", "Điểm danh", "Điện thoại", "Ghi chú", "Mã đại biểu"]
    assert {row[3] for row in rows[1:]} == {""}
    assert [row[0] for row in rows[1:]] == [name for _pid, name in people]
    # A phone and the delegate's number only where a name repeats (the demo has namesakes
    # of its own too).
    repeated = Counter(fold(row[0]) for row in rows[1:])
    assert all(bool(row[4]) == (repeated[fold(row[0])] > 1) for row in rows[1:])
    assert all(bool(row[2]) <= (repeated[fold(row[0])] > 1) for row in rows[1:])
    assert sorted((row[2], row[4]) for row in rows[1:] if row[0] == "Nguyễn Văn An") == [
        ("0912000001", str(ids[0])), ("0912000002", str(ids[1]))]
    page = preview(client, session_id, rows)
    assert f"Tệp hợp lệ: {len(people)} dòng, {len(people)} ghi mới, 0 sửa, 0 không đổi." in page
    confirm(client, session_id, token_in(page))
    assert counters(demo, session_id) == (len(people), 0, 0, 0)


def test_namesakes_without_phones_are_told_apart_by_the_templates_numbers(client, demo):
    """Commune lists often have no phones: two «Hoàng Văn Trống» go back in the template
    with their numbers, and each gets the status written beside his own."""
    session_id = ended_session(demo)
    ids = [pid for pid, _name in people_at(demo, UONG_BI)]
    rename(demo, {ids[0]: ("Hoàng Văn Trống", ""), ids[1]: ("Hoàng Văn Trống", "")})
    logged_in(client, COORDINATOR)
    rows = list(csv.reader(io.StringIO(client.get(
        f"{SHEET}/{session_id}/import/template.csv").get_data(as_text=True).lstrip("\ufeff"))))
    twins = sorted((row for row in rows if row[0] == "Hoàng Văn Trống"), key=lambda r: r[4])
    assert twins == sorted([["Hoàng Văn Trống", "", "", "", str(ids[0])],
                            ["Hoàng Văn Trống", "", "", "", str(ids[1])]], key=lambda r: r[4])
    next(row for row in twins if row[4] == str(ids[1]))[1] = "vắng"
    page = preview(client, session_id, rows)
    assert f"Tệp hợp lệ: {len(rows) - 1} dòng, {len(rows) - 1} ghi mới, 0 sửa" in page
    confirm(client, session_id, token_in(page))
    assert {pid: status for pid, (status, _how) in written(demo, session_id).items()
            if pid in ids[:2]} == {ids[0]: "present", ids[1]: "absent"}

    # A number that is not the named delegate's, or not a number, is named with its row.
    page = preview(client, session_id, [
        ["Họ và tên", "Điểm danh", "Mã đại biểu"],
        ["Hoàng Văn Trống", "", str(ids[2])],
        ["Hoàng Văn Trống", "", "số 2"],
    ])
    assert preview_rows(page) == {
        "2": ("", "", [f"Mã đại biểu: Mã đại biểu {ids[2]} không phải của «Hoàng Văn Trống» "
                       "ở điểm cầu này; hãy dùng mã trong mẫu danh sách tải từ trang điểm "
                       "danh."]),
        "3": ("", "", ["Mã đại biểu: «số 2» không phải là mã đại biểu: mã là một số, như "
                       "trong mẫu danh sách tải từ trang điểm danh.",
                       "Họ và tên: Có 2 đại biểu tên «Hoàng Văn Trống» ở điểm cầu này; hãy ghi "
                       "số điện thoại ở cột «Điện thoại» hoặc mã đại biểu ở cột «Mã đại biểu» "
                       "(mẫu danh sách tải từ trang điểm danh có sẵn mã) để phân biệt."]),
    }


# ---------------------------------------------------------------- refusals


def test_every_wrong_row_is_named_and_nothing_is_written(client, demo):
    from confmgr.roster.services import withdraw

    session_id = ended_session(demo)
    people = people_at(demo, UONG_BI)
    stranger = people_at(demo, "06688")[0][1]
    rename(demo, {people[5][0]: ("Trần Thị Bích", "0912000001"),
                  people[6][0]: ("Trần Thị Bích", "0912000002")})
    with demo.app_context():
        withdraw(db.session.get(Participant, people[7][0]), organiser=True)
        db.session.commit()
    logged_in(client, COORDINATOR)
    page = preview(client, session_id, [
        ["Họ và tên", "Điểm danh"],
        [people[0][1], "có mặt"],
        ["Không Có Ai", "có mặt"],
        [people[1][1], "ốm"],
        [without_diacritics(people[0][1]), "vắng"],
        [stranger, "x"],
        ["Tran Thi Bich", "x"],
        ["", "x"],
        [people[7][1], "x"],
        [people[2][1], "muộn"],
    ])
    assert "Xác nhận ghi điểm danh" not in page
    assert "Chưa ghi gì: tệp có 7 lỗi." in page
    assert {number: errors for number, (_m, _a, errors) in preview_rows(page).items()} == {
        "2": [],
        "3": ["Họ và tên: «Không Có Ai» không có trong danh sách đại biểu đã đăng ký của điểm "
              "cầu này."],
        "4": [f"Điểm danh: Không hiểu «ốm». Hãy ghi một trong các từ: {WORDS}."],
        "5": [f"Họ và tên: {people[0][1]} đã có ở dòng 2; mỗi đại biểu chỉ ghi một dòng."],
        "6": [f"Họ và tên: «{stranger}» không có trong danh sách đại biểu đã đăng ký của điểm "
              "cầu này."],
        "7": ["Họ và tên: Có 2 đại biểu tên «Tran Thi Bich» ở điểm cầu này; hãy ghi số điện "
              "thoại ở cột «Điện thoại» hoặc mã đại biểu ở cột «Mã đại biểu» (mẫu danh sách "
              "tải từ trang điểm danh có sẵn mã) để phân biệt."],
        "8": ["Họ và tên: Thiếu họ và tên."],
        "9": [f"Họ và tên: {people[7][1]} đã rút tên khỏi hội nghị."],
        "10": [],
    }
    assert written(demo, session_id) == {}
    assert counters(demo, session_id) == (0, 0, 0, 0)


def test_the_official_list_with_absences_noted_is_refused_where_a_note_says_so(client, demo):
    """The official delegate list (STT | Họ và tên | Chức vụ | Đơn vị | Ký tên | Ghi chú),
    marked on paper: "Vắng" under Ghi chú must not be recorded as present. A note that
    says nothing of attendance is a note; a status column, when filled, decides."""
    session_id = ended_session(demo)
    people = [name for _pid, name in people_at(demo, UONG_BI)]
    logged_in(client, COORDINATOR)
    official = [["DANH SÁCH ĐẠI BIỂU DỰ HỘI NGHỊ"],
                ["STT", "Họ và tên", "Chức vụ", "Đơn vị", "Ký tên", "Ghi chú"],
                [1, people[0], "Bí thư", "Đảng ủy phường", "", "Trưởng đoàn"],
                [2, people[1], "", "", "", "Vắng"],
                [3, people[2], "", "", "", "nghỉ ốm"],
                [4, people[3], "", "", "", "không có mặt buổi sáng"],
                [5, people[4], "", "", "", ""]]
    page = preview(client, session_id, official, kind=xlsx_file)
    assert "Chưa ghi gì: tệp có 3 lỗi." in page
    assert {number: errors for number, (_m, _a, errors) in preview_rows(page).items()} == {
        "3": [], "7": [],
        **{number: [f"Ghi chú: «{note}» nói về việc dự họp: hãy ghi vào cột «Điểm danh» một "
                    f"trong các từ: {WORDS}."]
           for number, note in (("4", "Vắng"), ("5", "nghỉ ốm"),
                                ("6", "không có mặt buổi sáng"))}}
    assert written(demo, session_id) == {}

    with_status = [["Họ và tên", "Điểm danh", "Ghi chú"],
                   [people[1], "vắng", "Vắng"], [people[2], "có phép", "nghỉ ốm"],
                   [people[0], "", "Trưởng đoàn"]]
    page = preview(client, session_id, with_status)
    assert [(action, errors) for _m, action, errors in preview_rows(page).values()] == [
        ("Ghi mới", [])] * 3
    confirm(client, session_id, token_in(page))
    ids = dict((name, pid) for pid, name in people_at(demo, UONG_BI))
    assert written(demo, session_id) == {ids[people[1]]: ("absent", "import"),
                                         ids[people[2]]: ("excused", "import"),
                                         ids[people[0]]: ("present", "import")}


def test_a_column_of_its_own_for_absences_refuses_the_file(client, demo):
    """A list that marks absentees under "Vắng" (or "Có mặt") rather than "Điểm danh":
    read without that column, every absentee would be recorded present."""
    session_id = ended_session(demo)
    people = [name for _pid, name in people_at(demo, UONG_BI)]
    logged_in(client, COORDINATOR)
    page = client.get(f"{SHEET}/{session_id}/import").get_data(as_text=True)
    assert unescape(re.search(r'<p class="[^"]*other-columns">(.*?)</p>', page).group(1)) == (
        "Các cột khác (Chức vụ, Đơn vị, Ký tên…) không được dùng để điểm danh. Tệp có một cột "
        "khác ghi việc dự họp (như «Vắng», «Có mặt») hoặc một cột có dữ liệu mà không có tiêu "
        "đề sẽ bị từ chối: hãy chuyển vào cột «Điểm danh».")
    for heading in ("Vắng", "Có mặt", "Vắng mặt (đánh dấu x)", "Không tham dự", "Nghỉ",
                    "Đến muộn"):
        page = preview(client, session_id, [["Họ và tên", heading], [people[0], ""],
                                            [people[1], "x"]], kind=xlsx_file)
        error = page.split("import-file-error")[1].split("</div></div>")[0]
        assert unescape(re.sub(r"<[^>]+>", "", error)) == (
            f'" role="alert">Cột «{heading}» ghi việc dự họp nhưng không phải cột «Điểm '
            "danh»: hãy ghi tình trạng của từng người vào cột «Điểm danh» (để trống là có "
            "mặt) rồi tải lên lại.")
        assert "Xác nhận ghi điểm danh" not in page
    # Left empty, such a column says nothing and loses nothing.
    page = preview(client, session_id, [["Họ và tên", "Vắng"], [people[0], ""]])
    assert [action for _m, action, _e in preview_rows(page).values()] == ["Ghi mới"]
    assert written(demo, session_id) == {}


def test_what_other_cells_say_of_absence_needs_the_status_written(client, demo):
    """"Vắng" under "Ký tên", a reason under "Lý do vắng", "đi công tác" in a cell without a
    heading: each row is stopped until its status is written; a status, when written,
    decides ("vắng có lí do" is the older spelling)."""
    session_id = ended_session(demo)
    people = [name for _pid, name in people_at(demo, UONG_BI)]
    logged_in(client, COORDINATOR)
    page = preview(client, session_id, [
        ["Họ và tên", "Điểm danh", "Ký tên", "Lý do vắng", "Quê quán", "Đơn vị công tác",
         "Chức vụ", "Ghi chú"],
        [people[0], "", "vắng", "", "Hải Dương", "", "", ""],
        [people[1], "", "", "bận việc gia đình", "", "", "", ""],
        [people[2], "", "", "", "đi công tác", "", "", ""],
        [people[3], "vắng có lí do", "", "ốm", "", "", "", ""],
        [people[4], "", "", "", "Quảng Ninh", "Ủy ban Mặt trận Tổ quốc phường",
         "Trưởng ban Công tác đại biểu", "Đại diện Mặt trận"],
    ], kind=xlsx_file)
    assert "Chưa ghi gì: tệp có 3 lỗi." in page
    def said(column, value):
        return (f"{column}: «{value}» nói về việc dự họp: hãy ghi vào cột «Điểm danh» một "
                f"trong các từ: {WORDS}.")
    # The delegate list's own columns are not looked at: "Mặt trận", "Ban Công tác".
    assert {number: errors for number, (_m, _a, errors) in preview_rows(page).items()} == {
        "2": [said("Ký tên", "vắng")], "3": [said("Lý do vắng", "bận việc gia đình")],
        "4": [said("Quê quán", "đi công tác")], "5": [], "6": []}
    # The columns not read are named, bar the list's own and its signature column.
    assert unread_alert(page) == (
        "Không đọc các cột: «Lý do vắng», «Quê quán». Danh sách điểm danh chỉ dùng các cột "
        "«Họ và tên», «Điểm danh», «Điện thoại», «Ghi chú», «Mã đại biểu».")
    assert written(demo, session_id) == {}

    # Marks in a column without a heading cannot be read either way: the file is refused.
    page = preview(client, session_id, [["Họ và tên", "Thành phần tham dự", ""],
                                        [people[0], "Cán bộ", "x"], [people[1], "Cán bộ", ""]],
                   kind=xlsx_file)
    error = page.split("import-file-error")[1].split("</div></div>")[0]
    assert unescape(re.sub(r"<[^>]+>", "", error)) == (
        '" role="alert">Cột C có dữ liệu nhưng không có tiêu đề: nếu đó là tình trạng dự họp, '
        "hãy đặt tiêu đề «Điểm danh»; nếu không, hãy xóa cột đó rồi tải lên lại.")
    assert written(demo, session_id) == {}


def test_notes_typed_without_marks_and_unit_names_are_told_apart(client, demo):
    """"khong tham du" and "nghi om" typed without marks stop the row as with them; a
    combined "Chức vụ, đơn vị" column naming a "Phòng Cấp phép" does not."""
    session_id = ended_session(demo)
    people = [name for _pid, name in people_at(demo, UONG_BI)]
    logged_in(client, COORDINATOR)
    page = preview(client, session_id, [
        ["Họ và tên", "Chức vụ, đơn vị", "Ghi chú"],
        [people[0], "Trưởng phòng Cấp phép, Sở Xây dựng", ""],
        [people[1], "", "khong tham du"],
        [people[2], "", "nghi om"],
        [people[3], "", "Phép"],
        [people[4], "Ủy viên Ban Công tác Mặt trận", "Muốn phát biểu"],
    ])
    assert {number: len(errors) for number, (_m, _a, errors) in preview_rows(page).items()} == {
        "2": 0, "3": 1, "4": 1, "5": 1, "6": 0}


@pytest.mark.parametrize("note, stopped", [
    ("Không tham gia", True), ("Không đến", True), ("Chưa đến", True), ("Không họp", True),
    ("Bận việc gia đình", True), ("Cử người đi thay", True), ("Đồng chí Hà dự thay", True),
    ("nghi", True), ("khong den", True), ("ban viec rieng", True), ("Om", True),
    ("Việc riêng", True), ("Có việc gia đình", True), ("Nằm viện", True), ("Đi viện", True),
    ("Đi học", True), ("Đi khám bệnh", True), ("viec rieng", True), ("nam vien", True),
    ("Trưởng đoàn", False), ("Đề nghị phát biểu", False), ("Ban Tuyên giáo", False),
    ("Thay đổi số điện thoại", False), ("Học viện Chính trị khu vực I", False),
])
def test_how_people_write_an_absence_in_a_note_stops_the_row(client, demo, note, stopped):
    """Left as present, each of these would record an absentee as having come."""
    session_id = ended_session(demo)
    name = people_at(demo, UONG_BI)[0][1]
    logged_in(client, COORDINATOR)
    page = preview(client, session_id, [["Họ và tên", "Ghi chú"], [name, note]])
    (row,) = preview_rows(page).values()
    assert row[2] == ([f"Ghi chú: «{note}» nói về việc dự họp: hãy ghi vào cột «Điểm danh» "
                       f"một trong các từ: {WORDS}."] if stopped else [])


def test_a_list_that_ticks_some_names_and_leaves_others_blank_is_refused(client, demo):
    """Filled as "tick who came", a list's blanks may be absentees: the rule that a blank
    is present cannot be applied to it, in the status, note or signature column."""
    session_id = ended_session(demo)
    people = [name for _pid, name in people_at(demo, UONG_BI)]
    logged_in(client, COORDINATOR)
    page = client.get(f"{SHEET}/{session_id}/import").get_data(as_text=True)
    assert ("Nếu đánh dấu «x» cho người có mặt, hãy ghi «vắng» cho người vắng: một danh sách "
            "đánh dấu một số người và để trống những người khác sẽ bị từ chối.") in unescape(page)
    for rows, column, ticked, blank in (
            ([["Họ và tên", "Điểm danh"], [people[0], "x"], [people[1], ""],
              [people[2], "vắng"]], "Điểm danh", 2, 3),
            ([["Họ và tên", "Ký tên", "Điểm danh"], [people[0], "", "vắng"],
              [people[1], "(đã ký)", ""], [people[2], "", ""]], "Ký tên", 3, 4),
            # Any word that means present ticks as well as "x" does.
            ([["Họ và tên", "Điểm danh"], [people[0], "vắng"], [people[1], "Có mặt"],
              [people[2], ""]], "Điểm danh", 3, 4),
            # The official list's last column: ticks there were read as everyone present.
            ([["Họ và tên", "Điểm danh", "Ghi chú"], [people[0], "", "x"],
              [people[1], "", ""], [people[2], "", "x"]], "Ghi chú", 2, 3),
            # Columns not read: a signature column by any name, a session's or a day's
            # column, a yes-or-no column (its "không" is no tick). Their blanks were read
            # as present.
            ([["Họ và tên", "Chữ ký"], [people[0], "đã ký"], [people[1], ""],
              [people[2], "x"]], "Chữ ký", 2, 3),
            ([["Họ và tên", "Sáng", "Chiều"], [people[0], "x", "x"], [people[1], "x", ""],
              [people[2], "x", "x"]], "Chiều", 2, 3),
            ([["Họ và tên", "Tham gia"], [people[0], "có"], [people[1], "không"],
              [people[2], "có"]], "Tham gia", 2, 3),
            # Ticked as 1 and 0, with "√" (as Word's symbols give a check mark), or "+".
            ([["Họ và tên", "Sáng"], [people[0], "1"], [people[1], "0"],
              [people[2], "1"]], "Sáng", 2, 3),
            ([["Họ và tên", "Ký tên"], [people[0], "√"], [people[1], ""],
              [people[2], "√"]], "Ký tên", 2, 3),
            ([["Họ và tên", "Tham gia"], [people[0], "+"], [people[1], "-"],
              [people[2], "+"]], "Tham gia", 2, 3),
            # A spreadsheet's check boxes: TRUE and FALSE.
            ([["Họ và tên", "Tham gia"], [people[0], True], [people[1], False],
              [people[2], True]], "Tham gia", 2, 3)):
        kind = xlsx_file if True in rows[1] else csv_file
        page = preview(client, session_id, rows, kind=kind)
        error = page.split("import-file-error")[1].split("</div></div>")[0]
        unread = "" if column in ("Điểm danh", "Ghi chú") else (
            " Nếu cột này không nói về điểm danh, hãy xóa nó khỏi tệp.")
        assert unescape(re.sub(r"<[^>]+>", "", error)) == (
            f'" role="alert">Cột «{column}» đánh dấu một số người (như dòng {ticked}) và để '
            f"trống ở những người khác (như dòng {blank}): không rõ ô trống là có mặt hay "
            "vắng. Hãy ghi «vắng» cho người vắng ở cột «Điểm danh», hoặc đánh dấu mọi người "
            f"có mặt.{unread}")
    # Every name ticked, or every absentee written: nothing to guess. The delegate list's
    # own columns are not looked at, nor those ticking who a person is ("Nam", "Nữ"), nor
    # one of numbers ("Tổ": its 1 ticks nobody).
    page = preview(client, session_id, [
        ["Họ và tên", "Điểm danh", "Đơn vị", "Nam", "Nữ", "Tổ"],
        [people[0], "x", "x", "x", "", "1"], [people[1], "x", "", "", "x", "2"],
        [people[2], "vắng", "", "x", "", ""]])
    assert [action for _m, action, _e in preview_rows(page).values()] == ["Ghi mới"] * 3
    assert written(demo, session_id) == {}


def test_columns_of_one_heading_are_each_checked_and_named_by_their_letters(client, demo):
    """A two-day sheet headed «Sáng | Chiều | Sáng | Chiều» (the days in a merged row
    above): read as one column each, day 2's ticks hid day 1's blanks, and an absentee of
    day 1 was recorded present."""
    session_id = ended_session(demo)
    people = [name for _pid, name in people_at(demo, UONG_BI)]
    logged_in(client, COORDINATOR)
    page = preview(client, session_id, [
        ["Họ và tên", "Sáng", "Chiều", "Sáng", "Chiều"],
        [people[0], "x", "x", "x", "x"],
        [people[1], "", "", "x", "x"],  # away on day 1, here on day 2
        [people[2], "x", "x", "x", "x"]])
    assert re.findall(r"<div>(Cột .*?)</div>", unescape(page)) == [
        f"Cột «{column}» đánh dấu một số người (như dòng 2) và để trống ở những người khác "
        "(như dòng 3): không rõ ô trống là có mặt hay vắng. Hãy ghi «vắng» cho người vắng ở "
        "cột «Điểm danh», hoặc đánh dấu mọi người có mặt. Nếu cột này không nói về điểm "
        "danh, hãy xóa nó khỏi tệp." for column in ("Sáng (cột B)", "Chiều (cột C)")]
    assert written(demo, session_id) == {}


def test_a_name_written_with_another_apostrophe_is_the_registered_name(client, demo):
    """An Ê Đê name typed up in Word ("H’Hen Niê") was not found for the registered "H'Hen
    Niê", though registering counts the two as one name."""
    session_id = ended_session(demo)
    people = people_at(demo, UONG_BI)
    rename(demo, {people[0][0]: ("H'Hen Niê", ""), people[1][0]: ("Y’Moan Ênuôl", "")})
    logged_in(client, COORDINATOR)
    page = preview(client, session_id, [["Họ và tên", "Điểm danh"],
                                        ["H’Hen Niê", "vắng"], ["Y'Moan Ênuôl", "vắng"]])
    assert preview_rows(page) == {"2": ("H'Hen Niê", "Ghi mới", []),
                                  "3": ("Y’Moan Ênuôl", "Ghi mới", [])}
    assert confirm(client, session_id, token_in(page)).status_code == 302
    assert written(demo, session_id) == {people[0][0]: ("absent", "import"),
                                         people[1][0]: ("absent", "import")}


def test_check_marks_late_in_the_south_and_absent_without_leave_are_understood(client, demo):
    """A list ticked with ✓, or saying "trễ" (late, as the South says) or "vắng không
    phép", had every such row refused as not understood."""
    session_id = ended_session(demo)
    people = people_at(demo, UONG_BI)
    logged_in(client, COORDINATOR)
    page = preview(client, session_id, [
        ["Họ và tên", "Điểm danh"], [people[0][1], "✓"], [people[1][1], "Trễ"],
        [people[2][1], "vắng không phép"], [people[3][1], "Vắng không lí do"]])
    assert [errors for _m, _a, errors in preview_rows(page).values()] == [[]] * 4
    assert confirm(client, session_id, token_in(page)).status_code == 302
    assert written(demo, session_id) == {
        people[0][0]: ("present", "import"), people[1][0]: ("late", "import"),
        people[2][0]: ("absent", "import"), people[3][0]: ("absent", "import")}


def _damaged_xlsx(patch) -> tuple:
    data = bytearray(xlsx_file([["Họ và tên", "Điểm danh"], ["Nguyễn Văn An", ""]])[0].read())
    patch(data)
    return io.BytesIO(bytes(data)), "danh-sach.xlsx"


def _version_needed_too_high(data: bytearray) -> None:
    # The central directory's "version needed to extract" of the first entry: 25.5.
    at = data.index(b"PK\x01\x02")
    data[at + 6:at + 8] = (255).to_bytes(2, "little")


def _local_header_before_the_file(data: bytearray) -> None:
    # The end record says the central directory starts 1,000 bytes later than it does, so
    # the first entry's header is read from before the file's start (a damaged copy).
    at = data.rindex(b"PK\x05\x06")
    start = int.from_bytes(data[at + 16:at + 20], "little")
    data[at + 16:at + 20] = (start + 1000).to_bytes(4, "little")


@pytest.mark.parametrize("patch", [_version_needed_too_high, _local_header_before_the_file])
def test_a_damaged_xlsx_is_refused_with_a_message_not_a_server_error(client, demo, patch):
    """Two damages a fuzzer found that the zip reader raised other errors for (a 500)."""
    session_id = ended_session(demo)
    logged_in(client, COORDINATOR)
    response = upload(client, session_id, _damaged_xlsx(patch))
    assert response.status_code == 200
    assert "Tệp không phải là tệp Excel (.xlsx) hợp lệ." in response.get_data(as_text=True)


def test_a_name_with_other_marks_is_another_name(client, demo):
    """"Nguyễn Văn Hưng" is not the point's only "Nguyễn Văn Hùng", though both fold to
    "nguyen van hung"; written without marks, or with the tone placed the other accepted
    way ("Hoà" for "Hòa"), the name is the registered one."""
    session_id = ended_session(demo)
    people = people_at(demo, UONG_BI)
    rename(demo, {people[0][0]: ("Nguyễn Văn Hùng", ""), people[1][0]: ("Lê Thị Hòa", ""),
                  people[2][0]: ("Lê Thị Hoa", "")})
    logged_in(client, COORDINATOR)
    page = preview(client, session_id, [["Họ và tên"], ["Nguyễn Văn Hưng"], ["Lê Thị Hoà"],
                                        ["LÊ THỊ HOA"]])
    assert {number: (matched, errors) for number, (matched, _a, errors)
            in preview_rows(page).items()} == {
        "2": ("", ["Họ và tên: «Nguyễn Văn Hưng» khác dấu với tên đã đăng ký ở điểm cầu này: "
                   "«Nguyễn Văn Hùng». Hãy ghi đúng tên đã đăng ký."]),
        "3": ("Lê Thị Hòa", []), "4": ("Lê Thị Hoa", [])}
    rename(demo, {people[3][0]: ("Do Duc Anh", "")})  # registered without marks
    page = preview(client, session_id, [["Họ và tên"], ["Đỗ Đức Anh"]])
    assert [(matched, errors) for matched, _a, errors in preview_rows(page).values()] == [
        ("Do Duc Anh", [])]
    page = preview(client, session_id, [["Họ và tên"], ["Nguyen Van Hung"], ["Nguyễn Văn Hung"]])
    assert [(matched, errors) for matched, _a, errors in preview_rows(page).values()] == [
        ("Nguyễn Văn Hùng", []),
        ("", ["Họ và tên: Nguyễn Văn Hùng đã có ở dòng 2; mỗi đại biểu chỉ ghi một dòng."])]


def test_files_that_cannot_be_read_are_refused_whole(client, demo):
    session_id = ended_session(demo)
    logged_in(client, COORDINATOR)
    for rows, message in (
            ([["Tên", "Điểm danh"], ["Nguyễn Văn An", "x"]],
             "Thiếu cột: «Họ và tên». Hãy dùng tệp mẫu."),
            ([["Họ và tên", "Điểm danh"]], "Tệp không có dữ liệu."),
            ([["Họ và tên"], ["=A1"]],
             "Dòng 2, cột Họ và tên: Ô chứa công thức; hãy dán giá trị thay vì công thức.")):
        page = preview(client, session_id, rows)
        error = page.split("import-file-error")[1].split("</div></div>")[0]
        assert message in unescape(re.sub(r"<[^>]+>", "", error)), message
        assert "Xác nhận ghi điểm danh" not in page
    assert written(demo, session_id) == {}


def test_what_changed_since_the_preview_is_checked_again_at_the_confirmation(client, demo):
    from confmgr.roster.services import withdraw

    session_id = ended_session(demo)
    people = people_at(demo, UONG_BI)
    title = session_title(demo, session_id)
    logged_in(client, COORDINATOR)
    rows = [["Họ và tên", "Điểm danh"], [people[0][1], "x"], [people[1][1], "vắng"]]
    token = token_in(preview(client, session_id, rows))
    with demo.app_context():
        withdraw(db.session.get(Participant, people[1][0]), organiser=True)
        db.session.commit()
    response = confirm(client, session_id, token, follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == [
        f"Dòng 3, cột Họ và tên: {people[1][1]} đã rút tên khỏi hội nghị."]
    assert written(demo, session_id) == {}

    # The name now belongs to someone else than the delegate shown at the preview.
    token = token_in(preview(client, session_id, rows[:2]))
    rename(demo, {people[0][0]: ("Lưu Văn Khác", ""), people[2][0]: (people[0][1], "")})
    response = confirm(client, session_id, token, follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == [
        "Dòng 2, cột Họ và tên: Danh sách đại biểu của điểm cầu đã thay đổi từ lúc xem trước; "
        "hãy tải lên lại."]
    assert written(demo, session_id) == {}

    token = token_in(preview(client, session_id, rows[:2]))
    with demo.app_context():
        db.session.get(AgendaSession, session_id).status = SessionStatus.CANCELLED
        publish_agenda()
    response = confirm(client, session_id, token, follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == [
        f"Phiên «{title}» đã bị hủy: không điểm danh."]
    assert written(demo, session_id) == {}
    assert counters(demo, session_id) == (0, 0, 0, 0)


def test_a_status_recorded_since_the_preview_is_not_replaced_unseen(client, demo):
    """The preview said "Ghi mới" for a delegate who then tapped in by QR: the list put
    "vắng" over it without a word. A row recorded meanwhile as the list says is fine."""
    from confmgr.attendance import checkin
    from confmgr.enums import AttendanceStatus, CheckInMethod

    session_id = ended_session(demo)
    people = people_at(demo, UONG_BI)
    logged_in(client, COORDINATOR)
    rows = [["Họ và tên", "Điểm danh"], [people[0][1], "vắng"], [people[1][1], "x"]]
    token = token_in(preview(client, session_id, rows))
    with demo.app_context():
        session = db.session.get(AgendaSession, session_id)
        point = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == UONG_BI))
        for person, _name in people[:2]:
            checkin.record(session, point, person, AttendanceStatus.PRESENT, user_id=None,
                           method=CheckInMethod.QR, after_the_fact=True)
        db.session.commit()
    response = confirm(client, session_id, token, follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == [
        f"Dòng 2, cột Họ và tên: {people[0][1]} vừa được điểm danh «Có mặt» từ lúc xem "
        "trước; hãy tải lên lại để xem."]
    assert written(demo, session_id) == {people[0][0]: ("present", "qr"),
                                         people[1][0]: ("present", "qr")}
    # Seen at a new preview, the list replaces it knowingly.
    assert confirm(client, session_id, token_in(preview(client, session_id, rows))
                   ).status_code == 302
    assert written(demo, session_id)[people[0][0]] == ("absent", "import")


def test_a_check_in_committed_during_the_confirmation_comes_after_the_list(client, demo):
    """A device's late check-in, committed while the confirmation read what is recorded,
    was then replaced unseen by the list. The confirmation now holds the point's delegates
    first: the check-in waits for the list, and stands after it."""
    from confmgr.attendance import checkin
    from confmgr.enums import AttendanceStatus

    session_id = ended_session(demo)
    (person, name), *_ = people_at(demo, UONG_BI)
    logged_in(client, COORDINATOR)
    token = token_in(preview(client, session_id, [["Họ và tên", "Điểm danh"], [name, "vắng"]]))
    answers = []

    def device():
        session = db.session.get(AgendaSession, session_id)
        point = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == UONG_BI))
        checkin.record(session, point, person, AttendanceStatus.PRESENT, user_id=None,
                       method=CheckInMethod.API, after_the_fact=True)

    errors = race(demo, lambda: answers.append(confirm(client, session_id, token)),
                  "SELECT attendance.participant_id, attendance.status", device)
    assert errors == {} and answers[0].status_code == 302
    assert flashes(client.get(answers[0].headers["Location"]).get_data(as_text=True)) == [
        "Đã ghi danh sách giấy: 1 đại biểu được ghi mới hoặc sửa, 0 không đổi."]
    assert written(demo, session_id) == {person: ("present", "api")}
    with demo.app_context():
        assert [(c.old_status, c.new_status, c.method) for c in db.session.scalars(
            select(AttendanceChange).where(AttendanceChange.session_id == session_id)
            .order_by(AttendanceChange.id))] == [
            (None, AttendanceStatus.ABSENT, CheckInMethod.IMPORT),
            (AttendanceStatus.ABSENT, AttendanceStatus.PRESENT, CheckInMethod.API)]


def test_a_delegate_moved_away_during_the_confirmation_is_refused_by_row(client, demo,
                                                                          monkeypatch):
    """Moved to another point between the confirmation's check of the rows and its write:
    the row of the file is named, the delegate who is now another point's is not."""
    from confmgr.attendance import importing
    from confmgr.roster import services

    session_id = ended_session(demo)
    people = people_at(demo, UONG_BI)
    logged_in(client, COORDINATOR)
    token = token_in(preview(client, session_id, [
        ["Họ và tên", "Điểm danh"], [people[0][1], "x"], [people[1][1], "x"]]))
    checked_then = importing.check_rows

    def moved_meanwhile(point, session, rows):
        checked = checked_then(point, session, rows)
        services.move(db.session.get(Participant, people[1][0]), db.session.scalar(
            select(BroadcastPoint).where(BroadcastPoint.code == "06688")))
        return checked

    monkeypatch.setattr(importing, "check_rows", moved_meanwhile)
    response = confirm(client, session_id, token, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert flashes(page) == [
        "Dòng 3, cột Họ và tên: Không có đại biểu này ở điểm cầu này."]
    assert people[1][1] not in page
    assert written(demo, session_id) == {}
    with demo.app_context():  # rolled back whole, the move with it
        assert db.session.get(Participant, people[1][0]).point_id == point_id(demo, UONG_BI)


def test_a_cancelled_session_takes_no_list(client, demo):
    session_id = ended_session(demo)
    title = session_title(demo, session_id)
    with demo.app_context():
        db.session.get(AgendaSession, session_id).status = SessionStatus.CANCELLED
        publish_agenda()
    person = people_at(demo, UONG_BI)[0][1]
    logged_in(client, COORDINATOR)
    page = client.get(f"{SHEET}/{session_id}/import").get_data(as_text=True)
    assert refusals(page) == [f"Phiên «{title}» đã bị hủy: không điểm danh."]
    assert 'type="file"' not in page
    page = preview(client, session_id, [["Họ và tên"], [person]])
    assert refusals(page) == [f"Phiên «{title}» đã bị hủy: không điểm danh."]
    assert "table table-sm preview" not in page
    assert written(demo, session_id) == {}


def refusals(page: str) -> list[str]:
    return [unescape(m) for m in re.findall(
        r'<div class="alert alert-danger import-refused">(.*?)</div>', page, re.S)]


def test_a_session_not_yet_open_takes_no_list(client, demo):
    session_id = move_session(demo, timedelta(hours=2))
    with demo.app_context():
        starts = db.session.get(AgendaSession, session_id).starts_at
    opens = (starts - timedelta(minutes=60)).astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    title = session_title(demo, session_id)
    person = people_at(demo, UONG_BI)[0][1]
    logged_in(client, COORDINATOR)
    page = preview(client, session_id, [["Họ và tên"], [person]])
    assert refusals(page) == [
        f"Chưa đến giờ điểm danh phiên «{title}»: mở lúc {opens:%H:%M %d/%m/%Y}."]
    assert written(demo, session_id) == {}


def test_a_headcount_point_takes_no_name_list(client, demo):
    session_id = ended_session(demo)
    person = people_at(demo, UONG_BI)[0][1]
    with demo.app_context():
        db.session.get(BroadcastPoint, point_id(demo, UONG_BI)).headcount_only = True
        db.session.commit()
    logged_in(client, COORDINATOR)
    message = ("Điểm cầu này báo cáo số lượng, không nhận danh sách điểm danh theo tên; hãy "
               "báo cáo số lượng trên trang điểm danh.")
    assert "Tải lên danh sách giấy" not in client.get(
        f"{SHEET}?session={session_id}").get_data(as_text=True)
    assert refusals(client.get(f"{SHEET}/{session_id}/import").get_data(as_text=True)) == [
        message]
    page = preview(client, session_id, [["Họ và tên"], [person]])
    assert refusals(page) == [message]
    assert written(demo, session_id) == {}


# ---------------------------------------------------------------- who may confirm what


def test_a_token_is_its_owners_for_its_point_and_session(client, demo):
    session_id = ended_session(demo)
    other_session = another_ended_session(demo)
    person = people_at(demo, UONG_BI)[0][1]
    rows = [["Họ và tên"], [person]]
    logged_in(client, ORGANISER)
    organisers = token_in(preview(client, session_id, rows))
    client.post("/logout", data={"csrf_token": csrf_token(client, "/manage/")})
    logged_in(client, COORDINATOR)
    refused = "Tệp đã xem trước thuộc người dùng, điểm cầu hoặc phiên khác."
    response = confirm(client, session_id, organisers, follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == [refused]

    own = token_in(preview(client, session_id, rows))
    response = confirm(client, other_session, own, follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == [refused]
    response = confirm(client, session_id, own, code="06688", follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == [refused]
    for token in ("abc", "a" * 24, own[:-1] + "."):
        response = confirm(client, session_id, token, follow_redirects=True)
        assert flashes(response.get_data(as_text=True)) == [
            "Không tìm thấy tệp đã xem trước; hãy tải lên lại."]
    assert written(demo, session_id) == {}

    confirm(client, session_id, own)
    assert len(written(demo, session_id)) == 1
    response = confirm(client, session_id, own, follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == [
        "Không tìm thấy tệp đã xem trước; hãy tải lên lại."]


def another_ended_session(app) -> int:
    """Another session, also ended: the first topic session of the first day."""
    with app.app_context():
        return db.session.scalars(select(AgendaSession.id).where(
            AgendaSession.kind == SessionKind.TOPIC).order_by(AgendaSession.starts_at)).first()


def test_a_coordinator_of_another_province_is_refused(client, demo):
    session_id = ended_session(demo)
    person = people_at(demo, "01")[0][1]
    logged_in(client, COORDINATOR)
    base = f"/manage/c/{SLUG}/points/01/attendance/{session_id}/import"
    assert client.get(base).status_code == 403
    assert client.get(f"{base}/template.csv").status_code == 403
    assert upload(client, session_id, csv_file([["Họ và tên"], [person]]),
                  code="01").status_code == 403
    assert confirm(client, session_id, "a" * 24, code="01").status_code == 403
    assert written(demo, session_id) == {}


def test_uploading_and_confirming_need_the_csrf_token(client, demo):
    session_id = ended_session(demo)
    person = people_at(demo, UONG_BI)[0][1]
    logged_in(client, COORDINATOR)
    response = client.post(f"{SHEET}/{session_id}/import",
                           data={"file": csv_file([["Họ và tên"], [person]])},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    token = token_in(preview(client, session_id, [["Họ và tên"], [person]]))
    assert client.post(f"{SHEET}/{session_id}/import/{token}").status_code == 400
    assert written(demo, session_id) == {}
    assert confirm(client, session_id, token).status_code == 302
    assert len(written(demo, session_id)) == 1


def test_every_word_the_sheet_shows_is_understood_in_a_paper_list(ctx):
    """A coordinator copies the sheet's words onto paper: "Có phép", "Vắng có lý do"..."""
    from flask_babel import force_locale

    from confmgr.attendance.importing import status_of_word
    from confmgr.attendance.labels import ATTENDANCE_BUTTON_LABELS, ATTENDANCE_LABELS

    with force_locale("vi"):
        for labels in (ATTENDANCE_LABELS, ATTENDANCE_BUTTON_LABELS):
            assert {status: status_of_word(str(label))
                    for status, label in labels.items()} == {s: s for s in labels}
