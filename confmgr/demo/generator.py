"""Realistic data sets at the sizes users run, built fast: ``flask --app confmgr generate``.

A preset makes one conference, ``gen-<preset>``: points from the official list of
provinces and communes (with village points below the communes beyond it), six
categories, eight topic sessions two days in the past, delegates with Vietnamese names
made of common name parts, everyone's attendance of every session, and the counters the
reports read. Rows go in by bulk insert (COPY on PostgreSQL); attendance by one
INSERT … SELECT inside the database.
"""
from __future__ import annotations

import random
from time import perf_counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, insert, select, text

from confmgr.accounts.models import User, conference_organisers
from confmgr.attendance.checkin import rebuild_counts
from confmgr.attendance.models import Attendance
from confmgr.conferences.models import (
    AgendaSession,
    Conference,
    Presenter,
    Topic,
    session_presenters,
)
from confmgr.conferences.publishing import publish
from confmgr.db import bulk_insert, db, utcnow
from confmgr.demo import names
from confmgr.enums import ConferenceStatus, PointLevel, RegistrationStatus, Role, SessionKind
from confmgr.i18n import format_number
from confmgr.points.models import BroadcastPoint, point_search_text
from confmgr.points.official import provinces
from confmgr.points.services import refresh_registered_counts
from confmgr.roster.models import (
    Category,
    CategoryRequirement,
    Participant,
    participant_name_fields,
)


@dataclass(frozen=True)
class Preset:
    name: str
    #: Provinces taken from the official list, in its order (1 or all 34).
    provinces: int
    #: Points in all: province and commune points, then village points up to this number.
    points: int
    delegates: int
    sessions: int = 8

    @property
    def slug(self) -> str:
        return f"gen-{self.name}"


PRESETS = {preset.name: preset for preset in (
    Preset("small", provinces=1, points=12, delegates=300),
    Preset("province", provinces=1, points=100, delegates=10_000),
    Preset("national", provinces=34, points=3_355, delegates=330_000),
    Preset("record", provinces=34, points=31_097, delegates=1_900_000),
)}

CATEGORIES = ("Bí thư, Phó Bí thư cấp ủy", "Lãnh đạo HĐND, UBND",
              "Lãnh đạo Ủy ban MTTQ và các đoàn thể", "Trưởng các phòng, ban",
              "Cán bộ, công chức", "Bí thư chi bộ, trưởng thôn")
TOPIC_TITLES = (
    "Công tác tổ chức xây dựng Đảng ở cấp xã", "Những điểm mới trong thi hành Điều lệ Đảng",
    "Công tác kiểm tra, giám sát của Đảng", "Tổ chức và hoạt động của MTTQ ở cấp xã",
    "Tổ chức bộ máy chính quyền địa phương hai cấp", "Quản lý cán bộ, công chức cấp xã",
    "Chuyển đổi số trong hoạt động của cấp xã", "Công tác dân vận ở cơ sở")
#: When each day's four sessions start, local time.
SESSION_TIMES = (time(7, 30), time(8, 45), time(13, 30), time(14, 45))
#: Of every hundred (delegate, session) pairs: present, late, excused, absent, unrecorded.
ATTENDANCE_MIX = (85, 4, 6, 3, 2)
#: Delegates of every eleventh row have no category.
NO_CATEGORY_EVERY = 11
#: What each level of point must send (category, minimum): most points meet the first
#: rules; every commune point falls short of the last (about 16 of each category are
#: registered at a commune of the national preset), so compliance pages have points to list.
REQUIREMENTS = {
    PointLevel.PROVINCE: (("Bí thư, Phó Bí thư cấp ủy", 2), ("Lãnh đạo HĐND, UBND", 2)),
    PointLevel.COMMUNE: (("Bí thư, Phó Bí thư cấp ủy", 1), ("Lãnh đạo HĐND, UBND", 1),
                         ("Trưởng các phòng, ban", 20)),
    PointLevel.OTHER: (("Bí thư chi bộ, trưởng thôn", 1),),
}
BATCH = 50_000


def _log(message: str, started: float, report: Callable[[str], None] | None) -> None:
    if report:
        report(f"{message} ({perf_counter() - started:.1f} s)")


def generate(preset: Preset, report: Callable[[str], None] | None = None) -> Conference:
    """Build the preset's conference; an existing one of that slug is returned untouched."""
    existing = db.session.scalar(select(Conference).where(Conference.slug == preset.slug))
    if existing is not None:
        return existing
    started = perf_counter()
    rng = random.Random(preset.slug)
    first_day = date.today() - timedelta(days=3)
    conference = Conference(
        slug=preset.slug,
        title=f"Hội nghị mẫu ({preset.name}): {format_number(preset.points, 'vi')} điểm cầu",
        organising_unit="Ban Tổ chức", first_day=first_day,
        last_day=first_day + timedelta(days=1), status=ConferenceStatus.PUBLISHED)
    db.session.add(conference)
    db.session.flush()
    _grant_organisers(conference)
    _add_agenda(conference)
    publish(conference, None, "Chương trình hội nghị mẫu.")
    _add_points(conference, preset)
    db.session.flush()
    _analyse("broadcast_points")
    _log(f"{preset.points:,} points", started, report)
    _add_delegates(conference, preset, rng)
    _log(f"{preset.delegates:,} delegates", started, report)
    _add_attendance(conference)
    _analyse("attendance")
    _log("attendance", started, report)
    rebuild_counts(conference.id)
    _log("counters", started, report)
    db.session.commit()
    return conference


def _analyse(table: str) -> None:
    """Fresh statistics after a bulk load, so PostgreSQL plans the next steps for the rows
    now there (on a new database it would plan the counts for empty tables)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text(f"ANALYZE {table}"))


def _grant_organisers(conference: Conference) -> None:
    """Every organiser account may open generated conferences (admins see every one)."""
    grants = [{"user_id": user_id, "conference_id": conference.id} for user_id in
              db.session.scalars(select(User.id).where(User.role == Role.ORGANISER))]
    if grants:
        db.session.execute(insert(conference_organisers), grants)


def _add_agenda(conference: Conference) -> None:
    tz = conference.tz
    presenters = [Presenter(conference_id=conference.id, name=f"Báo cáo viên {n}",
                            position="Báo cáo viên", unit="Ban Tổ chức Trung ương")
                  for n in range(1, 5)]
    topics = [Topic(conference_id=conference.id, number=str(n), title=title)
              for n, title in enumerate(TOPIC_TITLES, start=1)]
    db.session.add_all([*presenters, *topics])
    db.session.flush()
    sessions = []
    for index, topic in enumerate(topics):
        day = conference.first_day + timedelta(days=index // len(SESSION_TIMES))
        start = datetime.combine(day, SESSION_TIMES[index % len(SESSION_TIMES)], tzinfo=tz)
        sessions.append(AgendaSession(
            conference_id=conference.id, kind=SessionKind.TOPIC, title=topic.title,
            topic_id=topic.id, starts_at=start.astimezone(timezone.utc),
            ends_at=(start + timedelta(minutes=60)).astimezone(timezone.utc)))
    db.session.add_all(sessions)
    db.session.flush()
    db.session.execute(insert(session_presenters), [
        {"session_id": s.id, "presenter_id": presenters[i % len(presenters)].id, "position": 0}
        for i, s in enumerate(sessions)])


def _point_row(conference_id, code, name, level, parent_id, admin_unit, province, now):
    return {"conference_id": conference_id, "code": code, "name": name, "level": level,
            "parent_id": parent_id, "admin_unit_code": admin_unit, "province_code": province,
            "search_text": point_search_text(name, code), "expected_delegates": 0,
            "created_at": now}


def _add_points(conference: Conference, preset: Preset) -> None:
    now = utcnow()
    chosen = list(provinces().values())[:preset.provinces]
    db.session.execute(insert(BroadcastPoint), [
        _point_row(conference.id, p.code, f"Điểm cầu {p.name}", PointLevel.PROVINCE, None,
                   p.code, p.code, now) for p in chosen])
    province_ids = dict(db.session.execute(select(BroadcastPoint.code, BroadcastPoint.id).where(
        BroadcastPoint.conference_id == conference.id)).all())
    room = preset.points - len(chosen)
    communes = [c for p in chosen for c in p.communes][:room]
    db.session.execute(insert(BroadcastPoint), [
        _point_row(conference.id, c.code, f"Điểm cầu {c.name}", PointLevel.COMMUNE,
                   province_ids[c.province_code], c.code, c.province_code, now)
        for c in communes] or [])
    villages = room - len(communes)
    if villages <= 0:
        return
    commune_ids = db.session.execute(select(BroadcastPoint.id, BroadcastPoint.name,
                                            BroadcastPoint.province_code).where(
        BroadcastPoint.conference_id == conference.id,
        BroadcastPoint.level == PointLevel.COMMUNE).order_by(BroadcastPoint.id)).all()
    rows = []
    for index in range(villages):
        parent_id, parent_name, province = commune_ids[index % len(commune_ids)]
        name = f"Điểm cầu thôn {index // len(commune_ids) + 1}, {parent_name[len('Điểm cầu '):]}"
        rows.append(_point_row(conference.id, f"T{index + 1:06d}", name, PointLevel.OTHER,
                               parent_id, None, province, now))
    db.session.execute(insert(BroadcastPoint), rows)  # with the columns' defaults


def _name_pool() -> list[dict]:
    """Every name the common parts make, with its stored forms computed once."""
    pool = []
    for family in names.FAMILY_NAMES:
        for middles, givens in ((names.MIDDLE_NAMES_MALE, names.GIVEN_NAMES_MALE),
                                (names.MIDDLE_NAMES_FEMALE, names.GIVEN_NAMES_FEMALE)):
            pool += [participant_name_fields(f"{family} {m} {g}")
                     for m in middles for g in givens]
    return pool


def _add_delegates(conference: Conference, preset: Preset, rng: random.Random) -> None:
    categories = [Category(conference_id=conference.id, name=name, rank=10 * (i + 1))
                  for i, name in enumerate(CATEGORIES)]
    db.session.add_all(categories)
    db.session.flush()
    by_name = {c.name: c.id for c in categories}
    db.session.add_all([CategoryRequirement(category_id=by_name[name], level=level,
                                            min_count=count)
                        for level, rules in REQUIREMENTS.items() for name, count in rules])
    category_ids = [c.id for c in categories]
    point_ids = db.session.scalars(select(BroadcastPoint.id).where(
        BroadcastPoint.conference_id == conference.id).order_by(BroadcastPoint.id)).all()
    pool = _name_pool()
    now = utcnow()
    per_point, extra = divmod(preset.delegates, len(point_ids))
    batch, number = [], 0
    for index, point_id in enumerate(point_ids):
        for _ in range(per_point + (1 if index < extra else 0)):
            batch.append({
                **pool[rng.randrange(len(pool))], "conference_id": conference.id,
                "point_id": point_id,
                "category_id": category_ids[number % len(category_ids)]
                if number % NO_CATEGORY_EVERY else None,
                "position": "Cán bộ", "unit": "", "phone": "", "email": "", "note": "",
                "status": RegistrationStatus.REGISTERED, "created_at": now,
                "updated_at": now})
            number += 1
            if len(batch) == BATCH:
                bulk_insert(Participant.__table__, batch)
                batch = []
    if batch:
        bulk_insert(Participant.__table__, batch)
    _analyse("participants")
    db.session.execute(text(
        "UPDATE broadcast_points SET expected_delegates = :n WHERE conference_id = :c"),
        {"n": per_point + 1, "c": conference.id})
    refresh_registered_counts(conference.id)


#: Which of the ATTENDANCE_MIX a (delegate, session) pair falls in.
_ROLL = "((p.id * 7 + s.id * 13) % 100)"


def _arrival(dialect: str) -> str:
    """When a delegate present or late came in, in SQL: spread over the minutes around the
    session's start (from 55 before to 19 after; the late from 10 to 49 after), so the
    arrivals chart has a national day's shape to read."""
    spread = "((p.id * 31 + s.id * 17) % 75)"
    offset = (f"CASE WHEN {_ROLL} < {ATTENDANCE_MIX[0]} THEN {spread} - 55 "
              f"ELSE 10 + {spread} % 40 END")
    if dialect == "postgresql":
        return f"s.starts_at + ({offset}) * interval '1 minute'"
    # As SQLAlchemy stores a UTC instant on SQLite, so that times compare as text.
    return f"strftime('%Y-%m-%d %H:%M:%S.000000', s.starts_at, ({offset}) || ' minutes')"


def _add_attendance(conference: Conference) -> None:
    """Every delegate's attendance of every session, in a fixed pattern (ATTENDANCE_MIX),
    recorded at the session's start, or when they came in for those present or late."""
    present, late, excused, absent, _unrecorded = ATTENDANCE_MIX
    roll = _ROLL
    dialect = db.session.get_bind().dialect.name
    came = f"{roll} < {present + late}"
    arrival = _arrival(dialect)
    unchecked = (dialect == "postgresql"
                 and db.session.scalar(text("SHOW is_superuser")) == "on")
    if unchecked:
        # Every row is made from this conference's own participants, sessions and points,
        # so it satisfies its foreign keys by construction; PostgreSQL's per-row checks
        # took 70 % of the load. Skipping them is a superuser's privilege, for this
        # statement only.
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
    db.session.execute(text(f"""
        INSERT INTO attendance (conference_id, participant_id, session_id, point_id,
                                category_ref, status, recorded_at, method, recorded_by_id,
                                note, arrived_at)
        SELECT p.conference_id, p.id, s.id, p.point_id, COALESCE(p.category_id, 0),
               CASE WHEN {roll} < {present} THEN 'present'
                    WHEN {roll} < {present + late} THEN 'late'
                    WHEN {roll} < {present + late + excused} THEN 'excused'
                    ELSE 'absent' END,
               CASE WHEN {came} THEN {arrival} ELSE s.starts_at END, 'manual', NULL, '',
               CASE WHEN {came} THEN {arrival} END
        FROM participants p CROSS JOIN agenda_sessions s
        WHERE p.conference_id = :conference AND s.conference_id = :conference
          AND {roll} < {present + late + excused + absent}
    """), {"conference": conference.id})
    if unchecked:
        db.session.execute(text("SET LOCAL session_replication_role = origin"))


def counts(conference: Conference) -> dict[str, int]:
    """What a generated conference holds, for the command's summary and the tests."""
    def count(model, *where):
        return db.session.scalar(select(func.count()).select_from(model).where(
            model.conference_id == conference.id, *where))

    return {"points": count(BroadcastPoint), "delegates": count(Participant),
            "sessions": count(AgendaSession), "attendance": count(Attendance)}
