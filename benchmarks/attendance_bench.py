"""Attendance on the generated conference of the runner's preset (31,097 points,
1,900,000 delegates and 8 sessions in the record one): reports, the participant CSV and
check-ins over HTTP. ``confmgr.demo.generator`` builds the data; this adds the accounts
the load test signs in with.
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
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOAD_CLIENTS = 50
#: Coordinator accounts made for the load: enough for its larger step.
LOAD_ACCOUNTS = 200
LOAD_PASSWORD = "bench-coordinator-2026"
BENCH_ORGANISER = "organiser@example.org"
#: Check-in load steps for the highest steady rate, requests per second.
RATE_STEPS = (100, 200, 300, 400, 500, 750, 1000, 1250, 1500, 2000, 2500, 3000)
#: How the load benchmarks run gunicorn unless BENCH_GUNICORN_ARGS says otherwise.
GUNICORN_ARGS = "--workers 3"


def _conference(slug: str):
    from sqlalchemy import select

    from confmgr.conferences.models import Conference
    from confmgr.db import db

    return db.session.scalar(select(Conference).where(Conference.slug == slug))


def bench_accounts(slug: str) -> None:
    """The demo organiser manages the generated conference; one coordinator for each of
    the first 200 commune points signs in for the check-in load."""
    from sqlalchemy import insert, select

    from confmgr.accounts.models import User, conference_organisers, point_coordinators
    from confmgr.accounts.coordinators import hash_generated
    from confmgr.accounts.services import find_user
    from confmgr.db import db
    from confmgr.enums import PointLevel, Role
    from confmgr.points.models import BroadcastPoint

    conference = _conference(slug)
    organiser = db.session.scalar(select(User).where(User.email == BENCH_ORGANISER))
    if conference not in organiser.conferences:
        db.session.execute(insert(conference_organisers).values(
            user_id=organiser.id, conference_id=conference.id))
    commune_points = db.session.scalars(select(BroadcastPoint.id).where(
        BroadcastPoint.conference_id == conference.id,
        BroadcastPoint.level == PointLevel.COMMUNE).order_by(BroadcastPoint.code)
        .limit(LOAD_ACCOUNTS)).all()
    for index, point_id in enumerate(commune_points):
        email = f"load{index}-{slug}@bench.example"
        if find_user(email) is not None:
            continue
        # Hashed as generated coordinator passwords are, so 200 sign-ins take seconds.
        user = User(email=email, display_name=f"Tải {index}", role=Role.COORDINATOR,
                    password_hash=hash_generated(LOAD_PASSWORD))
        db.session.add(user)
        db.session.flush()
        db.session.execute(insert(point_coordinators).values(user_id=user.id,
                                                             point_id=point_id))
    db.session.commit()


# ---------------------------------------------------------------- report benchmarks


def reported_session_id(ctx) -> int:
    """The session the report benchmarks read: the fourth of the generated conference."""
    from confmgr.attendance import reports

    return reports.attended_sessions(_conference(ctx.slug))[3].id


def national_summary_action(ctx):
    """The national table: every session's totals and one session's totals per province."""
    from confmgr.attendance import reports

    def run():
        with ctx.app.app_context():
            conference = _conference(ctx.slug)
            session = reports.attended_sessions(conference)[3]
            reports.session_totals(conference)
            reports.by_province(conference, session.id)

    return run


def province_report_action(ctx):
    """One province (Hà Nội, about 900 points in the record set): totals, every point,
    categories, compliance."""
    from confmgr.attendance import reports

    def run():
        with ctx.app.app_context():
            conference = _conference(ctx.slug)
            session = reports.attended_sessions(conference)[3]
            reports.session_totals(conference, "01")
            list(reports.by_point(conference, session.id, province="01"))
            reports.by_category(conference, session.id, "01")
            reports.compliance(conference, session.id, "01")

    return run


def arrivals_chart_action(ctx):
    """The dashboard's arrivals chart, as it refreshes every 15 s: the whole country, then
    Hà Nội."""
    from confmgr.attendance import reports

    def run():
        with ctx.app.app_context():
            conference = _conference(ctx.slug)
            session = reports.attended_sessions(conference)[3]
            reports.checkins_over_time(conference, session)
            reports.checkins_over_time(conference, session, province="01")

    return run


def csv_child(database_url: str, instance: str, slug: str) -> None:
    """In a fresh process: stream the national participant CSV; print seconds and peak MB."""
    sys.path.insert(0, str(HERE.parent))
    from confmgr import create_app
    from confmgr.accounts.models import User
    from confmgr.accounts.services import begin_sign_in
    from confmgr.db import db
    from sqlalchemy import select

    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "bench"},
                     instance_path=instance)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == BENCH_ORGANISER))
        begin_sign_in(user)  # as signing in would: the session names a sign-in
        db.session.commit()
        organiser = user.get_id()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = organiser
        session["_fresh"] = True
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    response = client.get(f"/manage/c/{slug}/attendance/participants.csv", buffered=False)
    if response.status_code != 200:  # a sign-in page would measure nothing
        raise SystemExit(f"participants.csv answered {response.status_code}")
    size = lines = 0
    for chunk in response.response:
        size += len(chunk)
        lines += chunk.count(b"\n") if isinstance(chunk, bytes) else chunk.count("\n")
    response.close()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_mb": peak / 1024, "before_mb": before / 1024,
                      "bytes": size, "lines": lines}))


def csv_peak_mb(ctx) -> dict:
    result = subprocess.run(
        [sys.executable, str(HERE / "attendance_bench.py"), "csv", ctx.database_url,
         ctx.workdir, ctx.slug],
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
        conference = _conference(ctx.slug)
        session = reports.attended_sessions(conference)[0]
        session.starts_at = utcnow() - timedelta(minutes=10)
        session.ends_at = utcnow() + timedelta(minutes=110)
        # As if published: check-in follows the published times.
        session.published_starts_at, session.published_ends_at = session.starts_at, session.ends_at
        clients = []
        rows = db.session.execute(
            select(User.email, BroadcastPoint.code, BroadcastPoint.id)
            .join(point_coordinators, point_coordinators.c.user_id == User.id)
            .join(BroadcastPoint, BroadcastPoint.id == point_coordinators.c.point_id)
            .where(User.email.like(f"load%-{ctx.slug}@bench.example")).order_by(User.id)).all()
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


@contextmanager
def serving(ctx, application: str = "confmgr:create_app()"):
    """The app served by gunicorn on the runner's database.

    Yields the base URL and the gunicorn master's process id.
    ``BENCH_GUNICORN_ARGS`` sets the workers (default: three sync workers, as
    docs/deploy.md recommends; ``--threads 4`` gives threaded ones, which measured slower).
    """
    port = _free_port()
    # The load comes from one address and signs in hundreds of clients: no login limits.
    env = {**os.environ, "CONFMGR_RATELIMIT_ENABLED": "false",
           "CONFMGR_DATABASE_URL": ctx.database_url,
           "CONFMGR_SECRET_KEY": "bench", "CONFMGR_INSTANCE_PATH": ctx.workdir,
           "PYTHONPATH": os.pathsep.join((str(HERE.parent), str(HERE)))}
    workers = os.environ.get("BENCH_GUNICORN_ARGS", GUNICORN_ARGS).split()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), *workers,
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", application],
        env=env, cwd=str(HERE.parent))
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", server.pid
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def _node(script: str, *args) -> dict:
    done = subprocess.run([shutil.which("node") or "node", str(HERE / script), *map(str, args)],
                          capture_output=True, text=True, check=True, timeout=900)
    return json.loads(done.stdout.strip().splitlines()[-1])


@contextmanager
def checkin_load(ctx, clients: int = LOAD_CLIENTS, seconds: float = 10.0,
                 application: str = "confmgr:create_app()"):
    """Serve the app; yields ``measure(rate)``: check-ins at that rate for ``seconds`` from
    ``clients`` signed-in phones, sent from another process. With ``floor_app:app`` the
    same requests go to a bare Flask app instead. Each measure's figures also say the CPU
    each side spent per request (``_load_with_cpu``)."""
    plan = Path(ctx.workdir) / "load-plan.json"
    if application == "floor_app:app":
        spec = {"email": "", "password": "", "sheet": "/sheet", "mark": "/mark", "people": [1]}
        plan.write_text(json.dumps([spec] * clients))
    else:
        plan.write_text(json.dumps(prepare_load(ctx)))
    with serving(ctx, application) as (base, server_pid):
        yield lambda rate: _load_with_cpu(ctx, server_pid, base, plan, rate, seconds, clients)
    if application != "floor_app:app":
        print(f"# counters after the load: {counters_after_load(ctx)}")


def _load_with_cpu(ctx, server_pid: int, *args) -> dict:
    """``load.mjs`` with ``args``: its figures, and ``cpu_ms``, the CPU time per request of
    the app (gunicorn's processes), the database server (PostgreSQL on this machine; on
    SQLite the app does the database's work) and the load, counted from when every client
    has signed in; ``cores_busy``, the share of the machine's cores in use meanwhile, and
    ``steal``, the share its host gave to other machines: on two shared cores these say
    whether a rate is bound by the CPU, and which side's."""
    node = subprocess.Popen([shutil.which("node") or "node", str(HERE / "load.mjs"),
                             *map(str, args)], stdout=subprocess.PIPE, text=True)
    watchdog = threading.Timer(900, node.kill)
    watchdog.start()
    try:
        if not node.stdout.readline():  # {"signedIn": n}
            raise RuntimeError("load.mjs stopped before its clients signed in")
        sides = {"app": [server_pid, *_children(server_pid)], "database": _database_pids(ctx)}
        before = {side: _cpu_seconds(pids) for side, pids in sides.items()}
        machine = _machine_times()
        figures = json.loads(node.stdout.readline())
        machine = [now - then for now, then in zip(_machine_times(), machine)]
        after = {side: _cpu_seconds(pids) for side, pids in sides.items()}
        node.wait()
    finally:
        watchdog.cancel()
    requests = max(figures["requests"], 1)
    figures["cpu_ms"] = {side: round((after[side] - before[side]) * 1000 / requests, 2)
                         for side, pids in sides.items() if pids}
    figures["cpu_ms"]["load"] = round(figures.pop("loadCpuMs") / requests, 2)
    if machine:
        # Busy: all but idle, iowait and steal (time the host gave to other machines).
        total = sum(machine[:8])
        figures["cores_busy"] = round(1 - sum(machine[3:5]) / total - machine[7] / total, 2)
        figures["steal"] = round(machine[7] / total, 2)
    return figures


def _machine_times() -> list[int]:
    """The whole machine's CPU times so far (/proc/stat: user, nice, system, idle, iowait,
    irq, softirq, steal, ...), or none where there is no /proc."""
    try:
        return [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return []


def tap_in_process(ctx, batches: int = 5, taps: int = 200) -> dict:
    """One coordinator's taps through Flask's test client, with nothing else running: the
    CPU and wall time of a tap in the best of ``batches`` batches, statements sent per tap
    and, on PostgreSQL on this machine, its server's CPU per tap. What the HTTP figures
    are made of, without gunicorn, the network or the load."""
    import random
    import re

    from sqlalchemy import event

    from confmgr.db import db

    spec = prepare_load(ctx)[0]
    client = ctx.app.test_client()

    def token(page: str) -> str:
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)

    client.post("/login", data={"csrf_token": token(client.get("/login").text),
                                "email": spec["email"], "password": spec["password"]})
    csrf = token(client.get(spec["sheet"]).text)
    choose = random.Random(1)
    statuses = ("present", "late", "excused", "absent", "present", "present")

    def tap() -> None:
        mark = f"{choose.choice(spec['people'])}:{choose.choice(statuses)}"
        answer = client.post(spec["mark"], data={"csrf_token": csrf, "mark": mark},
                             headers={"HX-Request": "true"})
        if answer.status_code != 200:
            raise RuntimeError(f"a tap answered {answer.status_code}")

    for _ in range(taps):
        tap()
    sent = 0

    def count(*_args) -> None:
        nonlocal sent
        sent += 1

    with ctx.app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        best = None
        for _ in range(batches):
            database = _database_pids(ctx)
            cpu, wall, server = time.process_time(), time.perf_counter(), _cpu_seconds(database)
            for _ in range(taps):
                tap()
            figures = {"cpu_ms": (time.process_time() - cpu) * 1000 / taps,
                       "wall_ms": (time.perf_counter() - wall) * 1000 / taps,
                       "database_cpu_ms": ((_cpu_seconds(database) - server) * 1000 / taps
                                           if database else None)}
            if best is None or figures["cpu_ms"] < best["cpu_ms"]:
                best = figures
    finally:
        event.remove(engine, "before_cursor_execute", count)
    best["statements"] = sent / (batches * taps)
    return best


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command's name (Linux), or None when the
    process is gone or this is no Linux."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _cpu_seconds(pids: list[int]) -> float:
    """User and system time the processes have used so far."""
    ticks = 0
    for pid in pids:
        fields = _proc_stat(pid)
        if fields:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    if not Path("/proc").is_dir():
        return []
    found = []
    for entry in Path("/proc").iterdir():
        fields = _proc_stat(int(entry.name)) if entry.name.isdigit() else None
        if fields and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _database_pids(ctx) -> list[int]:
    """The PostgreSQL server processes connected to the benchmark's database, when that
    server runs on this machine (none for SQLite, or a server elsewhere). The runner's
    own connection is among them: the test client's taps use it, and during an HTTP load
    it sits idle."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from confmgr.db import db

    url = make_url(ctx.database_url)
    if url.get_backend_name() != "postgresql" or url.host not in (None, "", "127.0.0.1",
                                                                  "localhost", "::1"):
        return []
    with ctx.app.app_context():
        pids = db.session.scalars(text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).all()
        db.session.rollback()
    return [pid for pid in pids if _proc_stat(pid) is not None]


def counters_after_load(ctx) -> str:
    """Whether the counters the taps moved still agree with the rows (``check-counts``):
    the load is also a test of check-ins from several processes at once."""
    from confmgr.attendance.consistency import count_differences

    with ctx.app.app_context():
        found = count_differences(_conference(ctx.slug).id)
    return "every one agrees with its rows" if not found else f"{len(found)} differ: {found[0]}"


def highest_steady_rate(measure) -> float:
    """The highest of RATE_STEPS achieved on schedule, without errors, with p95 under
    100 ms; the steps stop at the first that is not."""
    best = 0.0
    for rate in RATE_STEPS:
        figures = measure(rate)
        print(f"# at {rate}/s: {figures}")
        steady = figures["achieved"] >= 0.95 * rate and not figures["errors"]
        if not (steady and figures["p95"] < 100):
            break
        best = rate
    return best


def feed_load(ctx, clients: int = LOAD_CLIENTS, seconds: float = 10.0) -> dict[str, dict]:
    """The conference's public feed as fast as ``clients`` can ask: whole, then with the
    ETag a polling calendar sends (answered 304)."""
    with serving(ctx) as (base, _pid):
        url = f"{base}/c/{ctx.slug}/agenda.ics"
        return {mode: _node("feed_load.mjs", url, clients, seconds, mode)
                for mode in ("full", "etag")}


if __name__ == "__main__":
    if sys.argv[1] == "csv":
        csv_child(sys.argv[2], sys.argv[3], sys.argv[4])
