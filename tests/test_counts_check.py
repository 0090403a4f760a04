"""The operator's check that every counter holds what its rows say, and its repair."""
from __future__ import annotations

from sqlalchemy import delete, func, select

from confmgr.attendance.consistency import Difference, count_differences
from confmgr.attendance.models import (
    NO_CATEGORY,
    SessionArrivalCount,
    SessionPointCategoryCount,
    SessionPointCount,
)
from confmgr.conferences.models import AgendaSession, Conference
from confmgr.db import db
from confmgr.points.models import BroadcastPoint
from confmgr.roster.models import PointCategoryRegistration

STATUSES = ("present", "late", "excused", "absent")


def first(model, *where):
    """The first row of a counter table by its key, among those matching ``where``."""
    key = [column for column in model.__table__.primary_key.columns]
    return db.session.scalars(select(model).where(*where).order_by(*key).limit(1)).one()


def test_the_demo_counters_agree_with_their_rows(demo):
    with demo.app_context():
        conference_id = db.session.scalar(select(Conference.id))
        assert count_differences(conference_id) == []
        # Not for want of rows to compare: the demo has attendance at many points.
        assert db.session.scalar(select(func.count()).select_from(SessionPointCount)) > 10
    result = demo.test_cli_runner().invoke(args=["check-counts"])
    assert (result.exit_code, result.output) == (
        0, "tap-huan-cap-xa-2025: every counter agrees with its rows.\n")


def test_each_kind_of_drift_is_named_and_the_fix_recounts_it(demo):
    with demo.app_context():
        conference_id = db.session.scalar(select(Conference.id))
        assert db.session.scalar(select(func.sum(SessionPointCount.headcount))) == 0
        point_count = first(SessionPointCount, SessionPointCount.present > 0)
        point_key = (point_count.session_id, point_count.point_id)
        point_row = tuple(getattr(point_count, name) for name in STATUSES)
        point_count.present += 2
        point_count.headcount = 3  # with no category's headcount under it
        # A headcount of 7 reported for a session nobody was recorded in, its counter
        # filed under a province that is not its point's.
        unattended = db.session.scalar(select(AgendaSession.id).where(
            AgendaSession.conference_id == conference_id,
            AgendaSession.id.not_in(select(SessionPointCount.session_id)))
            .order_by(AgendaSession.id).limit(1))
        reported = {"session_id": unattended, "point_id": point_count.point_id,
                    "conference_id": conference_id, "present": 0, "late": 0, "excused": 0,
                    "absent": 0, "headcount": 7}
        db.session.add(SessionPointCount(**reported, province_code="99",
                                         updated_at=point_count.updated_at))
        db.session.add(SessionPointCategoryCount(**reported, category_ref=0,
                                                 province_code=point_count.province_code))
        category_count = first(SessionPointCategoryCount, SessionPointCategoryCount.late > 0)
        category_key = (category_count.session_id, category_count.point_id,
                        category_count.category_ref)
        category_row = tuple(getattr(category_count, name) for name in STATUSES)
        db.session.delete(category_count)
        arrival = first(SessionArrivalCount)
        arrival_key = (arrival.session_id, arrival.province_code, arrival.minute)
        arrival_row = arrival.arrivals
        arrival.arrivals += 1
        registration = first(PointCategoryRegistration, PointCategoryRegistration.registered > 0)
        registration_key = (registration.point_id, registration.category_ref)
        registration_province = registration.province_code
        registration.province_code = "99"
        point = db.session.scalars(select(BroadcastPoint).where(
            BroadcastPoint.registered_count > 0).order_by(BroadcastPoint.id).limit(1)).one()
        point_registered = point.registered_count
        point.registered_count += 5
        db.session.commit()

        expected = [
            Difference("session_point_counts", (("session_id", point_key[0]),
                                                ("point_id", point_key[1])),
                       STATUSES, (point_row[0] + 2, *point_row[1:]), point_row),
            Difference("session_point_counts", (("session_id", unattended),
                                                ("point_id", point_key[1])),
                       ("province_code",), ("99",), (point_count.province_code,)),
            Difference("session_point_category_counts",
                       (("session_id", category_key[0]), ("point_id", category_key[1]),
                        ("category_ref", category_key[2])),
                       STATUSES, (0, 0, 0, 0), category_row),
            Difference("session_arrival_counts",
                       (("session_id", arrival_key[0]), ("province_code", arrival_key[1]),
                        ("minute", arrival_key[2])),
                       ("arrivals",), (arrival_row + 1,), (arrival_row,)),
            Difference("point_category_registrations",
                       (("point_id", registration_key[0]),
                        ("category_ref", registration_key[1])),
                       ("province_code",), ("99",), (registration_province,)),
            Difference("broadcast_points", (("point_id", point.id),),
                       ("registered_count",), (point_registered + 5,), (point_registered,)),
            Difference("session_point_counts", (("session_id", point_key[0]),
                                                ("point_id", point_key[1])),
                       ("headcount",), (3,), (0,)),
        ]
        assert count_differences(conference_id) == expected
        db.session.remove()

    runner = demo.test_cli_runner()
    result = runner.invoke(args=["check-counts", "--conference", "tap-huan-cap-xa-2025"])
    assert (result.exit_code, result.output) == (1, "".join(
        ["tap-huan-cap-xa-2025: 7 differences found:\n"]
        + [f"  {difference}\n" for difference in expected]))
    assert str(expected[0]) == (
        f"session_point_counts session_id={point_key[0]}, point_id={point_key[1]}: "
        f"present, late, excused, absent holds {point_row[0] + 2}, {point_row[1]}, "
        f"{point_row[2]}, {point_row[3]}; should hold {point_row[0]}, {point_row[1]}, "
        f"{point_row[2]}, {point_row[3]}")
    assert str(expected[1]) == (
        f"session_point_counts session_id={unattended}, point_id={point_key[1]}: "
        f"province_code holds '99'; should hold '{point_count.province_code}'")

    result = runner.invoke(args=["check-counts", "--fix"])
    assert result.exit_code == 0, result.output
    assert result.output.endswith(
        "tap-huan-cap-xa-2025: recounted from the rows; every counter agrees now.\n")
    with demo.app_context():
        assert count_differences(conference_id) == []
        # Reported headcounts have no rows behind them: the recount keeps them, each
        # point's the sum of its categories', and heads a total held beyond its
        # categories' stay, under no category, rather than be lost.
        assert sorted(db.session.execute(select(SessionPointCount.session_id,
                                                SessionPointCount.headcount).where(
            SessionPointCount.headcount != 0)).all()) == sorted([(unattended, 7),
                                                                 (point_key[0], 3)])
        assert db.session.get(SessionPointCategoryCount,
                              (*point_key, NO_CATEGORY)).headcount == 3
        assert db.session.get(BroadcastPoint, point.id).registered_count == point_registered


def test_a_zero_counter_and_no_counter_say_the_same_but_not_a_lost_one(demo):
    """Counters at zero where no row counts anything agree; a lost counter row whose rows
    count something is drift, reported as counted zero."""
    with demo.app_context():
        conference_id = db.session.scalar(select(Conference.id))
        count = first(SessionPointCount, SessionPointCount.present > 0)
        # A session nobody has been recorded in yet.
        unattended = db.session.scalar(select(AgendaSession.id).where(
            AgendaSession.conference_id == conference_id,
            AgendaSession.id.not_in(select(SessionPointCount.session_id)))
            .order_by(AgendaSession.id).limit(1))
        db.session.add(SessionPointCount(
            session_id=unattended, point_id=count.point_id, conference_id=conference_id,
            province_code=count.province_code, present=0, late=0, excused=0, absent=0,
            headcount=0, updated_at=count.updated_at))
        db.session.flush()
        assert count_differences(conference_id) == []

        lost = (count.session_id, count.point_id,
                tuple(getattr(count, name) for name in STATUSES))
        db.session.execute(delete(SessionPointCount).where(
            SessionPointCount.session_id == count.session_id,
            SessionPointCount.point_id == count.point_id))
        assert count_differences(conference_id) == [Difference(
            "session_point_counts", (("session_id", lost[0]), ("point_id", lost[1])),
            STATUSES, (0, 0, 0, 0), lost[2])]
        db.session.rollback()


def test_the_check_names_a_conference_that_does_not_exist(demo):
    result = demo.test_cli_runner().invoke(args=["check-counts", "--conference", "khong-co"])
    assert (result.exit_code, result.output) == (
        1, "Error: No conference has the slug 'khong-co'.\n")


def test_past_what_one_query_lists_the_count_is_a_lower_bound(demo, monkeypatch):
    monkeypatch.setattr("confmgr.attendance.consistency.LISTED", 2)
    with demo.app_context():
        rows = db.session.scalars(select(SessionPointCount).where(SessionPointCount.present > 0)
                                  .order_by(SessionPointCount.session_id,
                                            SessionPointCount.point_id).limit(3)).all()
        for row in rows:
            row.present += 1
        db.session.commit()
        shown = [str(d) for d in count_differences(rows[0].conference_id)]
        db.session.remove()
    assert len(shown) == 2
    result = demo.test_cli_runner().invoke(args=["check-counts"])
    assert (result.exit_code, result.output) == (1, "".join(
        ["tap-huan-cap-xa-2025: 2 or more differences found:\n"]
        + [f"  {line}\n" for line in shown]))


def test_a_row_left_behind_by_a_hand_edit_is_listed_and_stays_after_a_recount(demo):
    """A delegate withdrawn by hand, past the application: their attendance rows stay and
    are counted. The registration counters are recounted; the rows are listed for someone
    to look at, since no recount can say where they belong."""
    from confmgr.attendance.models import Attendance
    from confmgr.enums import RegistrationStatus
    from confmgr.roster.models import Participant

    with demo.app_context():
        conference_id = db.session.scalar(select(Conference.id))
        person = db.session.scalars(select(Participant).join(
            Attendance, Attendance.participant_id == Participant.id)
            .order_by(Participant.id).limit(1)).one()
        sessions = db.session.scalars(select(Attendance.session_id).where(
            Attendance.participant_id == person.id).order_by(Attendance.session_id)).all()
        point = db.session.get(BroadcastPoint, person.point_id)
        category = person.category_id or 0
        registered = point.registered_count
        by_category = db.session.get(PointCategoryRegistration, (point.id, category)).registered
        db.session.execute(Participant.__table__.update().where(
            Participant.__table__.c.id == person.id).values(status=RegistrationStatus.WITHDRAWN))
        db.session.commit()
        left = [Difference("attendance", (("session_id", session_id),
                                          ("participant_id", person.id)),
                           ("point_id", "category_ref", "registered"),
                           (point.id, category, True), (point.id, category, False))
                for session_id in sessions]
        expected = [
            Difference("point_category_registrations",
                       (("point_id", point.id), ("category_ref", category)),
                       ("registered",), (by_category,), (by_category - 1,)),
            Difference("broadcast_points", (("point_id", point.id),),
                       ("registered_count",), (registered,), (registered - 1,)),
            *left,
        ]
        assert count_differences(conference_id) == expected
        db.session.remove()
    result = demo.test_cli_runner().invoke(args=["check-counts", "--fix"])
    assert (result.exit_code, result.output) == (1, "".join(
        [f"tap-huan-cap-xa-2025: {len(expected)} differences found:\n"]
        + [f"  {difference}\n" for difference in expected]
        + [f"tap-huan-cap-xa-2025: recounted from the rows; {len(left)} differences "
           "remain:\n"]
        + [f"  {difference}\n" for difference in left]))


def test_the_fix_makes_a_lost_headcount_total_again_and_loses_no_head(demo):
    """A headcount point's total row lost: the fix left it lost ("1 differences remain")
    while the point's report showed no one. Its category rows lost instead: the fix made
    the total 0, and the only record of those heads was gone."""
    from confmgr.attendance import checkin

    with demo.app_context():
        conference_id = db.session.scalar(select(Conference.id))
        session = db.session.scalar(select(AgendaSession).where(
            AgendaSession.conference_id == conference_id,
            AgendaSession.id.not_in(select(SessionPointCount.session_id)))
            .order_by(AgendaSession.id).limit(1))
        lost_total, lost_parts = db.session.scalars(
            select(BroadcastPoint).where(BroadcastPoint.conference_id == conference_id)
            .order_by(BroadcastPoint.id).limit(2)).all()
        for point in (lost_total, lost_parts):
            point.headcount_only = True
            checkin.report_headcount(session, point, {NO_CATEGORY: 5}, user_id=None,
                                     after_the_fact=True)
        db.session.commit()
        keys = {point.id: (session.id, point.id) for point in (lost_total, lost_parts)}
        db.session.execute(delete(SessionPointCount).where(
            SessionPointCount.session_id == session.id,
            SessionPointCount.point_id == lost_total.id))
        db.session.execute(delete(SessionPointCategoryCount).where(
            SessionPointCategoryCount.session_id == session.id,
            SessionPointCategoryCount.point_id == lost_parts.id))
        db.session.commit()
        assert sorted(str(d) for d in count_differences(conference_id)) == sorted([
            f"session_point_counts session_id={session.id}, point_id={lost_total.id}: "
            "headcount holds 0; should hold 5",
            f"session_point_counts session_id={session.id}, point_id={lost_parts.id}: "
            "headcount holds 5; should hold 0"])
        db.session.remove()
    result = demo.test_cli_runner().invoke(args=["check-counts", "--fix"])
    assert result.output.endswith(
        "tap-huan-cap-xa-2025: recounted from the rows; every counter agrees now.\n")
    with demo.app_context():
        assert count_differences(conference_id) == []
        assert [db.session.get(SessionPointCount, key).headcount for key in keys.values()] == [
            5, 5]
        assert [db.session.get(SessionPointCategoryCount, (*key, NO_CATEGORY)).headcount
                for key in keys.values()] == [5, 5]
