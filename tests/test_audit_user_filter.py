"""The log's user filter looks among the people in the log being read: a conference's
organisers learn nothing from it about accounts elsewhere on the installation."""
from __future__ import annotations

import io
import re
from datetime import date, datetime, timezone

from openpyxl import load_workbook
from sqlalchemy import select

from confmgr.accounts.models import User, conference_organisers
from confmgr.accounts.services import create_user
from confmgr.audit import listing
from confmgr.audit.models import AuditEntry
from confmgr.conferences.models import Conference
from confmgr.db import db
from confmgr.demo.loader import SLUG
from confmgr.enums import Role
from tests.helpers import ADMIN, ORGANISER, logged_in
from tests.test_audit import (
    CSV_HEADINGS,
    LOG,
    act_on_the_demo,
    audit_rows,
    csv_lines,
    entry_times,
    field_error,
)

OTHER_SLUG = "hoi-nghi-khac-2025"
OTHER_LOG = f"/manage/c/{OTHER_SLUG}/audit"
OTHER_ORGANISER = ("khac@example.org", "mat-khau-khac-2025")
OTHER_COORDINATOR = ("diemcau.halong@example.org", "mat-khau-diem-cau-2025")
OPENED = datetime(2025, 9, 1, 1, 0, tzinfo=timezone.utc)
CLOSED = datetime(2025, 9, 1, 9, 30, tzinfo=timezone.utc)
CHECKED = datetime(2025, 9, 1, 2, 15, tzinfo=timezone.utc)

KHAC = "Ban Tổ chức hội nghị khác | khac@example.org"
OPENED_ROW = ["08:00:00 01/09/2025", KHAC, "Thêm phiên", "", "", "Tiêu đề: Khai mạc"]
CLOSED_ROW = ["16:30:00 01/09/2025", KHAC, "Thêm phiên", "", "", "Tiêu đề: Bế mạc"]
CHECKED_ROW = ["09:15:00 01/09/2025", "Điểm cầu hội nghị khác | diemcau.halong@example.org",
               "Thêm phiên", "", "", "Tiêu đề: Thảo luận"]


DEMO_TITLE = ("Hội nghị toàn quốc tập huấn chuyên môn, nghiệp vụ liên quan đến công tác tổ "
              "chức xây dựng Đảng, quản lý nhà nước, tổ chức và hoạt động của MTTQ, đoàn thể "
              "chính trị ở cấp xã (mới)")


def without_tokens(page: str) -> str:
    """The page with its CSRF tokens blanked: each is signed with the second it was made."""
    return re.sub(r'(name="csrf_token"[^>]*value=")[^"]+', r"\1…", page)


def no_one(text: str) -> str:
    return ("Nhật ký của hội nghị này không có thao tác nào của người có email hoặc tên "
            f"chứa «{text}».")


def other_conference(app) -> None:
    """A second conference, its organiser, a coordinator, and their entries in its log; the
    demo conference's people (the admin, the coordinator of Quảng Ninh, the presenter) act
    in the demo conference only."""
    with app.app_context():
        other = Conference(slug=OTHER_SLUG, title="Hội nghị khác 2025",
                           first_day=date(2025, 9, 1), last_day=date(2025, 9, 1))
        db.session.add(other)
        organiser = create_user(*OTHER_ORGANISER, "Ban Tổ chức hội nghị khác", Role.ORGANISER)
        coordinator = create_user(*OTHER_COORDINATOR, "Điểm cầu hội nghị khác",
                                  Role.COORDINATOR)
        db.session.flush()
        db.session.execute(conference_organisers.insert().values(user_id=organiser.id,
                                                                  conference_id=other.id))
        demo_id = db.session.scalar(select(Conference.id).where(Conference.slug == SLUG))
        users = {user.email: user.id for user in db.session.scalars(select(User))}
        db.session.add_all([
            AuditEntry(at=OPENED, user_id=organiser.id, conference_id=other.id,
                       action="session.create", details={"title": "Khai mạc"}),
            AuditEntry(at=CLOSED, user_id=organiser.id, conference_id=other.id,
                       action="session.create", details={"title": "Bế mạc"}),
            AuditEntry(at=CHECKED, user_id=coordinator.id, conference_id=other.id,
                       action="session.create", details={"title": "Thảo luận"}),
            *(AuditEntry(at=OPENED, user_id=users[email], conference_id=demo_id,
                         action="session.create", details={"title": "Phiên mẫu"})
              for email in ("admin@example.org", "baocaovien@example.org")),
        ])
        db.session.commit()


def test_an_organiser_finds_only_the_people_of_their_conference_log(client, demo):
    other_conference(demo)
    act_on_the_demo(demo, demo.test_client())  # quangninh@ registers at Uông Bí
    logged_in(client, OTHER_ORGANISER)

    def page(user: str) -> str:
        response = client.get(OTHER_LOG, query_string={"user": user})
        assert response.status_code == 200
        return response.get_data(as_text=True)

    found = page("khac@")
    assert (audit_rows(found), field_error(found, "user")) == ([CLOSED_ROW, OPENED_ROW], "")
    found = page("điểm cầu")
    assert (audit_rows(found), field_error(found, "user")) == ([CHECKED_ROW], "")

    # Accounts that exist, but act only in another conference, answer as no one does.
    nobody = page("zzzz-nobody")
    assert (audit_rows(nobody), field_error(nobody, "user")) == ([], no_one("zzzz-nobody"))
    assert "Không có dòng nhật ký nào phù hợp." in nobody
    for text in ("admin@example.org", "quangninh@", "baocaovien"):
        elsewhere = page(text)
        assert (audit_rows(elsewhere), field_error(elsewhere, "user")) == ([], no_one(text))
        assert (without_tokens(elsewhere).replace(text, "…")
                == without_tokens(nobody).replace("zzzz-nobody", "…")), text

    # The exports resolve the filter in the same way.
    for kind in ("csv", "xlsx"):
        for text in ("quangninh@", "zzzz-nobody"):
            response = client.get(f"{OTHER_LOG}.{kind}", query_string={"user": text})
            assert (response.status_code, response.headers["Location"]) == (
                302, f"{OTHER_LOG}?user={text}")
    response = client.get(f"{OTHER_LOG}.csv", query_string={"user": "khac@"})
    assert csv_lines(response) == [
        CSV_HEADINGS,
        "01/09/2025 16:30:00,Ban Tổ chức hội nghị khác,khac@example.org,Thêm phiên,"
        "session.create,,,,Tiêu đề: Bế mạc",
        "01/09/2025 08:00:00,Ban Tổ chức hội nghị khác,khac@example.org,Thêm phiên,"
        "session.create,,,,Tiêu đề: Khai mạc",
        ""]
    response = client.get(f"{OTHER_LOG}.xlsx", query_string={"user": "điểm cầu"})
    assert [list(row) for row in load_workbook(io.BytesIO(response.data)).active.iter_rows(
        values_only=True)] == [
        CSV_HEADINGS.split(","),
        [datetime(2025, 9, 1, 9, 15), "Điểm cầu hội nghị khác", "diemcau.halong@example.org",
         "Thêm phiên", "session.create", None, None, None, "Tiêu đề: Thảo luận"]]

    # And the other way round: the demo's organiser finds their coordinator, not khac@.
    demo_organiser = logged_in(demo.test_client(), ORGANISER)
    [registered] = entry_times(demo, "participant.register")
    found = demo_organiser.get(LOG, query_string={"user": "quangninh@"}).get_data(as_text=True)
    assert [row[:3] for row in audit_rows(found)] == [
        [registered, "Điều phối điểm cầu Quảng Ninh | quangninh@example.org",
         "Đăng ký đại biểu"]]
    elsewhere = demo_organiser.get(LOG, query_string={"user": "khac@"}).get_data(as_text=True)
    assert (audit_rows(elsewhere), field_error(elsewhere, "user")) == ([], no_one("khac@"))


def test_the_admins_log_still_searches_every_account(demo):
    other_conference(demo)
    admin = logged_in(demo.test_client(), ADMIN)

    def rows(url: str, user: str) -> tuple[list[list[str]], str]:
        page = admin.get(url, query_string={"user": user}).get_data(as_text=True)
        return audit_rows(page), field_error(page, "user")

    assert rows("/manage/audit", "khac@") == ([
        [CLOSED_ROW[0], "Hội nghị khác 2025", *CLOSED_ROW[1:]],
        [OPENED_ROW[0], "Hội nghị khác 2025", *OPENED_ROW[1:]]], "")
    assert rows("/manage/audit", "baocaovien") == ([
        ["08:00:00 01/09/2025", DEMO_TITLE,
         "Lãnh đạo Ban Tổ chức Trung ương | baocaovien@example.org", "Thêm phiên", "", "",
         "Tiêu đề: Phiên mẫu"]], "")
    assert rows("/manage/audit", "zzzz-nobody") == (
        [], "Không có người dùng nào có email hoặc tên chứa «zzzz-nobody».")
    # A lone accent folds to nothing, which every account's text contains: it found all.
    assert rows("/manage/audit", "\u0301") == (
        [], "Không có người dùng nào có email hoặc tên chứa «\u0301».")
    # One conference's log, read by an admin, is still that conference's.
    assert rows(OTHER_LOG, "baocaovien") == ([], no_one("baocaovien"))


def test_too_loose_a_search_counts_the_people_of_this_log_only(client, demo, monkeypatch):
    other_conference(demo)
    # Six accounts have "example.org" in their email; two of them act in this log.
    logged_in(client, OTHER_ORGANISER)
    monkeypatch.setattr(listing, "MAX_MATCHING_USERS", 2)
    page = client.get(OTHER_LOG, query_string={"user": "example.org"}).get_data(as_text=True)
    assert (audit_rows(page), field_error(page, "user")) == (
        [CLOSED_ROW, CHECKED_ROW, OPENED_ROW], "")
    monkeypatch.setattr(listing, "MAX_MATCHING_USERS", 1)
    page = client.get(OTHER_LOG, query_string={"user": "example.org"}).get_data(as_text=True)
    assert (audit_rows(page), field_error(page, "user")) == ([], (
        "Hơn 1 người có thao tác trong nhật ký của hội nghị này có email hoặc tên chứa "
        "«example.org»; hãy gõ cụ thể hơn."))

    monkeypatch.setattr(listing, "MAX_MATCHING_USERS", 2)
    admin = logged_in(demo.test_client(), ADMIN)
    page = admin.get("/manage/audit", query_string={"user": "example.org"}).get_data(
        as_text=True)
    assert (audit_rows(page), field_error(page, "user")) == ([], (
        "Hơn 2 người dùng có email hoặc tên chứa «example.org»; hãy gõ cụ thể hơn."))
