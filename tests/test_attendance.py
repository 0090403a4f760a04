"""Recording attendance: rules, counters that always equal the rows, the change log."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from confmgr.attendance import checkin, reports
from confmgr.attendance.consistency import count_differences
from confmgr.attendance.models import (
    NO_CATEGORY,
    Attendance,
    AttendanceChange,
    SessionArrivalCount,
    SessionPointCategoryCount,
    SessionPointCount,
)
from confmgr.conferences.editing import RuleBroken
from confmgr.conferences.models import AgendaSession, Conference
from confmgr.db import db
from confmgr.enums import (
    AttendanceStatus,
    CheckInMethod,
    PointLevel,
    SessionKind,
    SessionStatus,
)
from confmgr.points.listing import NO_PROVINCE
from confmgr.points.models import BroadcastPoint
from confmgr.roster.models import Participant
from tests.helpers import ministry_point, run_at_once

P, L, E, A = (AttendanceStatus.PRESENT, AttendanceStatus.LATE, AttendanceStatus.EXCUSED,
              AttendanceStatus.ABSENT)


def point(code: str) -> BroadcastPoint:
    return db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == code))


def headcount_village(parent_code: str, code: str, name: str, expected: int) -> BroadcastPoint:
    """A point under ``parent_code``, in its province, that names nobody and counts heads."""
    from confmgr.enums import PointLevel

    parent = point(parent_code)
    village = BroadcastPoint(conference_id=parent.conference_id, code=code, name=name,
                             level=PointLevel.OTHER, parent_id=parent.id,
                             province_code=parent.province_code, headcount_only=True,
                             expected_delegates=expected)
    db.session.add(village)
    db.session.commit()
    return village


def fresh_session() -> AgendaSession:
    """The last topic session: the demo records no attendance for it."""
    return db.session.scalars(
        select(AgendaSession).where(AgendaSession.kind == SessionKind.TOPIC)
        .order_by(AgendaSession.starts_at.desc())).first()


def people(code: str) -> list[int]:
    return list(db.session.scalars(select(Participant.id).where(
        Participant.point_id == point(code).id).order_by(Participant.id)))


def publish_agenda() -> None:
    """Publish the draft: attendance follows what is published, not the draft."""
    from confmgr.conferences.publishing import publish

    publish(db.session.scalar(select(Conference)), None)
    db.session.commit()


def set_status_and_publish(session: AgendaSession, status: SessionStatus) -> None:
    session.status = status
    publish_agenda()


def counts(session_id: int, point_id: int) -> dict[str, int]:
    row = db.session.get(SessionPointCount, (session_id, point_id))
    if row is None:
        return {}
    return {name: getattr(row, name) for name in
            ("present", "late", "excused", "absent", "headcount") if getattr(row, name)}


def truth(session_id: int, point_id: int) -> dict[str, int]:
    return {status: n for status, n in db.session.execute(
        select(Attendance.status, func.count()).where(
            Attendance.session_id == session_id, Attendance.point_id == point_id)
        .group_by(Attendance.status))}


@pytest.fixture
def during(demo):
    """An app context, the demo, and 'now' five minutes into the fresh session."""
    with demo.app_context():
        session = fresh_session()
        yield session, session.starts_at + timedelta(minutes=5)
        db.session.remove()


def test_check_in_counts_and_logs(during):
    session, now = during
    uong_bi = point("06811")
    first, second = people("06811")[:2]
    outcome = checkin.record(session, uong_bi, first, P, user_id=None,
                             method=CheckInMethod.MANUAL, now=now)
    assert (outcome.old, outcome.new, outcome.changed) == (None, P, True)
    checkin.record(session, uong_bi, second, L, user_id=None, method=CheckInMethod.QR, now=now)
    db.session.commit()
    assert counts(session.id, uong_bi.id) == {"present": 1, "late": 1}
    log = db.session.execute(select(
        AttendanceChange.participant_id, AttendanceChange.old_status,
        AttendanceChange.new_status, AttendanceChange.method, AttendanceChange.changed_at,
    ).where(AttendanceChange.session_id == session.id).order_by(AttendanceChange.id)).all()
    assert log == [(first, None, P, CheckInMethod.MANUAL, now),
                   (second, None, L, CheckInMethod.QR, now)]


def test_checking_in_again_changes_nothing(during):
    session, now = during
    uong_bi = point("06811")
    person = people("06811")[0]
    for _ in range(3):
        checkin.record(session, uong_bi, person, P, user_id=None,
                       method=CheckInMethod.MANUAL, now=now)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Attendance).where(
        Attendance.session_id == session.id)) == 1
    assert db.session.scalar(select(func.count()).select_from(AttendanceChange).where(
        AttendanceChange.session_id == session.id)) == 1
    assert counts(session.id, uong_bi.id) == {"present": 1}


def test_a_correction_moves_the_count(during):
    session, now = during
    uong_bi = point("06811")
    person = people("06811")[0]
    checkin.record(session, uong_bi, person, P, user_id=None, method=CheckInMethod.MANUAL,
                   now=now)
    outcome = checkin.record(session, uong_bi, person, E, user_id=None,
                             method=CheckInMethod.MANUAL, now=now + timedelta(minutes=1))
    db.session.commit()
    assert (outcome.old, outcome.new) == (P, E)
    assert counts(session.id, uong_bi.id) == {"excused": 1}
    row = db.session.get(SessionPointCategoryCount, (
        session.id, uong_bi.id, db.session.get(Participant, person).category_id or NO_CATEGORY))
    assert (row.present, row.excused) == (0, 1)


def test_counters_equal_the_rows_the_demo_loaded(demo):
    with demo.app_context():
        pairs = db.session.execute(select(Attendance.session_id, Attendance.point_id).distinct())
        checked = 0
        for session_id, point_id in pairs:
            assert counts(session_id, point_id) == truth(session_id, point_id)
            checked += 1
        assert checked == 4 * 11
        assert db.session.scalar(select(func.sum(SessionPointCount.present + SessionPointCount.late
                                                 + SessionPointCount.excused
                                                 + SessionPointCount.absent))) == 1220


def test_refusals_say_why(during):
    session, now = during
    uong_bi = point("06811")
    ha_noi_person = people("01")[0]

    def refused(**kwargs) -> list[str]:
        args = {"session": session, "point": uong_bi, "participant_id": people("06811")[0],
                "status": P, "user_id": None, "method": CheckInMethod.MANUAL, "now": now,
                **kwargs}
        with pytest.raises(RuleBroken) as broken:
            checkin.record(**args)
        db.session.rollback()
        return [p.message for p in broken.value.problems]

    # Another point's delegate and an id nobody has get the same words, naming nobody.
    assert refused(participant_id=ha_noi_person) == ["Không có đại biểu này ở điểm cầu này."]
    assert refused(participant_id=999_999_999) == ["Không có đại biểu này ở điểm cầu này."]
    opens = (session.starts_at - timedelta(minutes=60)).astimezone(
        db.session.get(Conference, session.conference_id).tz)
    assert refused(now=session.starts_at - timedelta(minutes=61)) == [
        f"Chưa đến giờ điểm danh phiên «{session.title}»: mở lúc {opens:%H:%M %d/%m/%Y}."]
    closes = (session.ends_at + timedelta(minutes=120)).astimezone(opens.tzinfo)
    assert refused(now=session.ends_at + timedelta(minutes=121)) == [
        f"Đã hết giờ điểm danh phiên «{session.title}» (đóng lúc {closes:%H:%M %d/%m/%Y}); "
        "hãy tải lên danh sách giấy."]
    # A paper list after the session is accepted.
    checkin.record(session, uong_bi, people("06811")[0], P, user_id=None,
                   method=CheckInMethod.IMPORT, now=session.ends_at + timedelta(days=2),
                   after_the_fact=True)
    db.session.rollback()

    set_status_and_publish(session, SessionStatus.CANCELLED)
    assert refused() == [f"Phiên «{session.title}» đã bị hủy: không điểm danh."]
    set_status_and_publish(session, SessionStatus.CONFIRMED)
    person = db.session.get(Participant, people("06811")[1])
    from confmgr.roster.services import withdraw
    withdraw(person, organiser=True)
    db.session.commit()
    assert refused(participant_id=person.id) == [f"{person.full_name} đã rút tên khỏi hội nghị."]
    assert db.session.scalar(select(func.count()).select_from(Attendance).where(
        Attendance.session_id == session.id)) == 0


def test_all_present_marks_only_those_not_yet_recorded(during):
    session, now = during
    uong_bi = point("06811")
    ids = people("06811")
    checkin.record(session, uong_bi, ids[0], E, user_id=None, method=CheckInMethod.MANUAL,
                   now=now)
    assert checkin.mark_all_present(session, uong_bi, user_id=None, now=now) == len(ids) - 1
    assert checkin.mark_all_present(session, uong_bi, user_id=None, now=now) == 0
    db.session.commit()
    assert counts(session.id, uong_bi.id) == {"present": len(ids) - 1, "excused": 1}
    # Once everyone is recorded, a cancelled session still says why nothing can be done.
    set_status_and_publish(session, SessionStatus.CANCELLED)
    with pytest.raises(RuleBroken) as refused:
        checkin.mark_all_present(session, uong_bi, user_id=None, now=now)
    assert [p.message for p in refused.value.problems] == [
        f"Phiên «{session.title}» đã bị hủy: không điểm danh."]


def test_all_present_is_refused_where_a_point_reports_numbers(during):
    """A headcount point has no names to mark: "0 marked" would read as done."""
    session, now = during
    commune = point("00070")
    commune.headcount_only = True
    db.session.commit()
    with pytest.raises(RuleBroken) as refused:
        checkin.mark_all_present(session, commune, user_id=None, now=now)
    assert [p.message for p in refused.value.problems] == [
        "Điểm cầu này báo cáo số lượng, không điểm danh theo tên."]


def test_rates_add_up_point_by_point_where_headcount_points_registered_nobody(during):
    """A headcount point that registered nobody is measured against its expected number,
    even where other points registered names: the national rate sums each point's base."""
    from confmgr.attendance import reports

    session, now = during
    conference = db.session.get(Conference, session.conference_id)

    def totals(province: str = "") -> reports.Tally:
        return dict(reports.session_totals(conference, province))[session]

    before = totals()
    assert before.registered > 0 and before.rate_base == before.registered
    commune = point("00070")
    village = headcount_village("00070", "00070-TON-1", "Thôn Một", 100)
    checkin.report_headcount(session, village, {NO_CATEGORY: 40}, user_id=None, now=now)
    db.session.commit()
    after = totals()
    assert (after.registered, after.expected, after.headcount, after.rate_base) == (
        before.registered, before.expected + 100, before.headcount + 40, before.rate_base + 100)
    assert after.rate == (before.attended + 40) / (before.registered + 100)
    [province] = [row.tally for row in reports.by_province(conference, session.id)
                  if row.code == commune.province_code]
    alone = totals(commune.province_code)
    assert (province.rate_base, province.attended) == (alone.rate_base, alone.attended)
    assert province.rate == alone.rate == alone.attended / alone.rate_base
    assert alone.rate <= 1


def test_heads_at_a_point_that_expects_nobody_count_but_are_not_rated(during):
    """A headcount point with no expected number has no rate base: its 40 heads are in the
    attended figures everywhere, but no rate takes them over other points' delegates."""
    session, now = during
    conference = db.session.get(Conference, session.conference_id)
    commune = point("00070")
    before = dict(reports.session_totals(conference))[session]
    before_province = dict(reports.session_totals(conference, commune.province_code))[session]
    village = headcount_village("00070", "00070-TON-2", "Thôn Hai", 0)
    checkin.report_headcount(session, village, {NO_CATEGORY: 40}, user_id=None, now=now)
    db.session.commit()

    after = dict(reports.session_totals(conference))[session]
    assert (after.attended, after.rate_base, after.unrated) == (
        before.attended + 40, before.rate_base, 40)
    assert after.rate == before.rate == before.attended / before.rate_base
    alone = dict(reports.session_totals(conference, commune.province_code))[session]
    [province] = [row.tally for row in reports.by_province(conference, session.id)
                  if row.code == commune.province_code]
    for tally in (alone, province):
        assert (tally.attended, tally.rate_base, tally.unrated) == (
            before_province.attended + 40, before_province.rate_base, 40)
        assert tally.rate == before_province.rate
    [row] = reports.by_point(conference, session.id, point_ids=[village.id])
    assert (row.tally.headcount, row.tally.rate, row.tally.unrated) == (40, None, 40)
    # Points added up one by one (a coordinator's points) leave the heads out of the rate.
    total = reports.Tally(base=0)
    for row in reports.by_point(conference, session.id, province=commune.province_code):
        total.add(row.tally)
    assert (total.attended, total.rate) == (province.attended, province.rate)


def test_a_correction_after_a_move_takes_the_row_and_its_count_to_the_new_point(during):
    """Present at Uông Bí, then moved to another point, then corrected there: the row and
    both points' counters follow, rather than the new point counting a row it lacks."""
    from confmgr.roster import services as roster

    session, now = during
    uong_bi, other = point("06811"), point("06688")
    person = people("06811")[0]
    checkin.record(session, uong_bi, person, P, user_id=None, method=CheckInMethod.MANUAL, now=now)
    db.session.commit()
    roster.move(db.session.get(Participant, person), other)
    db.session.commit()
    outcome = checkin.record(session, other, person, A, user_id=None,
                             method=CheckInMethod.MANUAL, now=now)
    db.session.commit()
    assert (outcome.old, outcome.new) == (P, A)
    assert db.session.scalar(select(Attendance.point_id).where(
        Attendance.participant_id == person, Attendance.session_id == session.id)) == other.id
    for place in (uong_bi, other):
        assert counts(session.id, place.id) == truth(session.id, place.id)
    assert counts(session.id, other.id) == {"absent": 1}
    assert counts(session.id, uong_bi.id).get("present", 0) == 0


def test_a_withdrawn_delegate_leaves_the_counters_and_the_rates(during):
    """Registered counts drop on withdrawal; attendance must drop with them, or a point
    shows more present than registered."""
    from confmgr.roster import services as roster

    session, now = during
    uong_bi = point("06811")
    first, second = people("06811")[:2]
    checkin.record(session, uong_bi, first, P, user_id=None, method=CheckInMethod.MANUAL,
                   now=now)
    checkin.record(session, uong_bi, second, L, user_id=None, method=CheckInMethod.MANUAL,
                   now=now)
    db.session.commit()
    roster.withdraw(db.session.get(Participant, first), organiser=True)
    db.session.commit()
    assert counts(session.id, uong_bi.id) == truth(session.id, uong_bi.id) == {"late": 1}
    assert db.session.execute(select(AttendanceChange.old_status, AttendanceChange.new_status)
                              .where(AttendanceChange.participant_id == first,
                                     AttendanceChange.session_id == session.id)
                              .order_by(AttendanceChange.id)).all() == [(None, P), (P, None)]
    # Every session they attended, not only this one.
    assert db.session.scalar(select(func.count()).select_from(Attendance).where(
        Attendance.participant_id == first)) == 0
    category_total = db.session.scalar(select(func.sum(SessionPointCategoryCount.present)).where(
        SessionPointCategoryCount.session_id == session.id,
        SessionPointCategoryCount.point_id == uong_bi.id))
    assert category_total == 0


def test_headcount_points_report_numbers_per_category(during):
    session, now = during
    commune = point("00070")
    commune.headcount_only = True
    db.session.commit()
    category = db.session.scalar(select(Participant.category_id).where(
        Participant.point_id == commune.id, Participant.category_id.is_not(None)))
    checkin.report_headcount(session, commune, {category: 12, NO_CATEGORY: 30}, user_id=None,
                             now=now)
    checkin.report_headcount(session, commune, {category: 14, NO_CATEGORY: 30}, user_id=None,
                             now=now)
    db.session.commit()
    assert counts(session.id, commune.id) == {"headcount": 44}
    log = db.session.execute(select(AttendanceChange.category_ref,
                                    AttendanceChange.old_headcount,
                                    AttendanceChange.new_headcount)
                             .where(AttendanceChange.point_id == commune.id,
                                    AttendanceChange.session_id == session.id)
                             .order_by(AttendanceChange.id)).all()
    assert log == [(NO_CATEGORY, 0, 30), (category, 0, 12), (category, 12, 14)]
    with pytest.raises(RuleBroken):
        checkin.record(session, commune, people("00070")[0], P, user_id=None,
                       method=CheckInMethod.MANUAL, now=now)
    db.session.rollback()
    with pytest.raises(RuleBroken) as broken:
        checkin.report_headcount(session, point("06811"), {NO_CATEGORY: 3}, user_id=None,
                                 now=now)
    assert [p.message for p in broken.value.problems] == [
        "Điểm cầu này điểm danh theo tên; số lượng được tính từ danh sách."]


def test_rebuilding_counts_gives_the_same_numbers(demo):
    with demo.app_context():
        before = db.session.execute(select(SessionPointCount.session_id,
                                           SessionPointCount.point_id, SessionPointCount.present,
                                           SessionPointCount.late).order_by(
            SessionPointCount.session_id, SessionPointCount.point_id)).all()
        db.session.execute(SessionPointCount.__table__.update().values(present=999))
        checkin.rebuild_counts(db.session.scalar(select(Conference.id)))
        db.session.commit()
        after = db.session.execute(select(SessionPointCount.session_id,
                                          SessionPointCount.point_id, SessionPointCount.present,
                                          SessionPointCount.late).order_by(
            SessionPointCount.session_id, SessionPointCount.point_id)).all()
        assert after == before


def test_devices_checking_in_the_same_delegates_at_once_leave_one_row_each(demo):
    """Several threads, each its own connection, record the same delegates at once."""
    with demo.app_context():
        session_id = fresh_session().id
        ids = people("06811")[:12]
        point_id = point("06811").id
        now = fresh_session().starts_at + timedelta(minutes=5)
    statuses = [P, L, P, E]
    start = threading.Barrier(len(statuses))

    def device(status: AttendanceStatus):
        def taps() -> None:
            with demo.app_context():
                session = db.session.get(AgendaSession, session_id)
                where = db.session.get(BroadcastPoint, point_id)
                start.wait()
                for person in ids:
                    checkin.record(session, where, person, status, user_id=None,
                                   method=CheckInMethod.MANUAL, now=now)
                    db.session.commit()
                db.session.remove()
        return taps

    run_at_once(*map(device, statuses))
    with demo.app_context():
        rows = db.session.execute(select(Attendance.participant_id, func.count()).where(
            Attendance.session_id == session_id).group_by(Attendance.participant_id)).all()
        assert sorted(rows) == [(person, 1) for person in sorted(ids)]
        assert counts(session_id, point_id) == truth(session_id, point_id)
        assert sum(counts(session_id, point_id).values()) == 12
        # Every change in the log leads from the status before to the status after.
        last: dict[int, AttendanceStatus | None] = {}
        for person, old, new in db.session.execute(select(
                AttendanceChange.participant_id, AttendanceChange.old_status,
                AttendanceChange.new_status).where(AttendanceChange.session_id == session_id)
                .order_by(AttendanceChange.id)):
            assert last.get(person) == old
            last[person] = new
        final = dict(db.session.execute(select(Attendance.participant_id, Attendance.status)
                                        .where(Attendance.session_id == session_id)).all())
        assert last == final
        # The category counters and the arrivals chart's agree with the rows as well.
        by_category = db.session.execute(select(
            func.sum(SessionPointCategoryCount.present), func.sum(SessionPointCategoryCount.late),
            func.sum(SessionPointCategoryCount.excused),
            func.sum(SessionPointCategoryCount.absent))
            .where(SessionPointCategoryCount.session_id == session_id)).one()
        assert tuple(by_category) == tuple(
            sum(1 for status in final.values() if status == s) for s in (P, L, E, A))
        arrived = db.session.scalar(select(func.sum(SessionArrivalCount.arrivals)).where(
            SessionArrivalCount.session_id == session_id))
        assert arrived == sum(1 for status in final.values() if status in (P, L))
        assert count_differences(db.session.scalar(select(Conference.id))) == []


def province_sums(session_id: int) -> dict[str, tuple[int, int]]:
    """(registered, attended) per province as the province report shows them."""
    from confmgr.attendance import reports

    conference = db.session.scalar(select(Conference))
    return {row.code: (row.tally.registered, row.tally.attended)
            for row in reports.by_province(conference, session_id)}


def test_a_point_moved_to_another_province_takes_its_counts_and_the_points_below(during):
    """Hoàn Kiếm (Hà Nội) re-filed as a Quảng Ninh commune, and a point without a unit of
    its own moved under a Hà Nội parent: registrations, attendance and the points below
    all count where the points now are."""
    from confmgr.points.services import save_point
    from confmgr.roster.models import PointCategoryRegistration

    session, now = during
    conference = db.session.scalar(select(Conference))
    save_point(conference, None, {"code": "QN-BAN", "name": "Ban Tuyên giáo", "level": "Khác",
                                  "parent_code": "22", "expected_delegates": "0"})
    save_point(conference, None, {"code": "QN-PHONG", "name": "Phòng họp 2", "level": "Khác",
                                  "parent_code": "QN-BAN", "expected_delegates": "0"})
    hoan_kiem = point("00070")
    for person in people("00070")[:5]:
        checkin.record(session, hoan_kiem, person, P, user_id=None,
                       method=CheckInMethod.MANUAL, now=now)
    db.session.commit()
    before = province_sums(session.id)
    moved = hoan_kiem.registered_count

    def arrivals(province: str) -> int:
        return sum(n for _at, n in reports.checkins_over_time(conference, session,
                                                              province=province))

    arrived = {code: arrivals(code) for code in ("01", "22")}

    save_point(conference, hoan_kiem, {
        "code": "00070", "name": hoan_kiem.name, "level": "Xã", "parent_code": "22",
        "admin_unit_code": "07030", "expected_delegates": "25"})
    save_point(conference, point("QN-BAN"), {
        "code": "QN-BAN", "name": "Ban Tuyên giáo", "level": "Khác", "parent_code": "01",
        "expected_delegates": "0"})
    db.session.commit()

    assert [point(code).province_code for code in ("00070", "QN-BAN", "QN-PHONG")] == [
        "22", "01", "01"]
    after = province_sums(session.id)
    assert after["01"] == (before["01"][0] - moved, before["01"][1] - 5)
    # The chart of arrivals follows the point too.
    assert {code: arrivals(code) for code in ("01", "22")} == {
        "01": arrived["01"] - 5, "22": arrived["22"] + 5}
    assert after["22"] == (before["22"][0] + moved, before["22"][1] + 5)
    for model in (PointCategoryRegistration, SessionPointCount, SessionPointCategoryCount):
        assert db.session.execute(select(model.province_code).where(
            model.point_id == hoan_kiem.id).distinct()).scalars().all() == ["22"]
    checkin.rebuild_counts(conference.id)
    assert province_sums(session.id) == after


def test_points_outside_every_province_make_one_row_of_the_report(during):
    session, now = during
    conference = db.session.scalar(select(Conference))
    ministry = ministry_point(["Lê Văn Một", "Lê Văn Hai", "Lê Văn Ba", "Lê Văn Bốn"])
    for person in people("BYT")[:3]:
        checkin.record(session, ministry, person, P, user_id=None,
                       method=CheckInMethod.MANUAL, now=now)
    db.session.commit()
    assert province_sums(session.id)[""] == (44, 3)  # with the main venue's 40
    assert [row.name for row in reports.by_province(conference, session.id)].count("—") == 1
    outside = [row for row in reports.by_province(conference, session.id) if not row.code]
    assert [row.filter for row in outside] == [NO_PROVINCE]


def test_the_points_outside_every_province_have_a_report_of_their_own(during):
    """NO_PROVINCE asks every report for those points only, as a province's code asks for
    its points: the main venue, its 40 delegates not recorded, and a central ministry with
    four delegates of whom two came."""
    session, now = during
    conference = db.session.scalar(select(Conference))
    ministry = ministry_point(["Lê Văn Một", "Lê Văn Hai", "Lê Văn Ba", "Lê Văn Bốn"])
    first, second, third, fourth = people("BYT")
    checkin.record(session, ministry, first, P, user_id=None, method=CheckInMethod.MANUAL,
                   now=now)
    checkin.record(session, ministry, second, L, user_id=None, method=CheckInMethod.MANUAL,
                   now=now)
    checkin.record(session, ministry, third, A, user_id=None, method=CheckInMethod.MANUAL,
                   now=now)
    # A province's delegate checked in too, who must stay out of these figures.
    checkin.record(session, point("06811"), people("06811")[0], P, user_id=None,
                   method=CheckInMethod.MANUAL, now=now)
    db.session.commit()

    totals = dict(reports.session_totals(conference, NO_PROVINCE))[session]
    assert (totals.registered, totals.present, totals.late, totals.absent,
            totals.not_recorded, totals.attended) == (44, 1, 1, 1, 41, 2)
    assert sorted((row.code, row.province_code, row.tally.present, row.tally.late,
                   row.tally.absent, row.tally.not_recorded)
                  for row in reports.by_point(conference, session.id, province=NO_PROVINCE)
                  ) == [("BYT", "", 1, 1, 1, 1), ("TW", "", 0, 0, 0, 40)]
    by_category = [(row.name, row.tally.registered, row.tally.attended)
                   for row in reports.by_category(conference, session.id, NO_PROVINCE)
                   if row.tally.registered or row.tally.attended]
    assert ("", 4, 2) in by_category  # the ministry's four have no category
    assert sum(registered for _name, registered, _attended in by_category) == 44
    assert sum(n for _at, n in reports.checkins_over_time(
        conference, session, province=NO_PROVINCE)) == 2
    rows = list(reports.participant_rows(conference, [session], province=NO_PROVINCE))
    assert len(rows) == 44 and {row[0] for row in rows} == {"BYT", "TW"}
    assert [(row[0], row[2]) for row in rows if row[0] == "BYT"] == [
        ("BYT", "Lê Văn Ba"), ("BYT", "Lê Văn Bốn"), ("BYT", "Lê Văn Hai"),
        ("BYT", "Lê Văn Một")]


def test_a_break_takes_no_attendance(during):
    """Reports leave breaks out, so a count taken there would be lost."""
    _session, _now = during
    pause = db.session.scalars(select(AgendaSession).where(
        AgendaSession.kind == SessionKind.BREAK).order_by(AgendaSession.starts_at)).first()
    with pytest.raises(RuleBroken) as refused:
        checkin.record(pause, point("06811"), people("06811")[0], P, user_id=None,
                       method=CheckInMethod.MANUAL, now=pause.starts_at)
    assert [p.message for p in refused.value.problems] == [
        f"«{pause.title}» là giờ nghỉ: không điểm danh."]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Attendance).where(
        Attendance.session_id == pause.id)) == 0


def test_arrivals_count_each_delegate_once_when_first_seen_coming_in(during):
    """Marked absent at the start and late later, or excused and then present: arrivals.
    Present, then corrected to absent and back: one arrival, at the first."""
    from confmgr.attendance import reports

    session, now = during
    uong_bi = point("06811")
    first, second, third = people("06811")[:3]
    minute = timedelta(minutes=1)
    for person, status, at in [(first, A, now), (second, E, now), (third, P, now),
                               (third, A, now + minute), (third, P, now + 2 * minute),
                               (first, L, now + 15 * minute), (second, P, now + 20 * minute)]:
        checkin.record(session, uong_bi, person, status, user_id=None,
                       method=CheckInMethod.MANUAL, now=at)
    db.session.commit()
    conference = db.session.get(Conference, session.conference_id)
    series = reports.checkins_over_time(conference, session)
    opens = session.starts_at - timedelta(minutes=conference.checkin_opens_minutes)
    assert series == [(opens + timedelta(minutes=5 * i), {13: 1, 16: 1, 17: 1}.get(i, 0))
                      for i in range(18)]


def headcount_commune(conference: Conference, heads: int) -> BroadcastPoint:
    """A commune point of Quảng Ninh, under Uông Bí, that names nobody and counts heads."""
    return headcount_village("06811", "06811-TON-1", "Thôn Một", heads)


def test_not_recorded_adds_up_point_by_point_beside_a_headcount_point(during):
    """500 heads at a point that names nobody stand for none of the other points'
    unrecorded delegates: Quảng Ninh still has its 115, the country its 305."""
    from confmgr.attendance import reports

    session, now = during
    conference = db.session.get(Conference, session.conference_id)
    village = headcount_commune(conference, 500)
    checkin.report_headcount(session, village, {NO_CATEGORY: 500}, user_id=None, now=now)
    first, second = people("06811")[:2]
    for person, status in ((first, P), (second, E)):
        checkin.record(session, point("06811"), person, status, user_id=None,
                       method=CheckInMethod.MANUAL, now=now)
    db.session.commit()

    totals = dict(reports.session_totals(conference))[session]
    assert (totals.registered, totals.headcount, totals.not_recorded) == (305, 500, 303)
    assert dict(reports.session_totals(conference, "22"))[session].not_recorded == 113
    provinces = {row.code: row.tally.not_recorded
                 for row in reports.by_province(conference, session.id)}
    assert provinces == {"01": 75, "22": 113, "31": 25, "40": 25, "79": 25, "": 40}
    points = {row.code: row.tally.not_recorded
              for row in reports.by_point(conference, session.id, province="22")}
    assert points == {"06688": 25, "06793": 25, "06811": 33, "06811-TON-1": 0, "22": 30}
    categories = reports.by_category(conference, session.id)
    assert sum(row.tally.not_recorded for row in categories) == 303
    assert [(row.name, row.tally.headcount, row.tally.not_recorded)
            for row in categories][-1] == ("", 500, 0)


def test_a_point_never_has_fewer_than_none_unrecorded(during):
    """A delegate moved away leaves their record behind: the point they left counts more
    recorded than registered, which makes none unrecorded there, not a negative number
    that would hide another point's."""
    from confmgr.attendance import reports

    session, now = during
    conference = db.session.get(Conference, session.conference_id)
    uong_bi, cam_pha = point("06811"), point("06793")
    for person in people("06811"):
        checkin.record(session, uong_bi, person, P, user_id=None,
                       method=CheckInMethod.MANUAL, now=now)
    moved = db.session.get(Participant, people("06811")[0])
    moved.point_id = cam_pha.id
    uong_bi.registered_count -= 1
    cam_pha.registered_count += 1
    db.session.commit()
    points = {row.code: row.tally.not_recorded
              for row in reports.by_point(conference, session.id, province="22")}
    assert points == {"06688": 25, "06793": 26, "06811": 0, "22": 30}
    assert dict(reports.session_totals(conference, "22"))[session].not_recorded == 81
    [province] = [row for row in reports.by_province(conference, session.id)
                  if row.code == "22"]
    assert province.tally.not_recorded == 81


def test_a_tap_corrected_to_absent_is_no_arrival(during):
    """Five tapped present, three of them corrected to absent a minute later: two arrived."""
    from confmgr.attendance import reports

    session, now = during
    uong_bi = point("06811")
    five = people("06811")[:5]
    for person in five:
        checkin.record(session, uong_bi, person, P, user_id=None,
                       method=CheckInMethod.MANUAL, now=now)
    for person in five[:3]:
        checkin.record(session, uong_bi, person, A, user_id=None,
                       method=CheckInMethod.MANUAL, now=now + timedelta(minutes=1))
    db.session.commit()
    conference = db.session.get(Conference, session.conference_id)
    opens = session.starts_at - timedelta(minutes=conference.checkin_opens_minutes)
    assert reports.checkins_over_time(conference, session) == [
        (opens + timedelta(minutes=5 * i), 2 if i == 13 else 0) for i in range(14)]
    for person in five[3:]:
        checkin.record(session, uong_bi, person, A, user_id=None,
                       method=CheckInMethod.MANUAL, now=now + timedelta(minutes=2))
    db.session.commit()
    assert reports.checkins_over_time(conference, session) == []


def test_an_arrival_sent_after_check_in_closed_is_not_charted(during):
    """The window is a whole number of 5-minute steps: the bar that began at the closing
    counted a check-in sent three minutes later (a device's late batch)."""
    from confmgr.attendance import reports

    session, now = during
    conference = db.session.get(Conference, session.conference_id)
    opens, closes = checkin.window(conference, session)
    assert (closes - opens) % timedelta(minutes=5) == timedelta(0)
    uong_bi = point("06811")
    first, second = people("06811")[:2]
    checkin.record(session, uong_bi, first, P, user_id=None, method=CheckInMethod.MANUAL,
                   now=now)
    checkin.record(session, uong_bi, second, P, user_id=None, method=CheckInMethod.MANUAL,
                   now=closes + timedelta(minutes=3), after_the_fact=True,
                   taken_at=closes + timedelta(minutes=3))
    db.session.commit()
    assert reports.checkins_over_time(conference, session) == [
        (opens + timedelta(minutes=5 * i), 1 if i == 13 else 0) for i in range(14)]


def test_a_cancelled_session_asks_for_no_category_and_has_no_rate(during):
    """Cancelled, a session expects nobody in every breakdown as in its totals: nobody is
    unrecorded and nothing has a rate; what was recorded before is still shown."""
    session, now = during
    conference = db.session.get(Conference, session.conference_id)
    shortfalls = reports.compliance(conference, session.id)
    assert shortfalls.total > 0 and len(shortfalls.missing) == shortfalls.total
    for person in people("06811")[:3]:  # two of category 2, one of category 3
        checkin.record(session, point("06811"), person, P, user_id=None,
                       method=CheckInMethod.MANUAL, now=now)
    db.session.commit()
    assert next(r.tally for r in reports.by_province(conference, session.id)
                if r.code == "22").not_recorded == 112
    set_status_and_publish(session, SessionStatus.CANCELLED)
    assert reports.compliance(conference, session.id) == reports.Shortfalls([], 0, 0)
    tally = dict(reports.session_totals(conference))[session]
    assert (tally.registered, tally.present, tally.not_recorded, tally.rate) == (
        305, 3, 0, None)

    def figures(rows, key):
        return {key(r): (r.tally.registered, r.tally.present, r.tally.not_recorded,
                         r.tally.rate) for r in rows}

    assert figures(reports.by_province(conference, session.id), lambda r: r.code) == {
        "01": (75, 0, 0, None), "22": (115, 3, 0, None), "31": (25, 0, 0, None),
        "40": (25, 0, 0, None), "79": (25, 0, 0, None), "": (40, 0, 0, None)}
    assert figures(reports.by_point(conference, session.id, province="22"),
                   lambda r: r.code) == {
        "06688": (25, 0, 0, None), "06793": (25, 0, 0, None), "06811": (35, 3, 0, None),
        "22": (30, 0, 0, None)}
    assert sorted(figures(reports.by_category(conference, session.id),
                          lambda r: r.name).values()) == [
        (20, 0, 0, None), (20, 1, 0, None), (20, 2, 0, None), (40, 0, 0, None),
        (40, 0, 0, None), (165, 0, 0, None)]


def test_a_category_rate_leaves_out_heads_at_points_that_registered_nobody(during):
    """Heads counted at a point that registered nobody are rated there against its
    expected number; a category has none, so its rate counts them out (else 90 heads over
    20 registered would give 460 %). Heads at a point that registered its delegates count
    in, against them, up to them: the commune registered two of the category and counts
    three, and the third has no base."""
    session, now = during
    conference = db.session.get(Conference, session.conference_id)
    for person in people("06811")[:2]:  # both of category 2, which registered 20
        checkin.record(session, point("06811"), person, P, user_id=None,
                       method=CheckInMethod.MANUAL, now=now)
    village = BroadcastPoint(conference_id=conference.id, code="00070-TON-1",
                             name="Thôn Một", level=PointLevel.OTHER,
                             parent_id=point("00070").id, province_code="01",
                             headcount_only=True, expected_delegates=100)
    db.session.add(village)
    commune = point("00070")  # registered its delegates, and now counts heads
    commune.headcount_only = True
    db.session.commit()
    checkin.report_headcount(session, village, {2: 90}, user_id=None, now=now)
    checkin.report_headcount(session, commune, {2: 3}, user_id=None, now=now)
    db.session.commit()
    second = next(r.tally for r in reports.by_category(conference, session.id)
                  if r.name == "Bí thư, Phó Bí thư cấp ủy")
    assert (second.registered, second.present, second.headcount, second.attended,
            second.unrated) == (20, 2, 93, 95, 91)
    assert second.rate == 4 / 20
    # The country's rate counts the village's heads, against its expected 100.
    national = dict(reports.session_totals(conference))[session]
    assert (national.attended, national.rate_base, national.rate) == (95, 405, 95 / 405)

    # Heads the commune counts with no category, of which it registered nobody, are not
    # rated against the one delegate without a category registered at Uông Bí (1,700 %).
    from confmgr.roster import services as roster

    roster.register(point("06811"), roster.PersonFields(full_name="Lê Văn Không"),
                    organiser=True)
    checkin.report_headcount(session, commune, {2: 3, NO_CATEGORY: 17}, user_id=None, now=now)
    db.session.commit()
    other = next(r.tally for r in reports.by_category(conference, session.id) if not r.name)
    assert (other.registered, other.headcount, other.unrated, other.rate) == (1, 17, 17, 0)


def test_the_sheet_marks_self_check_ins_and_the_tap_answer_too(during):
    from confmgr.attendance.sheet import SheetQuery, sheet, tap_answer

    session, now = during
    uong_bi = point("06811")
    first, second = people("06811")[:2]
    checkin.record(session, uong_bi, first, P, user_id=None, method=CheckInMethod.SELF,
                   now=now)
    checkin.record(session, uong_bi, second, P, user_id=None, method=CheckInMethod.QR,
                   now=now)
    db.session.commit()
    rows = {row.id: row for row in sheet(uong_bi, SheetQuery(session.id)).rows}
    assert (rows[first].method, rows[first].self_checked_in) == (CheckInMethod.SELF, True)
    assert (rows[second].method, rows[second].self_checked_in) == (CheckInMethod.QR, False)
    row, found = tap_answer(uong_bi, session.id, first)
    assert (row.status, row.self_checked_in, found.present) == (P, True, 2)


def test_arrivals_fall_in_their_buckets_when_a_session_starts_with_seconds(during):
    """An imported calendar may start a session at 14:00:30: the buckets start on the
    whole minute, so arrivals at 14:05:10 are in the bucket of 14:05, not of 14:00."""
    from confmgr.attendance import reports

    session, _now = during
    session.starts_at += timedelta(seconds=30)
    session.published_starts_at = session.starts_at
    conference = db.session.get(Conference, session.conference_id)
    opens = (session.starts_at - timedelta(minutes=conference.checkin_opens_minutes)
             ).replace(second=0)
    arriving = opens + timedelta(minutes=65, seconds=10)
    uong_bi = point("06811")
    for person in people("06811")[:3]:
        checkin.record(session, uong_bi, person, P, user_id=None,
                       method=CheckInMethod.MANUAL, now=arriving)
    db.session.commit()
    assert reports.checkins_over_time(conference, session) == [
        (opens + timedelta(minutes=5 * i), 3 if i == 13 else 0) for i in range(14)]
