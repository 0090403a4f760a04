"""The demo conference: what it loads, and that loading it again changes nothing."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select, text

from confmgr.accounts.models import User
from confmgr.attendance.models import Attendance
from confmgr.conferences.models import AgendaSession, AgendaVersion, Conference, Topic
from confmgr.db import db
from confmgr.demo.loader import DEMO_ACCOUNTS, SLUG, load_demo
from confmgr.enums import ConferenceStatus, Role, SessionKind
from confmgr.points.models import BroadcastPoint
from confmgr.roster.models import Category, Participant


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def table_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(text(f"SELECT count(*) FROM {table.name}"))
        for table in db.metadata.sorted_tables
    }


def test_demo_loads_the_source_documents_conference(ctx):
    assert load_demo() is True
    conference = db.session.scalar(select(Conference).where(Conference.slug == SLUG))
    assert conference.organising_unit == "Học viện Chính trị quốc gia Hồ Chí Minh"
    assert (conference.first_day.isoformat(), conference.last_day.isoformat()) == (
        "2025-06-14", "2025-06-15",
    )
    assert conference.status == ConferenceStatus.PUBLISHED
    versions = list(db.session.scalars(select(AgendaVersion)))
    assert [(v.number, len(v.snapshot["sessions"])) for v in versions] == [(1, 16)]
    assert conference.timezone == "Asia/Ho_Chi_Minh"
    assert count(AgendaSession) == 16
    assert count(Topic) == 7
    assert count(BroadcastPoint) == 11
    assert count(Category) == 6
    assert count(Participant) == 305
    # Four sessions of day 1 carry check-ins for every delegate.
    assert count(Attendance) == 4 * 305

    opening = db.session.scalar(
        select(AgendaSession).where(AgendaSession.kind == SessionKind.OPENING)
    )
    assert opening.title == "Phát biểu khai mạc hội nghị"
    assert opening.starts_at == datetime(2025, 6, 14, 1, 0, tzinfo=timezone.utc)  # 08:00 +07
    assert [p.name for p in opening.presenters] == ["Nguyễn Xuân Thắng"]
    directive = db.session.scalar(
        select(AgendaSession).where(AgendaSession.kind == SessionKind.DIRECTIVE)
    )
    assert [p.name for p in directive.presenters] == ["Phạm Minh Chính"]
    topic_3 = db.session.scalar(select(Topic).where(Topic.number == "3"))
    assert topic_3.title == "Những điểm mới cơ bản trong công tác kiểm tra, giám sát của Đảng"


def test_uong_bi_sits_under_quang_ninh(ctx):
    load_demo()
    uong_bi = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "06811"))
    assert uong_bi.name == "Điểm cầu Uông Bí"
    assert uong_bi.parent.code == "22"
    assert uong_bi.parent.chair_name == "Vũ Đại Thắng"
    assert uong_bi.chair_name == "Mai Vũ Tuấn"
    assert uong_bi.parent.parent.code == "TW"
    assert [child.code for child in uong_bi.parent.children] == ["06688", "06793", "06811"]


def test_demo_accounts_and_their_grants(ctx):
    load_demo()
    users = {u.email: u for u in db.session.scalars(select(User))}
    assert set(users) == {account.email for account in DEMO_ACCOUNTS}
    for account in DEMO_ACCOUNTS:
        assert users[account.email].role == account.role
        assert users[account.email].check_password(account.password)
    organiser = users["organiser@example.org"]
    assert [c.slug for c in organiser.conferences] == [SLUG]
    coordinator = users["quangninh@example.org"]
    assert coordinator.role == Role.COORDINATOR
    assert [p.code for p in coordinator.points] == ["22"]


def test_loading_twice_changes_nothing(ctx):
    load_demo()
    before = table_counts()
    titles = list(db.session.scalars(select(AgendaSession.title).order_by(AgendaSession.id)))
    assert load_demo() is False
    assert table_counts() == before
    assert list(
        db.session.scalars(select(AgendaSession.title).order_by(AgendaSession.id))
    ) == titles


def test_demo_command_prints_the_accounts_and_is_idempotent(app, runner):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "Loaded the demo conference." in first.output
    assert "organiser@example.org  password: demo-organiser-2025" in first.output
    assert "quangninh@example.org  password: demo-quangninh-2025" in first.output
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0
    assert "already loaded" in second.output
    with app.app_context():
        assert count(Conference) == 1
