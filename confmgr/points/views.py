"""Pages for broadcast points: the national list, import and export, coordinators, tests."""
from __future__ import annotations

from datetime import datetime

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
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from confmgr.accounts import coordinators
from confmgr.accounts.permissions import can_view_point, coordinated_point_ids, manages_conference
from confmgr.accounts.services import AccountError
from confmgr.calendar.subscribe import private_subscription
from confmgr.conferences import services as conferences
from confmgr.conferences.editing import RuleBroken
from confmgr.conferences.models import Conference
from confmgr.conferences.publishing import published_title
from confmgr.db import db
from confmgr.enums import ConnectionTestStatus, FeedKind, Role
from confmgr.i18n import counted
from confmgr.points import connection, importing, listing, official
from confmgr.points import services as points
from confmgr.points.forms import (
    CoordinatorForm,
    OfficialPointsForm,
    PointForm,
    SlotForm,
    TestResultForm,
    UploadForm,
)
from confmgr.points.models import BroadcastPoint
from confmgr.roster.models import Participant
from confmgr.roster.services import roster
from confmgr.spreadsheets import (
    TableError,
    csv_response,
    read_table,
    template_headings,
    unread_message,
    xlsx_response,
)
from confmgr.text import normalise
from confmgr.web import (
    commit_or_show,
    login_taken_meanwhile,
    point_in_reach,
    province_asked,
    show_problems,
    ticked,
)

bp = Blueprint("points", __name__, url_prefix="/manage/c/<slug>")

IMPORT_MAX_ROWS = 40_000
IMPORT_MAX_BYTES = 10 * 1024 * 1024


def conference_for_organiser(slug: str) -> Conference:
    conference = conferences.conference_by_slug(slug)
    if not manages_conference(current_user, conference):
        abort(403)
    return conference


def visible_within(conference: Conference):
    """None for organisers (every point); a coordinator's own subtree otherwise."""
    if manages_conference(current_user, conference):
        return None
    if current_user.role == Role.COORDINATOR:
        within = coordinated_point_ids(current_user, conference.id)
        # A coordinator of no point here gets no page here (a restricted conference's
        # title included).
        if db.session.scalar(within.limit(1)) is None:
            abort(403)
        return within
    abort(403)


# ---------------------------------------------------------------- the list


@bp.get("/points")
@login_required
def index(slug: str):
    conference = conferences.conference_by_slug(slug)
    within = visible_within(conference)
    query = listing.PointQuery.from_args(request.args, province=province_asked())
    page = listing.find_points(conference.id, query, within)
    return render_template(
        "points/index.html", conference=conference, page=page, query=query,
        provinces=listing.province_choices(), organiser=within is None,
    )


@bp.get("/points/export.<any(csv, xlsx):kind>")
@login_required
def export(slug: str, kind: str):
    conference = conference_for_organiser(slug)
    query = listing.PointQuery.from_args(request.args, province=province_asked(for_file=True))
    rows = db.session.scalars(listing.filtered(conference.id, query)
                              .order_by(BroadcastPoint.code)).all()
    parents = dict(db.session.execute(
        select(BroadcastPoint.id, BroadcastPoint.code)
        .where(BroadcastPoint.conference_id == conference.id)
    ).all())
    data = importing.export_rows(rows, parents)
    name = f"diem-cau-{conference.slug}.{kind}"
    if kind == "csv":
        return csv_response(name, importing.EXPORT_HEADINGS, data)
    return xlsx_response(name, "Điểm cầu", importing.EXPORT_HEADINGS, data)


@bp.get("/points/template.xlsx")
@login_required
def template(slug: str):
    conference_for_organiser(slug)
    return xlsx_response("mau-diem-cau.xlsx", "Điểm cầu",
                         template_headings(importing.COLUMNS), [])


# ---------------------------------------------------------------- creating points


@bp.route("/points/official", methods=["GET", "POST"])
@login_required
def create_official(slug: str):
    conference = conference_for_organiser(slug)
    form = OfficialPointsForm()
    form.provinces.choices = [
        SelectChoice(p.code, f"{p.code} – {p.name}") for p in official.provinces().values()
    ]
    if form.validate_on_submit():
        if form.scope.data == "communes" and not form.provinces.data:
            form.provinces.errors = [_("Hãy chọn ít nhất một tỉnh.")]
        else:
            created = official.create_official_points(
                conference,
                communes_of=form.provinces.data if form.scope.data == "communes" else None,
                all_communes=form.scope.data == "everything",
            )
            db.session.commit()
            flash(_("Đã thêm %(provinces)d điểm cầu tỉnh và %(communes)d điểm cầu xã; các điểm "
                    "cầu đã có được giữ nguyên.", provinces=created.provinces,
                    communes=created.communes), "success")
            if created.blocked:
                flash(_("Chưa tạo điểm cầu cho %(provinces)s và các xã, phường ở đó: mã tỉnh "
                        "đã là mã của một điểm cầu không phải cấp tỉnh. Hãy thêm điểm cầu tỉnh "
                        "với mã khác, mã đơn vị hành chính là mã tỉnh, rồi tạo lại.",
                        provinces=", ".join(created.blocked)), "warning")
            return redirect(url_for("points.index", slug=slug))
    return render_template("points/official.html", conference=conference, form=form)


@bp.route("/points/import", methods=["GET", "POST"])
@login_required
def import_file(slug: str):
    conference = conference_for_organiser(slug)
    form = UploadForm()
    errors = []
    if form.validate_on_submit():
        upload = form.file.data
        try:
            rows = read_table(upload.read(), upload.filename or "", importing.COLUMNS,
                              max_rows=IMPORT_MAX_ROWS, max_bytes=IMPORT_MAX_BYTES)
            added, updated = importing.import_file(conference, rows)
            db.session.commit()
        except TableError as problem:
            db.session.rollback()
            errors = problem.errors
        else:
            flash(_("Đã nhập: %(added)d điểm cầu mới, %(updated)d điểm cầu cập nhật.",
                    added=added, updated=updated), "success")
            unread = unread_message(rows.unread(importing.EXPORT_ONLY_HEADINGS))
            if unread:
                flash(unread, "warning")
            return redirect(url_for("points.index", slug=slug))
    return render_template("points/import.html", conference=conference, form=form,
                           errors=errors, example=[(c.heading, importing.EXAMPLE.get(c.field, ""))
                                                   for c in importing.COLUMNS])


@bp.route("/points/new", methods=["GET", "POST"])
@bp.route("/points/<code>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str, code: str | None = None):
    conference = conferences.conference_by_slug(slug)
    point = points.point_by_code(conference.id, code) if code else None
    organiser = manages_conference(current_user, conference)
    if not organiser and (point is None or not can_view_point(current_user, point)):
        abort(403)
    form = PointForm(obj=point)
    if point is not None and request.method == "GET":
        form.level.data = point.level.value
        form.parent_code.data = point.parent.code if point.parent else ""
    if not organiser:
        # A coordinator keeps the point's contacts current; its place in the tree is fixed.
        for name in points.STRUCTURE_FIELDS:
            getattr(form, name).render_kw = {"disabled": True}
    if form.validate_on_submit():
        values = _values(form, point)
        done, _result = commit_or_show(form, (
            (lambda: points.save_point(conference, point, values)) if organiser
            else (lambda: points.update_contacts(point, values))))
        if done:
            flash(_("Đã lưu điểm cầu."), "success")
            return redirect(url_for("points.detail", slug=slug,
                                    code=values["code"]))
    return render_template("points/form.html", conference=conference, point=point, form=form,
                           organiser=organiser)


def _values(form: PointForm, point: BroadcastPoint | None) -> dict[str, str]:
    # Normalised as a spreadsheet's cells are, so a point saved here and exported and
    # imported back unchanged is unchanged (its place revision included).
    values = {name: normalise("" if field.data is None else str(field.data))
              for name, field in form._fields.items() if name != "csrf_token"}
    if point is not None:
        values["code"] = point.code  # codes are a point's identity
    return values


# ---------------------------------------------------------------- one point


@bp.get("/points/<code>")
@login_required
def detail(slug: str, code: str):
    conference, point = point_in_reach(slug, code)
    test_form = TestResultForm(formdata=None)
    test_form.slot.choices = _slot_choices(conference)
    return _detail_page(conference, point, test_form)


def _detail_page(conference: Conference, point: BroadcastPoint, test_form: TestResultForm):
    # In the roster's Vietnamese order, as every list of delegates.
    delegates = list(db.session.scalars(
        roster([point.id]).options(selectinload(Participant.category))))
    feed = feed_token = None
    title = published_title(conference)
    if conference.is_published and title is not None:
        feed, feed_token = private_subscription(
            FeedKind.POINT, conference, f"{title} — {point.name}", point=point)
        db.session.commit()
    history = connection.history(point)
    return render_template(
        "points/detail.html", conference=conference, point=point, delegates=delegates,
        children=point.children, history=history, recorders=points.recorder_names(history),
        test_form=test_form,
        organiser=manages_conference(current_user, conference),
        subscription=feed, feed_token=feed_token,
        # A coordinator's point may hang under one they do not coordinate: named, no link.
        parent_open=point.parent is not None and can_view_point(current_user, point.parent),
    )


def _slot_choices(conference: Conference) -> list[SelectChoice]:
    tz = conference.tz
    return [SelectChoice("", "—")] + [
        SelectChoice(str(s.id), f"{s.starts_at.astimezone(tz):%H:%M %d/%m/%Y} {s.note}")
        for s in connection.slots(conference)
    ]


@bp.post("/points/<code>/connection-test")
@login_required
def record_test(slug: str, code: str):
    conference, point = point_in_reach(slug, code)
    form = TestResultForm()
    form.slot.choices = _slot_choices(conference)
    if not form.validate_on_submit():
        # The note keeps its own error (too long); a missing or unknown result is named.
        if form.status.errors or not form.status.data:
            form.status.errors = [_("Hãy chọn Đạt hoặc Không đạt.")]
    else:
        done, _result = commit_or_show(form, lambda: connection.record_result(
            point, ConnectionTestStatus(form.status.data), form.note.data or "",
            current_user, int(form.slot.data) if form.slot.data else None))
        if done:
            flash(_("Đã ghi kết quả chạy thử."), "success")
            return redirect(url_for("points.detail", slug=slug, code=code) + "#connection-test")
    # The page again with what was chosen and why it was refused, beside the form: on a
    # phone a message at the top of the page is out of sight.
    return _detail_page(conference, point, form)


# ---------------------------------------------------------------- connection tests overview


@bp.route("/connection-tests", methods=["GET", "POST"])
@login_required
def connection_tests(slug: str):
    conference = conference_for_organiser(slug)
    form = SlotForm()
    if form.validate_on_submit():
        tz = conference.tz
        try:
            connection.add_slot(conference, datetime.combine(form.day.data, form.start.data, tz),
                                datetime.combine(form.day.data, form.end.data, tz),
                                form.note.data or "")
            db.session.commit()
        except RuleBroken as broken:
            db.session.rollback()
            show_problems(form, broken.problems)
        else:
            flash(_("Đã thêm đợt chạy thử."), "success")
            return redirect(url_for("points.connection_tests", slug=slug))
    query = listing.PointQuery.from_args(request.args, province=province_asked())
    # Those not passed, unless one status is asked for (a value that names none is none).
    waiting = listing.find_points(
        conference.id, query, within=None,
        statuses=None if query.test_status else (ConnectionTestStatus.NOT_TESTED,
                                                 ConnectionTestStatus.FAILED),
    )
    return render_template(
        "points/connection_tests.html", conference=conference, form=form,
        slots=connection.slots(conference), counts=connection.status_counts(conference),
        page=waiting, query=query, provinces=listing.province_choices(),
    )


# ---------------------------------------------------------------- coordinators


@bp.route("/coordinators", methods=["GET", "POST"])
@login_required
def coordinator_list(slug: str):
    conference = conference_for_organiser(slug)
    form = CoordinatorForm()
    handed_out = existing = None
    if form.validate_on_submit():
        try:
            chosen = points.points_for_coordinator(conference, form.point_codes.data)
        except RuleBroken as broken:
            show_problems(form, broken.problems)
            chosen = []
        existing = coordinators.existing_coordinator(form.login.data) if chosen else None
        if existing is not None and request.form.get("grant_to") == existing.email:
            return _grant_points(conference, existing, chosen)
        if existing is not None:
            # Asked first, naming the account: a mistyped login would hand another
            # coordinator these points' delegates.
            held = coordinators.held_codes(existing, conference.id)
            form.login.errors = [_(
                "Tên đăng nhập %(login)s đã có: tài khoản của %(name)s (điều phối %(points)s "
                "ở hội nghị này). Để giao thêm các điểm cầu đã nhập cho tài khoản đó, bấm "
                "«Giao thêm điểm cầu».", login=existing.email, name=existing.display_name,
                points=", ".join(held) or _("chưa điểm cầu nào"))]
        elif chosen:
            try:
                with login_taken_meanwhile(form.login.data):
                    user, password = coordinators.create_coordinator(
                        form.login.data, form.display_name.data, chosen)
                    db.session.commit()
            except AccountError as refused:
                db.session.rollback()
                form.login.errors = [str(refused)]  # taken, or not a valid login
            else:
                handed_out = (user.email, password)
                form = CoordinatorForm(formdata=None)
    query = coordinators.GrantQuery.from_args(request.args)
    listed = coordinators.grants(conference.id, query)
    response = make_response(render_template("points/coordinators.html", conference=conference,
                                             form=form, listed=listed, query=query,
                                             handed_out=handed_out, existing=existing))
    if handed_out:
        # The new password is in this answer only: no cache may keep a copy.
        response.headers["Cache-Control"] = "no-store"
    return response


def _grant_points(conference, user, chosen):
    try:
        granted = coordinators.grant_points(user, chosen)
    except AccountError as refused:
        flash(str(refused), "danger")
    else:
        db.session.commit()
        if granted:
            flash(counted("Đã giao thêm %(count)d điểm cầu cho %(login)s: %(points)s.",
                          len(granted), login=user.email,
                          points=", ".join(point.code for point in granted)), "success")
        else:
            flash(_("%(login)s đã điều phối các điểm cầu này từ trước.", login=user.email),
                  "info")
    return redirect(url_for("points.coordinator_list", slug=conference.slug))


@bp.post("/coordinators/bulk")
@login_required
def coordinators_bulk(slug: str):
    """Accounts for every chosen point (or every point the filter shows), as a CSV to hand out."""
    conference = conference_for_organiser(slug)
    codes = ticked("code")
    if codes:
        statement = select(BroadcastPoint).where(BroadcastPoint.conference_id == conference.id,
                                                 BroadcastPoint.code.in_(codes))
    else:
        statement = listing.filtered(conference.id, listing.PointQuery.from_args(request.form))
    chosen = list(db.session.scalars(statement.order_by(BroadcastPoint.code)))
    created = coordinators.create_for_points(conference, chosen)
    if not created:  # an empty list of accounts to hand out would say nothing
        flash(_("Không tạo tài khoản nào: các điểm cầu đã chọn đều đã có điều phối viên.")
              if chosen else _("Không có điểm cầu nào được chọn hoặc khớp bộ lọc."), "warning")
        return redirect(url_for("points.index", slug=slug,
                                **listing.PointQuery.from_args(request.form).args()))
    db.session.commit()
    rows = [[p.code, p.name, login, password] for p, login, password in created]
    response = csv_response(f"tai-khoan-dieu-phoi-{conference.slug}.csv",
                            ["Mã điểm cầu", "Tên điểm cầu", "Tên đăng nhập", "Mật khẩu"], rows)
    response.headers["Cache-Control"] = "no-store"  # it holds passwords
    return response

