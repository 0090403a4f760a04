"""The audit trail's pages: filters, days in the conference's zone, keyset pages, exports,
who may read it, and indexes behind every page."""
from __future__ import annotations

import ast
import dataclasses
import io
import re
from datetime import date, datetime, time, timedelta, timezone
from html import unescape
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy import event, select, text, update

from confmgr.accounts.models import User, conference_organisers
from confmgr.accounts.services import create_user
from confmgr.audit.labels import ACTION_LABELS, DETAIL_LABELS
from confmgr.audit.models import AuditEntry
from confmgr.audit.services import record
from confmgr.conferences import editing
from confmgr.conferences.models import AgendaSession, Conference
from confmgr.db import db
from confmgr.demo.loader import SLUG
from confmgr.enums import Role, SessionKind
from confmgr.points.models import BroadcastPoint
from confmgr.roster.models import Category, Participant
from confmgr.roster.services import _PERSON_FIELDS
from tests.conftest import csrf_token, login
from tests.helpers import ADMIN, COORDINATOR, ORGANISER, flashes, logged_in, post_form

LOG = f"/manage/c/{SLUG}/audit"
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
PRESENTER = ("baocaovien@example.org", "demo-baocaovien-2025")
PERSON = {"full_name": "Trần Thị Mai", "position": "Bí thư Đoàn", "unit": "Phường Uông Bí",
          "category": "", "phone": "0912000222", "email": "", "note": ""}
CSV_HEADINGS = ("Thời gian,Người thực hiện,Email,Thao tác,Mã thao tác,Mã điểm cầu,Điểm cầu,"
                "Đối tượng,Chi tiết")
#: The demo conference's own entries: eight questions raised, merged, answered, assigned
#: and published, the demo loaded, version 1 published.
DEMO_ENTRIES = 15


def audit_rows(page: str) -> list[list[str]]:
    """The log table's rows, each cell as text; lines within a cell joined by " | "."""
    table = page.split('audit-table">')[1].split("</table>")[0]
    rows = []
    for body in re.findall(r'<tr id="e\d+">(.*?)</tr>', table, re.S):
        cells = []
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", body, re.S):
            cell = re.sub(r"<(div|li)[^>]*>", "\x00", cell)
            parts = unescape(re.sub(r"<[^>]+>", "", cell)).split("\x00")
            cells.append(" | ".join(" ".join(p.split()) for p in parts if p.strip()))
        rows.append(cells)
    return rows


def field_error(page: str, name: str) -> str:
    found = re.search(rf'name="{name}"[^>]*>\s*<div class="invalid-feedback">(.*?)</div>', page)
    return unescape(found.group(1)) if found else ""


def entry_times(app, action: str) -> list[str]:
    """When each entry of an action was written, newest first, as the log shows it."""
    with app.app_context():
        return [f"{at.astimezone(ZONE):%H:%M:%S %d/%m/%Y}" for at in db.session.scalars(
            select(AuditEntry.at).where(AuditEntry.action == action)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()))]


def target_id(app, action: str) -> int:
    with app.app_context():
        return db.session.scalar(select(AuditEntry.target_id).where(AuditEntry.action == action)
                                 .order_by(AuditEntry.id.desc()).limit(1))


def act_on_the_demo(app, client) -> None:
    """A coordinator registers a delegate at Uông Bí; the organiser adds a session and
    publishes version 2, all through the web."""
    coordinator = logged_in(app.test_client(), COORDINATOR)
    assert post_form(coordinator, f"/manage/c/{SLUG}/points/06811/delegates/new",
                     PERSON).status_code == 302
    logged_in(client, ORGANISER)
    assert post_form(client, f"/manage/c/{SLUG}/sessions/new", {
        "day": "2025-06-14", "start": "17:30", "end": "18:00", "kind": "other",
        "title": "Phiên bổ sung", "topic": "", "room": "", "description": ""}).status_code == 302
    assert post_form(client, f"/manage/c/{SLUG}/publish",
                     {"comment": "=cmd|' /C calc'!A0"}).status_code == 302


def test_organiser_reads_and_filters_the_conference_log(client, demo):
    act_on_the_demo(demo, client)
    [published, first_published] = entry_times(demo, "agenda.publish")
    [registered] = entry_times(demo, "participant.register")
    [session_added] = entry_times(demo, "session.create")
    publish_row = [published, "Ban Tổ chức hội nghị | organiser@example.org",
                   "Công bố chương trình", "", "Phiên bản chương trình: 2",
                   "Phiên bản: 2 | Ghi chú: =cmd|' /C calc'!A0"]
    session_row = [session_added, "Ban Tổ chức hội nghị | organiser@example.org",
                   "Thêm phiên", "", "Phiên: Phiên bổ sung", "Tiêu đề: Phiên bổ sung"]
    register_row = [registered, "Điều phối điểm cầu Quảng Ninh | quangninh@example.org",
                    "Đăng ký đại biểu", "06811 · Điểm cầu Uông Bí", "Đại biểu: Trần Thị Mai",
                    "Tên: Trần Thị Mai"]

    page = client.get(LOG).get_data(as_text=True)
    rows = audit_rows(page)
    assert rows[:3] == [publish_row, session_row, register_row]
    # Installation-wide entries (accounts created, logins) are not the conference's.
    assert len(rows) == DEMO_ENTRIES + 3
    assert {row[2] for row in rows} == {
        "Công bố chương trình", "Thêm phiên", "Đăng ký đại biểu", "Nạp hội nghị mẫu",
        "Gửi câu hỏi", "Gộp câu hỏi trùng", "Trả lời câu hỏi", "Giao câu hỏi",
        "Công bố câu hỏi"}

    def filtered(**args) -> list[list[str]]:
        response = client.get(LOG, query_string=args)
        assert response.status_code == 200
        return audit_rows(response.get_data(as_text=True))

    assert filtered(user="quangninh") == [register_row]
    assert filtered(user="BAN TỔ CHỨC") == [publish_row, session_row]
    # Case and diacritics are ignored beyond ASCII too, on SQLite as on PostgreSQL.
    assert filtered(user="ban to chuc hoi nghi") == [publish_row, session_row]
    assert filtered(user="ĐIỀU PHỐI ĐIỂM CẦU QUẢNG NINH") == [register_row]
    assert filtered(point="06811", user="quangninh") == [register_row]
    assert [row[2:4] for row in filtered(point="06811")] == [
        ["Đăng ký đại biểu", "06811 · Điểm cầu Uông Bí"],
        ["Gửi câu hỏi", "06811 · Điểm cầu Uông Bí"]]
    assert filtered(point="06811", user="organiser") == []
    assert filtered(action="agenda.publish") == [publish_row, [
        first_published, "—", "Công bố chương trình", "", "Phiên bản chương trình: 1",
        "Phiên bản: 1 | Ghi chú: Chương trình chính thức của hội nghị."]]
    today = datetime.now(ZONE).date()
    assert len(filtered(**{"from": today.isoformat(), "to": today.isoformat()})) == len(rows)
    assert filtered(**{"from": (today + timedelta(days=1)).isoformat()}) == []
    assert filtered(to=(today - timedelta(days=1)).strftime("%d/%m/%Y")) == []

    # Bad filters say what is wrong, on the field; nothing is guessed.
    page = client.get(LOG, query_string={"from": "31/02/2025", "point": "99999",
                                         "user": "khong-ai"}).get_data(as_text=True)
    assert field_error(page, "from") == ("«31/02/2025» không phải là ngày; hãy nhập theo dạng "
                                         "ngày/tháng/năm, ví dụ 14/06/2025.")
    assert field_error(page, "point") == "Không có điểm cầu nào mã «99999»."
    assert field_error(page, "user") == ("Nhật ký của hội nghị này không có thao tác nào của "
                                         "người có email hoặc tên chứa «khong-ai».")
    assert "Không có dòng nhật ký nào phù hợp." in page
    page = client.get(LOG, query_string={"to": "9999-12-31"}).get_data(as_text=True)
    assert field_error(page, "to") == ("«9999-12-31» không phải là ngày; hãy nhập theo dạng "
                                       "ngày/tháng/năm, ví dụ 14/06/2025.")
    page = client.get(LOG, query_string={"from": "2025-06-15", "to": "2025-06-14"}
                      ).get_data(as_text=True)
    assert field_error(page, "to") == "Ngày kết thúc (14/06/2025) trước ngày bắt đầu (15/06/2025)."
    # The organiser's tabs lead here.
    assert f'href="{LOG}">Nhật ký</a>' in client.get(f"/manage/c/{SLUG}/agenda").get_data(
        as_text=True)


def add_entries(app, moments: list[datetime], action: str = "session.shift") -> list[int]:
    with app.app_context():
        conference_id = db.session.scalar(select(Conference.id).where(Conference.slug == SLUG))
        entries = [AuditEntry(at=at, action=action, conference_id=conference_id,
                              details={"n": n}) for n, at in enumerate(moments)]
        db.session.add_all(entries)
        db.session.commit()
        return [entry.id for entry in entries]


def test_days_are_the_conference_days(client, demo):
    utc = timezone.utc
    add_entries(demo, [datetime(2025, 6, 13, 16, 59, 59, tzinfo=utc),   # 23:59:59 on the 13th
                       datetime(2025, 6, 13, 17, 0, 0, tzinfo=utc),     # midnight, the 14th
                       datetime(2025, 6, 14, 16, 59, 59, tzinfo=utc),   # 23:59:59 on the 14th
                       datetime(2025, 6, 14, 17, 0, 0, tzinfo=utc)])    # the 15th
    logged_in(client, ORGANISER)
    rows = audit_rows(client.get(LOG, query_string={
        "action": "session.shift", "from": "14/06/2025", "to": "2025-06-14"}).get_data(as_text=True))
    assert [(row[0], row[5]) for row in rows] == [("23:59:59 14/06/2025", "n: 2"),
                                                  ("00:00:00 14/06/2025", "n: 1")]


def test_pages_go_back_and_forth_newest_first(client, demo):
    start = datetime(2025, 6, 14, 1, 0, tzinfo=timezone.utc)
    # 120 entries; the last five share one instant, and the id orders them.
    moments = [start + timedelta(seconds=n) for n in range(115)] + [start + timedelta(hours=1)] * 5
    ids = add_entries(demo, moments)
    newest_first = [f"n: {n}" for n in reversed(range(120))]
    logged_in(client, ORGANISER)

    def visit(url: str) -> tuple[list[str], str | None, str | None]:
        page = client.get(url).get_data(as_text=True)
        older = re.search(r'rel="next" href="([^"]+)"', page)
        newer = re.search(r'rel="prev" href="([^"]+)"', page)
        return ([row[5] for row in audit_rows(page)], unescape(older.group(1)) if older else None,
                unescape(newer.group(1)) if newer else None)

    first, older, newer = visit(f"{LOG}?action=session.shift")
    assert (first, newer) == (newest_first[:50], None)
    assert older == f"{LOG}?action=session.shift&before={ids[70]}"
    second, older, newer = visit(older)
    assert second == newest_first[50:100]
    third, last_older, newer_than_third = visit(older)
    assert (third, last_older) == (newest_first[100:], None)
    assert visit(newer_than_third)[0] == second
    assert visit(newer)[0] == first
    # A position that names no entry starts from the newest.
    assert visit(f"{LOG}?action=session.shift&before=999999")[0] == first


def csv_lines(response) -> list[str]:
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    return body[1:].split("\r\n")


def test_exports_hold_the_filtered_rows_and_run_no_formula(client, demo, monkeypatch):
    # A display name that a spreadsheet would run, were it not defused.
    with demo.app_context():
        db.session.execute(update(User).where(User.email == ORGANISER[0])
                           .values(display_name="=HYPERLINK(\"http://x\")"))
        db.session.commit()
    act_on_the_demo(demo, client)
    [published, _first] = entry_times(demo, "agenda.publish")
    [registered] = entry_times(demo, "participant.register")
    published_at = datetime.strptime(published, "%H:%M:%S %d/%m/%Y")
    published = published_at.strftime("%d/%m/%Y %H:%M:%S")
    registered = datetime.strptime(registered, "%H:%M:%S %d/%m/%Y").strftime("%d/%m/%Y %H:%M:%S")

    response = client.get(f"{LOG}.csv", query_string={"user": "organiser",
                                                      "action": "agenda.publish"})
    assert response.headers["Content-Disposition"] == f'attachment; filename="nhat-ky-{SLUG}.csv"'
    assert csv_lines(response) == [
        CSV_HEADINGS,
        f"{published},\"'=HYPERLINK(\"\"http://x\"\")\",organiser@example.org,Công bố chương "
        f"trình,agenda.publish,,,Phiên bản chương trình: 2,Phiên bản: 2; Ghi chú: =cmd|' /C "
        "calc'!A0",
        ""]
    response = client.get(f"{LOG}.csv", query_string={"point": "06811", "user": "quangninh"})
    assert csv_lines(response) == [
        CSV_HEADINGS,
        f"{registered},Điều phối điểm cầu Quảng Ninh,quangninh@example.org,Đăng ký đại biểu,"
        "participant.register,06811,Điểm cầu Uông Bí,Đại biểu: Trần Thị Mai,Tên: Trần Thị Mai",
        ""]

    response = client.get(f"{LOG}.xlsx", query_string={"action": "agenda.publish"})
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet.title == "Nhật ký"
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[:2] == [
        CSV_HEADINGS.split(","),
        [published_at, "=HYPERLINK(\"http://x\")", "organiser@example.org",
         "Công bố chương trình", "agenda.publish", None, None, "Phiên bản chương trình: 2",
         "Phiên bản: 2; Ghi chú: =cmd|' /C calc'!A0"]]
    assert len(rows) == 3
    # A time Excel sorts and filters as one, shown to the second as the CSV shows it.
    assert sheet["A2"].number_format == "dd/mm/yyyy hh:mm:ss"
    # No cell is a formula.
    assert "f" not in {cell.data_type for row in sheet.iter_rows() for cell in row}

    # An XLSX is built in memory: past its limit, the page says to filter or take the CSV.
    from confmgr.audit import views

    monkeypatch.setattr(views, "XLSX_MAX_ROWS", 2)
    response = client.get(f"{LOG}.xlsx", query_string={"action": "agenda.publish"})
    assert response.status_code == 200
    response = client.get(f"{LOG}.xlsx", query_string={"action": "question.raise"})
    assert (response.status_code, response.headers["Location"]) == (
        302, f"{LOG}?action=question.raise")
    assert flashes(client.get(response.headers["Location"]).get_data(as_text=True))[-1:] == [
        "Có hơn 2 dòng nhật ký phù hợp: quá nhiều cho một tệp Excel. Hãy lọc hẹp hơn hoặc "
        "tải tệp CSV."]

    # Bad filters are sent back to the page that explains them.
    response = client.get(f"{LOG}.csv", query_string={"from": "hôm qua"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"{LOG}?from=h%C3%B4m+qua"


def test_who_may_read_which_log(app, demo):
    with demo.app_context():
        other = Conference(slug="hoi-nghi-khac", title="Hội nghị khác",
                           first_day=date(2025, 9, 1), last_day=date(2025, 9, 1))
        db.session.add(other)
        create_user("bto-khac@example.org", "mat-khau-khac-2025", "Ban Tổ chức khác",
                    Role.ORGANISER)
        db.session.flush()
        other_id = db.session.scalar(select(User.id).where(User.email == "bto-khac@example.org"))
        db.session.execute(conference_organisers.insert().values(user_id=other_id,
                                                                  conference_id=other.id))
        db.session.commit()
    urls = [LOG, f"{LOG}.csv", f"{LOG}.xlsx"]
    everyone = ["/manage/audit", "/manage/audit.csv", "/manage/audit.xlsx"]
    anonymous = app.test_client()
    assert [anonymous.get(url).status_code for url in urls + everyone] == [302] * 6
    for account in (COORDINATOR, PRESENTER, ("bto-khac@example.org", "mat-khau-khac-2025")):
        client = logged_in(app.test_client(), account)
        assert [client.get(url).status_code for url in urls + everyone] == [403] * 6, account
    organiser = logged_in(app.test_client(), ORGANISER)
    assert [organiser.get(url).status_code for url in urls] == [200] * 3
    assert [organiser.get(url).status_code for url in everyone] == [403] * 3
    assert organiser.get("/manage/c/khong-co/audit").status_code == 404

    admin = logged_in(app.test_client(), ADMIN)
    assert [admin.get(url).status_code for url in urls + everyone] == [200] * 6
    assert login(anonymous, "nobody@example.org", "sai").status_code == 200
    page = admin.get("/manage/audit", query_string={"action": "user.login_failed"}).get_data(
        as_text=True)
    assert [row[1:] for row in audit_rows(page)] == [
        ["—", "—", "Đăng nhập không thành công", "", "", "Email: nobody@example.org"]]
    page = admin.get("/manage/audit", query_string={"user": "bto-khac"}).get_data(as_text=True)
    assert [row[1:4] for row in audit_rows(page)] == [
        ["—", "Ban Tổ chức khác | bto-khac@example.org", "Đăng nhập"]]
    response = admin.get("/manage/audit.csv", query_string={"action": "user.create",
                                                            "user": "zzz-khong-ai"})
    assert response.status_code == 302


def test_every_recorded_action_has_a_label():
    """Labels for exactly the actions the code records, so the filter offers them all."""
    package = Path(__file__).resolve().parent.parent / "confmgr"
    recorded = set()
    for path in package.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        for first, other in re.findall(r'\b(?:record|record_each|audit)\(\s*"([a-z_]+\.[a-z_]+)"'
                                       r'(?:\s+if\s[^"]+\selse\s+"([a-z_]+\.[a-z_]+)")?', source):
            recorded |= {first, other} - {""}
        # Actions chosen before one record(action, ...) call.
        recorded |= set(re.findall(r'\baction(?:, \w+)? = "([a-z_]+\.[a-z_]+)"', source))
    assert len(recorded) >= 45
    assert recorded == set(ACTION_LABELS)


def test_every_page_of_the_log_reads_an_index_in_order(app, demo):
    """The log's statements, as the pages send them, need no sort: an index gives their
    order whatever the filters, which is what keeps them fast on millions of entries."""
    added = add_entries(demo, [datetime(2025, 6, 14, 1, n, tzinfo=timezone.utc)
                               for n in range(60)])
    with demo.app_context():
        # The organiser's, so that the user filter finds someone in this conference's log.
        organiser_id = db.session.scalar(select(User.id).where(User.email == ORGANISER[0]))
        db.session.execute(update(AuditEntry).where(AuditEntry.id.in_(added))
                           .values(user_id=organiser_id))
        db.session.commit()
    statements: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if "FROM audit_log" in statement and "ORDER BY" in statement:
            statements.append((statement, parameters))

    organiser = logged_in(app.test_client(), ORGANISER)
    admin = logged_in(app.test_client(), ADMIN)
    with app.app_context():
        engine = db.engine
        dialect = engine.dialect.name
    event.listen(engine, "before_cursor_execute", keep)
    try:
        for client, url in ((organiser, LOG), (admin, "/manage/audit")):
            for args in ({}, {"action": "session.shift"}, {"point": "06811"},
                         {"user": "organiser"}, {"from": "2025-06-14", "to": "2025-06-14"},
                         {"action": "session.shift", "from": "2025-06-14"}):
                page = client.get(url, query_string=args).get_data(as_text=True)
                older = re.search(r'rel="next" href="([^"]+)"', page)
                if older:
                    page = client.get(unescape(older.group(1))).get_data(as_text=True)
                    client.get(unescape(re.search(r'rel="prev" href="([^"]+)"', page).group(1)))
            client.get(f"{url}.csv", query_string={"action": "session.shift"}).get_data()
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    # Six pages, five with an older page and that page's way back, one export; twice.
    assert len(statements) == 2 * (6 + 5 + 5 + 1)
    with app.app_context(), db.engine.connect() as connection:
        if dialect == "postgresql":
            # On a small table a sort is cheapest; forbid it to see whether an index can
            # give the order.
            connection.execute(text("SET enable_sort = off"))
        for statement, parameters in statements:
            prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
            plan = "\n".join(str(row[-1]) for row in connection.exec_driver_sql(
                prefix + statement, parameters))
            assert "TEMP B-TREE" not in plan and "Sort" not in plan, (statement, plan)
            assert re.search(r"(USING (COVERING )?INDEX|Index Scan.*using) ix_audit_log_", plan), (
                statement, plan)


def test_a_failed_sign_in_with_control_characters_leaves_every_export_readable(client, demo):
    """XLSX cannot hold \\x01: a sign-in typed with one made the download fail. (The form
    now drops control characters as it reads them, and the export would drop them too.)"""
    login(client, "x\x01y@example.org", "sai")
    logged_in(client, ADMIN)
    response = client.get("/manage/audit.xlsx", query_string={"action": "user.login_failed"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert [row[-1] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        "Email: xy@example.org"]


def test_an_export_address_with_other_arguments_still_goes_back_to_the_log(client, demo):
    """?slug= or ?endpoint= in the address clashed with url_for's own arguments: a 500."""
    logged_in(client, ORGANISER)
    for extra in ({"slug": "x"}, {"endpoint": "x"}, {"_external": "1"}):
        response = client.get(f"{LOG}.csv", query_string={**extra, "from": "sai"})
        assert (response.status_code, response.headers["Location"]) == (
            302, f"{LOG}?from=sai"), extra


def test_the_log_filters_by_a_point_code_of_forty_characters(client, demo):
    from confmgr.points.models import BroadcastPoint
    from confmgr.points.services import save_point
    from confmgr.roster.services import PersonFields, register

    code = "QN-UONGBI-PHUONG-VANG-DANH-TO-DAN-PHO-12"
    assert len(code) == 40
    with demo.app_context():
        save_point(db.session.scalar(select(Conference)), None, {
            "code": code, "name": "Tổ dân phố 12", "level": "Khác", "parent_code": "06811",
            "expected_delegates": "0"})
        point = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == code))
        register(point, PersonFields(full_name="Lê Thị Tổ"), organiser=True)
        db.session.commit()
    logged_in(client, ORGANISER)
    page = client.get(LOG, query_string={"point": code}).get_data(as_text=True)
    assert "Không có điểm cầu nào mã" not in page
    assert [row[2:4] for row in audit_rows(page)] == [
        ["Đăng ký đại biểu", f"{code} · Tổ dân phố 12"],
        ["Thêm điểm cầu", f"{code} · Tổ dân phố 12"]]


def test_details_name_what_they_refer_to_with_times_in_the_conference_zone(client, demo):
    with demo.app_context():
        conference = db.session.scalar(select(Conference).where(Conference.slug == SLUG))
        uong_bi, ha_noi = (db.session.scalar(select(BroadcastPoint).where(
            BroadcastPoint.conference_id == conference.id, BroadcastPoint.code == code))
            for code in ("06811", "01"))
        person = db.session.scalar(select(Participant).where(
            Participant.point_id == uong_bi.id).order_by(Participant.id))
        session = db.session.scalar(select(AgendaSession).where(
            AgendaSession.conference_id == conference.id).order_by(AgendaSession.starts_at))
        record("participant.move", target=person, conference_id=conference.id,
               point_id=ha_noi.id, source=uong_bi.id, destination=ha_noi.id)
        record("session.update", target=session, conference_id=conference.id,
               starts_at=["2025-06-14T01:00:00+00:00", "2025-06-14T01:15:00+00:00"],
               kind=["topic", "opening"], room_id=[None, 987654])
        expected_person, expected_session = person.full_name, session.title
        point_name = ha_noi.name
        db.session.commit()
    logged_in(client, ORGANISER)
    rows = audit_rows(client.get(LOG).get_data(as_text=True))
    assert [row[2:] for row in rows[:2]] == [
        ["Sửa phiên", "", f"Phiên: {expected_session}",
         "Bắt đầu: 08:00 14/06/2025 → 08:15 14/06/2025 | Loại: Chuyên đề → Khai mạc | "
         "Phòng: — → #987654"],
        ["Chuyển đại biểu sang điểm cầu khác", f"01 · {point_name}",
         f"Đại biểu: {expected_person}",
         f"Từ điểm cầu: 06811 · Điểm cầu Uông Bí | Đến điểm cầu: 01 · {point_name}"]]


def test_an_edited_topic_or_presenter_is_logged_with_what_it_was(client, demo):
    """Only what changed, before and after; not a topic number labelled as a version's."""
    from confmgr.conferences.models import Presenter, Topic

    with demo.app_context():
        topic = db.session.scalar(select(Topic).where(Topic.number == "1"))
        presenter = db.session.scalar(select(Presenter).order_by(Presenter.id))
        topic_id, topic_title, summary = topic.id, topic.title, topic.summary
        presenter_id, name, unit = presenter.id, presenter.name, presenter.unit
        old_position = presenter.position
    logged_in(client, ORGANISER)
    assert post_form(client, f"/manage/c/{SLUG}/topics/{topic_id}/edit", {
        "number": "1a", "title": topic_title, "summary": summary}).status_code == 302
    assert post_form(client, f"/manage/c/{SLUG}/presenters/{presenter_id}/edit", {
        "name": name, "position": "Phó Trưởng ban", "unit": unit}).status_code == 302
    rows = audit_rows(client.get(LOG).get_data(as_text=True))
    assert [row[2:] for row in rows[:2]] == [
        ["Sửa báo cáo viên", "", f"Báo cáo viên: {name}",
         f"Chức vụ: {old_position} → Phó Trưởng ban"],
        ["Sửa chuyên đề", "", f"Chuyên đề: 1a. {topic_title}", "Số chuyên đề: 1 → 1a"]]


def test_a_log_names_only_rows_of_its_own_conference(client, demo):
    """An id a log kept may later belong to another conference's row (SQLite gives a
    deleted session's id to the next one): that row's name, an unpublished draft's here,
    stays out of this conference's log, which shows the bare id."""
    with demo.app_context():
        conference = db.session.scalar(select(Conference).where(Conference.slug == SLUG))
        other_user = create_user("khac@example.org", "mot-mat-khau-dai-9", "Khác",
                                 Role.ORGANISER)
        other = editing.create_conference(editing.ConferenceFields(
            slug="hoi-nghi-khac", title="Hội nghị khác", organising_unit="", description="",
            timezone="Asia/Ho_Chi_Minh", first_day=date(2025, 7, 1),
            last_day=date(2025, 7, 1)), other_user)
        secret, _ = editing.save_session(other, None, editing.SessionFields(
            day=date(2025, 7, 1), start=time(8, 0), end=time(9, 0), kind=SessionKind.OTHER,
            title="Phiên nháp của hội nghị khác"))
        db.session.flush()
        # As the demo's own log kept it, for the session that had this id before.
        record("session.delete", target=secret, conference_id=conference.id,
               title="Phiên đã xóa")
        record("session.shift", target=secret, conference_id=other.id, minutes=15,
               sessions=[secret.id])
        secret_id = secret.id
        db.session.commit()
    logged_in(client, ORGANISER)
    rows = audit_rows(client.get(LOG).get_data(as_text=True))
    assert rows[0][2:] == ["Xóa phiên", "", f"Phiên #{secret_id}", "Tiêu đề: Phiên đã xóa"]
    # In its own conference's log the same id is named.
    other_client = logged_in(demo.test_client(), ("khac@example.org", "mot-mat-khau-dai-9"))
    rows = audit_rows(other_client.get("/manage/c/hoi-nghi-khac/audit").get_data(as_text=True))
    assert rows[0][2:] == ["Dời phiên", "", "Phiên: Phiên nháp của hội nghị khác",
                           "Số phút: 15 | Các phiên: Phiên nháp của hội nghị khác"]


def test_every_recorded_detail_has_a_label():
    """The log names each detail in words; the keys come from every record(...) call."""
    from confmgr.conferences.editing import (
        ConferenceFields, _presenter_values, _session_values, _topic_values)
    from confmgr.points import services as points

    package = Path(__file__).resolve().parent.parent / "confmgr"
    keys = set()
    for path in package.rglob("*.py"):
        for call in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = getattr(call, "func", None)
            if (isinstance(call, ast.Call) and getattr(name, "id", None) in ("record", "audit")
                    and call.args and isinstance(call.args[0], ast.Constant)):
                keys |= {k.arg for k in call.keywords if k.arg}
    keys -= {"target", "conference_id", "point_id", "user_id"}
    # The changes recorded as {field: [before, after]}.
    keys |= {field.name for field in dataclasses.fields(ConferenceFields)} | {"sessions_moved"}
    now = datetime.now(timezone.utc)
    keys |= set(_session_values(SimpleNamespace(
        starts_at=now, ends_at=now, kind=SessionKind.OTHER, title="", description="",
        room_id=None, topic_id=None, presenters=[])))
    # Topics' and presenters' fields are passed as **values.
    keys |= set(_topic_values(SimpleNamespace(number="1", title="", summary="")))
    keys |= set(_presenter_values(SimpleNamespace(name="", position="", unit="")))
    keys |= set(_PERSON_FIELDS)  # a delegate's correction, field by field
    keys |= {*points.STRUCTURE_FIELDS, *points.CONTACT_FIELDS}  # a point's, so
    assert len(keys) > 50
    assert keys - set(DETAIL_LABELS) == set()


def test_paging_past_either_end_is_an_empty_page_that_leads_back(client, demo):
    """Before the oldest entry, after the newest, or from a kept position whose filter was
    changed: no lines, and the links lead to the newest page rather than failing."""
    with demo.app_context():
        conference_id = db.session.scalar(select(Conference.id).where(Conference.slug == SLUG))
        ids = db.session.scalars(select(AuditEntry.id).where(
            AuditEntry.conference_id == conference_id)
            .order_by(AuditEntry.at, AuditEntry.id)).all()
    oldest, newest = ids[0], ids[-1]
    logged_in(client, ORGANISER)
    for asked, newest_page in ((f"{LOG}?before={oldest}", LOG),
                               (f"{LOG}?after={newest}", LOG),
                               (f"{LOG}?action=question.raise&after={newest}",
                                f"{LOG}?action=question.raise")):
        response = client.get(asked)
        assert response.status_code == 200, asked
        page = unescape(response.get_data(as_text=True))
        assert "Không có dòng nhật ký nào phù hợp." in page
        links = re.findall(r'<a class="page-link"[^>]*href="([^"]+)"', page)
        assert links and set(links) == {newest_page}, (asked, links)


def test_a_conference_log_pages_only_from_its_own_entries(client, demo):
    """A position taken from an entry outside this conference's log (another conference's,
    or one of the whole installation's) is no position: the newest page, which tells
    nothing of when that entry was written."""
    with demo.app_context():
        conference_id = db.session.scalar(select(Conference.id).where(Conference.slug == SLUG))
        outside = db.session.scalar(select(AuditEntry.id).where(
            AuditEntry.conference_id.is_(None)).order_by(AuditEntry.at, AuditEntry.id))
        own_oldest = db.session.scalar(select(AuditEntry.id).where(
            AuditEntry.conference_id == conference_id).order_by(AuditEntry.at, AuditEntry.id))
    assert outside is not None and outside < own_oldest
    logged_in(client, ORGANISER)

    def lines(address: str) -> str:
        return client.get(address).get_data(as_text=True).split("<tbody>")[1].split(
            "</tbody>")[0]

    newest = lines(LOG)
    assert "Không có dòng nhật ký nào phù hợp." not in newest
    assert lines(f"{LOG}?before={outside}") == newest
    assert lines(f"{LOG}?after={outside}") == newest


# ---------------------------------------------------------------- typed text that reads as a time


#: Typed text that reads as an instant no time zone east of UTC can show.
TYPED = "9999-12-31 23:00:00+00:00"


def test_a_failed_sign_in_typed_as_a_far_instant_does_not_break_the_admins_log(client, demo):
    """Anyone could: a failed sign-in was logged with the login as typed, and the log read
    it as an instant it could not show in its zone (a 500 for every reader). A login that
    is no account's and no address is now named by a fingerprint only."""
    client.post("/login", data={"email": TYPED, "password": "x" * 12,
                                "csrf_token": csrf_token(client)})
    logged_in(client, ADMIN)
    for url in ("/manage/audit", "/manage/audit.csv", "/manage/audit.xlsx"):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.get_data()
        assert TYPED.encode() not in body, url


def test_a_presenter_unit_typed_as_a_far_instant_does_not_break_the_conference_log(
        app, demo, client):
    from confmgr.conferences.editing import save_presenter

    with app.app_context():
        conference = db.session.scalar(select(Conference).where(Conference.slug == SLUG))
        save_presenter(conference, None, "Nguyễn Văn B", "Giảng viên", TYPED)
        db.session.commit()
    logged_in(client, ADMIN)
    for suffix in ("", ".csv", ".xlsx"):
        response = client.get(f"/manage/c/{SLUG}/audit{suffix}")
        assert response.status_code == 200, suffix
        response.get_data()


def test_typed_text_that_looks_like_a_date_is_shown_as_typed(app, demo, client):
    """Only what the code stores as times is shown as a time; a unit is shown as typed."""
    from confmgr.conferences.editing import save_presenter

    with app.app_context():
        conference = db.session.scalar(select(Conference).where(Conference.slug == SLUG))
        save_presenter(conference, None, "Nguyễn Văn C", "Giảng viên", "2025-06-14 10:00")
        db.session.commit()
    logged_in(client, ADMIN)
    page = client.get(f"/manage/c/{SLUG}/audit?action=presenter.create").get_data(as_text=True)
    assert "2025-06-14 10:00" in page


def test_a_delegates_correction_is_logged_with_what_changed(client, demo):
    """The entry named the delegate as they are now and nothing else: a change of category
    (which compliance counts) or of the name itself, and who they were, was lost."""
    with demo.app_context():
        person = db.session.scalar(select(Participant).join(
            BroadcastPoint, BroadcastPoint.id == Participant.point_id)
            .where(BroadcastPoint.code == "06811").order_by(Participant.id))
        other = db.session.scalar(select(Category).where(
            Category.conference_id == person.conference_id,
            Category.id != person.category_id).order_by(Category.id))
        before = (person.id, person.full_name, person.category.name, other.id, other.name)
        form = {"full_name": "Nguyễn Văn Đổi Tên", "position": person.position,
                "unit": person.unit, "category": str(other.id), "phone": person.phone,
                "email": person.email, "note": person.note}
    person_id, old_name, old_category, _other_id, other_name = before
    logged_in(client, ORGANISER)
    edit = f"/manage/c/{SLUG}/points/06811/delegates/{person_id}/edit"
    assert post_form(client, edit, form).status_code == 302
    rows = audit_rows(client.get(LOG, query_string={"action": "participant.update"})
                      .get_data(as_text=True))
    assert rows[0][2:4] == ["Sửa thông tin đại biểu", "06811 · Điểm cầu Uông Bí"]
    assert rows[0][-1] == (
        f"Tên: Nguyễn Văn Đổi Tên | Họ và tên: {old_name} → Nguyễn Văn Đổi Tên | "
        f"Thành phần: {old_category} → {other_name}")


def test_the_english_log_names_one_thing_and_what_happened(client, demo):
    """The log shared its words with the lists and buttons: one presenter read
    "Presenters: …", a points import "Add: 3 | Update: 1 | Skip: 2"."""
    from confmgr.conferences.models import Presenter

    with demo.app_context():
        presenter = db.session.scalar(select(Presenter).order_by(Presenter.id))
        conference_id = presenter.conference_id
        db.session.add_all([
            AuditEntry(action="presenter.update", conference_id=conference_id,
                       target_type="Presenter", target_id=presenter.id, details={}),
            AuditEntry(action="points.import", conference_id=conference_id,
                       details={"added": 3, "updated": 1, "skipped": 2})])
        db.session.commit()
        name = presenter.name
    logged_in(client, ORGANISER)
    client.post("/language", data={"csrf_token": csrf_token(client), "lang": "en", "next": "/"})

    def last(action: str) -> list[str]:
        return audit_rows(client.get(LOG, query_string={"action": action})
                          .get_data(as_text=True))[0]

    assert last("presenter.update")[-2] == f"Presenter: {name}"
    assert last("points.import")[-1] == "Added: 3 | Updated: 1 | Skipped: 2"


def test_a_points_form_is_logged_as_that_points_change_field_by_field(client, demo):
    """Saving one point's form was logged as a list of points imported, against no point:
    the log's point filter never showed who changed the point's link."""
    from tests.helpers import post_form, sent_by_form

    logged_in(client, ORGANISER)
    url = f"/manage/c/{SLUG}/points/06811/edit"
    form = sent_by_form(client.get(url).get_data(as_text=True))
    link, chair = form["stream_url"], form["chair_name"]
    form.update(stream_url="https://meet.example.org/uong-bi-moi", chair_name="Lê Văn Chủ")
    form.pop("csrf_token")
    form.pop("headcount_only", None)  # a box not ticked sends nothing
    assert post_form(client, url, form).status_code == 302
    page = client.get(LOG, query_string={"point": "06811"}).get_data(as_text=True)
    newest = audit_rows(page)[0]
    assert newest[2:] == [
        "Sửa thông tin điểm cầu", "06811 · Điểm cầu Uông Bí",
        "Điểm cầu: 06811 · Điểm cầu Uông Bí",
        f"Người chủ trì: {chair} → Lê Văn Chủ | "
        f"Đường truyền: {link or '—'} → https://meet.example.org/uong-bi-moi"]

    # A coordinator's change of the point's contacts, so; a save that changes nothing, not.
    from tests.helpers import COORDINATOR
    coordinator = logged_in(demo.test_client(), COORDINATOR)
    form = sent_by_form(coordinator.get(url).get_data(as_text=True))
    form.pop("csrf_token")
    sent = {**form, "technical_officer_phone": "0912000999"}
    for _again in range(2):
        assert post_form(coordinator, url, sent).status_code == 302
        rows = audit_rows(client.get(LOG, query_string={"point": "06811"}).get_data(
            as_text=True))
        assert [row[2] for row in rows][:3] == ["Sửa thông tin điểm cầu"] * 2 + [
            "Gửi câu hỏi"]  # the demo's last entry at the point before these
        assert rows[0][5] == (
            f"Điện thoại cán bộ kỹ thuật: {form['technical_officer_phone'] or '—'} → "
            "0912000999")
