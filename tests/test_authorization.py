"""Who may do what, over every route: one table of requests by role, each role on fresh demo data.

Every rule of the URL map, with every method it takes (but HEAD and OPTIONS), has rows in
``MATRIX``; a route without one fails ``test_every_route_has_a_row``. Each row is sent by each
of eight roles and its answer compared with the row's. Routes on a broadcast point are asked
on a point of coordinator A's subtree and on one of coordinator B's, so a coordinator is
seen reaching their own points and not the other's.
"""
from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import MethodNotAllowed, NotFound

from confmgr.accounts.models import User
from confmgr.accounts.services import create_user
from confmgr.api import tokens as api_tokens
from confmgr.attendance import codes
from confmgr.calendar import tokens as feed_tokens
from confmgr.conferences import materials
from confmgr.conferences.models import AgendaSession, Conference, Presenter, Topic
from confmgr.conferences.publishing import publish
from confmgr.db import db
from confmgr.demo.loader import DAY_1, SLUG
from confmgr.enums import FeedKind, RegistrationStatus, Role, SessionKind, TokenScope, Visibility
from confmgr.points.models import BroadcastPoint
from confmgr.questions.models import Question
from confmgr.roster.models import Category, Participant
from tests.conftest import csrf_token, login

#: The columns of the matrix, in order.
ROLES = ("anonymous", "delegate", "coordinator_a", "coordinator_b", "other_organiser",
         "organiser", "admin", "presenter")

OTHER_SLUG = "hoi-nghi-khac-2025"
PASSWORD = "mat-khau-kiem-thu-2025"
#: Who each signed-in role is. Coordinator A is the demo's (Quảng Ninh "22" and the points
#: below it); coordinator B gets Hà Nội "01" (and 00004, 00070 below it) in ``prepare``.
ACCOUNTS = {
    "coordinator_a": ("quangninh@example.org", "demo-quangninh-2025"),
    "coordinator_b": ("hanoi@example.org", PASSWORD),
    "other_organiser": ("khac@example.org", PASSWORD),
    "organiser": ("organiser@example.org", "demo-organiser-2025"),
    "admin": ("admin@example.org", "demo-admin-2025"),
    "presenter": ("baocaovien@example.org", "demo-baocaovien-2025"),
}
A_POINT, B_POINT = "06811", "00004"  # communes below "22" and below "01"
#: The same shape as a real secret, known to nobody: what a caller without one sends.
FORGED_FEED = "x" * 43
FORGED_CODE = "x" * 12

# ---------------------------------------------------------------- answers

LOGIN = "login"  # a redirect to the sign-in page
ALLOWED, DENIED = "allowed", "denied"


def answer_of(response) -> str:
    """The status code, or "login" for a redirect to the sign-in page."""
    if response.status_code in (301, 302, 303, 307, 308):
        if urlsplit(response.headers["Location"]).path == "/login":
            return LOGIN
    return str(response.status_code)


def kind_of(answer: str) -> str:
    """Allowed: a page, a file, a redirect elsewhere than the sign-in page, or a form error
    (400, 422). Denied: 401, 403, 404, or the sign-in page."""
    if answer in (ALLOWED, DENIED):
        return answer
    if answer in (LOGIN, "401", "403", "404"):
        return DENIED
    if answer[0] in "23" or answer in ("400", "422"):
        return ALLOWED
    return "error"


def matches(expected: str, answer: str) -> bool:
    """An exact answer ("403", "login"), alternatives ("200|302"), or "allowed"/"denied"
    where the exact answer is beside the point."""
    if expected in (ALLOWED, DENIED):
        return kind_of(answer) == expected
    return answer in expected.split("|")


# ---------------------------------------------------------------- the matrix


@dataclass(frozen=True)
class Row:
    method: str
    url: str  # a template: its {names} are filled from the demo data by ``places``
    expected: tuple[str, ...]  # one answer per role, in the order of ROLES
    body: dict | None = None  # form fields (JSON under /api/)


def row(method: str, url: str, answers: str, body: dict | None = None) -> Row:
    expected = tuple(answers.split())
    assert len(expected) == len(ROLES), f"{method} {url}: {len(expected)} answers"
    return Row(method, url, expected, body)


def on_both_points(method: str, url: str, allowed: str, body: dict | None = None,
                   organiser: str | None = None) -> list[Row]:
    """A point's route asked on A's point and on B's: allowed to that point's coordinator,
    the conference's organiser and the admin, refused to everyone else."""
    organiser = organiser or allowed
    on_a = f"login login {allowed} 403 403 {organiser} {organiser} 403"
    on_b = f"login login 403 {allowed} 403 {organiser} {organiser} 403"
    return [row(method, _on(url, "a"), on_a, body), row(method, _on(url, "b"), on_b, body)]


def _on(url: str, side: str) -> str:
    """The address on one side's point, with that point's delegates."""
    return (url.replace("{point}", "{%s}" % side).replace("{person}", "{%s_person}" % side)
            .replace("{withdrawn}", "{%s_person_2}" % side))


def organisers_only(method: str, url: str, allowed: str, body: dict | None = None) -> Row:
    return row(method, url, f"login login 403 403 403 {allowed} {allowed} 403", body)


C = "/manage/c/{slug}"
API = "/api/v1/conferences/{slug}"
EVERYONE = " ".join(["200"] * len(ROLES))
SIGNED_IN = "login login " + " ".join(["200"] * 6)

#: Reads are sent first, then the writes in the order below (so a write that spends
#: something, such as a withdrawal, a rotated secret or the logout, comes after everything
#: that needs it). The columns of each answer string:
#:   anonymous  delegate  coordinator_a  coordinator_b  other_organiser  organiser  admin
#:   presenter
MATRIX: list[Row] = [
    # ------------------------------------------------ public pages and feeds
    row("GET", "/", EVERYONE),
    row("GET", "/static/css/app.css", EVERYONE),
    row("GET", "/c/{slug}/", EVERYONE),
    # A restricted conference never published: its organisers see the draft, nobody else;
    # strangers are not even asked to sign in (that would tell them the address is taken).
    row("GET", "/c/{other_slug}/", "404 404 404 404 200 404 200 404"),
    row("GET", "/c/{slug}/agenda.ics", EVERYONE),
    row("GET", "/c/{slug}/days/%s.ics" % DAY_1.isoformat(), EVERYONE),
    row("GET", "/c/{slug}/sessions/{session_uid}.ics", EVERYONE),
    row("GET", "/c/{slug}/changelog", EVERYONE),
    row("GET", "/c/{slug}/changelog.atom", EVERYONE),
    row("GET", "/c/{slug}/print", EVERYONE),
    row("GET", "/c/{slug}/schedule.json", EVERYONE),
    row("GET", "/c/{slug}/schedule.xml", EVERYONE),
    row("GET", "/c/{slug}/materials/{material}", EVERYONE),
    # A material added after the last publication: the organisers' until published.
    row("GET", "/c/{slug}/materials/{draft_material}", "404 404 404 404 404 200 200 404"),
    row("GET", "/c/{slug}/questions", EVERYONE),
    row("GET", "/c/{slug}/questions.xlsx", EVERYONE),
    row("GET", "/c/{slug}/questions/print", EVERYONE),
    row("GET", "/c/{other_slug}/questions", "404 404 404 404 200 404 200 404"),
    row("GET", "/c/{slug}/my", SIGNED_IN),
    row("POST", "/c/{slug}/my/{session_uid}", "login login 302 302 302 302 302 302",
        {"chosen": "1"}),
    # Secret addresses: the secret is the key. The anonymous caller has none (it sends a
    # forged one); every other role holds the real one, as the delegate does.
    row("GET", "/feeds/{delegate_feed}.ics", "404 200 200 200 200 200 200 200"),
    row("GET", "/feeds/{point_feed}.ics", "404 200 200 200 200 200 200 200"),
    row("GET", f"/feeds/{FORGED_FEED}.ics", "404 404 404 404 404 404 404 404"),
    row("GET", "/q/{checkin_code}", "404 200 200 200 200 200 200 200"),
    row("GET", f"/q/{FORGED_CODE}", "404 404 404 404 404 404 404 404"),
    # Check-in is closed (the demo's sessions are past): every holder is sent back to the
    # code's page with the reason.
    row("POST", "/q/{checkin_code}", "404 302 302 302 302 302 302 302"),
    # Rotating a secret address: whoever may see its point, or the user who owns it.
    row("POST", "/feeds/{delegate_feed_id}/rotate", "login login 302 404 404 302 302 404"),
    row("POST", "/feeds/{b_point_feed_id}/rotate", "login login 404 302 404 302 302 404"),
    row("POST", "/feeds/{chosen_feed_id}/rotate", "login login 404 404 404 302 404 404"),
    row("POST", "/language", "302 302 302 302 302 302 302 302"),
    # ------------------------------------------------ accounts
    row("GET", "/login", "200 200 302 302 302 302 302 302"),
    row("POST", "/login", "200 200 302 302 302 302 302 302"),
    row("GET", "/setup", "404 404 404 404 404 404 404 404"),
    row("POST", "/setup", "404 404 404 404 404 404 404 404"),
    row("GET", "/account/tokens", SIGNED_IN),
    row("POST", "/account/tokens", SIGNED_IN),
    row("GET", "/account/password", SIGNED_IN),
    row("POST", "/account/password", SIGNED_IN),
    # Accounts are the admin's: here the other conference's organiser's account.
    row("GET", "/admin/users", "login login 403 403 403 403 200 403"),
    row("POST", "/admin/users/{other_user}/reset-password",
        "login login 403 403 403 403 200 403"),
    row("POST", "/admin/users/{other_user}/deactivate", "login login 403 403 403 403 302 403"),
    row("POST", "/admin/users/{other_user}/reactivate", "login login 403 403 403 403 302 403"),
    # The organiser's token: only its owner revokes it.
    row("POST", "/account/tokens/{api_token_id}/revoke", "login login 404 404 404 302 404 404"),
    # ------------------------------------------------ management: conferences and agenda
    row("GET", "/manage/", SIGNED_IN),
    organisers_only("GET", C + "/", "200"),
    row("GET", "/manage/c/{other_slug}/", "login login 403 403 200 403 200 403"),
    row("GET", "/manage/conferences/new", "login login 403 403 200 200 200 403"),
    row("POST", "/manage/conferences/new", "login login 403 403 200 200 200 403"),
    organisers_only("GET", C + "/edit", "200"),
    organisers_only("POST", C + "/edit", "200"),
    organisers_only("GET", C + "/agenda", "200"),
    row("GET", "/manage/c/{other_slug}/agenda", "login login 403 403 200 403 200 403"),
    organisers_only("GET", C + "/agenda/import", "200"),
    organisers_only("POST", C + "/agenda/import", "200"),
    organisers_only("POST", C + "/agenda/import/{preview_token}", "302"),
    organisers_only("GET", C + "/sessions/new", "200"),
    organisers_only("POST", C + "/sessions/new", "200"),
    organisers_only("GET", C + "/sessions/{session}/edit", "200"),
    organisers_only("POST", C + "/sessions/{session}/edit", "200"),
    organisers_only("GET", C + "/sessions/{session}/shift", "200"),
    organisers_only("POST", C + "/sessions/{session}/presenters/{presenter}/up", "302"),
    organisers_only("POST", C + "/sessions/{session}/shift", "200"),
    organisers_only("GET", C + "/topics", "200"),
    organisers_only("GET", C + "/topics/new", "200"),
    organisers_only("POST", C + "/topics/new", "200"),
    organisers_only("GET", C + "/topics/{topic}/edit", "200"),
    organisers_only("POST", C + "/topics/{topic}/edit", "302"),
    organisers_only("POST", C + "/topics/{topic}/materials/link", "200"),
    organisers_only("POST", C + "/topics/{topic}/materials/file", "200"),
    organisers_only("GET", C + "/presenters", "200"),
    organisers_only("GET", C + "/presenters/new", "200"),
    organisers_only("POST", C + "/presenters/new", "200"),
    organisers_only("GET", C + "/presenters/{presenter}/edit", "200"),
    organisers_only("POST", C + "/presenters/{presenter}/edit", "302"),
    organisers_only("POST", C + "/presenters/{presenter}/account", "200"),
    organisers_only("GET", C + "/rooms", "200"),
    organisers_only("POST", C + "/rooms", "200"),
    organisers_only("GET", C + "/publish", "200"),
    # The draft holds the unpublished material: publishing it succeeds.
    organisers_only("POST", C + "/publish", "302"),
    organisers_only("POST", C + "/materials/{draft_material}/remove", "302"),
    organisers_only("POST", C + "/sessions/{spare_session}/cancel", "302"),
    organisers_only("POST", C + "/sessions/{spare_session}/reinstate", "302"),
    organisers_only("POST", C + "/sessions/{spare_session}/delete", "302"),
    # Ids of the demo conference under the other conference's address: not found there.
    row("GET", "/manage/c/{other_slug}/sessions/{session}/edit",
        "login login 403 403 404 403 404 403"),
    row("GET", "/manage/c/{other_slug}/topics/{topic}/edit",
        "login login 403 403 404 403 404 403"),
    row("GET", "/c/{other_slug}/materials/{material}", "404 404 404 404 404 404 404 404"),
    row("POST", "/manage/c/{other_slug}/materials/{material}/remove",
        "login login 403 403 404 403 404 403"),
    # ------------------------------------------------ management: points
    row("GET", C + "/points", "login login 200 200 403 200 200 403"),
    # The other conference is restricted and has no point of either coordinator.
    row("GET", "/manage/c/{other_slug}/points", "login login 403 403 200 403 200 403"),
    organisers_only("GET", C + "/points/export.csv", "200"),
    organisers_only("GET", C + "/points/export.xlsx", "200"),
    organisers_only("GET", C + "/points/template.xlsx", "200"),
    organisers_only("GET", C + "/points/import", "200"),
    organisers_only("POST", C + "/points/import", "200"),
    organisers_only("GET", C + "/points/new", "200"),
    organisers_only("POST", C + "/points/new", "200"),
    organisers_only("GET", C + "/points/official", "200"),
    # "Communes of the chosen provinces" with none chosen: a form error, nothing created.
    organisers_only("POST", C + "/points/official", "200", {"scope": "communes"}),
    organisers_only("GET", C + "/connection-tests", "200"),
    organisers_only("POST", C + "/connection-tests", "200"),
    organisers_only("GET", C + "/coordinators", "200"),
    organisers_only("POST", C + "/coordinators", "200"),
    organisers_only("POST", C + "/coordinators/bulk", "200", {"code": "79"}),
    *on_both_points("GET", C + "/points/{point}", "200"),
    # A coordinator reaches down their tree, never up it.
    row("GET", C + "/points/22", "login login 200 403 403 200 200 403"),
    row("GET", C + "/points/TW", "login login 403 403 403 200 200 403"),
    *on_both_points("GET", C + "/points/{point}/edit", "200"),
    *on_both_points("POST", C + "/points/{point}/edit", "302"),
    *on_both_points("POST", C + "/points/{point}/connection-test", "302", {"status": "passed"}),
    *on_both_points("GET", C + "/points/{point}/questions", "200"),
    *on_both_points("POST", C + "/points/{point}/questions", "200"),
    # ------------------------------------------------ management: delegates
    organisers_only("GET", C + "/categories", "200"),
    organisers_only("POST", C + "/categories", "200"),
    organisers_only("GET", C + "/categories/{category}/edit", "200"),
    organisers_only("POST", C + "/categories/{category}/edit", "200"),
    organisers_only("GET", C + "/compliance", "200"),
    organisers_only("GET", C + "/delegates", "200"),
    *on_both_points("GET", C + "/points/{point}/delegates", "200"),
    *on_both_points("GET", C + "/points/{point}/delegates/new", "200"),
    *on_both_points("POST", C + "/points/{point}/delegates/new", "200"),
    *on_both_points("GET", C + "/points/{point}/delegates/{person}/edit", "200"),
    *on_both_points("POST", C + "/points/{point}/delegates/{person}/edit", "302"),
    # A delegate of B's point asked for under A's point: no such delegate there.
    row("GET", C + "/points/{a}/delegates/{b_person}/edit",
        "login login 404 403 403 404 404 403"),
    *on_both_points("GET", C + "/points/{point}/delegates/export.csv", "200"),
    *on_both_points("GET", C + "/points/{point}/delegates/export.xlsx", "200"),
    *on_both_points("GET", C + "/points/{point}/delegates/print", "200"),
    *on_both_points("GET", C + "/points/{point}/delegates/template.xlsx", "200"),
    *on_both_points("GET", C + "/points/{point}/delegates/import", "200"),
    *on_both_points("POST", C + "/points/{point}/delegates/import", "200"),
    *on_both_points("POST", C + "/points/{point}/delegates/import/{preview_token}", "302"),
    # Moving a delegate to another point is the organisers' act, not a coordinator's.
    *on_both_points("POST", C + "/points/{point}/delegates/{person}/move", "403",
                    organiser="302"),
    *on_both_points("POST", C + "/points/{point}/delegates/{withdrawn}/withdraw", "302"),
    # ------------------------------------------------ management: attendance
    row("GET", C + "/attendance?session={session}", "login login 200 200 403 200 200 403"),
    # Its agenda has no session yet, and these coordinators have no point in it.
    row("GET", "/manage/c/{other_slug}/attendance", "login login 403 403 200 403 200 403"),
    organisers_only("GET", C + "/attendance/participants.csv", "200"),
    organisers_only("GET", C + "/attendance/print?session={session}", "200"),
    organisers_only("GET", C + "/attendance/report.xlsx?session={session}", "200"),
    organisers_only("GET", C + "/attendance/report.csv?session={session}", "200"),
    *on_both_points("GET", C + "/points/{point}/attendance?session={session}", "200"),
    # An empty tap names nobody: 400, once the point is known to be the caller's.
    *on_both_points("POST", C + "/points/{point}/attendance/{session}", "400"),
    *on_both_points("POST", C + "/points/{point}/attendance/{session}/all-present", "302"),
    # The points take names, so a headcount is refused: back to the sheet of names.
    *on_both_points("POST", C + "/points/{point}/attendance/{session}/headcount", "302"),
    *on_both_points("GET", C + "/points/{point}/attendance/{session}/import", "200"),
    *on_both_points("POST", C + "/points/{point}/attendance/{session}/import", "200"),
    *on_both_points("POST", C + "/points/{point}/attendance/{session}/import/{preview_token}",
                    "302"),
    *on_both_points("GET", C + "/points/{point}/attendance/{session}/import/template.csv",
                    "200"),
    *on_both_points("GET", C + "/points/{point}/badges", "200"),
    # ------------------------------------------------ management: questions
    row("GET", C + "/questions", "login login 403 403 403 200 200 200"),
    organisers_only("GET", C + "/questions/counts", "200"),
    # A question on topic 1, which the presenter presents; one on topic 3, which they don't.
    row("GET", C + "/questions/{question}", "login login 403 403 403 200 200 200"),
    row("GET", C + "/questions/{other_question}", "login login 403 403 403 200 200 404"),
    row("POST", C + "/questions/{question}/answer", "login login 403 403 403 200 200 200"),
    row("POST", C + "/questions/{other_question}/answer",
        "login login 403 403 403 200 200 404"),
    # Rewording, assigning and publishing are the organisers'.
    organisers_only("POST", C + "/questions/{question}/edit", "200"),
    organisers_only("POST", C + "/questions/{question}/assign", "302"),
    organisers_only("POST", C + "/questions/{question}/publish", "302"),
    organisers_only("POST", C + "/questions/{question}/unpublish", "302"),
    row("POST", C + "/questions/{question}/merge", "login login 403 403 403 302 302 302"),
    row("POST", C + "/questions/{other_question}/merge",
        "login login 403 403 403 302 302 404"),
    row("POST", C + "/questions/{question}/split", "login login 403 403 403 302 302 302"),
    row("POST", C + "/questions/{other_question}/split", "login login 403 403 403 302 302 404"),
    row("POST", C + "/questions/bulk", "login login 403 403 403 302 302 302",
        {"action": "merge"}),
    row("POST", C + "/questions/bulk", "login login 403 403 403 302 302 403",
        {"action": "publish"}),
    # ------------------------------------------------ management: the audit log
    organisers_only("GET", C + "/audit", "200"),
    organisers_only("GET", C + "/audit.csv", "200"),
    organisers_only("GET", C + "/audit.xlsx", "200"),
    # Everyone's log, across conferences: the admin's alone.
    row("GET", "/manage/audit", "login login 403 403 403 403 200 403"),
    row("GET", "/manage/audit.csv", "login login 403 403 403 403 200 403"),
    row("GET", "/manage/audit.xlsx", "login login 403 403 403 403 200 403"),
    # ------------------------------------------------ the API (Bearer tokens, no session)
    row("GET", "/api/v1/openapi.json", EVERYONE),
    row("GET", "/api/v1/docs", EVERYONE),
    row("GET", "/api/v1/me", "401 401 200 200 200 200 200 200"),
    row("GET", "/api/v1/conferences", "401 401 200 200 200 200 200 200"),
    row("GET", API, "401 401 200 200 200 200 200 200"),
    row("GET", "/api/v1/conferences/{other_slug}", "401 401 404 404 200 404 200 404"),
    row("GET", API + "/sessions", "401 401 200 200 200 200 200 200"),
    row("GET", API + "/topics", "401 401 200 200 200 200 200 200"),
    row("GET", API + "/presenters", "401 401 200 200 200 200 200 200"),
    row("GET", API + "/categories", "401 401 200 200 403 200 200 403"),
    row("GET", API + "/points", "401 401 200 200 403 200 200 403"),
    row("GET", API + "/points/{a}", "401 401 200 404 404 200 200 404"),
    row("GET", API + "/points/{b}", "401 401 404 200 404 200 200 404"),
    row("GET", API + "/points/{a}/participants", "401 401 200 404 404 200 200 404"),
    row("GET", API + "/points/{b}/participants", "401 401 404 200 404 200 200 404"),
    row("GET", API + "/points/{a}/attendance?session_id={session}",
        "401 401 200 404 404 200 200 404"),
    row("GET", API + "/points/{b}/attendance?session_id={session}",
        "401 401 404 200 404 200 200 404"),
    row("GET", API + "/points/TW", "401 401 404 404 404 200 200 404"),
    row("GET", API + "/participants/{a_person}", "401 401 200 404 404 200 200 404"),
    row("GET", "/api/v1/conferences/{other_slug}/participants/{a_person}",
        "401 401 404 404 404 404 404 404"),
    row("GET", API + "/participants/{b_person}", "401 401 404 200 404 200 200 404"),
    row("GET", API + "/reports/sessions", "401 401 403 403 403 200 200 403"),
    row("GET", API + "/reports/sessions/{session}/provinces",
        "401 401 403 403 403 200 200 403"),
    row("GET", API + "/reports/sessions/{session}/points", "401 401 200 200 403 200 200 403"),
    row("POST", API + "/points/{a}/participants", "401 401 201 404 404 201 201 404",
        {"full_name": "Nguyễn Thị Mai"}),
    row("POST", API + "/points/{b}/participants", "401 401 404 201 404 201 201 404",
        {"full_name": "Nguyễn Thị Mai"}),
    row("PATCH", API + "/participants/{a_person}", "401 401 200 404 404 200 200 404",
        {"note": "Đã kiểm tra"}),
    row("PATCH", API + "/participants/{b_person}", "401 401 404 200 404 200 200 404",
        {"note": "Đã kiểm tra"}),
    # Coordinator B may send check-ins, but not of A's delegates: each one is refused.
    row("POST", API + "/checkins", "401 401 200 422 403 200 200 403",
        {"checkins": [{"id": "{uuid}", "participant_id": "{a_person}",
                       "session_id": "{session}"}]}),
    row("POST", API + "/checkins", "401 401 422 200 403 200 200 403",
        {"checkins": [{"id": "{uuid}", "participant_id": "{b_person}",
                       "session_id": "{session}"}]}),
    row("POST", API + "/participants/{a_person_3}/withdraw", "401 401 200 404 404 200 200 404"),
    row("POST", API + "/participants/{b_person_3}/withdraw", "401 401 404 200 404 200 200 404"),
    # ------------------------------------------------ last: signing out ends the session
    row("POST", "/logout", "login login 302 302 302 302 302 302"),
]


# ---------------------------------------------------------------- the demo data each row names


def prepare(app) -> dict[str, object]:
    """Add what the demo lacks (coordinator B, another conference and its organiser, secret
    feed addresses, check-in codes, materials, API tokens); return the values rows name."""
    with app.app_context():
        conference = db.session.scalar(select(Conference).where(Conference.slug == SLUG))
        points = {p.code: p for p in db.session.scalars(
            select(BroadcastPoint).where(BroadcastPoint.conference_id == conference.id))}
        organiser = user_by_email(ACCOUNTS["organiser"][0])

        hanoi = create_user(ACCOUNTS["coordinator_b"][0], PASSWORD, "Điều phối Hà Nội",
                            Role.COORDINATOR)
        hanoi.points.append(points["01"])
        other = create_user(ACCOUNTS["other_organiser"][0], PASSWORD, "Ban Tổ chức khác",
                            Role.ORGANISER)
        other.conferences.append(Conference(
            slug=OTHER_SLUG, title="Hội nghị khác", first_day=conference.first_day,
            last_day=conference.last_day, visibility=Visibility.RESTRICTED))

        def people(code: str) -> list[Participant]:
            return list(db.session.scalars(select(Participant).where(
                Participant.point_id == points[code].id,
                Participant.status == RegistrationStatus.REGISTERED).order_by(Participant.id)))

        a_people, b_people = people(A_POINT), people(B_POINT)
        delegate = a_people[0]
        delegate_feed = feed_tokens.active_token(FeedKind.DELEGATE, conference,
                                                 participant=delegate)
        point_feed = feed_tokens.active_token(FeedKind.POINT, conference,
                                              point=points[A_POINT])
        b_point_feed = feed_tokens.active_token(FeedKind.POINT, conference,
                                                point=points[B_POINT])
        chosen_feed = feed_tokens.active_token(FeedKind.CHOSEN, conference, user=organiser)
        codes.ensure_codes(points[A_POINT])

        topic = db.session.scalar(select(Topic).where(Topic.conference_id == conference.id,
                                                      Topic.number == "1"))
        material = materials.add_file(topic, "Tài liệu chuyên đề 1", FileStorage(
            io.BytesIO(b"%PDF-1.4 tai lieu"), filename="chuyen-de-1.pdf"))
        db.session.flush()
        publish(conference, organiser, "Thêm tài liệu chuyên đề 1.")
        draft_material = materials.add_file(topic, "Bản nháp", FileStorage(
            io.BytesIO(b"%PDF-1.4 ban nhap"), filename="ban-nhap.pdf"))

        sessions = list(db.session.scalars(select(AgendaSession).where(
            AgendaSession.conference_id == conference.id).order_by(AgendaSession.starts_at)))
        # A session with the demo's check-ins, and a break nothing else uses.
        checked_in = [s for s in sessions if s.kind != SessionKind.BREAK][1]
        # Its check-in closed an hour ago: devices that were offline may still send batches.
        # The live times too, as the organisers' rows publish the agenda again.
        ended = datetime.now(timezone.utc) - timedelta(hours=3)
        checked_in.starts_at = checked_in.published_starts_at = ended - timedelta(hours=1)
        checked_in.ends_at = checked_in.published_ends_at = ended
        spare = [s for s in sessions if s.kind == SessionKind.BREAK][-1]
        questions = list(db.session.scalars(select(Question).where(
            Question.conference_id == conference.id, Question.merged_into_id.is_(None))
            .order_by(Question.id)))
        on_topic = {q.topic.number if q.topic else None: q for q in reversed(questions)}
        presenter = db.session.scalar(select(Presenter).where(
            Presenter.conference_id == conference.id, Presenter.user_id.is_(None))
            .order_by(Presenter.id))

        bearers = {role: api_tokens.issue(user_by_email(email), "kiểm thử",
                                          TokenScope.WRITE)[1]
                   for role, (email, _password) in ACCOUNTS.items()}
        spare_token, _secret = api_tokens.issue(organiser, "thu hồi", TokenScope.READ)
        db.session.commit()
        return {
            "slug": SLUG, "other_slug": OTHER_SLUG, "a": A_POINT, "b": B_POINT,
            "a_person": a_people[0].id, "a_person_2": a_people[1].id,
            "a_person_3": a_people[2].id, "b_person": b_people[0].id,
            "b_person_2": b_people[1].id, "b_person_3": b_people[2].id,
            "session": checked_in.id, "session_uid": checked_in.uid, "spare_session": spare.id,
            "topic": topic.id, "material": material.id, "draft_material": draft_material.id,
            "presenter": presenter.id, "question": on_topic["1"].id,
            "category": db.session.scalar(select(Category.id).where(
                Category.conference_id == conference.id).order_by(Category.id)),
            "other_question": on_topic["3"].id, "api_token_id": spare_token.id,
            "other_user": other.id,
            "delegate_feed": delegate_feed.token, "point_feed": point_feed.token,
            "delegate_feed_id": delegate_feed.id, "b_point_feed_id": b_point_feed.id,
            "chosen_feed_id": chosen_feed.id, "checkin_code": delegate.checkin_code,
            # A well-formed preview token that names no kept upload.
            "preview_token": "a" * 24, "bearers": bearers,
        }


def user_by_email(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def places_for(role: str, prepared: dict[str, object]) -> dict[str, object]:
    """The values a role's requests carry: the anonymous caller holds no secret."""
    places = {k: v for k, v in prepared.items() if k != "bearers"}
    if role == "anonymous":
        places.update(delegate_feed=FORGED_FEED, point_feed=FORGED_FEED,
                      checkin_code=FORGED_CODE)
    return places


def filled(value, places: dict[str, object]):
    """A row's body with its {names} filled; a whole "{name}" keeps the value's type."""
    if isinstance(value, dict):
        return {k: filled(v, places) for k, v in value.items()}
    if isinstance(value, list):
        return [filled(v, places) for v in value]
    if value == "{uuid}":
        return str(uuid.uuid4())
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return places[value[1:-1]]
    return value


def send(client, row_: Row, places: dict[str, object], bearer: str | None, csrf: str):
    url = row_.url.format(**places)
    body = filled(row_.body or {}, places)
    if url.startswith("/api/"):
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        return client.open(url, method=row_.method, headers=headers,
                           json=body if row_.method != "GET" else None)
    if row_.method == "GET":
        return client.get(url)
    return client.open(url, method=row_.method, data={**body, "csrf_token": csrf})


def in_running_order(rows: list[Row]) -> list[Row]:
    """Reads first, then writes in the order listed."""
    return [r for r in rows if r.method == "GET"] + [r for r in rows if r.method != "GET"]


# ---------------------------------------------------------------- the tests


def test_every_route_has_a_row(app):
    """A route added without a row here fails; so does a row that matches no route."""
    adapter = app.url_map.bind("localhost")
    covered, stale = set(), []
    for r in MATRIX:
        path = urlsplit(r.url.format_map(_AnyValue())).path
        try:
            rule, _args = adapter.match(path, method=r.method, return_rule=True)
        except (NotFound, MethodNotAllowed):
            stale.append(f"{r.method} {r.url}")
            continue
        covered.add((rule.rule, r.method))
    routes = {(rule.rule, method) for rule in app.url_map.iter_rules()
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    missing = sorted(routes - covered)
    assert (missing, stale) == ([], []), (
        "routes without a row in MATRIX:\n" + "\n".join(f"  {m} {r}" for r, m in missing)
        + "\nrows that match no route:\n" + "\n".join(f"  {s}" for s in stale))


class _AnyValue(dict):
    """Fills every {name} of a row's address with a value any converter accepts."""

    def __missing__(self, key: str) -> str:
        return {"slug": SLUG, "other_slug": OTHER_SLUG}.get(key, "1")


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_what_the_matrix_says(demo, client, role):
    prepared = prepare(demo)
    places = places_for(role, prepared)
    if role in ACCOUNTS:
        assert login(client, *ACCOUNTS[role]).status_code == 302, f"{role} cannot sign in"
    csrf = csrf_token(client)
    bearer = prepared["bearers"].get(role)
    column = ROLES.index(role)
    adapter = demo.url_map.bind("localhost")
    mismatches = []
    for r in in_running_order(MATRIX):
        got = answer_of(send(client, r, places, bearer, csrf))
        expected = r.expected[column]
        if not matches(expected, got):
            endpoint, _args = adapter.match(urlsplit(r.url.format(**places)).path, r.method)
            mismatches.append(
                f"  {r.method} {r.url}{f' {r.body}' if r.body else ''} [{endpoint}]\n"
                f"      {role}: expected {expected} ({kind_of(expected)}), "
                f"got {got} ({kind_of(got)})")
    assert not mismatches, (f"{len(mismatches)} answers differ from the matrix for {role}:\n"
                            + "\n".join(mismatches))


def test_every_form_post_without_its_csrf_token_is_refused(demo, client):
    """The rows' writes succeed above only because they carry the session's CSRF token."""
    places = places_for("organiser", prepare(demo))
    login(client, *ACCOUNTS["organiser"])
    answers = {}
    for r in MATRIX:
        if r.method != "GET" and not r.url.startswith("/api/"):
            url = r.url.format(**places)
            answers[f"{r.method} {r.url}"] = answer_of(
                client.open(url, method=r.method, data=filled(r.body or {}, places)))
    assert {k: v for k, v in answers.items() if v != "400"} == {}
