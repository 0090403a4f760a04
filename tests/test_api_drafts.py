"""The API shows what is being edited only to those who edit it: organisers of the
conference and admins. Everyone else reads the latest published version, as on the
public pages."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from confmgr.accounts.models import User
from confmgr.conferences.editing import ConferenceFields, create_conference
from confmgr.conferences.models import AgendaSession, Conference, Presenter
from confmgr.conferences.publishing import publish
from confmgr.db import db
from confmgr.demo.loader import SLUG
from confmgr.points.models import BroadcastPoint
from tests.helpers import ADMIN, COORDINATOR, ORGANISER, bearer

API = "/api/v1"
CONF = f"{API}/conferences/{SLUG}"
PRESENTER_EMAIL = "baocaovien@example.org"
OTHER_ORGANISER = "khac@example.org"
CALLERS = ("admin", "organiser", "other_organiser", "coordinator", "presenter")

DRAFT_TITLE = "TIEU-DE-NHAP chua cong bo"
PUBLISHED_TITLE = ("Hội nghị toàn quốc tập huấn chuyên môn, nghiệp vụ liên quan đến công tác "
                   "tổ chức xây dựng Đảng, quản lý nhà nước, tổ chức và hoạt động của MTTQ, "
                   "đoàn thể chính trị ở cấp xã (mới)")


def demo_conference(conference_id: int, *, title: str, last_day: str,
                    agenda_version: int) -> dict:
    return {"id": conference_id, "slug": SLUG, "title": title,
            "organising_unit": "Học viện Chính trị quốc gia Hồ Chí Minh",
            "timezone": "Asia/Ho_Chi_Minh", "first_day": "2025-06-14", "last_day": last_day,
            "status": "published", "visibility": "public", "agenda_version": agenda_version}


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def conference_by_slug(slug: str) -> Conference:
    return db.session.scalar(select(Conference).where(Conference.slug == slug))


@pytest.fixture
def callers(demo) -> dict[str, dict]:
    """A token for each kind of caller; the other organiser organises a conference of
    their own, never published."""
    with demo.app_context():
        db.session.add(User(email=OTHER_ORGANISER, password_hash="x",
                            display_name="Ban Tổ chức khác", role="organiser"))
        db.session.flush()
        create_conference(ConferenceFields(
            slug="hn-khac", title="Hội nghị khác", organising_unit="Sở Nội vụ",
            description="", timezone="Asia/Ho_Chi_Minh", first_day=date(2026, 3, 2),
            last_day=date(2026, 3, 3)), user(OTHER_ORGANISER))
        db.session.commit()
    emails = {"admin": ADMIN[0], "organiser": ORGANISER[0],
              "other_organiser": OTHER_ORGANISER, "coordinator": COORDINATOR[0],
              "presenter": PRESENTER_EMAIL}
    return {kind: bearer(demo, email) for kind, email in emails.items()}


def edit_demo_without_publishing(app) -> int:
    """What the reviewer did: a new title and a later last day, not published."""
    with app.app_context():
        conference = conference_by_slug(SLUG)
        conference.title = DRAFT_TITLE
        conference.last_day = date(2025, 6, 16)
        db.session.commit()
        return conference.id


def test_a_draft_title_and_last_day_are_seen_only_by_those_who_manage_the_conference(
        demo, client, callers):
    conference_id = edit_demo_without_publishing(demo)
    live = demo_conference(conference_id, title=DRAFT_TITLE, last_day="2025-06-16",
                           agenda_version=1)
    published = demo_conference(conference_id, title=PUBLISHED_TITLE, last_day="2025-06-15",
                                agenda_version=1)
    got = {kind: client.get(CONF, headers=callers[kind]).get_json() for kind in CALLERS}
    assert got == {"admin": live, "organiser": live, "other_organiser": published,
                   "coordinator": published, "presenter": published}
    # The public agenda page agrees with what non-organisers read.
    page = client.get(f"/c/{SLUG}/").get_data(as_text=True)
    assert DRAFT_TITLE not in page

    with demo.app_context():
        publish(conference_by_slug(SLUG), user(ORGANISER[0]))
        db.session.commit()
    now_published = demo_conference(conference_id, title=DRAFT_TITLE, last_day="2025-06-16",
                                    agenda_version=2)
    got = {kind: client.get(CONF, headers=callers[kind]).get_json() for kind in CALLERS}
    assert got == dict.fromkeys(CALLERS, now_published)


def test_the_conference_list_shows_drafts_only_to_those_who_manage_them(
        demo, client, callers):
    conference_id = edit_demo_without_publishing(demo)
    with demo.app_context():
        other_id = conference_by_slug("hn-khac").id
    live = demo_conference(conference_id, title=DRAFT_TITLE, last_day="2025-06-16",
                           agenda_version=1)
    published = demo_conference(conference_id, title=PUBLISHED_TITLE, last_day="2025-06-15",
                                agenda_version=1)
    other = {"id": other_id, "slug": "hn-khac", "title": "Hội nghị khác",
             "organising_unit": "Sở Nội vụ", "timezone": "Asia/Ho_Chi_Minh",
             "first_day": "2026-03-02", "last_day": "2026-03-03", "status": "draft",
             "visibility": "public", "agenda_version": None}
    got = {kind: client.get(f"{API}/conferences", headers=callers[kind]).get_json()
           for kind in CALLERS}
    assert got == {
        "admin": {"items": [live, other], "next": None},
        "organiser": {"items": [live], "next": None},
        "other_organiser": {"items": [other], "next": None},
        "coordinator": {"items": [published], "next": None},
        "presenter": {"items": [published], "next": None},
    }


def test_a_conference_never_published_is_not_shown_to_those_who_only_take_part(
        demo, client, callers):
    """The public pages answer 404 before the first publication; so does the API to its
    coordinators and presenters, who still reach its points."""
    with demo.app_context():
        organiser = user(ORGANISER[0])
        draft = create_conference(ConferenceFields(
            slug="hn-nhap", title="Hội nghị chưa công bố", organising_unit="Ban Tổ chức",
            description="", timezone="Asia/Ho_Chi_Minh", first_day=date(2026, 12, 1),
            last_day=date(2026, 12, 1)), organiser)
        point = BroadcastPoint(conference_id=draft.id, code="N1", name="Điểm cầu N1",
                               level="province")
        db.session.add(point)
        coordinator = user(COORDINATOR[0])
        coordinator.points.append(point)
        db.session.add(Presenter(conference_id=draft.id, name="Báo cáo viên",
                                 user_id=user(PRESENTER_EMAIL).id))
        db.session.commit()
        draft_id, demo_id = draft.id, conference_by_slug(SLUG).id
    address = f"{API}/conferences/hn-nhap"
    assert client.get("/c/hn-nhap/").status_code == 404
    for kind in ("coordinator", "presenter"):
        response = client.get(address, headers=callers[kind])
        assert (response.status_code, response.get_json()["detail"]) == (
            404, "Chương trình hội nghị chưa được công bố.")
        listed = client.get(f"{API}/conferences", headers=callers[kind]).get_json()
        assert [c["slug"] for c in listed["items"]] == [SLUG]
    # Someone else's organiser does not learn that it exists.
    response = client.get(address, headers=callers["other_organiser"])
    assert (response.status_code, response.get_json()["detail"]) == (
        404, "Không có hội nghị «hn-nhap».")
    assert client.get(f"{address}/points", headers=callers["coordinator"]).get_json()[
        "items"][0]["code"] == "N1"
    draft_out = {"id": draft_id, "slug": "hn-nhap", "title": "Hội nghị chưa công bố",
                 "organising_unit": "Ban Tổ chức", "timezone": "Asia/Ho_Chi_Minh",
                 "first_day": "2026-12-01", "last_day": "2026-12-01", "status": "draft",
                 "visibility": "public", "agenda_version": None}
    for kind in ("admin", "organiser"):
        assert client.get(address, headers=callers[kind]).get_json() == draft_out
    listed = client.get(f"{API}/conferences?limit=1", headers=callers["coordinator"])
    assert listed.get_json()["next"] is None
    assert [c["id"] for c in listed.get_json()["items"]] == [demo_id]


def test_the_list_of_published_conferences_follows_pages_and_each_latest_version(
        demo, client, callers):
    with demo.app_context():
        organiser = user(ORGANISER[0])
        second = create_conference(ConferenceFields(
            slug="hn-hai", title="Hội nghị hai", organising_unit="Ban Tổ chức",
            description="", timezone="Asia/Ho_Chi_Minh", first_day=date(2026, 12, 1),
            last_day=date(2026, 12, 1)), organiser)
        db.session.add(Presenter(conference_id=second.id, name="Báo cáo viên",
                                 user_id=user(PRESENTER_EMAIL).id))
        publish(second, organiser)
        second.title = "Hội nghị hai, tên mới"
        publish(second, organiser)
        second.title = "Hội nghị hai, tên nháp"
        db.session.commit()
        second_id = second.id
    first = client.get(f"{API}/conferences?limit=1", headers=callers["presenter"]).get_json()
    assert [c["title"] for c in first["items"]] == [PUBLISHED_TITLE]
    rest = client.get(first["next"], headers=callers["presenter"]).get_json()
    assert rest == {"next": None, "items": [{
        "id": second_id, "slug": "hn-hai", "title": "Hội nghị hai, tên mới",
        "organising_unit": "Ban Tổ chức", "timezone": "Asia/Ho_Chi_Minh",
        "first_day": "2026-12-01", "last_day": "2026-12-01", "status": "published",
        "visibility": "public", "agenda_version": 2}]}


def test_sessions_and_topics_are_the_published_ones_for_every_caller(demo, client, callers):
    before = {kind: (client.get(f"{CONF}/sessions", headers=callers[kind]).get_json(),
                     client.get(f"{CONF}/topics", headers=callers[kind]).get_json())
              for kind in CALLERS}
    with demo.app_context():
        first = db.session.scalar(select(AgendaSession).where(AgendaSession.topic_id.is_not(None))
                                  .order_by(AgendaSession.starts_at))
        published = (first.id, first.title, first.topic.number, first.topic.title)
        first.title = "PHIEN-NHAP"
        first.topic.title = "CHUYEN-DE-NHAP"
        db.session.commit()
    for kind in CALLERS:
        sessions = client.get(f"{CONF}/sessions", headers=callers[kind]).get_json()
        topics = client.get(f"{CONF}/topics", headers=callers[kind]).get_json()
        assert (sessions, topics) == before[kind]
        shown = next(s for s in sessions["items"] if s["id"] == published[0])
        topic = next(t for t in topics["items"] if t["number"] == published[2])
        assert (shown["title"], shown["topic"]["title"], topic["title"]) == (
            published[1], published[3], published[3])
