"""Attendance pages: the point's sheet, headcounts, reports with exact figures, exports."""
from __future__ import annotations

import csv
import io
import re
from html import unescape
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import select

from confmgr.attendance.models import Attendance, SessionPointCategoryCount
from confmgr.conferences.models import AgendaSession
from confmgr.db import db, utcnow
from confmgr.demo.loader import SLUG
from confmgr.enums import SessionKind
from confmgr.points.models import BroadcastPoint
from confmgr.roster.models import Category, Participant
from tests.helpers import COORDINATOR, ORGANISER, flashes, logged_in, ministry_point, post_form
from tests.conftest import csrf_token

SHEET = f"/manage/c/{SLUG}/points/06811/attendance"


def publish_agenda() -> None:
    """Publish the demo's draft, in the caller's app context: attendance follows what is
    published."""
    from confmgr.conferences.models import Conference
    from confmgr.conferences.publishing import publish

    publish(db.session.scalar(select(Conference).where(Conference.slug == SLUG)), None)
    db.session.commit()


def open_session(app) -> int:
    """Move the last topic session so that it runs now, publish it, and return its id."""
    with app.app_context():
        session = db.session.scalars(
            select(AgendaSession).where(AgendaSession.kind == SessionKind.TOPIC)
            .order_by(AgendaSession.starts_at.desc())).first()
        session.starts_at = utcnow() - timedelta(minutes=10)
        session.ends_at = utcnow() + timedelta(minutes=50)
        publish_agenda()
        return session.id


def people_at(app, code: str) -> list[tuple[int, str]]:
    with app.app_context():
        return db.session.execute(
            select(Participant.id, Participant.full_name)
            .join(BroadcastPoint, BroadcastPoint.id == Participant.point_id)
            .where(BroadcastPoint.code == code).order_by(Participant.name_key, Participant.id)
        ).all()


def statuses(app, session_id: int) -> dict[int, str]:
    with app.app_context():
        return {p: s.value for p, s in db.session.execute(
            select(Attendance.participant_id, Attendance.status)
            .where(Attendance.session_id == session_id))}


def test_coordinator_taps_each_delegate_in_and_sees_the_counts(client, demo):
    session_id = open_session(demo)
    people = people_at(demo, "06811")
    logged_in(client, COORDINATOR)
    page = client.get(SHEET).get_data(as_text=True)
    assert f'<option value="{session_id}" selected>' in page  # the running session is chosen
    assert page.count('name="mark"') == 4 * len(people)
    # A tap left without an answer gives up after 20 s, so that the sheet can say so.
    assert (f'hx-post="{SHEET}/{session_id}" hx-swap="none" '
            """hx-request='{"timeout": 20000}'""") in page
    url = f"{SHEET}/{session_id}"
    response = post_form(client, url, {"mark": f"{people[0][0]}:present"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"{SHEET}?session={session_id}#p{people[0][0]}"
    post_form(client, url, {"mark": f"{people[1][0]}:late"})
    post_form(client, url, {"mark": f"{people[2][0]}:excused"})
    assert statuses(demo, session_id) == {
        people[0][0]: "present", people[1][0]: "late", people[2][0]: "excused"}
    page = client.get(f"{SHEET}?session={session_id}").get_data(as_text=True)
    assert "Có mặt: 1" in page and "Đến muộn: 1" in page and "Có phép: 1" in page
    row = re.search(rf'<tr id="p{people[0][0]}">.*?</tr>', page, re.S).group(0)
    with demo.app_context():
        position = db.session.get(Participant, people[0][0]).position
    # Up to 100 rows are read over slow links: no spaces between tags, and a title only
    # where the button's word is shortened. Every button says whether it is pressed.
    person, name = people[0]
    assert row == (
        f'<tr id="p{person}"><td><div class="sheet-row"><div class="sheet-name">'
        f'<span class="fw-semibold">{name}</span>'
        + (f' <span class="small text-body-secondary">{position}</span>' if position else "")
        + f'</div><div class="btn-group btn-group-sm sheet-buttons" role="group" '
        f'aria-label="{name}">'
        f'<button class="btn btn-success" name="mark" value="{person}:present" '
        f'aria-pressed="true">Có mặt</button>'
        f'<button class="btn btn-outline-warning" name="mark" value="{person}:late" '
        f'title="Đến muộn" aria-pressed="false">Muộn</button>'
        f'<button class="btn btn-outline-info" name="mark" value="{person}:excused" '
        f'aria-pressed="false">Có phép</button>'
        f'<button class="btn btn-outline-secondary" name="mark" value="{person}:absent" '
        f'aria-pressed="false">Vắng</button></div></div></td></tr>')


def test_a_tap_over_htmx_answers_with_the_row_and_counts_only(client, demo):
    session_id = open_session(demo)
    person = people_at(demo, "06811")[0][0]
    logged_in(client, COORDINATOR)
    response = post_form(client, f"{SHEET}/{session_id}", {"mark": f"{person}:late"},
                         headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'<tr id="p{person}" hx-swap-oob="true">' in body
    assert f'value="{person}:late" title="Đến muộn" aria-pressed="true">Muộn<' in body
    assert '<p id="sheet-counts" class="small mb-2" hx-swap-oob="true">' in body
    assert "Đến muộn: 1" in body
    assert "<html" not in body
    # Its refusals replace only the last answer's: what js/sheet.js said of a tap that
    # did not get through stays beside them.
    assert '<div id="sheet-answers" hx-swap-oob="true">' in body
    assert "sheet-messages" not in body and "sheet-alerts" not in body


def test_the_sheet_carries_what_its_script_says_in_the_pages_language(client, demo):
    """What js/sheet.js tells of a search or a tap that did not get through is the page's
    own, in its language; "all present" is sent once, after the taps made before it."""
    session_id = open_session(demo)
    logged_in(client, COORDINATOR)
    page = unescape(client.get(SHEET).get_data(as_text=True))
    assert ('<div id="sheet-messages"><div id="sheet-alerts"></div>'
            '<div id="sheet-answers"></div></div>') in page
    assert re.findall(r'data-(search-unsent|search-failed|tap-row|after-taps)="([^"]*)"',
                      page) == [
        ("search-unsent", "Chưa tìm được: không kết nối được máy chủ. Kiểm tra mạng rồi tìm "
                          "lại."),
        ("search-failed", "Máy chủ không trả được kết quả tìm. Hãy tải lại trang rồi tìm "
                          "lại."),
        ("after-taps", "Chưa ghi có mặt cho các đại biểu còn lại: lần bấm nêu ở trên có thể "
                       "chưa được ghi. Hãy bấm lại lần đó rồi bấm lại nút này."),
        ("tap-row", "Lần bấm cuối có thể chưa được ghi.")]
    assert (f'<form method="post" action="{SHEET}/{session_id}/all-present" data-once\n'
            in page)


def test_the_sheets_pages_say_which_is_the_current_one(client, demo, monkeypatch):
    """A screen reader hears which page of the sheet it is on, not only a number."""
    from confmgr.attendance import sheet

    session_id = open_session(demo)
    monkeypatch.setattr(sheet, "PER_PAGE", 10)  # Uông Bí's 35 delegates on four pages
    logged_in(client, COORDINATOR)
    page = client.get(f"{SHEET}?session={session_id}&page=2").get_data(as_text=True)
    assert re.findall(r'<a class="page-link" href="[^"]*"( aria-current="page")?>(\d+)</a>',
                      page) == [("", "1"), (' aria-current="page"', "2"), ("", "3"), ("", "4")]


def test_another_points_delegate_is_refused_with_a_message(client, demo):
    """Counting through ids must not list the conference's names: another point's delegate
    and an id nobody has get the very same answer, open or closed."""
    session_id = open_session(demo)
    stranger, name = people_at(demo, "06688")[0]
    nobody = 999_999_999
    logged_in(client, COORDINATOR)
    url = f"{SHEET}/{session_id}"
    answers = [post_form(client, url, {"mark": f"{pid}:present"},
                         headers={"HX-Request": "true"}).get_data(as_text=True)
               for pid in (stranger, nobody)]
    assert "Không có đại biểu này ở điểm cầu này." in answers[0]
    # The row of the id sent leaves the sheet, if it is there (a delegate moved meanwhile).
    assert f'<tr id="p{stranger}" hx-swap-oob="delete"></tr>' in answers[0]
    assert answers[0].replace(str(stranger), "ID") == answers[1].replace(str(nobody), "ID")
    assert name not in answers[0]
    for pid in (stranger, nobody):
        page = post_form(client, url, {"mark": f"{pid}:present"},
                         follow_redirects=True).get_data(as_text=True)
        assert flashes(page) == ["Không có đại biểu này ở điểm cầu này."]
        assert name not in page
    assert statuses(demo, session_id) == {}
    # Closed check-in says why, and still nothing of the stranger.
    with demo.app_context():
        session = db.session.get(AgendaSession, session_id)
        session.starts_at = utcnow() - timedelta(hours=5)
        session.ends_at = utcnow() - timedelta(hours=4)
        publish_agenda()
        title = session.title
    for pid in (stranger, nobody):
        page = post_form(client, url, {"mark": f"{pid}:present"},
                         follow_redirects=True).get_data(as_text=True)
        [closed, unknown] = flashes(page)
        assert closed.startswith(f"Đã hết giờ điểm danh phiên «{title}»")
        assert unknown == "Không có đại biểu này ở điểm cầu này."
        assert name not in page
    assert post_form(client, f"{SHEET}/{session_id}", {"mark": "x:present"}).status_code == 400
    assert post_form(client, f"{SHEET}/{session_id}", {"mark": f"{stranger}:here"}).status_code == 400


def test_coordinators_reach_only_their_points(client, demo):
    session_id = open_session(demo)
    logged_in(client, COORDINATOR)
    assert client.get(f"/manage/c/{SLUG}/points/01/attendance").status_code == 403
    person = people_at(demo, "01")[0][0]
    assert post_form(client, f"/manage/c/{SLUG}/points/01/attendance/{session_id}",
                     {"mark": f"{person}:present"}).status_code == 403
    assert client.get(f"/manage/c/{SLUG}/attendance/report.csv").status_code == 403
    assert client.get(f"/manage/c/{SLUG}/attendance/participants.csv").status_code == 403
    anonymous = demo.test_client()
    assert anonymous.get(SHEET).status_code == 302
    assert client.post(f"{SHEET}/{session_id}", data={"mark": f"{person}:present"}).status_code == 400


def test_a_coordinators_grant_reaches_points_two_levels_below(client, demo):
    """The tap reads the point, the session and the grant in one query, walking up from
    the point: Uông Bí's coordinator works on a village under a ward under Uông Bí."""
    from confmgr.enums import PointLevel

    session_id = open_session(demo)
    with demo.app_context():
        uong_bi = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "06811"))
        ward = BroadcastPoint(conference_id=uong_bi.conference_id, code="06811-P1",
                              name="Tổ dân phố 1", level=PointLevel.OTHER, parent_id=uong_bi.id,
                              province_code="22")
        db.session.add(ward)
        db.session.flush()
        village = BroadcastPoint(conference_id=uong_bi.conference_id, code="06811-P1-T1",
                                 name="Thôn Một", level=PointLevel.OTHER, parent_id=ward.id,
                                 province_code="22")
        db.session.add(village)
        db.session.flush()
        person = Participant(conference_id=uong_bi.conference_id, point_id=village.id,
                             full_name="Lê Văn An")
        db.session.add(person)
        db.session.commit()
        person_id = person.id
    logged_in(client, COORDINATOR)
    village_sheet = f"/manage/c/{SLUG}/points/06811-P1-T1/attendance"
    response = post_form(client, f"{village_sheet}/{session_id}", {"mark": f"{person_id}:late"},
                         headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert statuses(demo, session_id) == {person_id: "late"}
    # The main venue (01) is above Uông Bí, not under it: refused there.
    stranger = people_at(demo, "01")[0][0]
    assert post_form(client, f"/manage/c/{SLUG}/points/01/attendance/{session_id}",
                     {"mark": f"{stranger}:present"}).status_code == 403
    assert post_form(client, f"{village_sheet}/999999", {"mark": f"{person_id}:late"}
                     ).status_code == 404
    assert statuses(demo, session_id) == {person_id: "late"}


def test_all_present_and_search_without_diacritics(client, demo):
    session_id = open_session(demo)
    people = people_at(demo, "06811")
    logged_in(client, COORDINATOR)
    post_form(client, f"{SHEET}/{session_id}", {"mark": f"{people[0][0]}:absent"})
    response = post_form(client, f"{SHEET}/{session_id}/all-present", {}, follow_redirects=True)
    with demo.app_context():
        title = db.session.get(AgendaSession, session_id).attendance_title
    assert flashes(response.get_data(as_text=True)) == [
        f"Đã ghi có mặt cho {len(people) - 1} đại biểu chưa điểm danh phiên «{title}»."]
    recorded = statuses(demo, session_id)
    assert recorded[people[0][0]] == "absent"
    assert sorted(recorded.values()).count("present") == len(people) - 1

    surname = people[0][1].split()[0]
    from confmgr.text import fold
    matching = [pid for pid, name in people if fold(surname) in fold(name)]
    fragment = client.get(f"{SHEET}?session={session_id}&q={fold(surname)}",
                          headers={"HX-Request": "true", "HX-Target": "sheet-rows"})
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="sheet-rows">')
    assert re.findall(r'<tr id="p(\d+)"', body) == [str(pid) for pid in matching]


def test_a_page_past_the_last_shows_the_last(client, demo):
    """A bookmarked page 5, or one emptied by withdrawals: the names are still there."""
    session_id = open_session(demo)
    people = people_at(demo, "06811")
    logged_in(client, COORDINATOR)
    for address in (f"{SHEET}?session={session_id}&page=5",
                    f"{SHEET}?session={session_id}&page=3&q={people[0][1].split()[-1]}"):
        page = client.get(address).get_data(as_text=True)
        shown = [int(pid) for pid in re.findall(r'<tr id="p(\d+)"', page)]
        assert shown and set(shown) <= {pid for pid, _name in people}
        assert "Điểm cầu chưa đăng ký đại biểu nào." not in page
    page = client.get(f"{SHEET}?session={session_id}&page=5").get_data(as_text=True)
    assert [int(pid) for pid in re.findall(r'<tr id="p(\d+)"', page)] == [
        pid for pid, _name in people]


def test_outside_the_window_the_sheet_says_so_and_refuses(client, demo):
    with demo.app_context():
        session = db.session.scalars(select(AgendaSession).where(
            AgendaSession.kind == SessionKind.TOPIC).order_by(AgendaSession.starts_at)).first()
        session_id, title = session.id, session.title
    person = people_at(demo, "06811")[0][0]
    logged_in(client, COORDINATOR)
    page = client.get(f"{SHEET}?session={session_id}").get_data(as_text=True)
    assert f"Đã hết giờ điểm danh phiên «{title}»" in page
    # The buttons are off, so a tap is not met with a message scrolled out of sight.
    assert page.count("<fieldset disabled>") == 1
    assert re.search(r'<button class="btn btn-sm btn-success" disabled data-confirm="[^"]+">'
                     r"Tất cả chưa điểm danh: có mặt</button>", page)
    open_page = client.get(f"{SHEET}?session={open_session(demo)}").get_data(as_text=True)
    assert "<fieldset>" in open_page and "disabled" not in open_page
    response = post_form(client, f"{SHEET}/{session_id}", {"mark": f"{person}:present"},
                         follow_redirects=True)
    assert any(m.startswith(f"Đã hết giờ điểm danh phiên «{title}»")
               for m in flashes(response.get_data(as_text=True)))


def headcount_inputs(page: str) -> list[tuple[str, str, str]]:
    """(name, " is-invalid" or "", value) of each count on the headcount form, in order."""
    found = re.findall(r'<input class="form-control( is-invalid)?" type="text" '
                       r'inputmode="numeric"[^>]*name="(count_\d+)"[^>]*value="([^"]*)"', page)
    return [(name, invalid, value) for invalid, name, value in found]


def test_headcount_point_reports_numbers(client, demo):
    session_id = open_session(demo)
    with demo.app_context():
        point = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "06688"))
        point.headcount_only = True
        categories = db.session.scalars(select(Category.id).order_by(Category.rank,
                                                                      Category.name)).all()
        db.session.commit()
    logged_in(client, COORDINATOR)
    url = f"/manage/c/{SLUG}/points/06688/attendance"
    page = client.get(url).get_data(as_text=True)
    # Text with a numeric keypad: what is typed reaches the server, a typo included.
    assert page.count('type="text" inputmode="numeric"') == len(categories) + 1
    form = {f"count_{ref}": "0" for ref in categories}
    form.update({f"count_{categories[0]}": "2", "count_0": "17"})
    response = post_form(client, f"{url}/{session_id}/headcount", form, follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == ["Đã ghi số lượng đại biểu dự phiên."]
    assert "Tổng đã báo cáo: 19" in response.get_data(as_text=True)
    form.update({"count_0": "5e", f"count_{categories[0]}": "3"})
    response = post_form(client, f"{url}/{session_id}/headcount", form)
    page = response.get_data(as_text=True)
    assert response.status_code == 200  # the form again, as every form comes back
    assert flashes(page) == ["Thành phần khác: hãy nhập một số nguyên không âm."]
    # Nothing is written, and the form comes back as it was typed, the wrong field marked.
    assert headcount_inputs(page) == [
        (f"count_{ref}", "", "3" if ref == categories[0] else "0") for ref in categories
    ] + [("count_0", " is-invalid", "5e")]
    assert "Tổng đã báo cáo: 19" in page
    form[f"count_{categories[0]}"] = "2"
    # Three hours after the session ended, check-in is closed, yet counts are still taken:
    # no paper list exists for a point that reports numbers.
    with demo.app_context():
        session = db.session.get(AgendaSession, session_id)
        session.starts_at = utcnow() - timedelta(hours=4)
        session.ends_at = utcnow() - timedelta(hours=3)
        publish_agenda()
    page = client.get(f"{url}?session={session_id}").get_data(as_text=True)
    assert "Đã hết giờ điểm danh" not in page
    form["count_0"] = "20"
    response = post_form(client, f"{url}/{session_id}/headcount", form, follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == ["Đã ghi số lượng đại biểu dự phiên."]
    assert "Tổng đã báo cáo: 22" in response.get_data(as_text=True)


def test_a_headcount_sent_after_the_point_switched_to_names_goes_back_to_the_sheet(
        client, demo):
    """The form was open when the organiser switched the point to names: the refusal is
    told on the sheet of names, not on a headcount form that can only be refused again."""
    session_id = open_session(demo)
    with demo.app_context():
        point = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "06688"))
        point.headcount_only = True
        db.session.commit()
    logged_in(client, COORDINATOR)
    url = f"/manage/c/{SLUG}/points/06688/attendance"
    form = headcount_form(client.get(url).get_data(as_text=True))
    form["count_0"] = "12"
    with demo.app_context():
        db.session.scalar(select(BroadcastPoint).where(
            BroadcastPoint.code == "06688")).headcount_only = False
        db.session.commit()
    response = post_form(client, f"{url}/{session_id}/headcount", form)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"{url}?session={session_id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert flashes(page) == [
        "Điểm cầu này điểm danh theo tên; số lượng được tính từ danh sách."]
    assert 'name="mark"' in page


def headcount_form(page: str) -> dict[str, str]:
    """The headcount form's fields as the page fills them, hidden ones included."""
    form = re.search(r'action="[^"]*/headcount"(.*?)</form>', page, re.S).group(1)
    return {name: unescape(value) for name, value in re.findall(
        r'<input [^>]*name="((?:count|shown)_\d+)"[^>]*value="([^"]*)"', form)}


def headcount_forms_open_twice(app, client):
    """Hạ Long made a headcount point, a session open, and its headcount form opened by its
    coordinator (``client``) and by an organiser: (session id, point id, the form's page,
    the coordinator's form, the organiser's client, the organiser's form)."""
    session_id = open_session(app)
    with app.app_context():
        point = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "06688"))
        point.headcount_only = True
        point_id = point.id
        db.session.commit()
    url = f"/manage/c/{SLUG}/points/06688/attendance"
    logged_in(client, COORDINATOR)
    mine = headcount_form(client.get(url).get_data(as_text=True))
    other = logged_in(app.test_client(), ORGANISER)
    return session_id, point_id, url, mine, other, headcount_form(
        other.get(url).get_data(as_text=True))


def test_a_form_left_open_does_not_put_back_counts_reported_meanwhile(client, demo):
    """Two people reach a commune point (its coordinator, the province's): each form
    sends only the fields changed on it, and a field both changed is refused to the
    second, with the first one's count, until sent again."""
    session_id, point_id, url, mine, other, theirs = headcount_forms_open_twice(demo, client)
    with demo.app_context():
        first, second = db.session.scalars(select(Category.id).order_by(
            Category.rank, Category.name)).all()[:2]
    assert mine[f"count_{first}"] == mine[f"shown_{first}"] == "0"

    post_form(other, f"{url}/{session_id}/headcount", {**theirs, f"count_{first}": "10"})
    # Changed only the second: the first keeps the other's 10, not this form's 0.
    response = post_form(client, f"{url}/{session_id}/headcount",
                         {**mine, f"count_{second}": "1.200"}, follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == ["Đã ghi số lượng đại biểu dự phiên."]

    def reported() -> dict[int, int]:
        with demo.app_context():
            return dict(db.session.execute(
                select(SessionPointCategoryCount.category_ref,
                       SessionPointCategoryCount.headcount)
                .where(SessionPointCategoryCount.session_id == session_id,
                       SessionPointCategoryCount.point_id == point_id,
                       SessionPointCategoryCount.headcount != 0)).all())

    assert reported() == {first: 10, second: 1200}
    # Both changed the first: the form that saw 0 is told of the 10, and writes nothing.
    page = post_form(client, f"{url}/{session_id}/headcount",
                     {**mine, f"count_{first}": "7", f"count_{second}": "1.200"}
                     ).get_data(as_text=True)
    category = headcount_category_name(demo, first)
    assert flashes(page) == [f"{category}: người khác vừa báo cáo 10; bấm ghi lần nữa để "
                             "thay bằng số bạn nhập."]
    assert reported() == {first: 10, second: 1200}
    again = headcount_form(page)
    assert (again[f"count_{first}"], again[f"shown_{first}"]) == ("7", "10")
    assert (again[f"count_{second}"], again[f"shown_{second}"]) == ("1.200", "1200")
    # Sent again knowingly, it replaces the 10.
    response = post_form(client, f"{url}/{session_id}/headcount", again, follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == ["Đã ghi số lượng đại biểu dự phiên."]
    assert reported() == {first: 7, second: 1200}
    # Ten digits are a number past the limit, not "no number".
    page = post_form(client, f"{url}/{session_id}/headcount",
                     {**again, "count_0": "1000000000"}).get_data(as_text=True)
    assert flashes(page) == ["Thành phần khác: số người phải từ 0 đến 100.000."]
    # The page shown again stands at the address posted to, which takes only POST: its
    # session picker and the language switch lead to the sheet instead.
    assert f'<form method="get" action="{url}" class="row' in page
    back = unescape(re.search(r'name="next" value="([^"]*)"', page).group(1))
    assert back == f"{url}/{session_id}/headcount"
    response = post_form(client, "/language", {"lang": "vi", "next": back})
    assert response.headers["Location"] == url


def test_a_typo_elsewhere_does_not_hide_a_count_reported_meanwhile(client, demo):
    """Refused for a typo, the form came back showing the count reported meanwhile as
    what it had shown: mended and sent again, it replaced that count unseen."""
    session_id, point_id, url, mine, other, theirs = headcount_forms_open_twice(demo, client)
    with demo.app_context():
        first, first_name = db.session.execute(select(Category.id, Category.name).order_by(
            Category.rank, Category.name)).first()
    # The organiser reports 10 for the first category.
    post_form(other, f"{url}/{session_id}/headcount", {**theirs, f"count_{first}": "10"})
    # The coordinator's form, opened before, types 7 there and a typo in another field.
    page = post_form(client, f"{url}/{session_id}/headcount",
                     {**mine, f"count_{first}": "7", "count_0": "5e"}).get_data(as_text=True)
    told = sorted(flashes(page))
    # The typo is fixed and the form sent again, as the page gave it back.
    again = headcount_form(page)
    again["count_0"] = "0"
    page = post_form(client, f"{url}/{session_id}/headcount", again,
                     follow_redirects=True).get_data(as_text=True)
    with demo.app_context():
        now = db.session.scalar(select(SessionPointCategoryCount.headcount).where(
            SessionPointCategoryCount.session_id == session_id,
            SessionPointCategoryCount.point_id == point_id,
            SessionPointCategoryCount.category_ref == first))
    # Told with the typo, the coordinator sent 7 again knowingly.
    assert now == 7
    assert told == [f"{first_name}: người khác vừa báo cáo 10; bấm ghi lần nữa để thay bằng "
                    "số bạn nhập.", "Thành phần khác: hãy nhập một số nguyên không âm."]


def test_a_form_opened_before_a_category_was_added_does_not_zero_its_count(client, demo):
    """The organiser adds a category while a coordinator's headcount form is open, and
    someone reports 6 for it: the old form, which has no field for it, set it to 0."""
    from confmgr.conferences.models import Conference

    session_id = open_session(demo)
    with demo.app_context():
        point = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "06688"))
        point.headcount_only = True
        point_id = point.id
        first = db.session.scalars(select(Category.id).order_by(Category.rank,
                                                                 Category.name)).first()
        db.session.commit()
    url = f"/manage/c/{SLUG}/points/06688/attendance"
    logged_in(client, COORDINATOR)
    old_form = headcount_form(client.get(url).get_data(as_text=True))
    with demo.app_context():
        conference = db.session.scalar(select(Conference).where(Conference.slug == SLUG))
        added = Category(conference_id=conference.id, name="Khách mời", rank=999)
        db.session.add(added)
        db.session.commit()
        added_id = added.id
    other = logged_in(demo.test_client(), ORGANISER)
    fresh = headcount_form(other.get(url).get_data(as_text=True))
    post_form(other, f"{url}/{session_id}/headcount", {**fresh, f"count_{added_id}": "6"})
    # The coordinator's old form changes only the first category.
    assert post_form(client, f"{url}/{session_id}/headcount",
                     {**old_form, f"count_{first}": "3"}).status_code == 302
    with demo.app_context():
        now = dict(db.session.execute(select(SessionPointCategoryCount.category_ref,
                                             SessionPointCategoryCount.headcount).where(
            SessionPointCategoryCount.session_id == session_id,
            SessionPointCategoryCount.point_id == point_id)).all())
    assert (now[first], now[added_id]) == (3, 6)


def headcount_category_name(app, ref: int) -> str:
    with app.app_context():
        return db.session.get(Category, ref).name


def test_a_headcount_over_the_limit_names_its_category(client, demo):
    session_id = open_session(demo)
    with demo.app_context():
        point = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "06688"))
        point.headcount_only = True
        point_id = point.id
        categories = db.session.execute(select(Category.id, Category.name).order_by(
            Category.rank, Category.name)).all()
        db.session.commit()
    logged_in(client, COORDINATOR)
    url = f"/manage/c/{SLUG}/points/06688/attendance/{session_id}/headcount"
    form = {f"count_{ref}": "0" for ref, _name in categories}
    form.update({f"count_{categories[1][0]}": "100001", "count_0": "250000",
                 f"count_{categories[0][0]}": "100000"})
    response = post_form(client, url, form)
    page = response.get_data(as_text=True)
    assert response.status_code == 200  # the form again, as every form comes back
    assert flashes(page) == [
        f"{categories[1][1]}: số người phải từ 0 đến 100.000.",
        "Thành phần khác: số người phải từ 0 đến 100.000."]
    assert headcount_inputs(page) == [
        (f"count_{ref}", " is-invalid" if ref == categories[1][0] else "", form[f"count_{ref}"])
        for ref, _name in categories] + [("count_0", " is-invalid", "250000")]
    with demo.app_context():
        from confmgr.attendance.models import SessionPointCount

        assert db.session.get(SessionPointCount, (session_id, point_id)) is None
    # Beside a typo, not in a second round once it is mended.
    form[f"count_{categories[2][0]}"] = "5e"
    page = post_form(client, url, form).get_data(as_text=True)
    assert flashes(page) == [
        f"{categories[2][1]}: hãy nhập một số nguyên không âm.",
        f"{categories[1][1]}: số người phải từ 0 đến 100.000.",
        "Thành phần khác: số người phải từ 0 đến 100.000."]


# ---------------------------------------------------------------- reports with known figures


def headcount_village(code: str, name: str, *, expected: int) -> BroadcastPoint:
    """A village point under Uông Bí that reports headcounts; flushed, not committed."""
    from confmgr.enums import PointLevel

    uong_bi = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "06811"))
    village = BroadcastPoint(conference_id=uong_bi.conference_id, code=code, name=name,
                             level=PointLevel.OTHER, parent_id=uong_bi.id, province_code="22",
                             headcount_only=True, expected_delegates=expected)
    db.session.add(village)
    db.session.flush()
    return village


def known_attendance(app) -> int:
    """A session with known figures: Uông Bí by name, Hạ Long by headcount, Hà Nội by name.

    Uông Bí: both Bí thư present, Lãnh đạo HĐND one present and one late, five Cán bộ:
    three present, one excused, one absent. Hạ Long counts heads: 1 Bí thư, 2 HĐND,
    17 without category. Hà Nội: three Cán bộ present.
    """
    from confmgr.attendance import checkin
    from confmgr.enums import AttendanceStatus as S
    from confmgr.enums import CheckInMethod

    session_id = open_session(app)
    with app.app_context():
        session = db.session.get(AgendaSession, session_id)

        def by_category(code: str, category: int) -> list[int]:
            return list(db.session.scalars(
                select(Participant.id).join(BroadcastPoint, BroadcastPoint.id == Participant.point_id)
                .where(BroadcastPoint.code == code, Participant.category_id == category)
                .order_by(Participant.id)))

        def point(code: str) -> BroadcastPoint:
            return db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == code))

        plan = [("06811", by_category("06811", 2), [S.PRESENT, S.PRESENT]),
                ("06811", by_category("06811", 3), [S.PRESENT, S.LATE]),
                ("06811", by_category("06811", 6)[:5],
                 [S.PRESENT, S.PRESENT, S.PRESENT, S.EXCUSED, S.ABSENT]),
                ("01", by_category("01", 6)[:3], [S.PRESENT] * 3)]
        for code, people, marks in plan:
            for person, status in zip(people, marks, strict=True):
                checkin.record(session, point(code), person, status, user_id=None,
                               method=CheckInMethod.MANUAL)
        ha_long = point("06688")
        ha_long.headcount_only = True
        checkin.report_headcount(session, ha_long, {2: 1, 3: 2, 0: 17}, user_id=None)
        db.session.commit()
    return session_id


def cells(html: str, table_class: str) -> list[list[str]]:
    table = re.search(rf'<table class="table table-sm {table_class}">(.*?)</table>', html, re.S)
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(1), re.S)
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
            for r in rows if "<td" in r]


# Not recorded, point by point: Hạ Long counts heads, so its 20 stand for nobody else.
NATIONAL = ["305", "9", "1", "1", "1", "268", "20", "9,8%"]


def test_national_report_has_the_exact_figures(client, demo):
    session_id = known_attendance(demo)
    logged_in(client, ORGANISER)
    page = client.get(f"/manage/c/{SLUG}/attendance?session={session_id}").get_data(as_text=True)
    sessions = cells(page, "report-sessions")
    this = next(row for row in sessions if row[0].endswith(
        db_title(demo, session_id)))
    assert this[1:] == NATIONAL
    assert cells(page, "report-provinces") == [
        ["Thành phố Hà Nội", "75", "3", "0", "0", "0", "72", "0", "4,0%"],
        ["Tỉnh Quảng Ninh", "115", "6", "1", "1", "1", "81", "20", "23,5%"],
        ["Thành phố Hải Phòng", "25", "0", "0", "0", "0", "25", "0", "0,0%"],
        ["Tỉnh Nghệ An", "25", "0", "0", "0", "0", "25", "0", "0,0%"],
        ["Thành phố Hồ Chí Minh", "25", "0", "0", "0", "0", "25", "0", "0,0%"],
        # The main venue, in no province.
        ["Không thuộc tỉnh, thành phố nào", "40", "0", "0", "0", "0", "40", "0", "0,0%"],
    ]
    assert cells(page, "report-categories") == [
        ["Lãnh đạo Trung ương", "40", "0", "0", "0", "0", "40", "0", "0,0%"],
        ["Bí thư, Phó Bí thư cấp ủy", "20", "2", "0", "0", "0", "16", "1", "15,0%"],
        ["Lãnh đạo HĐND, UBND", "20", "1", "1", "0", "0", "16", "2", "20,0%"],
        ["Lãnh đạo Ủy ban MTTQ và các đoàn thể chính trị - xã hội", "40", "0", "0", "0", "0",
         "36", "0", "0,0%"],
        ["Lãnh đạo các phòng, ban chuyên môn", "20", "0", "0", "0", "0", "18", "0", "0,0%"],
        ["Cán bộ, công chức", "165", "6", "0", "1", "1", "142", "0", "3,6%"],
        ["Thành phần khác", "0", "0", "0", "0", "0", "0", "17", "—"],
    ]
    # Point by point, so the categories add up to the country: Hạ Long's 25 count heads.
    assert sum(int(row[6]) for row in cells(page, "report-categories")) == 268
    # Eight points lack a category, some of them two: sixteen rows.
    assert "Điểm cầu thiếu thành phần bắt buộc (8)" in page
    missing = cells(page, "report-missing")
    assert (len(missing), len({row[0] for row in missing})) == (16, 8)
    assert "report-missing-more" not in page
    assert [row[0] for row in missing][:2] == ["Điểm cầu phường Ba Đình"] * 2
    assert "Điểm cầu Uông Bí" not in [row[0] for row in missing]
    assert "Điểm cầu phường Hạ Long" not in [row[0] for row in missing]


def village_naming_two_and_counting_190(app, *, expected: int) -> int:
    """known_attendance, and Thôn Chín under Uông Bí reporting headcounts: it registers
    its two leaders by name, expects ``expected`` and counts 190 heads. The session."""
    from confmgr.attendance import checkin
    from confmgr.attendance.models import NO_CATEGORY
    from confmgr.roster import services as roster

    session_id = known_attendance(app)
    with app.app_context():
        village = headcount_village("06811-TON-9", "Thôn Chín", expected=expected)
        for name in ("Trần Văn Trưởng", "Lê Thị Bí"):
            roster.register(village, roster.PersonFields(full_name=name), organiser=True)
        checkin.report_headcount(db.session.get(AgendaSession, session_id), village,
                                 {NO_CATEGORY: 190}, user_id=None)
        db.session.commit()
    return session_id


def test_a_headcount_point_that_names_a_few_is_rated_against_what_it_expects(client, demo):
    """A village that expects 200, registers its two leaders by name and counts 190 heads
    was rated 190 / 2 = 9.500 %, and lifted its province past 100 %."""
    session_id = village_naming_two_and_counting_190(demo, expected=200)
    logged_in(client, ORGANISER)
    page = client.get(f"/manage/c/{SLUG}/attendance?session={session_id}&province=22"
                      ).get_data(as_text=True)
    [row] = [row for row in cells(page, "report-points") if row[0].startswith("Thôn Chín")]
    assert row[-1] == "95,0%"
    this = next(row for row in cells(page, "report-sessions")
                if row[0].endswith(db_title(demo, session_id)))
    # Quảng Ninh: 27 of 115 attended before, now with 190 of 200: 217 / 315.
    assert this[-1] == "68,9%"


def test_heads_beyond_what_a_point_expects_lift_no_rate_past_100_percent(client, demo):
    """A village that registers its two leaders by name, leaves the expected number at
    its default 0 and counts 190 heads was rated 190 / 2 = 9.500 %, and Quảng Ninh 185,5 %.
    It is rated full, and the 188 heads beyond its base are shown but rated nowhere."""
    session_id = village_naming_two_and_counting_190(demo, expected=0)
    logged_in(client, ORGANISER)
    base = f"/manage/c/{SLUG}/attendance"
    page = client.get(f"{base}?session={session_id}&province=22").get_data(as_text=True)
    [row] = [row for row in cells(page, "report-points") if row[0].startswith("Thôn Chín")]
    assert (row[-2], row[-1]) == ("190", "100,0%")
    # Quảng Ninh: 27 of 115 attended before, and the village's 2 of 2: 29 / 117.
    this = next(row for row in cells(page, "report-sessions")
                if row[0].endswith(db_title(demo, session_id)))
    assert this[-1] == "24,8%"
    national = client.get(f"{base}?session={session_id}").get_data(as_text=True)
    [quang_ninh] = [r for r in cells(national, "report-provinces") if r[0] == "Tỉnh Quảng Ninh"]
    assert quang_ninh[-1] == "24,8%"
    rows = list(csv.reader(io.StringIO(client.get(
        f"{base}/report.csv?session={session_id}&province=22").get_data(as_text=True)[1:])))
    assert [r[-2:] for r in rows if r[0] == "06811-TON-9"] == [["190", "100.0%"]]


def test_the_report_page_says_when_it_lists_only_the_first_shortfalls(client, demo,
                                                                         monkeypatch):
    from confmgr.attendance import views

    session_id = known_attendance(demo)
    monkeypatch.setattr(views, "REPORT_MISSING_ROWS", 10)
    logged_in(client, ORGANISER)
    page = client.get(f"/manage/c/{SLUG}/attendance?session={session_id}").get_data(as_text=True)
    assert "Điểm cầu thiếu thành phần bắt buộc (8)" in page
    assert len(cells(page, "report-missing")) == 10
    assert re.search(r'<p class="[^"]*report-missing-more">(.*?)</p>', page).group(1) == (
        "Hiển thị 10 trong số 16 dòng thiếu; tải báo cáo XLSX để xem thêm.")


def db_title(app, session_id: int) -> str:
    with app.app_context():
        return db.session.get(AgendaSession, session_id).title


def test_province_report_lists_its_points(client, demo):
    session_id = known_attendance(demo)
    logged_in(client, ORGANISER)
    page = client.get(f"/manage/c/{SLUG}/attendance?session={session_id}&province=22")
    html = page.get_data(as_text=True)
    assert cells(html, "report-points") == [
        ["Điểm cầu phường Hạ Long số lượng", "25", "0", "0", "0", "0", "0", "20", "80,0%"],
        ["Điểm cầu phường Cẩm Phả", "25", "0", "0", "0", "0", "25", "0", "0,0%"],
        ["Điểm cầu Uông Bí", "35", "6", "1", "1", "1", "26", "0", "20,0%"],
        ["Điểm cầu tỉnh Quảng Ninh", "30", "0", "0", "0", "0", "30", "0", "0,0%"],
    ]
    this = next(row for row in cells(html, "report-sessions")
                if row[0].endswith(db_title(demo, session_id)))
    assert this[1:] == ["115", "6", "1", "1", "1", "81", "20", "23,5%"]


def test_live_part_refreshes_itself(client, demo):
    session_id = known_attendance(demo)
    logged_in(client, ORGANISER)
    page = client.get(f"/manage/c/{SLUG}/attendance?session={session_id}").get_data(as_text=True)
    assert (f'hx-get="/manage/c/{SLUG}/attendance?session={session_id}" '
            'hx-trigger="every 15s"') in page
    part = client.get(f"/manage/c/{SLUG}/attendance?session={session_id}",
                      headers={"HX-Request": "true"}).get_data(as_text=True)
    assert part.lstrip().startswith('<div id="attendance-live"')
    assert "<html" not in part
    # Arrivals per 5 minutes from the opening of check-in: ten, all in the last bar.
    bars = re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)" '
                      r'fill="#198754"><title>[\d:]+: (\d+)</title>', part)
    assert [int(n) for _, n in bars][-1] == 10
    assert sum(int(n) for _, n in bars) == 10


def test_a_live_refresh_of_what_is_gone_says_so_and_stops_the_refreshing(client, demo):
    """A session that left the report (now a break) and an organiser no longer one: the
    refresh says so with 286, htmx's word to stop asking, in a part that asks no more."""
    from confmgr.accounts.models import User, conference_organisers
    from confmgr.conferences import publishing

    session_id = known_attendance(demo)
    logged_in(client, ORGANISER)
    url = f"/manage/c/{SLUG}/attendance?session={session_id}"
    with demo.app_context():
        session = db.session.get(AgendaSession, session_id)
        session.kind = SessionKind.BREAK
        publishing.publish(session.conference, None, "")
        db.session.commit()
    for words in ("Phiên đang xem không còn trong chương trình đã công bố để điểm danh (đã "
                  "rút khỏi chương trình hoặc thành giờ nghỉ).",
                  "Bạn không còn là ban tổ chức hội nghị này."):
        refreshed = client.get(url, headers={"HX-Request": "true"})
        part = refreshed.get_data(as_text=True)
        assert refreshed.status_code == 286
        assert re.search(r'<div class="alert alert-warning" role="status">([^<]+) <a href="'
                         rf'/manage/c/{SLUG}/attendance">', part).group(1) == words
        assert "hx-get" not in part and "<html" not in part
        with demo.app_context():
            db.session.execute(conference_organisers.delete().where(
                conference_organisers.c.user_id == db.session.scalar(
                    select(User.id).where(User.email == ORGANISER[0]))))
            db.session.commit()
    assert client.get(url).status_code == 403  # the page itself, as before


def test_the_dashboard_of_a_conference_with_nothing_published_shows_no_figures(client, demo):
    """Loaded without a session before anything is published: nothing to follow yet, and
    nothing said of a session gone (none was asked for)."""
    from confmgr.conferences.models import AgendaVersion

    with demo.app_context():
        db.session.execute(AgendaVersion.__table__.delete())
        for session in db.session.scalars(select(AgendaSession)):
            session.published_status = None
        db.session.commit()
    logged_in(client, ORGANISER)
    refreshed = client.get(f"/manage/c/{SLUG}/attendance", headers={"HX-Request": "true"})
    assert (refreshed.status_code, refreshed.get_data(as_text=True)) == (200, "")


def test_dashboards_refreshing_share_the_figures_made_in_the_last_seconds(client, demo):
    """Every open dashboard asks every 15 s; nationally the figures cost half a second of
    database work. Those made in the last ATTENDANCE_LIVE_SECONDS are served again, in
    the language they were made in; a page opened anew is made afresh."""
    from confmgr.attendance import checkin
    from confmgr.enums import AttendanceStatus, CheckInMethod

    assert demo.config["ATTENDANCE_LIVE_SECONDS"] == 10
    demo.config["ATTENDANCE_LIVE_SECONDS"] = 600  # however slow the machine running this
    session_id = known_attendance(demo)
    logged_in(client, ORGANISER)
    url = f"/manage/c/{SLUG}/attendance?session={session_id}"
    refresh = {"HX-Request": "true"}

    def present(html: str) -> str:
        return next(row for row in cells(html, "report-sessions")
                    if row[0].endswith(db_title(demo, session_id)))[2]

    first = client.get(url, headers=refresh).get_data(as_text=True)
    assert present(first) == "9"
    with demo.app_context():
        session = db.session.get(AgendaSession, session_id)
        hanoi = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "01"))
        person = db.session.scalars(select(Participant.id).where(
            Participant.point_id == hanoi.id, Participant.category_id == 6)
            .order_by(Participant.id)).all()[3]
        checkin.record(session, hanoi, person, AttendanceStatus.PRESENT, user_id=None,
                       method=CheckInMethod.MANUAL)
        db.session.commit()
    assert client.get(url, headers=refresh).get_data(as_text=True) == first
    assert present(client.get(url).get_data(as_text=True)) == "10"
    client.post("/language", data={"lang": "en", "next": "/", "csrf_token": csrf_token(client)})
    assert present(client.get(url, headers=refresh).get_data(as_text=True)) == "10"
    client.post("/language", data={"lang": "vi", "next": "/", "csrf_token": csrf_token(client)})
    assert client.get(url, headers=refresh).get_data(as_text=True) == first
    demo.config["ATTENDANCE_LIVE_SECONDS"] = 0
    assert present(client.get(url, headers=refresh).get_data(as_text=True)) == "10"


def test_shared_figures_are_made_again_once_their_seconds_are_over():
    from confmgr.attendance.live import SharedFragments

    now = [100.0]
    fragments, made = SharedFragments(clock=lambda: now[0]), []

    def make(text: str):
        return lambda: made.append(text) or text

    assert fragments.get("national", 10, make("a")) == "a"
    now[0] = 109.9
    assert fragments.get("national", 10, make("b")) == "a"
    assert fragments.get("Hà Nội", 10, make("c")) == "c"
    now[0] = 110.0
    assert fragments.get("national", 10, make("d")) == "d"
    assert made == ["a", "c", "d"]
    now[0] = 200.0  # nothing asked lately is kept
    fragments.get("national", 10, make("e"))
    assert list(fragments._made) == ["national"]


@pytest.mark.parametrize("asked", ["abc", "14x", "1234567890123", "-1", "\uff11"])
def test_a_session_asked_by_no_id_is_not_found_as_an_unknown_one_is(client, demo, asked):
    """A mangled link made the current session's file under the name of the one asked."""
    open_session(demo)
    logged_in(client, ORGANISER)
    base = f"/manage/c/{SLUG}/attendance"
    for page in ("", "/report.csv", "/report.xlsx", "/print"):
        assert client.get(f"{base}{page}", query_string={"session": "999999999"}
                          ).status_code == 404
        response = client.get(f"{base}{page}", query_string={"session": asked})
        assert response.status_code == 404, page
    assert client.get(base, query_string={"session": ""}).status_code == 200


def one_more_present_at_quang_ninh(session_id: int):
    """A check-in at Quảng Ninh's own point (22), committed by another request."""
    from confmgr.attendance import checkin
    from confmgr.enums import AttendanceStatus, CheckInMethod

    def check_in() -> None:
        point = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "22"))
        person = db.session.scalars(select(Participant.id).where(
            Participant.point_id == point.id).order_by(Participant.id)).first()
        checkin.record(db.session.get(AgendaSession, session_id), point, person,
                       AttendanceStatus.PRESENT, user_id=None, method=CheckInMethod.MANUAL)
    return check_in


@pytest.mark.parametrize("read", [
    "SELECT session_point_counts.session_id",  # after the sessions' totals
    "SELECT coalesce(broadcast_points.province_code",  # inside the provinces' rows
])
def test_one_report_file_reads_one_moment_while_check_ins_commit(client, demo, read):
    """The workbook reads its sheets in several statements. A check-in committed between
    them showed in some sheets and not others (present 9 in the summary, 10 by province
    and by point), and a province's row added up to more than it registered: the whole
    file now reads the database as it was at its first read."""
    from tests.helpers import race

    session_id = known_attendance(demo)
    logged_in(client, ORGANISER)
    got = {}

    def download() -> None:
        got["file"] = client.get(
            f"/manage/c/{SLUG}/attendance/report.xlsx?session={session_id}").data

    assert race(demo, download, read, one_more_present_at_quang_ninh(session_id)) == {}
    book = CalamineWorkbook.from_filelike(io.BytesIO(got["file"]))
    summary = book.get_sheet_by_name("Tổng hợp theo phiên").to_python()[-1]
    provinces = book.get_sheet_by_name("Theo tỉnh").to_python()[1:]
    points = book.get_sheet_by_name("Theo điểm cầu").to_python()[1:]
    # As before the check-in, everywhere: known_attendance's 9 present by name.
    assert (summary[3], sum(r[3] for r in provinces), sum(r[4] for r in points)) == (
        9.0, 9.0, 9.0)
    # Quảng Ninh: 115 registered, 25 of them counted by heads at Hạ Long.
    [quang_ninh] = [r for r in provinces if r[0] == "22"]
    assert (quang_ninh[2], sum(quang_ninh[3:8])) == (115.0, 90.0)
    # The next file shows the check-in.
    again = CalamineWorkbook.from_filelike(io.BytesIO(client.get(
        f"/manage/c/{SLUG}/attendance/report.xlsx?session={session_id}").data))
    assert again.get_sheet_by_name("Tổng hợp theo phiên").to_python()[-1][3] == 10.0


def test_report_files_have_the_same_figures(client, demo):
    session_id = known_attendance(demo)
    logged_in(client, ORGANISER)
    response = client.get(f"/manage/c/{SLUG}/attendance/report.csv?session={session_id}"
                          "&province=22")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeffMã điểm cầu,Điểm cầu,Mã tỉnh,Đã đăng ký,Có mặt,")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[3] == ["06811", "Điểm cầu Uông Bí", "22", "35", "6", "1", "1", "1", "26", "0",
                       "20.0%"]

    response = client.get(f"/manage/c/{SLUG}/attendance/report.xlsx?session={session_id}")
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.data))
    assert book.sheet_names == ["Tổng hợp theo phiên", "Theo tỉnh", "Theo điểm cầu",
                                "Theo thành phần", "Thiếu thành phần", "Điểm danh theo giờ"]
    missing = book.get_sheet_by_name("Thiếu thành phần").to_python()
    assert len(missing) == 1 + 16
    assert missing[1] == ["00004", "Điểm cầu phường Ba Đình", "01", "Bí thư, Phó Bí thư cấp ủy",
                          0, 1]
    arrivals = book.get_sheet_by_name("Điểm danh theo giờ").to_python()
    assert arrivals[0] == ["Từ", "Số người đến"]
    assert sum(row[1] for row in arrivals[1:]) == 10
    provinces = book.get_sheet_by_name("Theo tỉnh").to_python()
    assert provinces[0][:4] == ["Mã tỉnh", "Tỉnh, thành phố", "Đã đăng ký", "Có mặt"]
    assert provinces[2][:9] == ["22", "Tỉnh Quảng Ninh", 115, 6, 1, 1, 1, 81, 20]
    assert round(provinces[2][9], 4) == round(27 / 115, 4)
    points = book.get_sheet_by_name("Theo điểm cầu").to_python()
    assert len(points) == 12  # heading and eleven points


def test_participant_export_streams_every_delegate_with_each_session(client, demo):
    known_attendance(demo)
    with demo.app_context():
        person = db.session.scalar(select(Participant).join(
            BroadcastPoint, BroadcastPoint.id == Participant.point_id).where(
            BroadcastPoint.code == "06811", Participant.category_id == 3).order_by(Participant.id)
            .offset(1))
        person.full_name = "=HYPERLINK(\"http://x\")"
        db.session.commit()
    logged_in(client, ORGANISER)
    response = client.get(f"/manage/c/{SLUG}/attendance/participants.csv?province=22")
    assert response.is_streamed
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:6] == ["Mã điểm cầu", "Điểm cầu", "Họ và tên", "Chức vụ", "Đơn vị",
                           "Thành phần"]
    assert len(rows) == 1 + 115
    assert all(row[0] in ("06688", "06793", "06811", "22") for row in rows[1:])
    formula = next(row for row in rows if row[2].startswith("'="))
    assert formula[2] == "'=HYPERLINK(\"http://x\")"
    assert formula[-1] == "Đến muộn"  # the last session is the one recorded above


def test_conference_dashboard_loads_the_live_figures(client, demo):
    logged_in(client, ORGANISER)
    page = client.get(f"/manage/c/{SLUG}/").get_data(as_text=True)
    assert "305 đại biểu" in page and "11 điểm cầu" in page
    assert (f'hx-get="/manage/c/{SLUG}/attendance" hx-trigger="load" '
            'hx-swap="outerHTML"') in page
    part = client.get(f"/manage/c/{SLUG}/attendance", headers={"HX-Request": "true"})
    assert part.get_data(as_text=True).lstrip().startswith('<div id="attendance-live"')


def test_live_part_opened_without_a_session_follows_the_current_one(client, demo):
    """The dashboard loads the figures without naming a session: each refresh chooses the
    current session again rather than staying on the first one it showed."""
    session_id = open_session(demo)
    logged_in(client, ORGANISER)
    part = client.get(f"/manage/c/{SLUG}/attendance",
                      headers={"HX-Request": "true"}).get_data(as_text=True)
    assert part.lstrip().startswith(
        f'<div id="attendance-live" hx-get="/manage/c/{SLUG}/attendance" '
        'hx-trigger="every 15s"')
    chosen = re.search(r'<tr class="table-primary"><td>(.*?)</td>', part).group(1)
    assert chosen.endswith(db_title(demo, session_id))
    page = client.get(f"/manage/c/{SLUG}/attendance?province=22").get_data(as_text=True)
    assert f'hx-get="/manage/c/{SLUG}/attendance?province=22" hx-trigger="every 15s"' in page


def test_a_page_following_the_current_session_offers_its_files_and_says_so(client, demo):
    """The live part followed the current session while the picker, the files and the
    print stayed on the one first shown: the organiser saw one session's figures and
    filed another's. Followed, the files are those of the session current when asked."""
    session_id = open_session(demo)
    logged_in(client, ORGANISER)
    base = f"/manage/c/{SLUG}/attendance"
    page = client.get(base).get_data(as_text=True)
    assert re.findall(r'<option value="([^"]*)" selected>', page) == [""]
    assert "Phiên đang diễn ra (tự chuyển theo giờ)" in page
    for link in (f"{base}/report.xlsx", f"{base}/report.csv", f"{base}/print"):
        assert f'href="{link}"' in page
    assert "attachment; filename=" in client.get(f"{base}/report.csv").headers[
        "Content-Disposition"]
    # Named, the session stays.
    page = client.get(base, query_string={"session": session_id}).get_data(as_text=True)
    assert re.findall(r'<option value="([^"]*)" selected>', page) == [str(session_id)]
    assert f'href="{base}/report.xlsx?session={session_id}"' in page
    # The sheet's picker has no such choice.
    logged_in(client, COORDINATOR)
    assert "tự chuyển theo giờ" not in client.get(SHEET).get_data(as_text=True)


def test_coordinator_total_counts_unrecorded_point_by_point(client, demo):
    """A point under Uông Bí that counts 500 heads leaves the coordinator's 115 delegates
    unrecorded, rather than covering them."""
    from confmgr.attendance import checkin
    from confmgr.attendance.models import NO_CATEGORY

    session_id = open_session(demo)
    with demo.app_context():
        village = headcount_village("06811-TON-1", "Thôn Một", expected=500)
        db.session.commit()
        checkin.report_headcount(db.session.get(AgendaSession, session_id), village,
                                 {NO_CATEGORY: 500}, user_id=None)
        db.session.commit()
    logged_in(client, COORDINATOR)
    page = client.get(f"/manage/c/{SLUG}/attendance?session={session_id}").get_data(as_text=True)
    total = re.search(r"<tfoot>(.*?)</tfoot>", page, re.S).group(1)
    assert [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", total)] \
        == ["Cộng", "115", "0", "0", "0", "0", "115", "500", "81,3%"]


def test_a_coordinators_home_page_leads_to_their_points_figures(client, demo):
    """The page of their points' figures was reached only by typing its address."""
    logged_in(client, COORDINATOR)
    home = client.get("/manage/").get_data(as_text=True)
    link = re.search(r'<a class="my-attendance small" href="([^"]+)">([^<]+)</a>', home)
    assert link.groups() == (f"/manage/c/{SLUG}/attendance", "Điểm danh các điểm cầu của tôi")
    assert "<h1 class=\"h4\">Điểm danh các điểm cầu của tôi</h1>" in client.get(
        link.group(1)).get_data(as_text=True)


def test_a_coordinators_figures_before_any_session_is_published(client, demo):
    """Before the agenda's first publication the coordinator's page says there is nothing
    to take attendance for; a coordinator with no point in the conference is refused."""
    from confmgr.accounts.coordinators import create_coordinator
    from confmgr.conferences.models import AgendaVersion

    with demo.app_context():
        db.session.execute(AgendaVersion.__table__.delete())
        for session in db.session.scalars(select(AgendaSession)):
            session.published_status = None
        user, password = create_coordinator("cu@example.org", "Điều phối cũ", [
            db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "06811"))])
        user.points = []  # every grant taken back
        db.session.commit()
    logged_in(client, COORDINATOR)
    response = client.get(f"/manage/c/{SLUG}/attendance")
    assert response.status_code == 200
    assert ('<p class="text-body-secondary">Chương trình chưa có phiên nào để điểm danh.</p>'
            in response.get_data(as_text=True))
    other = logged_in(demo.test_client(), ("cu@example.org", password))
    assert other.get(f"/manage/c/{SLUG}/attendance").status_code == 403


HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def cancel(app, session_id: int) -> None:
    from confmgr.enums import SessionStatus

    with app.app_context():
        db.session.get(AgendaSession, session_id).status = SessionStatus.CANCELLED
        publish_agenda()


def test_a_cancelled_session_is_marked_and_asks_for_no_category(client, demo):
    session_id = known_attendance(demo)
    cancel(demo, session_id)
    title = db_title(demo, session_id)
    logged_in(client, ORGANISER)
    page = client.get(f"/manage/c/{SLUG}/attendance?session={session_id}").get_data(as_text=True)
    this = next(row for row in cells(page, "report-sessions") if title in row[0])
    assert this[0].endswith(f"{title} Đã hủy")
    assert this[1:] == ["305", "9", "1", "1", "1", "0", "20", "—"]
    assert "Phiên này đã bị hủy: không xét thành phần bắt buộc." in page
    assert "report-missing" not in page and "Mọi điểm cầu đều đủ" not in page
    printed = client.get(f"/manage/c/{SLUG}/attendance/print?session={session_id}")
    assert "Phiên này đã bị hủy: không xét thành phần bắt buộc." in printed.get_data(as_text=True)
    # No rate is no bar and "—" in the chart, as in the table: not a bar of 0 %.
    for html in (page, printed.get_data(as_text=True)):
        chart = html.split('class="chart-rates"')[1].split("</svg>")[0]
        labels = re.findall(r'<text x="[\d.]+" y="\d+" font-size="12">([^<]*)</text>', chart)
        assert labels[:4] == ["Thành phố Hà Nội", "—", "Tỉnh Quảng Ninh", "—"]
        assert "<rect" not in chart

    response = client.get(f"/manage/c/{SLUG}/attendance/report.xlsx?session={session_id}")
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.data))
    summary = book.get_sheet_by_name("Tổng hợp theo phiên").to_python()
    [row] = [r for r in summary if str(r[0]).startswith(title)]
    assert row[0] == f"{title} (Đã hủy)"
    with demo.app_context():
        starts = db.session.get(AgendaSession, session_id).published_starts_at
    assert row[1] == starts.astimezone(HCM).replace(tzinfo=None, microsecond=0)  # sortable
    assert row[2:] == [305, 9, 1, 1, 1, 0, 20, ""]
    # Said in the file as on the page: an empty sheet read as every point complying.
    assert book.get_sheet_by_name("Thiếu thành phần").to_python() == [
        ["Mã điểm cầu", "Điểm cầu", "Mã tỉnh", "Thành phần", "Dự", "Cần"],
        ["Phiên này đã bị hủy: không xét thành phần bắt buộc.", "", "", "", "", ""]]
    text = client.get(f"/manage/c/{SLUG}/attendance/participants.csv").get_data(as_text=True)
    headings = next(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert [h for h in headings if "Đã hủy" in h] == [headings[-1]]
    assert headings[-1].endswith(f"{title} (Đã hủy)")


def test_a_compliance_sheet_cut_short_says_how_many_rows_it_left_out(client, demo,
                                                                     monkeypatch):
    from confmgr.attendance import views

    session_id = known_attendance(demo)
    logged_in(client, ORGANISER)
    monkeypatch.setattr(views, "XLSX_MAX_ROWS", 3)
    heading = ["Mã điểm cầu", "Điểm cầu", "Mã tỉnh", "Thành phần", "Dự", "Cần"]

    def compliance_sheet(query: str = "") -> list[list]:
        response = client.get(f"/manage/c/{SLUG}/attendance/report.xlsx?session={session_id}"
                              + query)
        book = CalamineWorkbook.from_filelike(io.BytesIO(response.data))
        return book.get_sheet_by_name("Thiếu thành phần").to_python()

    rows = compliance_sheet()
    assert rows[0] == heading and len(rows) == 1 + 3 + 1
    assert rows[1] == ["00004", "Điểm cầu phường Ba Đình", "01", "Bí thư, Phó Bí thư cấp ủy",
                       0, 1]
    # 16 rows in all (test_report_files_have_the_same_figures): 13 left out.
    assert rows[-1] == ["Còn 13 dòng không ghi vào tệp này (mỗi trang tối đa 3 dòng): hãy "
                        "tải báo cáo của từng tỉnh, thành phố.", "", "", "", "", ""]
    rows = compliance_sheet("&province=22")
    assert rows[-1][0] == "Còn 1 dòng không ghi vào tệp này (mỗi trang tối đa 3 dòng)."
    assert len(rows) == 1 + 3 + 1
    # Not cut: no such row.
    monkeypatch.setattr(views, "XLSX_MAX_ROWS", 16)
    rows = compliance_sheet()
    assert len(rows) == 1 + 16 and rows[-1][0] == "79"
    assert len(compliance_sheet("&province=22")) == 1 + 4


def test_rates_follow_the_language_and_stay_numbers_in_files(client, demo):
    session_id = known_attendance(demo)
    logged_in(client, ORGANISER)
    page = client.get(f"/manage/c/{SLUG}/attendance?session={session_id}").get_data(as_text=True)
    assert "<title>Tỉnh Quảng Ninh: 23,5%</title>" in page
    assert '<text x="221.0" y="36" font-size="12">23,5%</text>' in page
    post_form(client, "/language", {"lang": "en", "next": "/"})
    page = client.get(f"/manage/c/{SLUG}/attendance?session={session_id}").get_data(as_text=True)
    assert "<title>Tỉnh Quảng Ninh: 23.5%</title>" in page
    this = next(row for row in cells(page, "report-sessions")
                if row[0].endswith(db_title(demo, session_id)))
    assert this[-1] == "9.8%"
    heads = re.search(r'<table class="table table-sm report-sessions">\s*<thead>(.*?)</thead>',
                      page, re.S).group(1)
    assert re.findall(r"<th[^>]*>(.*?)</th>", heads)[1:3] == ["Registered", "Present"]
    # The printed report is Vietnamese whatever the page's language.
    printed = client.get(f"/manage/c/{SLUG}/attendance/print?session={session_id}")
    assert "<title>Tỉnh Quảng Ninh: 23,5%</title>" in printed.get_data(as_text=True)
    response = client.get(f"/manage/c/{SLUG}/attendance/report.xlsx?session={session_id}")
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.data))
    provinces = book.get_sheet_by_name("Theo tỉnh").to_python()
    assert isinstance(provinces[2][9], float)


def test_self_check_in_is_marked_on_the_sheet(client, demo):
    from confmgr.attendance import checkin
    from confmgr.enums import AttendanceStatus, CheckInMethod

    session_id = open_session(demo)
    (person, name), (other, _name) = people_at(demo, "06811")[:2]
    with demo.app_context():
        uong_bi = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "06811"))
        uong_bi_id = uong_bi.id
        checkin.record(db.session.get(AgendaSession, session_id), uong_bi, person,
                       AttendanceStatus.PRESENT, user_id=None, method=CheckInMethod.SELF)
        db.session.commit()
    logged_in(client, COORDINATOR)
    post_form(client, f"{SHEET}/{session_id}", {"mark": f"{other}:present"})
    page = client.get(f"{SHEET}?session={session_id}").get_data(as_text=True)
    mark = '<span class="badge text-bg-warning self-checkin">Tự điểm danh</span>'
    assert page.count(mark) == 1
    assert re.search(rf'<tr id="p{person}">.*?</tr>', page, re.S).group(0).count(mark) == 1
    # The coordinator confirming what the delegate recorded: the mark goes, the counts stay,
    # and the log says who confirmed it.
    answer = post_form(client, f"{SHEET}/{session_id}", {"mark": f"{person}:present"},
                       headers={"HX-Request": "true"}).get_data(as_text=True)
    assert f'<tr id="p{person}" hx-swap-oob="true">' in answer and mark not in answer
    assert mark not in client.get(f"{SHEET}?session={session_id}").get_data(as_text=True)
    with demo.app_context():
        from confmgr.attendance.models import AttendanceChange, SessionPointCount

        log = db.session.execute(select(
            AttendanceChange.old_status, AttendanceChange.new_status, AttendanceChange.method)
            .where(AttendanceChange.participant_id == person,
                   AttendanceChange.session_id == session_id)
            .order_by(AttendanceChange.id)).all()
        assert log == [(None, AttendanceStatus.PRESENT, CheckInMethod.SELF),
                       (AttendanceStatus.PRESENT, AttendanceStatus.PRESENT,
                        CheckInMethod.MANUAL)]
        counts = db.session.get(SessionPointCount, (session_id, uong_bi_id))
        assert (counts.present, counts.late, counts.excused, counts.absent) == (2, 0, 0, 0)


# ---------------------------------------------------------------- after the sign-in ended


def signed_out_with_sheet_open(client, demo) -> tuple[int, int, str]:
    """The coordinator's sheet is open; the sign-in then ends in another tab."""
    from tests.conftest import csrf_token
    session_id = open_session(demo)
    person = people_at(demo, "06811")[0][0]
    logged_in(client, COORDINATOR)
    token = csrf_token(client, f"{SHEET}?session={session_id}")
    client.post("/logout", data={"csrf_token": token})
    return session_id, person, token


def test_a_tap_after_the_sign_in_ended_is_refused_so_the_sheet_can_say_so(client, demo):
    """A redirect would be followed by the browser and swap nothing: the tap would be lost
    without a word. A 401 is what the sheet's script reports as a tap not taken."""
    session_id, person, token = signed_out_with_sheet_open(client, demo)
    response = client.post(f"{SHEET}/{session_id}",
                           data={"mark": f"{person}:present", "csrf_token": token},
                           headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert "HX-Redirect" not in response.headers
    assert response.get_data(as_text=True) == "Vui lòng đăng nhập để tiếp tục."
    assert person not in statuses(demo, session_id)


def test_a_search_after_the_sign_in_ended_takes_the_page_to_sign_in(client, demo):
    """A search or a live update loses nothing: the whole page goes to the sign-in page,
    and back to where it was afterwards; an address of another site is not followed."""
    session_id, _person, _token = signed_out_with_sheet_open(client, demo)
    page = f"{SHEET}?session={session_id}&q=nguyen"
    response = client.get(page, headers={"HX-Request": "true", "HX-Target": "sheet-rows",
                                         "HX-Current-URL": f"http://localhost{page}"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == (
        f"/login?next={SHEET}?session%3D{session_id}%26q%3Dnguyen")
    elsewhere = client.get(page, headers={"HX-Request": "true",
                                          "HX-Current-URL": f"http://evil.example{page}"})
    assert elsewhere.headers["HX-Redirect"] == "/login"


def test_a_tap_posted_as_a_page_after_the_sign_in_ended_leads_back_to_the_sheet(client, demo):
    """Without script a tap posts as a page. The address it posts to answers POST only:
    after signing in, the coordinator is back on the sheet the tap was made from."""
    from tests.conftest import csrf_token
    session_id, person, token = signed_out_with_sheet_open(client, demo)
    sheet = f"{SHEET}?session={session_id}"
    response = client.post(f"{SHEET}/{session_id}",
                           data={"mark": f"{person}:present", "csrf_token": token},
                           headers={"Referer": f"http://localhost{sheet}"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next={SHEET}?session%3D{session_id}"
    signed_in = client.post(response.headers["Location"], data={
        "email": COORDINATOR[0], "password": COORDINATOR[1],
        "csrf_token": csrf_token(client, "/login")})
    assert signed_in.headers["Location"] == sheet
    assert client.get(sheet).status_code == 200
    assert person not in statuses(demo, session_id)


def test_the_points_outside_every_province_have_their_report_files_and_lists(client, demo):
    """The national table's row of points outside every province opens their report, as a
    province's row does; its files, print and the delegate and point lists filter so too."""
    from confmgr.attendance import checkin
    from confmgr.enums import AttendanceStatus, CheckInMethod

    session_id = open_session(demo)
    with demo.app_context():
        ministry = ministry_point(["Lê Văn Một"])
        person = db.session.scalar(select(Participant.id).where(
            Participant.point_id == ministry.id))
        checkin.record(db.session.get(AgendaSession, session_id), ministry, person,
                       AttendanceStatus.PRESENT, user_id=None, method=CheckInMethod.MANUAL)
        db.session.commit()
    logged_in(client, ORGANISER)
    base = f"/manage/c/{SLUG}/attendance"
    page = client.get(f"{base}?session={session_id}").get_data(as_text=True)
    table = page.split('class="table table-sm report-provinces">')[1].split("</table>")[0]
    names = re.findall(r"<tr><td>(.*?)</td>", table)
    report = f"{base}?session={session_id}&amp;province=none"
    assert names[-1] == f'<a href="{report}">Không thuộc tỉnh, thành phố nào</a>'
    assert all(name.startswith("<a href=") for name in names)
    # So named on the chart beside the table and in the workbook too, not "—".
    assert '<text x="0" y="116" font-size="12">Không thuộc tỉnh, thành…</text>' in page
    # The ministry's one, come, beside the main venue's 40.
    assert "<title>Không thuộc tỉnh, thành phố nào: 2,4%</title>" in page
    book = CalamineWorkbook.from_filelike(io.BytesIO(
        client.get(f"{base}/report.xlsx?session={session_id}").data))
    assert book.get_sheet_by_name("Theo tỉnh").to_python()[-1][:2] == [
        "", "Không thuộc tỉnh, thành phố nào"]

    page = client.get(f"{base}?session={session_id}&province=none").get_data(as_text=True)
    assert '<h1 class="h4">Điểm danh — Không thuộc tỉnh, thành phố nào</h1>' in page
    assert flashes(page) == []
    points = page.split('class="table table-sm report-points">')[1].split("</table>")[0]
    main_venue = "Điểm cầu Trung ương – Học viện Chính trị quốc gia Hồ Chí Minh"
    assert re.findall(r'<tr><td><a href="[^"]*">([^<]*)</a>', points) == [
        "Bộ Y tế", main_venue]

    rows = list(csv.reader(io.StringIO(client.get(
        f"{base}/report.csv?session={session_id}&province=none").get_data(as_text=True)[1:])))
    assert [row[:4] for row in rows[1:]] == [["BYT", "Bộ Y tế", "", "1"],
                                              ["TW", main_venue, "", "40"]]
    assert rows[1][4:] == ["1", "0", "0", "0", "0", "0", "100.0%"]
    response = client.get(f"{base}/participants.csv?province=none")
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="dai-bieu-diem-danh-{SLUG}-none.csv"')
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True)[1:])))
    assert [row[:3] for row in rows[1:]][0] == ["BYT", "Bộ Y tế", "Lê Văn Một"]
    assert {row[0] for row in rows[1:]} == {"BYT", "TW"} and len(rows) == 42
    printed = client.get(f"{base}/print?session={session_id}&province=none",
                         headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert " · Không thuộc tỉnh, thành phố nào</p>" in printed

    delegates = client.get(f"/manage/c/{SLUG}/delegates?province=none&export=csv")
    rows = list(csv.reader(io.StringIO(delegates.get_data(as_text=True)[1:])))
    assert "Lê Văn Một" in [row[1] for row in rows[1:]] and len(rows) == 42
    listed = client.get(f"/manage/c/{SLUG}/points?province=none").get_data(as_text=True)
    assert '<option value="none" selected>Không thuộc tỉnh, thành phố nào</option>' in listed
    assert '<p class="small text-body-secondary">2 điểm cầu</p>' in listed
    assert ">Bộ Y tế<" in listed and f">{main_venue}<" in listed


def test_a_province_not_on_the_official_list_is_said_on_a_page_and_makes_no_file(client,
                                                                                  demo):
    """An old bookmark (provinces were merged in 2025): the page shows the whole country
    and says so; a file of national figures under a province's request is not made."""
    session_id = open_session(demo)
    logged_in(client, ORGANISER)
    base = f"/manage/c/{SLUG}/attendance"
    response = client.get(f"{base}?session={session_id}&province=30")
    assert response.status_code == 200
    assert flashes(response.get_data(as_text=True)) == [
        "Không có tỉnh, thành phố mã «30» trong danh mục hiện hành: đây là số liệu cả nước."]
    for download in (f"{base}/print?session={session_id}&province=30",
                     f"{base}/report.xlsx?session={session_id}&province=30",
                     f"{base}/report.csv?session={session_id}&province=30",
                     f"{base}/participants.csv?province=30"):
        assert client.get(download).status_code == 404
    assert client.get(f"{base}/report.csv?session={session_id}&province=22").status_code == 200


def test_a_rate_is_rounded_alike_on_the_page_in_the_csv_and_in_the_workbook(app):
    """A rate is rounded as a spreadsheet shows the workbook's "0.0%" cell: its decimal
    value, half away from zero. 471 of 2,000 is 23.55 %: the CSV rounded the binary float
    (23.5%). 1 of 16 is 6.25 %: the page and the CSV rounded half to even (6,2 %) while
    the workbook showed 6.3 %."""
    from confmgr.attendance.views import format_rate
    from confmgr.spreadsheets import safe_cell
    from confmgr.xlsx import Percent

    with app.test_request_context(headers={"Accept-Language": "vi"}):
        assert [format_rate(share) for share in (471 / 2000, 1 / 16, 5 / 80, 1 / 3, 1.0)] == [
            "23,6%", "6,3%", "6,3%", "33,3%", "100,0%"]
    assert [safe_cell(Percent(share)) for share in (471 / 2000, 1 / 16, 5 / 80, 1 / 3, 1.0)] == [
        "23.6%", "6.3%", "6.3%", "33.3%", "100.0%"]
