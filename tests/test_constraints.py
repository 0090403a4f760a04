"""Invariants the database itself enforces, whatever code writes to it."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, StatementError

from confmgr.attendance.models import Attendance
from confmgr.conferences.models import AgendaSession, Conference, Room
from confmgr.db import db
from confmgr.enums import AttendanceStatus, PointLevel, SessionKind
from confmgr.points.models import BroadcastPoint
from confmgr.roster.models import Participant

START = datetime(2025, 6, 14, 1, 0, tzinfo=timezone.utc)


def add_conference(slug: str) -> Conference:
    conference = Conference(
        slug=slug, title=slug, first_day=date(2025, 6, 14), last_day=date(2025, 6, 15)
    )
    db.session.add(conference)
    db.session.flush()
    return conference


def add_point(conference: Conference, code: str, **fields) -> BroadcastPoint:
    point = BroadcastPoint(
        conference_id=conference.id, code=code, name=f"Điểm cầu {code}",
        level=fields.pop("level", PointLevel.PROVINCE), **fields,
    )
    db.session.add(point)
    db.session.flush()
    return point


def add_session(conference: Conference, **fields) -> AgendaSession:
    session = AgendaSession(
        conference_id=conference.id, kind=SessionKind.TOPIC, title="Chuyên đề",
        starts_at=fields.pop("starts_at", START),
        ends_at=fields.pop("ends_at", START + timedelta(hours=1)), **fields,
    )
    db.session.add(session)
    db.session.flush()
    return session


def assert_refused(exception=IntegrityError):
    with pytest.raises(exception):
        db.session.flush()
    db.session.rollback()


def test_session_must_end_after_it_starts(ctx):
    conference = add_conference("a")
    db.session.add(AgendaSession(
        conference_id=conference.id, kind=SessionKind.TOPIC, title="x",
        starts_at=START, ends_at=START,
    ))
    assert_refused()


def test_conference_days_in_order(ctx):
    db.session.add(Conference(
        slug="b", title="b", first_day=date(2025, 6, 15), last_day=date(2025, 6, 14)
    ))
    assert_refused()


def test_point_codes_unique_within_a_conference_only(ctx):
    first, second = add_conference("a"), add_conference("b")
    add_point(first, "22")
    add_point(second, "22")  # another conference may reuse the code
    db.session.add(BroadcastPoint(
        conference_id=first.id, code="22", name="again", level=PointLevel.PROVINCE
    ))
    assert_refused()


def test_parent_point_must_be_in_the_same_conference(ctx):
    first, second = add_conference("a"), add_conference("b")
    parent = add_point(first, "22")
    db.session.add(BroadcastPoint(
        conference_id=second.id, code="06811", name="Uông Bí",
        level=PointLevel.COMMUNE, parent_id=parent.id,
    ))
    assert_refused()


def test_participant_point_must_be_in_the_same_conference(ctx):
    first, second = add_conference("a"), add_conference("b")
    point = add_point(first, "22")
    db.session.add(Participant(conference_id=second.id, point_id=point.id, full_name="An"))
    assert_refused()


def test_participant_needs_a_name(ctx):
    conference = add_conference("a")
    point = add_point(conference, "22")
    db.session.add(Participant(conference_id=conference.id, point_id=point.id, full_name=""))
    assert_refused()


def test_session_room_must_be_in_the_same_conference(ctx):
    first, second = add_conference("a"), add_conference("b")
    room = Room(conference_id=first.id, name="Hội trường")
    db.session.add(room)
    db.session.flush()
    db.session.add(AgendaSession(
        conference_id=second.id, kind=SessionKind.TOPIC, title="x", room_id=room.id,
        starts_at=START, ends_at=START + timedelta(hours=1),
    ))
    assert_refused()


def test_one_attendance_row_per_participant_and_session(ctx):
    conference = add_conference("a")
    point = add_point(conference, "22")
    session = add_session(conference)
    person = Participant(conference_id=conference.id, point_id=point.id, full_name="Lê Văn An")
    db.session.add(person)
    db.session.flush()
    for _ in range(2):
        db.session.add(Attendance(
            conference_id=conference.id, participant_id=person.id, session_id=session.id,
            status=AttendanceStatus.PRESENT,
        ))
    assert_refused()


def test_attendance_session_must_be_in_the_participants_conference(ctx):
    first, second = add_conference("a"), add_conference("b")
    point = add_point(first, "22")
    other_session = add_session(second)
    person = Participant(conference_id=first.id, point_id=point.id, full_name="Lê Văn An")
    db.session.add(person)
    db.session.flush()
    db.session.add(Attendance(
        conference_id=first.id, participant_id=person.id, session_id=other_session.id,
        status=AttendanceStatus.PRESENT,
    ))
    assert_refused()


def test_unknown_enum_value_refused_by_the_database(ctx):
    conference = add_conference("a")
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(
            text("UPDATE conferences SET status = 'archived' WHERE id = :id"),
            {"id": conference.id},
        )
    db.session.rollback()


def test_email_stored_in_lower_case_only(ctx):
    with pytest.raises(IntegrityError):
        db.session.execute(text(
            "INSERT INTO users (email, password_hash, display_name, role, active, created_at) "
            "VALUES ('A@Example.org', 'x', 'A', 'admin', true, CURRENT_TIMESTAMP)"
        ))
    db.session.rollback()


def test_naive_datetimes_are_refused(ctx):
    conference = add_conference("a")
    db.session.add(AgendaSession(
        conference_id=conference.id, kind=SessionKind.TOPIC, title="x",
        starts_at=datetime(2025, 6, 14, 8), ends_at=datetime(2025, 6, 14, 9),
    ))
    assert_refused(StatementError)


def test_times_come_back_in_utc_as_stored(ctx):
    conference = add_conference("a")
    local = timezone(timedelta(hours=7))
    session = add_session(
        conference,
        starts_at=datetime(2025, 6, 14, 8, 0, tzinfo=local),
        ends_at=datetime(2025, 6, 14, 9, 30, tzinfo=local),
    )
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(AgendaSession, session.id)
    assert stored.starts_at == datetime(2025, 6, 14, 1, 0, tzinfo=timezone.utc)
    assert stored.starts_at.utcoffset() == timedelta(0)
    assert stored.ends_at == datetime(2025, 6, 14, 2, 30, tzinfo=timezone.utc)
