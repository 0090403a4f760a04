"""The benchmark runner keeps working (its figures are read by people, not asserted here)."""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

RUNNER = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"


def load_runner():
    spec = importlib.util.spec_from_file_location("benchmarks_run", RUNNER)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_runner_prints_one_bench_line_per_benchmark(capsys, monkeypatch):
    monkeypatch.delenv("CONFMGR_DATABASE_URL", raising=False)
    runner = load_runner()
    assert runner.main(["--only", "agenda.", "--repeat", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "# preset=small database=sqlite repeat=2"
    assert re.fullmatch(r"# machine: \d+ cores, a 10-million-step Python loop in \d+\.\d\d s",
                        lines[1]), lines[1]
    names = []
    for line in lines[2:]:
        match = re.fullmatch(r"BENCH (\S+) \d+\.\d{3} ms p95=\d+\.\d{3} "
                             r"floor=\d+\.\d{3} ratio=\d+\.\d{2} peak_mb=\d+\.\d", line)
        assert match, line
        names.append(match.group(1))
    assert names == ["agenda.public_page", "agenda.public_page_200", "agenda.edit_page_200"]


def test_result_line_with_a_floor_a_rate_and_memory():
    runner = load_runner()
    line = runner.Result("x.y", 30.0, "ms", p95=40.0, floor=10.0, rows=3000,
                         peak_mb=12.34).line()
    assert line == ("BENCH x.y 30.000 ms p95=40.000 floor=10.000 ratio=3.00 "
                    "rows_per_s=100000 peak_mb=12.3")


def test_national_benchmarks_run_on_the_small_generated_preset(capsys, monkeypatch):
    monkeypatch.delenv("CONFMGR_DATABASE_URL", raising=False)
    runner = load_runner()
    assert runner.main(["--only", "attendance.province", "--preset", "small",
                        "--repeat", "2"]) == 0
    (line,) = [line for line in capsys.readouterr().out.splitlines()
               if line.startswith("BENCH")]
    assert re.fullmatch(r"BENCH attendance\.province_report \d+\.\d{3} ms p95=\S+ "
                        r"floor=\S+ ratio=\S+ peak_mb=\S+", line), line


def test_the_live_refresh_is_measured_as_made_and_as_served_again(capsys, monkeypatch):
    monkeypatch.delenv("CONFMGR_DATABASE_URL", raising=False)
    runner = load_runner()
    assert runner.main(["--only", "attendance.live_refresh", "--preset", "small",
                        "--repeat", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"# live_refresh: made afresh once per 10 s in each process; "
                        r"served again meanwhile in \d+\.\d ms", lines[-2]), lines[-2]
    assert re.fullmatch(r"BENCH attendance\.live_refresh \d+\.\d{3} ms p95=\S+ "
                        r"floor=\S+ ratio=\S+ peak_mb=\S+", lines[-1]), lines[-1]


def test_the_sheet_weight_counts_a_full_page_and_its_assets(capsys, monkeypatch):
    monkeypatch.delenv("CONFMGR_DATABASE_URL", raising=False)
    runner = load_runner()
    assert runner.main(["--only", "attendance.sheet_kb", "--repeat", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    (parts,) = [line for line in lines if line.startswith("# sheet:")]
    assert re.fullmatch(r"# sheet: page \d+\.\d KB with 100 delegates; 7 stylesheets and "
                        r"scripts \d+\.\d KB, \d+\.\d KB compressed; a tap's answer \d+ "
                        r"bytes \(200\)", parts), parts
    assert re.fullmatch(r"BENCH attendance\.sheet_kb \d+\.\d{3} KB", lines[-1]), lines[-1]


def test_the_sql_floor_replays_the_reads_of_an_action(tmp_path):
    """The floor runs the very statements the action read with, and none that write."""
    runner = load_runner()
    from flask_migrate import upgrade
    from sqlalchemy import text

    from confmgr import create_app
    from confmgr.db import db

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'f.sqlite3'}",
                      "SECRET_KEY": "x"}, instance_path=str(tmp_path))
    with app.app_context():
        upgrade()

    def action():
        with app.app_context():
            db.session.execute(text("SELECT count(*) FROM users WHERE role = :role"),
                               {"role": "admin"}).scalar()
            db.session.execute(text("UPDATE users SET active = active"))
            db.session.rollback()

    assert runner.captured_reads(app, action) == [
        ("SELECT count(*) FROM users WHERE role = ?", ("admin",))]
    assert runner.sql_floor_ms(app, action, repeat=3) > 0


def test_the_check_in_load_ends_by_checking_the_counters(tmp_path, monkeypatch):
    monkeypatch.delenv("CONFMGR_DATABASE_URL", raising=False)
    runner = load_runner()
    from sqlalchemy import select, update

    from confmgr import create_app
    from confmgr.attendance.models import SessionPointCount
    from confmgr.conferences.models import Conference
    from confmgr.db import db

    url = f"sqlite:///{tmp_path / 'b.sqlite3'}"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "x"}, instance_path=str(tmp_path))
    runner.build_data_set(app, "small", ["attendance.province_report"])
    context = runner.Context(app, "small", 1, url, str(tmp_path))
    check = runner.attendance_bench.counters_after_load
    assert check(context) == "every one agrees with its rows"
    with app.app_context():
        session_id, point_id = db.session.execute(
            select(SessionPointCount.session_id, SessionPointCount.point_id)
            .join(Conference, Conference.id == SessionPointCount.conference_id)
            .where(Conference.slug == context.slug)
            .order_by(SessionPointCount.session_id, SessionPointCount.point_id).limit(1)).one()
        db.session.execute(update(SessionPointCount).where(
            SessionPointCount.session_id == session_id, SessionPointCount.point_id == point_id)
            .values(absent=SessionPointCount.absent + 1))
        db.session.commit()
    assert check(context).startswith(
        f"1 differ: session_point_counts session_id={session_id}, point_id={point_id}: ")


def test_a_tap_in_process_prints_its_wall_time_and_statements(capsys, monkeypatch):
    monkeypatch.delenv("CONFMGR_DATABASE_URL", raising=False)
    runner = load_runner()
    assert runner.main(["--only", "attendance.tap_cpu_ms", "--repeat", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    # SQLite: no database server whose CPU could be counted.
    assert re.fullmatch(r"# a tap in the test client \(best of 5 batches of 200\): wall "
                        r"\d+\.\d\d ms, \d+\.\d statements besides BEGIN and COMMIT",
                        lines[-2]), lines[-2]
    assert re.fullmatch(r"BENCH attendance\.tap_cpu_ms \d+\.\d{3} ms", lines[-1]), lines[-1]


def test_cpu_is_counted_per_process_and_children_are_found():
    runner = load_runner()
    bench = runner.attendance_bench
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert bench._children(os.getpid()) == [child.pid]
    finally:
        child.kill()
        child.wait()
    before = bench._cpu_seconds([os.getpid()])
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:
        pass
    assert bench._cpu_seconds([os.getpid()]) - before >= 0.2
    assert bench._cpu_seconds([child.pid]) == 0  # gone: counts nothing


def test_the_load_says_what_cpu_each_side_spent(tmp_path, monkeypatch):
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the HTTP load is not run")
    monkeypatch.delenv("CONFMGR_DATABASE_URL", raising=False)
    runner = load_runner()
    from confmgr import create_app

    url = f"sqlite:///{tmp_path / 'b.sqlite3'}"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "x"}, instance_path=str(tmp_path))
    context = runner.Context(app, "small", 1, url, str(tmp_path))
    with runner.attendance_bench.checkin_load(context, clients=5, seconds=1,
                                              application="floor_app:app") as measure:
        figures = measure(50)
    assert (figures["requests"], figures["errors"]) == (50, 0)
    assert set(figures["cpu_ms"]) == {"app", "load"}  # SQLite: no database server
    assert figures["cpu_ms"]["app"] > 0 and figures["cpu_ms"]["load"] > 0
    assert 0 < figures["cores_busy"] <= 1 and 0 <= figures["steal"] <= 1
