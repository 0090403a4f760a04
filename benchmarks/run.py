"""confmgr's benchmark runner: every speed and size target, measured and printed.

    python benchmarks/run.py [--preset small] [--only PREFIX] [--db URL] [--repeat N]

Prints one line per benchmark:

    BENCH <name> <value> <unit> [p95=<value>] [floor=<value> ratio=<value>]
          [rows_per_s=<value>] [peak_mb=<value>]

where the floor is the same work done by plain SQL through the driver (for reading
benchmarks: the very statements the run sent, replayed on a raw connection), rows per
second count what a bulk benchmark handles, and peak_mb is the most memory Python held
during one more run (tracemalloc). The preset chooses the generated data set the
national-scale benchmarks read (``confmgr.demo.generator``: small, province, national,
record). The database is a new SQLite file unless --db (or CONFMGR_DATABASE_URL) names
another; the data set is built there first and reused when present.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from flask import Flask  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from confmgr import create_app  # noqa: E402

from confmgr.demo.generator import PRESETS  # noqa: E402


@dataclass
class Result:
    name: str
    value: float
    unit: str
    p95: float | None = None
    floor: float | None = None
    #: Rows handled per run, for a rate.
    rows: int | None = None
    peak_mb: float | None = None

    def line(self) -> str:
        parts = [f"BENCH {self.name} {self.value:.3f} {self.unit}"]
        if self.p95 is not None:
            parts.append(f"p95={self.p95:.3f}")
        if self.floor is not None:
            parts.append(f"floor={self.floor:.3f} ratio={self.value / self.floor:.2f}")
        if self.rows is not None and self.unit == "ms":
            parts.append(f"rows_per_s={self.rows / (self.value / 1000):.0f}")
        if self.peak_mb is not None:
            parts.append(f"peak_mb={self.peak_mb:.1f}")
        return " ".join(parts)


@dataclass
class Context:
    app: Flask
    preset: str
    repeat: int
    #: The database and instance folder, for benchmarks that start other processes.
    database_url: str = ""
    workdir: str = ""

    @property
    def slug(self) -> str:
        """The generated conference of the preset."""
        return PRESETS[self.preset].slug


BENCHMARKS: dict[str, Callable[[Context], Result]] = {}
#: Which data each benchmark needs beyond the demo, so a partial run builds only that.
NEEDS: dict[str, tuple[str, ...]] = {}


def benchmark(name: str, needs: tuple[str, ...] = ()):
    def register(function: Callable[[Context], Result]):
        BENCHMARKS[name] = function
        NEEDS[name] = needs
        return function
    return register


def timings_ms(action: Callable[[], object], repeat: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def median_and_p95(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def get_ok(client, url: str) -> None:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")


def python_peak_mb(action: Callable[[], object]) -> float:
    """The most memory Python allocations held during one run of ``action``."""
    import tracemalloc

    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def captured_reads(app: Flask, action: Callable[[], object]) -> list[tuple[str, object]]:
    """The reading statements one run of ``action`` sends, as the driver receives them."""
    from sqlalchemy import event

    from confmgr.db import db

    sent: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    return [(sql, params) for sql, params in sent
            if sql.lstrip().upper().startswith(("SELECT", "WITH"))]


def sql_floor_ms(app: Flask, action: Callable[[], object], repeat: int) -> float:
    """The plain-SQL floor of a reading ``action``: its reading statements replayed through
    a raw driver connection, every row fetched (median ms)."""
    from confmgr.db import db

    reads = captured_reads(app, action)
    with app.app_context():
        connection = db.engine.raw_connection()
    try:
        def replay():
            cursor = connection.cursor()
            for sql, params in reads:
                cursor.execute(sql, params)
                cursor.fetchall()
            connection.rollback()

        return median_and_p95(timings_ms(replay, repeat))[0]
    finally:
        connection.close()


def measured(name: str, ctx: Context, action: Callable[[], object], *, unit_rows=None,
             floor: bool = True) -> Result:
    """Median and p95 of ``action``, its SQL floor and its peak memory."""
    median, p95 = median_and_p95(timings_ms(action, ctx.repeat))
    return Result(name, median, "ms", p95=p95,
                  floor=sql_floor_ms(ctx.app, action, ctx.repeat) if floor else None,
                  rows=unit_rows, peak_mb=python_peak_mb(action))


def page_result(name: str, ctx: Context, client, url: str) -> Result:
    """GET ``url`` as the benchmark ``name``."""
    return measured(name, ctx, lambda: get_ok(client, url))


@benchmark("agenda.public_page")
def agenda_public_page(ctx: Context) -> Result:
    """Median time to render the demo conference's public agenda."""
    from confmgr.demo.loader import SLUG

    return page_result("agenda.public_page", ctx, ctx.app.test_client(), f"/c/{SLUG}/")


BIG_AGENDA = "bench-200"


@benchmark("agenda.public_page_200", needs=("big_agenda",))
def agenda_public_page_200(ctx: Context) -> Result:
    """The public agenda of a published 200-session conference."""
    return page_result("agenda.public_page_200", ctx, ctx.app.test_client(), f"/c/{BIG_AGENDA}/")


@benchmark("agenda.edit_page_200", needs=("big_agenda",))
def agenda_edit_page_200(ctx: Context) -> Result:
    """The organisers' agenda editor for the same 200 sessions."""
    return page_result("agenda.edit_page_200", ctx, organiser_client(ctx),
                       f"/manage/c/{BIG_AGENDA}/agenda")


@benchmark("ics.conference_200", needs=("big_agenda",))
def ics_conference_200(ctx: Context) -> Result:
    """The whole-conference feed of a 200-session agenda over HTTP, its events built afresh."""
    client = ctx.app.test_client()

    def cold():
        ctx.app.extensions.pop("confmgr.feed_events", None)
        get_ok(client, f"/c/{BIG_AGENDA}/agenda.ics")

    median, p95 = median_and_p95(timings_ms(cold, ctx.repeat))
    return Result("ics.conference_200", median, "ms", p95=p95)


@benchmark("ics.conference_200_warm", needs=("big_agenda",))
def ics_conference_200_warm(ctx: Context) -> Result:
    """The same feed once its events are built for this version (what most requests get)."""
    return page_result("ics.conference_200_warm", ctx, ctx.app.test_client(),
                       f"/c/{BIG_AGENDA}/agenda.ics")


@benchmark("ics.not_modified", needs=("big_agenda",))
def ics_not_modified(ctx: Context) -> Result:
    """The same feed asked again by a client that has it: a 304."""
    client = ctx.app.test_client()
    etag = client.get(f"/c/{BIG_AGENDA}/agenda.ics").headers["ETag"]

    def conditional():
        response = client.get(f"/c/{BIG_AGENDA}/agenda.ics", headers={"If-None-Match": etag})
        if response.status_code != 304:
            raise RuntimeError(f"expected 304, got {response.status_code}")

    median, p95 = median_and_p95(timings_ms(conditional, ctx.repeat))
    return Result("ics.not_modified", median, "ms", p95=p95)


def organiser_client(ctx: Context):
    """A test client signed in as the demo organiser, as Flask-Login would sign them in."""
    client = ctx.app.test_client()
    with ctx.app.app_context():
        session_id = _bench_organiser_session_id()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
    return client


def _bench_organiser_session_id() -> str:
    from sqlalchemy import select

    from confmgr.accounts.models import User
    from confmgr.accounts.services import begin_sign_in
    from confmgr.db import db

    # The session names the user as User.get_id() does (the id, a password stamp and a
    # sign-in of its own).
    user = db.session.scalar(select(User).where(User.email == "organiser@example.org"))
    begin_sign_in(user)
    db.session.commit()
    return user.get_id()


def build_big_agenda(sessions: int = 200) -> None:
    """A published conference of five days, four rooms and ``sessions`` sessions."""
    from datetime import date, datetime, timedelta
    from zoneinfo import ZoneInfo

    from sqlalchemy import select

    from confmgr.accounts.models import User
    from confmgr.conferences.models import AgendaSession, Conference, Presenter, Room, Topic
    from confmgr.conferences.publishing import publish
    from confmgr.db import db
    from confmgr.enums import SessionKind

    if db.session.scalar(select(Conference.id).where(Conference.slug == BIG_AGENDA)):
        return
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    conference = Conference(slug=BIG_AGENDA, title="Hội nghị 200 phiên",
                            organising_unit="Ban Tổ chức", first_day=date(2025, 9, 1),
                            last_day=date(2025, 9, 5))
    db.session.add(conference)
    db.session.flush()
    rooms = [Room(conference_id=conference.id, name=f"Hội trường {i + 1}") for i in range(4)]
    presenters = [Presenter(conference_id=conference.id, name=f"Báo cáo viên {i + 1}",
                            position="Vụ trưởng", unit="Bộ Nội vụ") for i in range(40)]
    topics = [Topic(conference_id=conference.id, number=str(i + 1), title=f"Chuyên đề {i + 1}",
                    summary="Tóm tắt nội dung chuyên đề.") for i in range(sessions)]
    db.session.add_all(rooms + presenters + topics)
    db.session.flush()
    per_day = sessions // 5
    for i in range(sessions):
        day, index = divmod(i, per_day)
        room, slot = index % 4, index // 4
        start = datetime.combine(date(2025, 9, 1) + timedelta(days=day),
                                 datetime.min.time(), tz) + timedelta(hours=7, minutes=50 * slot)
        session = AgendaSession(
            conference_id=conference.id, kind=SessionKind.TOPIC, title=f"Phiên {i + 1}",
            starts_at=start, ends_at=start + timedelta(minutes=45), room_id=rooms[room].id,
            topic_id=topics[i].id, description="Nội dung phiên.",
        )
        session.presenters = [presenters[i % 40]]
        db.session.add(session)
    db.session.flush()
    organiser = db.session.scalar(select(User).where(User.email == "organiser@example.org"))
    organiser.conferences.append(conference)
    publish(conference, organiser, "Bản đầu")
    db.session.commit()


@benchmark("points.create_official")
def points_create_official(ctx: Context) -> Result:
    """Creating the 34 provincial and 3,321 commune points of a new conference."""
    from datetime import date

    from sqlalchemy import text

    from confmgr.conferences.models import Conference
    from confmgr.db import db
    from confmgr.points.official import create_official_points

    repeat = max(1, min(ctx.repeat, 5))
    samples, floors = [], []
    with ctx.app.app_context():
        for round_number in range(repeat):
            conference = Conference(slug=f"bench-official-{round_number}-{time.time_ns()}",
                                    title="Bench", first_day=date(2026, 1, 1),
                                    last_day=date(2026, 1, 1))
            db.session.add(conference)
            db.session.commit()
            start = time.perf_counter()
            create_official_points(conference, all_communes=True)
            db.session.commit()
            samples.append((time.perf_counter() - start) * 1000)
            rows = db.session.execute(text(
                "SELECT code, name, level, parent_id, admin_unit_code, province_code, "
                "search_text FROM broadcast_points WHERE conference_id = :id ORDER BY id"
            ), {"id": conference.id}).all()
            floors.append(_plain_insert_ms(rows))
    median, p95 = median_and_p95(samples)
    return Result("points.create_official", median, "ms", p95=p95,
                  floor=statistics.median(floors), rows=len(rows))


def _plain_insert_ms(rows) -> float:
    """The same rows written by the driver alone: executemany in one transaction."""
    from datetime import date, datetime, timezone

    from sqlalchemy import text

    from confmgr.db import db

    conference_id = db.session.execute(text(
        "INSERT INTO conferences (slug, title, organising_unit, description, timezone, "
        "first_day, last_day, status, created_at, updated_at) VALUES (:slug, 'Floor', '', '', "
        "'Asia/Ho_Chi_Minh', :day, :day, 'draft', :now, :now) RETURNING id"
    ), {"slug": f"bench-floor-{time.time_ns()}", "day": date(2026, 1, 1),
        "now": datetime.now(timezone.utc).replace(tzinfo=None)}).scalar_one()
    db.session.commit()
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        marker = "?" if db.engine.dialect.name == "sqlite" else "%s"
        sql = ("INSERT INTO broadcast_points (conference_id, code, name, level, parent_id, "
               "admin_unit_code, province_code, search_text, address, host_unit, chair_name, "
               "chair_position, technical_officer_name, technical_officer_phone, stream_url, "
               "access_code, expected_delegates, connection_test_status, connection_test_note, "
               "registered_count, created_at) VALUES (" + ", ".join([marker] * 21) + ")")
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        params = [(conference_id, r.code, r.name, r.level, None, r.admin_unit_code,
                   r.province_code, r.search_text, "", "", "", "", "", "", "", "", 0,
                   "not_tested", "", 0, now) for r in rows]
        start = time.perf_counter()
        cursor.executemany(sql, params)
        connection.commit()
        return (time.perf_counter() - start) * 1000
    finally:
        connection.close()


@benchmark("points.import_refused_31k")
def points_import_refused_31k(ctx: Context) -> Result:
    """A points file of 31,000 rows naming a parent the conference lacks (communes sent
    before their provinces' points, a parent mistyped down the column): checked and
    refused, every row named. Each row's message once searched every code: 116 s."""
    from sqlalchemy import select

    from confmgr.conferences.models import Conference
    from confmgr.db import db
    from confmgr.demo.loader import SLUG
    from confmgr.points import importing
    from confmgr.spreadsheets import Row, Table, TableError

    rows = 31_000
    table = Table([Row(number + 2, {"code": f"P{number}", "name": f"Điểm cầu {number}",
                                    "level": "Khác", "parent_code": "99"})
                   for number in range(rows)], {"code", "name", "level", "parent_code"})

    def refuse() -> None:
        try:
            importing.import_points(conference, table)
        except TableError as refused:
            if len(refused.errors) != rows:
                raise RuntimeError(f"{len(refused.errors)} rows refused") from refused
        else:
            raise RuntimeError("the file was taken")
        finally:
            db.session.rollback()

    with ctx.app.app_context():
        conference = db.session.scalar(select(Conference).where(Conference.slug == SLUG))
        samples = timings_ms(refuse, max(1, min(ctx.repeat, 3)), warmup=0)
    median, p95 = median_and_p95(samples)
    return Result("points.import_refused_31k", median, "ms", p95=p95, rows=rows)


@benchmark("uploads.wide_heading_row")
def uploads_wide_heading_row(ctx: Context) -> Result:
    """A paper list whose heading row names as many columns as a CSV may have (16,384),
    each heading twice (so each is labelled with its letters), over one delegate's row:
    read, and its columns checked. Labelling them once counted each heading among all the
    others: 33 s for 40,000 (then no file was refused for its columns)."""
    from confmgr.attendance import importing
    from confmgr.spreadsheets import MAX_COLUMNS

    headings = [f"Cột {number // 2}" for number in range(MAX_COLUMNS - 1)]
    data = ("Họ và tên," + ",".join(headings) + "\nNguyễn Văn An" + ",x" * len(headings)
            + "\n").encode()

    def read() -> None:
        with ctx.app.test_request_context():
            rows = importing.read_table(data, "danh-sach.csv", importing.COLUMNS,
                                        max_rows=importing.MAX_ROWS,
                                        max_bytes=importing.MAX_BYTES)
        if len(rows.ignored) != len(headings):
            raise RuntimeError(f"{len(rows.ignored)} columns not read")

    samples = timings_ms(read, max(1, min(ctx.repeat, 3)), warmup=0)
    median, p95 = median_and_p95(samples)
    return Result("uploads.wide_heading_row", median, "ms", p95=p95, rows=len(headings))


@benchmark("uploads.commas_refused")
def uploads_commas_refused(ctx: Context) -> Result:
    """A delegate list of 8 MB of commas after its heading, which any coordinator may
    send: refused as wider than a spreadsheet. Guessing its delimiter read and folded
    every cell first: 12.6 s."""
    from confmgr.roster import importing
    from confmgr.spreadsheets import TableError, read_table

    data = ("Họ và tên" + "," * (importing.MAX_BYTES - 20) + "\n").encode()

    def refuse() -> None:
        with ctx.app.test_request_context():
            try:
                read_table(data, "danh-sach.csv", importing.COLUMNS,
                           max_rows=importing.MAX_ROWS, max_bytes=importing.MAX_BYTES)
            except TableError:
                return
        raise RuntimeError("the file was taken")

    samples = timings_ms(refuse, max(1, min(ctx.repeat, 3)), warmup=0)
    median, p95 = median_and_p95(samples)
    return Result("uploads.commas_refused", median, "ms", p95=p95)


@benchmark("points.list_31k", needs=("generated",))
def points_list_31k(ctx: Context) -> Result:
    """The organisers' point list among the preset's points (31,097 in the record one),
    filtered by province and searched."""
    return page_result("points.list_31k", ctx, organiser_client(ctx),
                       f"/manage/c/{ctx.slug}/points?province=01&q=phuong&page=2")


@benchmark("roster.compliance_page", needs=("generated",))
def roster_compliance_page(ctx: Context) -> Result:
    """The organisers' page of points short of a required category (registrations), for
    the whole country: its second page, with the count of such points."""
    return page_result("roster.compliance_page", ctx, organiser_client(ctx),
                       f"/manage/c/{ctx.slug}/compliance?page=2")


@benchmark("roster.national_list", needs=("generated",))
def roster_national_list(ctx: Context) -> Result:
    """The organisers' list of every delegate of the preset, in Vietnamese order: its
    second page of 100, with the count in its heading."""
    return page_result("roster.national_list", ctx, organiser_client(ctx),
                       f"/manage/c/{ctx.slug}/delegates?page=2")


def _delegate_export(ctx: Context, kind: str) -> Result:
    """The organisers' national delegate list downloaded whole as ``kind``, streamed:
    a few runs (each is the whole preset), rows per second and Python's peak memory."""
    from sqlalchemy import func, select

    from confmgr.db import db
    from confmgr.points.models import BroadcastPoint

    with ctx.app.app_context():
        conference = attendance_bench._conference(ctx.slug)
        delegates = db.session.scalar(select(func.sum(BroadcastPoint.registered_count)).where(
            BroadcastPoint.conference_id == conference.id))
    client = organiser_client(ctx)
    url = f"/manage/c/{ctx.slug}/delegates?export={kind}"
    sizes = []

    def download():
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
        sizes.append(len(response.get_data()))

    median, p95 = median_and_p95(timings_ms(download, min(ctx.repeat, 3), warmup=1))
    print(f"# {kind}: {delegates:,} delegates, {sizes[-1] / 1e6:.1f} MB")
    return Result(f"exports.delegates_{kind}", median, "ms", p95=p95, rows=delegates,
                  peak_mb=python_peak_mb(download))


@benchmark("exports.delegates_xlsx", needs=("generated",))
def exports_delegates_xlsx(ctx: Context) -> Result:
    """Every delegate of the preset as XLSX, written as it streams."""
    return _delegate_export(ctx, "xlsx")


@benchmark("exports.delegates_csv", needs=("generated",))
def exports_delegates_csv(ctx: Context) -> Result:
    """The same list as CSV, for comparison."""
    return _delegate_export(ctx, "csv")


def _roster_xlsx(rows: int, seed: int) -> bytes:
    """A delegate list as a coordinator would paste it, with unique phones."""
    import io
    import random

    from openpyxl import Workbook

    from confmgr.demo.names import random_full_name

    rng = random.Random(seed)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Đại biểu")
    sheet.append(["STT", "Họ và tên", "Chức vụ", "Đơn vị", "Thành phần", "Điện thoại", "Email"])
    for index in range(rows):
        sheet.append([index + 1, random_full_name(rng), "Chuyên viên", "UBND xã",
                      "Cán bộ, công chức", f"09{seed % 1000:03d}{index:05d}", ""])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@benchmark("roster.import_xlsx_10k")
def roster_import_xlsx_10k(ctx: Context) -> Result:
    """A 10,000-row XLSX read, checked row by row, kept for confirmation and written."""
    from sqlalchemy import select

    from confmgr.conferences.models import Conference
    from confmgr.db import db
    from confmgr.demo.loader import SLUG
    from confmgr.enums import PointLevel
    from confmgr.points.models import BroadcastPoint
    from confmgr.roster import importing
    from confmgr.spreadsheets import read_table

    samples = []
    with ctx.app.app_context():
        conference = db.session.scalar(select(Conference).where(Conference.slug == SLUG))
        for round_number in range(max(1, min(ctx.repeat, 3))):
            # A fresh seed each round: earlier runs' delegates may share this database.
            data = _roster_xlsx(10_000, seed=time.time_ns() // 1000)
            point = BroadcastPoint(conference_id=conference.id, level=PointLevel.OTHER,
                                   code=f"IMPORT-{round_number}-{time.time_ns()}", name="Nhập")
            db.session.add(point)
            db.session.commit()
            start = time.perf_counter()
            rows = read_table(data, "ds.xlsx", importing.COLUMNS, max_rows=importing.MAX_ROWS,
                              max_bytes=importing.MAX_BYTES)
            checked = importing.check_rows(point, rows)
            assert not any(item.errors for item in checked), "benchmark data should be valid"
            token = importing.keep_for_confirmation(point, 0, "ds.xlsx", checked)
            importing.confirm(point, 0, token, organiser=True)
            db.session.commit()
            samples.append((time.perf_counter() - start) * 1000)
    median, p95 = median_and_p95(samples)
    return Result("roster.import_xlsx_10k", median, "ms", p95=p95, rows=10_000)


def _edited_list_xlsx(point_id: int, round_number: int) -> bytes:
    """The point's delegates as a downloaded list sent back with every row edited: a new
    position each, and every tenth delegate put in another category."""
    import io

    from openpyxl import Workbook
    from sqlalchemy import select

    from confmgr.db import db
    from confmgr.roster.models import Participant

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Đại biểu")
    sheet.append(["Mã đại biểu", "Họ và tên", "Chức vụ", "Đơn vị", "Thành phần",
                  "Điện thoại", "Email"])
    people = db.session.execute(select(
        Participant.id, Participant.full_name, Participant.unit, Participant.phone)
        .where(Participant.point_id == point_id).order_by(Participant.id))
    for index, (person_id, name, unit, phone) in enumerate(people):
        category = "Lãnh đạo HĐND, UBND" if index % 10 == round_number % 10 else (
            "Cán bộ, công chức")
        sheet.append([person_id, name, f"Chuyên viên bậc {round_number}", unit, category,
                      phone, ""])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@benchmark("roster.import_edits_20k")
def roster_import_edits_20k(ctx: Context) -> Result:
    """A point's 20,000 delegates downloaded and sent back edited (every position, a tenth
    of the categories): read, checked, kept for confirmation and written."""
    from sqlalchemy import select

    from confmgr.conferences.models import Conference
    from confmgr.db import db
    from confmgr.demo.loader import SLUG
    from confmgr.enums import PointLevel
    from confmgr.points.models import BroadcastPoint
    from confmgr.roster import importing
    from confmgr.spreadsheets import read_table

    def imported(point: BroadcastPoint, data: bytes) -> importing.Imported:
        rows = read_table(data, "ds.xlsx", importing.COLUMNS, max_rows=importing.MAX_ROWS,
                          max_bytes=importing.MAX_BYTES)
        checked = importing.check_rows(point, rows)
        assert not any(item.errors for item in checked), "benchmark data should be valid"
        token = importing.keep_for_confirmation(point, 0, "ds.xlsx", checked)
        done = importing.confirm(point, 0, token, organiser=True)
        db.session.commit()
        return done

    samples = []
    with ctx.app.app_context():
        conference = db.session.scalar(select(Conference).where(Conference.slug == SLUG))
        point = BroadcastPoint(conference_id=conference.id, level=PointLevel.OTHER,
                               code=f"EDIT-{time.time_ns()}", name="Sửa danh sách")
        db.session.add(point)
        db.session.commit()
        imported(point, _roster_xlsx(20_000, seed=time.time_ns() // 1000))
        for round_number in range(1, max(1, min(ctx.repeat, 3)) + 1):
            data = _edited_list_xlsx(point.id, round_number)
            start = time.perf_counter()
            done = imported(point, data)
            samples.append((time.perf_counter() - start) * 1000)
            assert done == (0, 20_000), done
    median, p95 = median_and_p95(samples)
    return Result("roster.import_edits_20k", median, "ms", p95=p95, rows=20_000)


@benchmark("roster.point_list_500", needs=("point_500",))
def roster_point_list_500(ctx: Context) -> Result:
    """A point's delegate list page with 500 delegates, in Vietnamese order."""
    from confmgr.demo.loader import SLUG

    return page_result("roster.point_list_500", ctx, organiser_client(ctx),
                       f"/manage/c/{SLUG}/points/BENCH-500/delegates")


@benchmark("attendance.sheet_kb", needs=("point_500",))
def attendance_sheet_kb(ctx: Context) -> Result:
    """What a coordinator's phone downloads for a point's check-in sheet (a full page of 100
    delegates, of 500): the page itself, uncompressed as docs/deploy.md serves pages, plus
    its stylesheets and scripts compressed as nginx sends them (once per phone: they are
    cached for a year). Prints the parts, and the answer to one tap."""
    import gzip
    import re

    from sqlalchemy import select

    from confmgr.attendance import reports
    from confmgr.conferences.models import Conference
    from confmgr.db import db
    from confmgr.demo.loader import SLUG

    with ctx.app.app_context():
        conference = db.session.scalar(select(Conference).where(Conference.slug == SLUG))
        session_id = reports.attended_sessions(conference)[0].id
    client = organiser_client(ctx)
    sheet = f"/manage/c/{SLUG}/points/BENCH-500/attendance"
    page = client.get(f"{sheet}?session={session_id}")
    if page.status_code != 200:
        raise RuntimeError(f"GET {sheet} answered {page.status_code}")
    html = page.get_data(as_text=True)
    # What a browser running scripts fetches: not the no-script stylesheet.
    assets = re.findall(r'<(?:link rel="stylesheet" href|script src)="(/static/[^"]+)"',
                        re.sub(r"<noscript>.*?</noscript>", "", html, flags=re.S))
    raw = compressed = 0
    for address in assets:
        body = client.get(address).data
        raw, compressed = raw + len(body), compressed + len(gzip.compress(body, 6))
    rows = len(re.findall(r'<tr id="p\d+"', html))
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    person = re.search(r'id="p(\d+)"', html).group(1)
    answer = client.post(f"{sheet}/{session_id}", headers={"HX-Request": "true"},
                         data={"csrf_token": token, "mark": f"{person}:present"})
    print(f"# sheet: page {len(page.data) / 1024:.1f} KB with {rows} delegates; "
          f"{len(assets)} stylesheets and scripts {raw / 1024:.1f} KB, "
          f"{compressed / 1024:.1f} KB compressed; a tap's answer {len(answer.data)} bytes "
          f"({answer.status_code})")
    return Result("attendance.sheet_kb", (len(page.data) + compressed) / 1024, "KB")


def build_point_500() -> None:
    import random

    from sqlalchemy import insert, select

    from confmgr.conferences.models import Conference
    from confmgr.db import db, utcnow
    from confmgr.demo.loader import SLUG
    from confmgr.demo.names import random_full_name, random_mobile
    from confmgr.enums import PointLevel, RegistrationStatus
    from confmgr.points.models import BroadcastPoint
    from confmgr.roster.models import Category, Participant, participant_name_fields

    conference = db.session.scalar(select(Conference).where(Conference.slug == SLUG))
    if db.session.scalar(select(BroadcastPoint.id).where(BroadcastPoint.code == "BENCH-500")):
        return
    point = BroadcastPoint(conference_id=conference.id, code="BENCH-500", level=PointLevel.OTHER,
                           name="Điểm cầu 500 đại biểu", expected_delegates=500,
                           registered_count=500)
    db.session.add(point)
    db.session.flush()
    category_ids = list(db.session.scalars(
        select(Category.id).where(Category.conference_id == conference.id)))
    rng = random.Random(500)
    now = utcnow()
    db.session.execute(insert(Participant.__table__), [
        {**participant_name_fields(random_full_name(rng)), "conference_id": conference.id,
         "point_id": point.id, "category_id": rng.choice(category_ids),
         "position": "Chuyên viên", "unit": "UBND", "phone": random_mobile(rng),
         "status": RegistrationStatus.REGISTERED, "created_at": now, "updated_at": now}
        for _ in range(500)
    ])
    db.session.commit()


# ---------------------------------------------------------------- attendance, national scale

import attendance_bench  # noqa: E402


@benchmark("attendance.national_summary", needs=("generated",))
def attendance_national_summary(ctx: Context) -> Result:
    """The national table: every session's totals and one session's totals per province."""
    return measured("attendance.national_summary", ctx,
                    attendance_bench.national_summary_action(ctx))


@benchmark("attendance.province_report", needs=("generated",))
def attendance_province_report(ctx: Context) -> Result:
    """One province (Hà Nội): totals, every point, categories, compliance."""
    return measured("attendance.province_report", ctx,
                    attendance_bench.province_report_action(ctx))


@benchmark("attendance.arrivals_chart", needs=("generated",))
def attendance_arrivals_chart(ctx: Context) -> Result:
    """Arrivals over time for one session: the country, then one province."""
    return measured("attendance.arrivals_chart", ctx,
                    attendance_bench.arrivals_chart_action(ctx))


@benchmark("attendance.live_refresh", needs=("generated",))
def attendance_live_refresh(ctx: Context) -> Result:
    """What each open organiser dashboard asks every 15 s during a session: the whole
    country's figures (totals, provinces, categories, shortfalls, arrivals) as the fragment
    htmx swaps in, over the test client. Measured as made afresh; what the dashboards
    refreshing in the next ATTENDANCE_LIVE_SECONDS are served instead is printed after."""
    client = organiser_client(ctx)
    with ctx.app.app_context():
        session_id = attendance_bench.reported_session_id(ctx)
    url = f"/manage/c/{ctx.slug}/attendance?session={session_id}"

    def refresh():
        response = client.get(url, headers={"HX-Request": "true"})
        if response.status_code != 200 or b'id="attendance-live"' not in response.data:
            raise RuntimeError(f"GET {url} answered {response.status_code}")

    shared_for = ctx.app.config["ATTENDANCE_LIVE_SECONDS"]
    ctx.app.config["ATTENDANCE_LIVE_SECONDS"] = 0
    try:
        made = measured("attendance.live_refresh", ctx, refresh)
    finally:
        ctx.app.config["ATTENDANCE_LIVE_SECONDS"] = shared_for
    served, _p95 = median_and_p95(timings_ms(refresh, ctx.repeat))
    print(f"# live_refresh: made afresh once per {shared_for} s in each process; "
          f"served again meanwhile in {served:.1f} ms")
    return made


@benchmark("attendance.csv_peak_mb", needs=("generated",))
def attendance_csv_peak_mb(ctx: Context) -> Result:
    """Peak memory of a fresh process streaming every delegate's attendance as CSV."""
    figures = attendance_bench.csv_peak_mb(ctx)
    print(f"# csv: {figures['lines'] - 1:,} delegates, {figures['bytes'] / 1e6:.0f} MB in "
          f"{figures['seconds']:.1f} s; {figures['before_mb']:.0f} MB before streaming")
    return Result("attendance.csv_peak_mb", figures["peak_mb"], "MB")


@benchmark("attendance.tap_cpu_ms", needs=("generated",))
def attendance_tap_cpu_ms(ctx: Context) -> Result:
    """A check-in's CPU in the app's process, through Flask's test client (ms)."""
    figures = attendance_bench.tap_in_process(ctx)
    database = figures["database_cpu_ms"]
    print(f"# a tap in the test client (best of 5 batches of 200): wall "
          f"{figures['wall_ms']:.2f} ms, {figures['statements']:.1f} statements besides "
          f"BEGIN and COMMIT"
          + ("" if database is None else f", database server CPU {database:.2f} ms"))
    return Result("attendance.tap_cpu_ms", figures["cpu_ms"], "ms")


@benchmark("attendance.checkin_p95", needs=("generated",))
def attendance_checkin_p95(ctx: Context) -> Result:
    """Single check-ins over HTTP (gunicorn) at 500 per second from 50 clients."""
    with attendance_bench.checkin_load(ctx) as measure:
        figures = measure(500)
    print(f"# checkin at 500/s: {figures}")
    return Result("attendance.checkin_p95", figures["p95"], "ms")


@benchmark("attendance.checkin_max_rps", needs=("generated",))
def attendance_checkin_max_rps(ctx: Context) -> Result:
    """The highest steady rate whose p95 stays under 100 ms, without errors."""
    with attendance_bench.checkin_load(ctx) as measure:
        best = attendance_bench.highest_steady_rate(measure)
    return Result("attendance.checkin_max_rps", best, "rps")


@benchmark("http.floor_rps")
def http_floor_rps(ctx: Context) -> Result:
    """The same measure for a bare Flask app on the same gunicorn (floor_app.py): the most
    any check-in view could sustain on this machine."""
    with attendance_bench.checkin_load(ctx, application="floor_app:app") as measure:
        best = attendance_bench.highest_steady_rate(measure)
    return Result("http.floor_rps", best, "rps")


@benchmark("http.checkin_200_clients", needs=("generated",))
def http_checkin_200_clients(ctx: Context) -> Result:
    """Check-ins at 500 per second from 200 clients rather than 50: the p95 (ms)."""
    with attendance_bench.checkin_load(ctx, clients=200) as measure:
        figures = measure(500)
    print(f"# checkin from 200 clients at 500/s: {figures}")
    return Result("http.checkin_200_clients", figures["p95"], "ms")


@benchmark("http.ics_per_second", needs=("generated",))
def http_ics_per_second(ctx: Context) -> Result:
    """The conference's feed from 50 clients as fast as gunicorn answers: requests per
    second, whole and (printed) with the ETag that gets a 304."""
    figures = attendance_bench.feed_load(ctx)
    for mode, result in figures.items():
        print(f"# feed ({mode}): {result}")
    print(Result("http.ics_per_second_etag", figures["etag"]["per_second"], "rps").line())
    return Result("http.ics_per_second", figures["full"]["per_second"], "rps")


# ---------------------------------------------------------------- questions

import questions_bench  # noqa: E402


def _triage(ctx: Context, name: str, query: str = "") -> Result:
    return page_result(name, ctx, organiser_client(ctx),
                       f"/manage/c/{ctx.slug}/questions{query}")


@benchmark("questions.triage_20k", needs=("generated", "questions"))
def questions_triage_20k(ctx: Context) -> Result:
    """The triage page over 20,000 questions: newest first, with the per-topic queue."""
    return _triage(ctx, "questions.triage_20k")


@benchmark("questions.triage_20k_search", needs=("generated", "questions"))
def questions_triage_20k_search(ctx: Context) -> Result:
    """The same, searching without diacritics and sorted by the points that asked."""
    return _triage(ctx, "questions.triage_20k_search", "?q=phan+cong+cap+uy&sort=most")


@benchmark("questions.triage_20k_province", needs=("generated", "questions"))
def questions_triage_20k_province(ctx: Context) -> Result:
    """The same, the questions asked from one province (Nghệ An), duplicates included."""
    return _triage(ctx, "questions.triage_20k_province", "?province=40&status=new")


@benchmark("questions.detail_20k", needs=("generated", "questions"))
def questions_detail_20k(ctx: Context) -> Result:
    """One standing question's page among 20,000, with the likely duplicates it offers."""
    from sqlalchemy import select

    from confmgr.conferences.models import Conference
    from confmgr.db import db
    from confmgr.enums import QuestionStatus
    from confmgr.questions.models import Question

    with ctx.app.app_context():
        question_id = db.session.scalar(
            select(Question.id).join(Conference, Conference.id == Question.conference_id)
            .where(Conference.slug == ctx.slug, Question.merged_into_id.is_(None),
                   Question.status == QuestionStatus.NEW).order_by(Question.id))
    return page_result("questions.detail_20k", ctx, organiser_client(ctx),
                       f"/manage/c/{ctx.slug}/questions/{question_id}")


@benchmark("questions.digest_20k", needs=("generated", "questions"))
def questions_digest_20k(ctx: Context) -> Result:
    """The published questions and answers among 20,000 questions: the digest's first page,
    which every point reads. Prints its size."""
    client = organiser_client(ctx)
    url = f"/c/{ctx.slug}/questions"
    print(f"# {url}: {len(client.get(url).data) / 1024:.0f} KiB")
    return page_result("questions.digest_20k", ctx, client, url)


def build_data_set(app: Flask, preset: str, selected: list[str]) -> None:
    from confmgr.demo.generator import generate
    from confmgr.demo.loader import load_demo

    slug = PRESETS[preset].slug
    builders = {"big_agenda": build_big_agenda, "point_500": build_point_500,
                "generated": lambda: (generate(PRESETS[preset], report=_progress),
                                      attendance_bench.bench_accounts(slug)),
                "questions": lambda: questions_bench.build_questions(slug)}
    needed = {need for name in selected for need in NEEDS[name]}
    with app.app_context():
        upgrade()
        load_demo()
        for name, build in builders.items():
            if name in needed:
                build()
        settle_database()


def _progress(message: str) -> None:
    print(f"# generated {message}", file=sys.stderr, flush=True)


def settle_database() -> None:
    """Let PostgreSQL catch up after bulk loads (statistics, dirty pages), so background
    maintenance does not land inside a timed run."""
    from sqlalchemy import text

    from confmgr.db import db

    if db.engine.dialect.name != "postgresql":
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
        connection.execute(text("CHECKPOINT"))


def machine_line() -> str:
    """How fast this machine runs plain Python at the moment: the figures move by 2× and
    more between machines of the same kind (and on a shared one, between hours), and this
    is the yardstick docs/performance.md compares them by."""
    # At module level, as the figures quoted there were taken: its names are globals.
    loop = compile("step = 0\nwhile step < 10_000_000:\n    step += 1\n", "loop", "exec")
    started = time.perf_counter()
    exec(loop, {})
    return (f"# machine: {os.cpu_count()} cores, a 10-million-step Python loop in "
            f"{time.perf_counter() - started:.2f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=list(PRESETS), default="small",
                        help="the generated data set the national-scale benchmarks read")
    parser.add_argument("--only", default="", help="run the benchmarks whose name starts so")
    parser.add_argument("--db", default=os.environ.get("CONFMGR_DATABASE_URL", ""))
    parser.add_argument("--repeat", type=int, default=50, help="timed runs per benchmark")
    args = parser.parse_args(argv)

    selected = [name for name in BENCHMARKS if name.startswith(args.only)]
    if not selected:
        parser.error(f"no benchmark starts with {args.only!r}")

    with tempfile.TemporaryDirectory(prefix="confmgr-bench-") as workdir:
        url = args.db or f"sqlite:///{Path(workdir) / 'bench.sqlite3'}"
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"}, instance_path=workdir)
        build_data_set(app, args.preset, selected)
        print(f"# preset={args.preset} database={url.split('://')[0]} repeat={args.repeat}")
        print(machine_line(), flush=True)
        for name in selected:
            context = Context(app, args.preset, args.repeat, url, workdir)
            print(BENCHMARKS[name](context).line(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
