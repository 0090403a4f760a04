"""Attendance at national scale: 31,097 points, 2,000,000 delegates, 8 sessions.

The data set is built once into the database the runner uses (pass a lasting
``--db sqlite:////path/file.sqlite3`` to keep it between runs): participants by bulk
insert, attendance for every session by one INSERT … SELECT inside the database, then the
counters rebuilt from the rows, as a day of check-ins would have left them.
"""
from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: The conference run.py builds with the record number of points.
NATIONAL = "bench-31k"
SESSIONS = 8
PARTICIPANTS = 2_000_000
CATEGORIES = ("Bí thư, Phó Bí thư cấp ủy", "Lãnh đạo HĐND, UBND",
              "Lãnh đạo Ủy ban MTTQ và các đoàn thể", "Trưởng các phòng, ban",
              "Cán bộ, công chức", "Bí thư chi bộ, trưởng thôn")
LOAD_CLIENTS = 50
LOAD_PASSWORD = "bench-coordinator-2026"
#: Check-in load steps for the highest steady rate, requests per second.
RATE_STEPS = (500, 750, 1000, 1250, 1500, 2000)


def _conference():
    from sqlalchemy import select

    from confmgr.conferences.models import Conference
    from confmgr.db import db

    return db.session.scalar(select(Conference).where(Conference.slug == NATIONAL))


def build_national_attendance() -> None:
    """Sessions, categories, 2,000,000 delegates and their attendance on the 31k points."""
    from sqlalchemy import func, insert, select, text

    from confmgr.accounts.models import point_coordinators
    from confmgr.accounts.services import create_user
    from confmgr.attendance.checkin import rebuild_counts
    from confmgr.conferences.models import AgendaSession
    from confmgr.db import bulk_insert, db, utcnow
    from confmgr.enums import PointLevel, RegistrationStatus, Role, SessionKind
    from confmgr.points.models import BroadcastPoint
    from confmgr.points.services import refresh_registered_counts
    from confmgr.roster.models import Category, Participant, participant_name_fields

    conference = _conference()
    if db.session.scalar(select(func.count()).select_from(AgendaSession).where(
            AgendaSession.conference_id == conference.id)):
        return
    started = time.perf_counter()
    tz = conference.tz
    day = datetime.combine(conference.first_day, datetime.min.time(), tzinfo=tz)
    for index in range(SESSIONS):
        start = day + timedelta(hours=7, minutes=30) + timedelta(minutes=70 * index)
        db.session.add(AgendaSession(
            conference_id=conference.id, starts_at=start.astimezone(timezone.utc),
            ends_at=(start + timedelta(minutes=60)).astimezone(timezone.utc),
            kind=SessionKind.TOPIC, title=f"Chuyên đề {index + 1}"))
    categories = [Category(conference_id=conference.id, name=name, rank=10 * (i + 1))
                  for i, name in enumerate(CATEGORIES)]
    db.session.add_all(categories)
    db.session.flush()
    category_ids = [c.id for c in categories]

    points = db.session.execute(select(BroadcastPoint.id, BroadcastPoint.code).where(
        BroadcastPoint.conference_id == conference.id).order_by(BroadcastPoint.id)).all()
    surnames = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô")
    middles = ("Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Quốc", "Ngọc")
    givens = ("An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hùng", "Lan",
              "Linh", "Long", "Mai", "Nam", "Nga", "Phương", "Quân", "Sơn", "Tâm", "Thảo",
              "Thắng", "Trang", "Tuấn", "Yến", "Đạt")
    pool = [participant_name_fields(f"{s} {m} {g}")
            for s in surnames for m in middles for g in givens]
    now = utcnow()
    per_point, extra = divmod(PARTICIPANTS, len(points))
    batch, number = [], 0
    for index, (point_id, _code) in enumerate(points):
        for _ in range(per_point + (1 if index < extra else 0)):
            names = pool[number % len(pool)]
            batch.append({**names, "conference_id": conference.id, "point_id": point_id,
                          "category_id": category_ids[number % len(category_ids)]
                          if number % 11 else None,
                          "position": "Cán bộ", "unit": "", "phone": "", "email": "",
                          "note": "", "status": RegistrationStatus.REGISTERED,
                          "created_at": now, "updated_at": now})
            number += 1
            if len(batch) == 50_000:
                bulk_insert(Participant.__table__, batch)
                batch = []
    bulk_insert(Participant.__table__, batch)
    refresh_registered_counts(conference.id)
    print(f"# built {number:,} delegates in {time.perf_counter() - started:.0f} s",
          file=sys.stderr, flush=True)

    # Attendance: a fixed pattern per delegate and session; 2 % never recorded.
    roll = "((p.id * 7 + s.id * 13) % 100)"
    db.session.execute(text(f"""
        INSERT INTO attendance (conference_id, participant_id, session_id, point_id,
                                category_ref, status, recorded_at, method, recorded_by_id,
                                note)
        SELECT p.conference_id, p.id, s.id, p.point_id, COALESCE(p.category_id, 0),
               CASE WHEN {roll} < 85 THEN 'present' WHEN {roll} < 89 THEN 'late'
                    WHEN {roll} < 95 THEN 'excused' ELSE 'absent' END,
               s.starts_at, 'manual', NULL, ''
        FROM participants p CROSS JOIN agenda_sessions s
        WHERE p.conference_id = :conference AND s.conference_id = :conference
          AND {roll} < 98
    """), {"conference": conference.id})
    rebuild_counts(conference.id)
    print(f"# built attendance and counters in {time.perf_counter() - started:.0f} s",
          file=sys.stderr, flush=True)

    # Coordinators for the check-in load test, one per point of the first fifty.
    commune_points = db.session.execute(select(BroadcastPoint.id, BroadcastPoint.code).where(
        BroadcastPoint.conference_id == conference.id,
        BroadcastPoint.level == PointLevel.COMMUNE).order_by(BroadcastPoint.code)
        .limit(LOAD_CLIENTS)).all()
    for index, (point_id, _code) in enumerate(commune_points):
        user = create_user(f"load{index}@bench.example", LOAD_PASSWORD, f"Tải {index}",
                           Role.COORDINATOR)
        db.session.flush()
        db.session.execute(insert(point_coordinators).values(user_id=user.id,
                                                             point_id=point_id))
    db.session.commit()


# ---------------------------------------------------------------- report benchmarks


def national_summary(ctx, timings_ms, median_and_p95):
    """The national table: every session's totals and one session's totals per province."""
    from confmgr.attendance import reports

    with ctx.app.app_context():
        conference = _conference()
        session = reports.attended_sessions(conference)[3]

        def run():
            reports.session_totals(conference)
            reports.by_province(conference, session.id)

        return median_and_p95(timings_ms(run, ctx.repeat))


def province_report(ctx, timings_ms, median_and_p95):
    """One province (Hà Nội, about 900 points): totals, every point, categories, compliance."""
    from confmgr.attendance import reports

    with ctx.app.app_context():
        conference = _conference()
        session = reports.attended_sessions(conference)[3]

        def run():
            reports.session_totals(conference, "01")
            list(reports.by_point(conference, session.id, province="01"))
            reports.by_category(conference, session.id, "01")
            reports.compliance(conference, session.id, "01")

        return median_and_p95(timings_ms(run, ctx.repeat))


def csv_child(database_url: str, instance: str) -> None:
    """In a fresh process: stream the national participant CSV; print seconds and peak MB."""
    sys.path.insert(0, str(HERE.parent))
    from confmgr import create_app
    from confmgr.accounts.models import User
    from confmgr.db import db
    from sqlalchemy import select

    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "bench"},
                     instance_path=instance)
    with app.app_context():
        organiser = db.session.scalar(select(User.id).where(User.email == "organiser@example.org"))
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(organiser)
        session["_fresh"] = True
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    response = client.get(f"/manage/c/{NATIONAL}/attendance/participants.csv", buffered=False)
    size = lines = 0
    for chunk in response.response:
        size += len(chunk)
        lines += chunk.count(b"\n") if isinstance(chunk, bytes) else chunk.count("\n")
    response.close()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_mb": peak / 1024, "before_mb": before / 1024,
                      "bytes": size, "lines": lines}))


def csv_peak_mb(ctx, database_url: str, instance: str) -> dict:
    result = subprocess.run(
        [sys.executable, str(HERE / "attendance_bench.py"), "csv", database_url, instance],
        capture_output=True, text=True, check=True, timeout=3600)
    return json.loads(result.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- check-ins over HTTP


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare_load(ctx) -> list[dict]:
    """Open check-in for the first session now; the clients' points and delegates."""
    from sqlalchemy import select

    from confmgr.accounts.models import User, point_coordinators
    from confmgr.attendance import reports
    from confmgr.db import db, utcnow
    from confmgr.points.models import BroadcastPoint
    from confmgr.roster.models import Participant

    with ctx.app.app_context():
        conference = _conference()
        session = reports.attended_sessions(conference)[0]
        session.starts_at = utcnow() - timedelta(minutes=10)
        session.ends_at = utcnow() + timedelta(minutes=110)
        clients = []
        rows = db.session.execute(
            select(User.email, BroadcastPoint.code, BroadcastPoint.id)
            .join(point_coordinators, point_coordinators.c.user_id == User.id)
            .join(BroadcastPoint, BroadcastPoint.id == point_coordinators.c.point_id)
            .where(User.email.like("load%@bench.example")).order_by(User.id)).all()
        for email, code, point_id in rows:
            people = db.session.scalars(select(Participant.id).where(
                Participant.point_id == point_id)).all()
            clients.append({"email": email, "password": LOAD_PASSWORD,
                            "sheet": f"/manage/c/{conference.slug}/points/{code}/attendance",
                            "mark": f"/manage/c/{conference.slug}/points/{code}/attendance/"
                                    f"{session.id}",
                            "people": people})
        db.session.commit()
        return clients


def run_load(ctx, database_url: str, instance: str, rates: tuple[int, ...],
             seconds: float = 10.0) -> list[dict]:
    """Serve the app with gunicorn and drive it from another process at each rate."""
    clients = prepare_load(ctx)
    plan = Path(instance) / "load-plan.json"
    plan.write_text(json.dumps(clients))
    port = _free_port()
    env = {**os.environ, "CONFMGR_DATABASE_URL": database_url, "CONFMGR_SECRET_KEY": "bench",
           "CONFMGR_INSTANCE_PATH": instance, "PYTHONPATH": str(HERE.parent)}
    workers = os.environ.get("BENCH_GUNICORN_WORKERS", "3")
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "--workers", workers,
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "confmgr:create_app()"],
        env=env, cwd=str(HERE.parent))
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        results = []
        for rate in rates:
            done = subprocess.run(
                [shutil.which("node") or "node", str(HERE / "load.mjs"),
                 f"http://127.0.0.1:{port}", str(plan), str(rate), str(seconds)],
                capture_output=True, text=True, check=True, timeout=600)
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        return results
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    if sys.argv[1] == "csv":
        csv_child(sys.argv[2], sys.argv[3])
