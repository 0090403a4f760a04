"""Badges with personal check-in codes, and what scanning one does."""
from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, get_locale, gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from confmgr.accounts.permissions import can_view_point
from confmgr.attendance import checkin, codes, reports
from confmgr.calendar.subscribe import qr_svg
from confmgr.conferences import publishing
from confmgr.conferences.models import Conference
from confmgr.conferences.scheduling import Problem
from confmgr.db import db, utcnow
from confmgr.enums import AttendanceStatus, CheckInMethod, RegistrationStatus
from confmgr.points.models import BroadcastPoint
from confmgr.roster.models import Participant
from confmgr.web import commit_or_flash, point_in_reach

bp = Blueprint("checkin_codes", __name__)


@bp.get("/manage/c/<slug>/points/<code>/badges")
@login_required
def badges(slug: str, code: str):
    """A printable sheet of badges, each with the delegate's check-in QR code.

    The badges are in Vietnamese, for the delegates who wear them, whatever language the
    coordinator reads; why there are none is said in the coordinator's."""
    conference, point = point_in_reach(slug, code)
    people = []
    if point.headcount_only:  # nobody there is checked in by name
        no_badges = _("Điểm cầu này báo cáo số lượng, không điểm danh theo tên: không có "
                      "thẻ điểm danh.")
    else:
        codes.ensure_codes(point)
        db.session.commit()
        people = db.session.scalars(select(Participant).where(
            Participant.point_id == point.id,
            Participant.status == RegistrationStatus.REGISTERED,
        ).order_by(Participant.name_key, Participant.id)).all()
        no_badges = _("Điểm cầu chưa đăng ký đại biểu nào.")
    cards = [(p, qr_svg(url_for("checkin_codes.scan", code=p.checkin_code, _external=True)))
             for p in people]
    reader = str(get_locale())
    with force_locale("vi"):
        return render_template("attendance/badges.html", conference=conference, point=point,
                               title=_title(conference, staff=True), badges=cards,
                               no_badges=no_badges, reader_lang=reader)


def _scanned(code: str):
    person = codes.participant_by_code(code)
    if person is None:
        abort(404)
    point = db.session.get(BroadcastPoint, person.point_id)
    conference = db.session.get(Conference, person.conference_id)
    # The coordinator's phone at the door, or the delegate's own.
    staff = current_user.is_authenticated and can_view_point(current_user, point)
    session = checkin.current_session(conference, reports.attended_sessions(conference),
                                      utcnow())
    problems = (checkin.session_problems(conference, session, utcnow(), to_delegate=not staff)
                if session else [Problem("", _("Hội nghị chưa có phiên nào để điểm danh."))])
    # A point moved to reporting numbers after its badges were printed.
    problems += checkin.counts_only(point)
    if current_user.is_authenticated and not staff:
        # Another point's coordinator (or any other account): neither the delegate's own
        # tap nor a check-in in this account's name.
        problems.append(Problem("", _(
            "Đại biểu này thuộc điểm cầu «%(point)s», ngoài phạm vi tài khoản của bạn; đại "
            "biểu tự điểm danh bằng điện thoại của mình, không cần đăng nhập.",
            point=point.name)))
    return person, point, conference, session, problems, staff


def _name(person: Participant, staff: bool) -> str:
    """The delegate as a scan names them: in full to their point's staff; to whoever else
    holds the code (a badge left on a table), the given name only."""
    return person.full_name if staff else person.full_name.split()[-1]


def _title(conference: Conference, staff: bool) -> str:
    """The conference's title as published; before the first publication only its staff
    see the draft's."""
    published = publishing.published_title(conference)
    if published is not None:
        return published
    return conference.title if staff else ""


@bp.get("/q/<code>")
def scan(code: str):
    person, point, conference, session, problems, staff = _scanned(code)
    recorded = checkin.recorded(session, person.id) if session else None
    # The delegate's own phone offers the tap until something is recorded; the
    # coordinator's, until the delegate is present and confirmed (their POST sets present
    # over a self check-in or any other status).
    confirmed = recorded is not None and (recorded.status == AttendanceStatus.PRESENT
                                          and recorded.method != CheckInMethod.SELF)
    offer = not problems and (recorded is None or (staff and not confirmed))
    response = make_response(render_template(
        "attendance/scan.html", name=_name(person, staff), point=point, conference=conference,
        title=_title(conference, staff), session=session, problems=problems, staff=staff,
        recorded=recorded, offer=offer, code=code))
    # Signed in or not, the page names a delegate and their attendance: a commune hall's
    # shared phone or a proxy must not keep it (security.add_security_headers does so only
    # for signed-in pages).
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/q/<code>")
def confirm_scan(code: str):
    person, point, conference, session, problems, staff = _scanned(code)
    if problems:
        for problem in problems:
            flash(problem.message, "danger")
        return redirect(url_for("checkin_codes.scan", code=code))
    if request.form.get("session") != str(session.id):
        # The page was opened for a session that has ended since (a phone left in a
        # pocket): the tap meant that one, not the session running now.
        flash(_("Phiên đang điểm danh bây giờ là «%(title)s»; nếu có mặt, hãy bấm lại.",
                title=session.attendance_title), "warning")
        return redirect(url_for("checkin_codes.scan", code=code))
    method = CheckInMethod.QR if staff else CheckInMethod.SELF
    # A delegate scanning their own code cannot undo what the coordinator recorded (late,
    # excused, absent); the coordinator's phone sets present whatever was there.
    done, outcome = commit_or_flash(lambda: checkin.record(
        session, point, person.id, AttendanceStatus.PRESENT,
        user_id=current_user.id if current_user.is_authenticated else None, method=method,
        keep_existing=not staff))
    if done and outcome.new != AttendanceStatus.PRESENT:
        flash(_("%(name)s đã được điểm danh ở phiên «%(title)s»; hãy báo điều phối viên "
                "nếu cần sửa.", name=_name(person, staff), title=session.attendance_title),
              "warning")
    elif done:
        flash(_("%(name)s: có mặt tại phiên «%(title)s».", name=_name(person, staff),
                title=session.attendance_title), "success")
    return redirect(url_for("checkin_codes.scan", code=code))
