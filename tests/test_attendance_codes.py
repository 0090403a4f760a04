"""Personal check-in codes: badges, scanning by a coordinator, self check-in."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from confmgr.attendance.models import Attendance
from confmgr.calendar.subscribe import qr_svg
from confmgr.db import db
from confmgr.demo.loader import SLUG
from confmgr.enums import CheckInMethod
from confmgr.points.models import BroadcastPoint
from confmgr.roster.models import Participant
from tests.helpers import COORDINATOR, flashes, logged_in, post_form
from tests.test_attendance_web import open_session, people_at, publish_agenda

BADGES = f"/manage/c/{SLUG}/points/06811/badges"


def code_of(app, participant_id: int) -> str:
    with app.app_context():
        return db.session.get(Participant, participant_id).checkin_code


def test_badges_carry_a_code_for_every_delegate(client, demo):
    logged_in(client, COORDINATOR)
    page = client.get(BADGES).get_data(as_text=True)
    people = people_at(demo, "06811")
    assert page.count('class="badge-card"') == len(people)
    codes = [code_of(demo, pid) for pid, _ in people]
    assert len(set(codes)) == len(people) and all(re.fullmatch(r"[\w-]{12}", c) for c in codes)
    assert str(qr_svg(f"http://localhost/q/{codes[0]}")) in page
    assert client.get(BADGES).get_data(as_text=True) == page  # codes are issued once
    assert client.get(f"/manage/c/{SLUG}/points/01/badges").status_code == 403


def test_coordinator_scans_a_badge_and_confirms(client, demo):
    session_id = open_session(demo)
    person, name = people_at(demo, "06811")[0]
    logged_in(client, COORDINATOR)
    client.get(BADGES)
    code = code_of(demo, person)
    page = client.get(f"/q/{code}").get_data(as_text=True)
    assert f'<h1 class="h4">{name}</h1>' in page
    assert "Xác nhận có mặt" in page
    response = tap_scanned(client, code, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert flashes(html)[0].startswith(f"{name}: có mặt tại phiên «")
    assert "Đã ghi: Có mặt." in html
    with demo.app_context():
        row = db.session.scalar(select(Attendance).where(Attendance.session_id == session_id))
        assert (row.participant_id, row.method, row.recorded_by_id is not None) == (
            person, CheckInMethod.QR, True)


def test_delegate_checks_in_with_their_own_code(client, demo):
    session_id = open_session(demo)
    person, name = people_at(demo, "06811")[1]
    logged_in(demo.test_client(), COORDINATOR).get(BADGES)
    code = code_of(demo, person)
    response = client.get(f"/q/{code}")
    page = response.get_data(as_text=True)
    assert "Tôi có mặt" in page
    assert name not in page  # a stranger holding the code learns only the given name
    # A delegate's given name, point and attendance: kept by no shared browser or proxy.
    assert response.headers["Cache-Control"] == "private, no-store"
    told = flashes(tap_scanned(client, code, follow_redirects=True).get_data(as_text=True))
    # Nor does the answer to the tap name them in full.
    assert told == [f"{name.split()[-1]}: có mặt tại phiên «{session_title(demo, session_id)}»."]
    with demo.app_context():
        row = db.session.scalar(select(Attendance).where(Attendance.session_id == session_id))
        assert (row.participant_id, row.method, row.recorded_by_id) == (
            person, CheckInMethod.SELF, None)


def test_codes_outside_check_in_or_unknown(client, demo):
    person = people_at(demo, "06811")[0][0]
    logged_in(demo.test_client(), COORDINATOR).get(BADGES)
    code = code_of(demo, person)
    page = client.get(f"/q/{code}").get_data(as_text=True)
    assert "Tôi có mặt" not in page  # the demo's sessions are long over
    response = tap_scanned(client, code, follow_redirects=True)
    told = flashes(response.get_data(as_text=True))[0]
    # The delegate has no paper list to upload: the coordinator's advice is not theirs.
    assert told.startswith("Đã hết giờ điểm danh phiên")
    assert told.endswith("; hãy báo điều phối viên.")
    coordinator = logged_in(demo.test_client(), COORDINATOR)
    assert "hãy tải lên danh sách giấy." in coordinator.get(f"/q/{code}").get_data(as_text=True)
    assert client.get("/q/unknown-code0").status_code == 404
    assert client.get("/q/bad").status_code == 404


def test_a_scan_goes_to_the_session_running_now_not_the_first_open_window(client, demo):
    """Back-to-back sessions have overlapping check-in windows (an hour before to two hours
    after): the one running now takes the scan; a cancelled one never does."""
    from datetime import timedelta

    from confmgr.conferences.models import AgendaSession
    from confmgr.db import utcnow
    from confmgr.enums import SessionStatus

    now = utcnow()
    with demo.app_context():
        first, second, third = db.session.scalars(
            select(AgendaSession).order_by(AgendaSession.starts_at).limit(3)).all()
        first.starts_at, first.ends_at = now - timedelta(minutes=70), now - timedelta(minutes=10)
        second.starts_at, second.ends_at = now - timedelta(minutes=10), now + timedelta(minutes=50)
        third.starts_at, third.ends_at = now + timedelta(minutes=50), now + timedelta(minutes=90)
        publish_agenda()
        running, next_title = second.id, third.title
    person = people_at(demo, "06811")[0][0]
    with demo.app_context():  # the demo recorded everyone at its sessions: start afresh
        db.session.execute(Attendance.__table__.delete().where(
            Attendance.participant_id == person))
        db.session.commit()
    logged_in(demo.test_client(), COORDINATOR).get(BADGES)
    code = code_of(demo, person)
    tap_scanned(client, code)
    with demo.app_context():
        assert db.session.scalars(select(Attendance.session_id).where(
            Attendance.participant_id == person)).all() == [running]
        # Between sessions, the nearest open one that is not cancelled.
        db.session.get(AgendaSession, running).status = SessionStatus.CANCELLED
        publish_agenda()
    page = client.get(f"/q/{code}").get_data(as_text=True)
    assert next_title in page and "Tôi có mặt" in page


def test_a_tap_on_a_page_opened_for_a_session_since_ended_records_nothing(client, demo):
    """The page offered session A; the tap comes once A has ended and B runs (the phone
    in a pocket, a slow link). It meant A, which cannot be taken now: nothing is recorded
    and the page, opened again, offers B."""
    from datetime import timedelta

    from confmgr.conferences.models import AgendaSession
    from confmgr.db import utcnow

    session_id, person, _name, _coordinator, code = badge_printed(demo)
    page = client.get(f"/q/{code}").get_data(as_text=True)
    assert f'name="session" value="{session_id}"' in page
    with demo.app_context():  # A ends; the session after it in the demo begins
        now = utcnow()
        a = db.session.get(AgendaSession, session_id)
        b = db.session.scalars(select(AgendaSession).where(
            AgendaSession.kind == a.kind, AgendaSession.id != a.id)
            .order_by(AgendaSession.starts_at.desc())).first()
        a.starts_at, a.ends_at = now - timedelta(hours=4), now - timedelta(hours=3)
        b.starts_at, b.ends_at = now - timedelta(minutes=5), now + timedelta(minutes=55)
        publish_agenda()
        b_id, b_title = b.id, b.title
        db.session.execute(Attendance.__table__.delete().where(
            Attendance.participant_id == person))
        db.session.commit()
    response = post_form(client, f"/q/{code}", {"session": str(session_id)},
                         follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == [
        f"Phiên đang điểm danh bây giờ là «{session_title(demo, b_id)}»; nếu có mặt, hãy "
        "bấm lại."]
    with demo.app_context():
        assert db.session.scalars(select(Attendance.session_id).where(
            Attendance.participant_id == person)).all() == []
    assert b_title in response.get_data(as_text=True)
    tap_scanned(client, code)
    with demo.app_context():
        assert db.session.scalars(select(Attendance.session_id).where(
            Attendance.participant_id == person)).all() == [b_id]


def test_a_delegates_own_scan_keeps_what_the_coordinator_recorded(client, demo):
    session_id = open_session(demo)
    person, name = people_at(demo, "06811")[2]
    coordinator = logged_in(demo.test_client(), COORDINATOR)
    coordinator.get(BADGES)
    assert post_form(coordinator, f"/manage/c/{SLUG}/points/06811/attendance/{session_id}",
                     {"mark": f"{person}:excused"}).status_code == 302
    code = code_of(demo, person)
    # The delegate's page was opened before the coordinator's tap.
    response = post_form(client, f"/q/{code}", {"session": str(session_id)},
                         follow_redirects=True)
    # Named as the page names them to whoever holds the code: by the given name.
    assert flashes(response.get_data(as_text=True)) == [
        f"{name.split()[-1]} đã được điểm danh ở phiên «{session_title(demo, session_id)}»; "
        "hãy báo điều phối viên nếu cần sửa."]
    with demo.app_context():
        assert db.session.scalar(select(Attendance.status).where(
            Attendance.participant_id == person, Attendance.session_id == session_id)) == "excused"
    # The coordinator's own scan still sets present.
    tap_scanned(coordinator, code)
    with demo.app_context():
        assert db.session.scalar(select(Attendance.status).where(
            Attendance.participant_id == person, Attendance.session_id == session_id)) == "present"


def session_title(app, session_id: int) -> str:
    from confmgr.conferences.models import AgendaSession

    with app.app_context():
        return db.session.get(AgendaSession, session_id).title


def test_badges_printed_at_the_same_moment_keep_the_codes_of_the_first(app, client, demo,
                                                                       monkeypatch):
    """Two badge sheets asked at once (a retry over a slow link, two coordinators): codes
    the first committed are never replaced by the second."""
    from confmgr.attendance import codes

    logged_in(client, COORDINATOR)
    other = logged_in(app.test_client(), COORDINATOR)
    people = [pid for pid, _name in people_at(demo, "06811")]
    issued = codes.new_code
    printed: dict[str, object] = {}

    def new_code() -> str:
        if not printed:  # the other sheet is printed while this one is being made
            printed["page"] = ""
            printed["page"] = other.get(BADGES).get_data(as_text=True)
            printed["codes"] = [code_of(demo, pid) for pid in people]
        return issued()

    monkeypatch.setattr(codes, "new_code", new_code)
    page = client.get(BADGES).get_data(as_text=True)
    assert None not in printed["codes"]
    assert [code_of(demo, pid) for pid in people] == printed["codes"]
    assert page == printed["page"]


def tap_scanned(client, code: str, **kwargs):
    """Press the button of the scan page as it shows now: its form names the session it
    was opened for (a page that offers no button sends no session)."""
    page = client.get(f"/q/{code}").get_data(as_text=True)
    shown = re.search(r'name="session" value="(\d+)"', page)
    return post_form(client, f"/q/{code}", {"session": shown.group(1)} if shown else {},
                     **kwargs)


def badge_printed(app):
    """A session running now and Uông Bí's badges printed by its coordinator: (session id,
    the first delegate's id and name, the coordinator's client, that delegate's code)."""
    session_id = open_session(app)
    person, name = people_at(app, "06811")[0]
    coordinator = logged_in(app.test_client(), COORDINATOR)
    coordinator.get(BADGES)
    return session_id, person, name, coordinator, code_of(app, person)


def self_checked_in(app, client):
    """As ``badge_printed``, the delegate then checked in by their own phone (``client``)."""
    session_id, person, name, coordinator, code = badge_printed(app)
    tap_scanned(client, code)
    return session_id, person, name, coordinator, code


def test_a_check_in_sent_by_a_coordinators_device_confirms_a_self_check_in(client, demo):
    """Through the API, as a tap on the sheet or a scan at the door does."""
    import uuid

    from tests.helpers import bearer

    session_id, person, _name, coordinator, _code = self_checked_in(demo, client)
    sheet = f"/manage/c/{SLUG}/points/06811/attendance?session={session_id}"
    mark = '<span class="badge text-bg-warning self-checkin">Tự điểm danh</span>'
    assert coordinator.get(sheet).get_data(as_text=True).count(mark) == 1
    response = client.post(f"/api/v1/conferences/{SLUG}/checkins",
                           headers=bearer(demo, COORDINATOR[0]), json={"checkins": [{
                               "id": str(uuid.uuid4()), "participant_id": person,
                               "session_id": session_id, "status": "present"}]})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert mark not in coordinator.get(sheet).get_data(as_text=True)


def test_a_coordinators_scan_confirms_a_self_check_in(client, demo):
    """The delegate scans their own badge, then the coordinator scans it at the door: the
    self check-in mark goes, the row and the log name the coordinator, the counts stay."""
    from confmgr.accounts.models import User
    from confmgr.attendance.models import AttendanceChange, SessionPointCount
    from confmgr.enums import AttendanceStatus

    session_id, person, name, coordinator, code = self_checked_in(demo, client)
    sheet = f"/manage/c/{SLUG}/points/06811/attendance?session={session_id}"
    mark = '<span class="badge text-bg-warning self-checkin">Tự điểm danh</span>'
    assert coordinator.get(sheet).get_data(as_text=True).count(mark) == 1

    response = tap_scanned(coordinator, code, follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == [
        f"{name}: có mặt tại phiên «{session_title(demo, session_id)}»."]
    assert mark not in coordinator.get(sheet).get_data(as_text=True)
    with demo.app_context():
        coordinator_id = db.session.scalar(select(User.id).where(User.email == COORDINATOR[0]))
        row = db.session.scalar(select(Attendance).where(Attendance.session_id == session_id))
        assert (row.participant_id, row.status, row.method, row.recorded_by_id) == (
            person, AttendanceStatus.PRESENT, CheckInMethod.QR, coordinator_id)
        log = db.session.execute(select(
            AttendanceChange.old_status, AttendanceChange.new_status, AttendanceChange.method,
            AttendanceChange.changed_by_id)
            .where(AttendanceChange.session_id == session_id)
            .order_by(AttendanceChange.id)).all()
        assert log == [(None, AttendanceStatus.PRESENT, CheckInMethod.SELF, None),
                       (AttendanceStatus.PRESENT, AttendanceStatus.PRESENT, CheckInMethod.QR,
                        coordinator_id)]
        counts = db.session.scalar(select(SessionPointCount).where(
            SessionPointCount.session_id == session_id))
        assert (counts.present, counts.late, counts.excused, counts.absent) == (1, 0, 0, 0)
    # A second scan confirms nothing more.
    tap_scanned(coordinator, code)
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(AttendanceChange).where(
            AttendanceChange.session_id == session_id)) == 2


def test_another_points_coordinator_scanning_a_badge_records_nothing(client, demo):
    """Signed in for Hà Nội, a coordinator scanning an Uông Bí badge was offered the
    delegate's own tap, and it recorded a self check-in signed with their account."""
    from confmgr.accounts.coordinators import create_coordinator

    session_id, person, _name, _coordinator, code = badge_printed(demo)
    with demo.app_context():
        ha_noi = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "01"))
        _user, password = create_coordinator("hanoi-2@example.org", "Hà Nội", [ha_noi])
        uong_bi = db.session.scalar(select(BroadcastPoint.name).where(
            BroadcastPoint.code == "06811"))
        db.session.commit()
    logged_in(client, ("hanoi-2@example.org", password))
    told = (f"Đại biểu này thuộc điểm cầu «{uong_bi}», ngoài phạm vi tài khoản của bạn; "
            "đại biểu tự điểm danh bằng điện thoại của mình, không cần đăng nhập.")
    page = client.get(f"/q/{code}").get_data(as_text=True)
    assert told in page and "<button" not in page.split("<main")[1]
    response = tap_scanned(client, code, follow_redirects=True)
    assert told in flashes(response.get_data(as_text=True))
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(Attendance).where(
            Attendance.session_id == session_id, Attendance.participant_id == person)) == 0


SCAN_RESULT = re.compile(r'<div class="alert alert-(\w+)">(Đã ghi: .*?)</div>')
CONFIRM_BUTTON = '<button class="btn btn-success btn-lg w-100">Xác nhận có mặt</button>'


def test_the_coordinators_scan_offers_to_confirm_until_the_delegate_is_present(client, demo):
    """At the door the coordinator's phone can set present over a self check-in or over any
    status tapped before; only a present already confirmed needs no button."""
    session_id, person, _name, coordinator, code = self_checked_in(demo, client)

    page = coordinator.get(f"/q/{code}").get_data(as_text=True)
    assert SCAN_RESULT.findall(page) == [
        ("success", "Đã ghi: Có mặt. Chờ điều phối viên xác nhận.")]
    assert CONFIRM_BUTTON in page
    # The delegate sees the same record, and nothing more to tap.
    own = client.get(f"/q/{code}").get_data(as_text=True)
    assert SCAN_RESULT.findall(own) == [
        ("success", "Đã ghi: Có mặt. Chờ điều phối viên xác nhận.")]
    assert "Tôi có mặt" not in own

    mark = f"/manage/c/{SLUG}/points/06811/attendance/{session_id}"
    post_form(coordinator, mark, {"mark": f"{person}:absent"})
    page = coordinator.get(f"/q/{code}").get_data(as_text=True)
    assert SCAN_RESULT.findall(page) == [("secondary", "Đã ghi: Vắng.")]
    assert CONFIRM_BUTTON in page

    tap_scanned(coordinator, code)
    page = coordinator.get(f"/q/{code}").get_data(as_text=True)
    assert SCAN_RESULT.findall(page) == [("success", "Đã ghi: Có mặt.")]
    assert "Xác nhận có mặt" not in page


def test_a_scanned_code_shows_the_conference_title_as_published(client, demo):
    """A draft title is on no page the public reads, the badge holder's included."""
    from confmgr.conferences.models import Conference

    _session_id, person, _name, coordinator, code = badge_printed(demo)
    with demo.app_context():
        conference = db.session.scalar(select(Conference).where(Conference.slug == SLUG))
        published = conference.title
        conference.title = "Tên dự thảo chưa công bố"
        db.session.commit()
    page = client.get(f"/q/{code}").get_data(as_text=True)
    assert f'<p class="small text-body-secondary mb-1">{published}</p>' in page
    assert "Tên dự thảo chưa công bố" not in page
    assert "Tên dự thảo chưa công bố" not in coordinator.get(f"/q/{code}").get_data(as_text=True)
    # Nor do the badges handed out.
    badges = coordinator.get(BADGES).get_data(as_text=True)
    shown = re.search(r'<div class="badge-conference">(.*?)…</div>', badges).group(1)
    assert len(shown) > 80 and published.startswith(shown)
    assert "Tên dự thảo chưa công bố" not in badges


def test_before_the_first_publication_only_staff_see_the_conference_title(client, demo):
    from confmgr.attendance import codes
    from confmgr.conferences.models import AgendaVersion, Conference

    person, _name = people_at(demo, "06811")[0]
    with demo.app_context():
        conference = db.session.scalar(select(Conference).where(Conference.slug == SLUG))
        title = conference.title
        # Badges may be printed before the agenda's first publication.
        db.session.execute(AgendaVersion.__table__.delete().where(
            AgendaVersion.conference_id == conference.id))
        codes.ensure_codes(db.session.get(BroadcastPoint, db.session.get(Participant, person).point_id))
        db.session.commit()
    code = code_of(demo, person)
    page = client.get(f"/q/{code}").get_data(as_text=True)
    assert title not in page
    assert "<title>Điểm danh ·" not in page
    coordinator = logged_in(demo.test_client(), COORDINATOR)
    assert f'<p class="small text-body-secondary mb-1">{title}</p>' in coordinator.get(
        f"/q/{code}").get_data(as_text=True)


def test_a_point_that_reports_numbers_has_no_badges_and_its_codes_record_nobody(client, demo):
    """Badges printed before the point turned to reporting numbers: a scan is answered with
    why, by name nobody is recorded; its page offers no badges, and prints none."""
    session_id, person, _name, coordinator, code = badge_printed(demo)
    with demo.app_context():
        db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "06811")
                          ).headcount_only = True
        db.session.commit()
    for scanner in (client, coordinator):
        page = scanner.get(f"/q/{code}").get_data(as_text=True)
        assert "Điểm cầu này báo cáo số lượng, không điểm danh theo tên." in page
        assert "Tôi có mặt" not in page and "Xác nhận có mặt" not in page
        response = tap_scanned(scanner, code, follow_redirects=True)
        assert flashes(response.get_data(as_text=True)) == [
            "Điểm cầu này báo cáo số lượng, không điểm danh theo tên."]
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(Attendance).where(
            Attendance.session_id == session_id)) == 0
    page = coordinator.get(BADGES).get_data(as_text=True)
    assert 'class="badge-card"' not in page
    assert ('<p lang="vi">Điểm cầu này báo cáo số lượng, không điểm danh theo tên: không có '
            "thẻ điểm danh.</p>") in page
    # The coordinator reads why in their language; a badge is Vietnamese for its wearer.
    post_form(coordinator, "/language", {"lang": "en", "next": "/"})
    page = coordinator.get(BADGES).get_data(as_text=True)
    assert ('<p lang="en">This point reports numbers and checks nobody in by name: there are '
            "no check-in badges.</p>") in page
    assert re.findall("<title>.*</title>", page) == [
        "<title>Thẻ đại biểu · Điểm cầu Uông Bí</title>"]
    detail = coordinator.get(f"/manage/c/{SLUG}/points/06811").get_data(as_text=True)
    assert "/badges" not in detail


def test_a_moved_delegates_old_badge_opens_nothing_and_the_new_point_prints_another(client,
                                                                                   demo):
    """The old point's coordinator keeps the badge printed there, which names that point:
    its code stops working on the move, and the new point's badges carry a new one."""
    from tests.helpers import ORGANISER

    _session_id, person, name, _coordinator, code = badge_printed(demo)
    organiser = logged_in(demo.test_client(), ORGANISER)
    moved = post_form(organiser, f"/manage/c/{SLUG}/points/06811/delegates/{person}/move",
                      {"point_code": "06688"}, follow_redirects=True)
    assert flashes(moved.get_data(as_text=True)) == [
        f"Đã chuyển {name} sang Điểm cầu phường Hạ Long."]
    assert client.get(f"/q/{code}").status_code == 404
    assert tap_scanned(client, code).status_code == 404
    page = organiser.get(f"/manage/c/{SLUG}/points/06688/badges").get_data(as_text=True)
    new_code = code_of(demo, person)
    assert re.fullmatch(r"[\w-]{12}", new_code) and new_code != code
    assert str(qr_svg(f"http://localhost/q/{new_code}")) in page


def test_attendance_shows_times_in_the_published_time_zone_not_the_drafts(client, demo):
    """A draft's new time zone is not the delegates' until it is published: the scan page,
    the sheet and their messages showed the published times in it (00:30 for 12:30)."""
    from zoneinfo import ZoneInfo

    from confmgr.attendance import checkin
    from confmgr.conferences.models import AgendaSession, Conference

    session_id, _person, _name, coordinator, code = badge_printed(demo)
    with demo.app_context():
        session = db.session.get(AgendaSession, session_id)
        hanoi = ZoneInfo("Asia/Ho_Chi_Minh")
        starts = session.published_starts_at.astimezone(hanoi).strftime("%H:%M %d/%m/%Y")
        opens, closes = (moment.astimezone(hanoi).strftime("%H:%M %d/%m/%Y")
                         for moment in checkin.window(session.conference, session))
        db.session.scalar(select(Conference).where(Conference.slug == SLUG)).timezone = (
            "America/New_York")
        db.session.commit()
    scan = client.get(f"/q/{code}").get_data(as_text=True)
    assert re.search(r'<p class="fw-semibold">([^<]+) —', scan).group(1) == starts
    sheet = coordinator.get(f"/manage/c/{SLUG}/points/06811/attendance?session={session_id}")
    assert (f"Mở điểm danh từ {opens} đến {closes}."
            in sheet.get_data(as_text=True).replace("\xa0", " "))
