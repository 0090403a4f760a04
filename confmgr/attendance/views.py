"""Attendance pages: a point's sheet for each session, headcounts, reports and exports."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, format_percent, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from confmgr.accounts.permissions import (
    coordinated_point_ids,
    coordinates_in,
    manages_conference,
)
from confmgr.attendance import checkin, live, reports
from confmgr.attendance import importing as paper_lists
from confmgr.attendance.checkin import current_session
from confmgr.attendance.labels import ATTENDANCE_LABELS, NO_CATEGORY_NAME
from confmgr.attendance.models import NO_CATEGORY, SessionPointCategoryCount
from confmgr.attendance.sheet import SheetQuery, point_counts, sheet, tap_answer
from confmgr.conferences.editing import RuleBroken
from confmgr.conferences.models import AgendaSession, Conference
from confmgr.conferences.publishing import published_timezone
from confmgr.conferences.scheduling import Problem
from confmgr.conferences.services import conference_by_slug
from confmgr.db import db, read_one_snapshot, utcnow
from confmgr.enums import AttendanceStatus, CheckInMethod, Role
from confmgr.i18n import counted, format_number
from confmgr.points.forms import UploadForm
from confmgr.points.labels import NO_PROVINCE_NAME
from confmgr.points.listing import province_name
from confmgr.roster.categories import categories as ordered_categories
from confmgr.spreadsheets import TableError, csv_response, xlsx_workbook_response
from confmgr.text import count_typed, whole_number
from confmgr.web import (
    commit_or_flash,
    point_and_session_in_reach,
    point_in_reach,
    province_asked,
)
from confmgr.xlsx import Percent, share_as_shown

bp = Blueprint("attendance", __name__, url_prefix="/manage/c/<slug>")
# Attendance follows the published agenda: its times in the zone it was published in.
bp.add_app_template_global(published_timezone, "published_zone")


@bp.app_template_filter("percent")
def format_rate(rate: float | None) -> str:
    """An attendance rate in the page's language ("92,5%" in Vietnamese); "—" for none."""
    return "—" if rate is None else format_percent(share_as_shown(rate), "#,##0.0%")


def session_asked() -> int | None:
    """The session named in ``?session=``, or None if none is. A value that is no id (a
    mangled link) is not found, as an unknown id is: taken for "none asked", it made the
    current session's file under the name of the one asked for."""
    asked = request.args.get("session", "")
    if asked == "":
        return None
    number = whole_number(asked)
    if number is None:
        abort(404)
    return number


def chosen_session(conference: Conference, sessions: list[AgendaSession]) -> AgendaSession:
    """The session named in ``?session=``, else the one whose check-in is open now."""
    wanted = session_asked()
    if wanted is not None:
        for session in sessions:
            if session.id == wanted:
                return session
        abort(404)
    session = current_session(conference, sessions, utcnow())
    if session is None:
        abort(404)
    return session


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def published_in_reach(slug: str, code: str, session_id: int, *, share_point: bool = False):
    """``point_and_session_in_reach``, where a session never published does not exist: it
    is on no agenda delegates read, and takes no attendance. No query of its own."""
    conference, point, session = point_and_session_in_reach(slug, code, session_id,
                                                            share_point=share_point)
    if not session.is_published:
        abort(404)
    return conference, point, session


# ---------------------------------------------------------------- a point's sheet


@bp.get("/points/<code>/attendance")
@login_required
def point_sheet(slug: str, code: str):
    conference, point = point_in_reach(slug, code)
    sessions = reports.attended_sessions(conference)
    if not sessions:
        return render_template("attendance/sheet.html", conference=conference, point=point,
                               sessions=[], session=None)
    session = chosen_session(conference, sessions)
    context = _sheet_context(conference, point, sessions, session)
    if point.headcount_only:
        return render_template("attendance/headcount.html", **context,
                               categories=_headcounts(conference, point, session))
    page = request.args.get("page", "1")
    query = SheetQuery(session.id, request.args.get("q", "").strip()[:100],
                       max(1, whole_number(page) or 1))
    found = sheet(point, query)
    if is_htmx() and request.headers.get("HX-Target") == "sheet-rows":
        return render_template("attendance/_rows.html", **context, sheet=found)
    return render_template("attendance/sheet.html", **context, sheet=found)


def _sheet_context(conference: Conference, point, sessions: list[AgendaSession],
                   session: AgendaSession) -> dict:
    """What a point's page for a session shows above its names or its counts."""
    return {"conference": conference, "point": point, "sessions": sessions,
            "session": session,
            "problems": checkin.session_problems(conference, session, utcnow(),
                                                 after_the_fact=point.headcount_only),
            "counts": point_counts(point, session.id),
            "registered": point.registered_count,
            "opens_closes": checkin.window(conference, session)}


def _back_to_sheet(slug: str, code: str, session_id: int, anchor: str = ""):
    args = {k: v for k, v in request.form.items() if k in ("q", "page") and v}
    return redirect(url_for("attendance.point_sheet", slug=slug, code=code, session=session_id,
                            **args) + anchor)


@bp.post("/points/<code>/attendance/<int:session_id>")
@login_required
def mark(slug: str, code: str, session_id: int):
    """One tap: ``mark`` is "<participant id>:<status>"."""
    conference, point, session = published_in_reach(slug, code, session_id, share_point=True)
    person, _sep, status = request.form.get("mark", "").partition(":")
    if whole_number(person) is None or status not in {s.value for s in AttendanceStatus}:
        abort(400)
    try:
        checkin.record(session, point, int(person), AttendanceStatus(status),
                       user_id=current_user.id, method=CheckInMethod.MANUAL)
        problems = []
    except RuleBroken as broken:
        db.session.rollback()
        problems = broken.problems
    # What the answer shows is read before the commit, which would expire it all and
    # cost a query per object; on SQLite other check-ins wait meanwhile, so it is little.
    answer = None
    if is_htmx():
        row, counts = tap_answer(point, session.id, int(person))
        answer = {"row": row, "counts": counts, "registered": point.registered_count,
                  "person": int(person)}
    db.session.commit()
    if answer is not None:
        return render_template("attendance/_marked.html", problems=problems, **answer)
    for problem in problems:
        flash(problem.message, "danger")
    return _back_to_sheet(slug, code, session.id, f"#p{person}")


@bp.post("/points/<code>/attendance/<int:session_id>/all-present")
@login_required
def all_present(slug: str, code: str, session_id: int):
    conference, point, session = published_in_reach(slug, code, session_id)
    done, marked = commit_or_flash(
        lambda: checkin.mark_all_present(session, point, user_id=current_user.id))
    if done:
        # Named: the mornings' check-in windows overlap, and the picker may be on another.
        flash(counted("Đã ghi có mặt cho %(count)d đại biểu chưa điểm danh phiên «%(title)s».",
                      marked, title=session.attendance_title), "success")
    return _back_to_sheet(slug, code, session.id)


def _headcounts(conference: Conference, point, session: AgendaSession) -> list[tuple]:
    """(category ref, name, reported headcount, the same) for the headcount form, "Thành
    phần khác" last: each field's value, and what the form showed there."""
    reported = dict(db.session.execute(
        select(SessionPointCategoryCount.category_ref, SessionPointCategoryCount.headcount)
        .where(SessionPointCategoryCount.session_id == session.id,
               SessionPointCategoryCount.point_id == point.id)).all())
    listed = [(c.id, c.name) for c in ordered_categories(conference)]
    return [(ref, name, reported.get(ref, 0), reported.get(ref, 0))
            for ref, name in [*listed, (NO_CATEGORY, str(NO_CATEGORY_NAME))]]


@bp.post("/points/<code>/attendance/<int:session_id>/headcount")
@login_required
def headcount(slug: str, code: str, session_id: int):
    conference, point, session = published_in_reach(slug, code, session_id)
    categories = _headcounts(conference, point, session)
    # A category added since the form was opened has no field on it: not reported.
    sent = [(ref, name) for ref, name, *_rest in categories if f"count_{ref}" in request.form]
    typed = {ref: request.form[f"count_{ref}"].strip() for ref, _name in sent}
    # What the form showed: only the fields changed from it are reported, so a form left
    # open while someone else reported does not put their counts back.
    shown = {ref: whole_number(request.form.get(f"shown_{ref}", "")) for ref, _name in sent}
    changed, problems = {}, []
    for ref, name in sent:
        value = count_typed(typed[ref] or "0")
        if value is None:
            problems.append(Problem(f"count_{ref}", _(
                "%(category)s: hãy nhập một số nguyên không âm.", category=name)))
        elif value != shown[ref]:
            changed[ref] = value
    expected = {ref: shown[ref] for ref in changed if shown[ref] is not None}
    if problems:
        # Told now, with the typo: mended and sent again, the form replaces them knowingly;
        # and a count out of range beside it, not in a second round.
        problems += checkin.headcounts_out_of_range(point, changed)
        problems += checkin.headcounts_changed_meanwhile(session, point, changed, expected)
    else:
        try:
            # Counts are often reported after the session, as paper lists are uploaded:
            # the closing time does not apply to either.
            checkin.report_headcount(session, point, changed, user_id=current_user.id,
                                     after_the_fact=True, expected=expected)
            db.session.commit()
            flash(_("Đã ghi số lượng đại biểu dự phiên."), "success")
            return _back_to_sheet(slug, code, session.id)
        except RuleBroken as broken:
            db.session.rollback()
            problems = broken.problems
            if not point.headcount_only:  # read again: switched to names meanwhile
                for problem in problems:
                    flash(problem.message, "danger")
                return _back_to_sheet(slug, code, session.id)
    # The form again, the fields at fault marked: what was typed stays (a point with a
    # dozen categories types none of them twice), a field left as it was shows the count
    # as it is now, and each shows what is reported now, so that sending it again
    # replaces a count someone else reported meanwhile knowingly.
    for problem in problems:
        flash(problem.message, "danger")
    context = _sheet_context(conference, point, reports.attended_sessions(conference), session)
    untouched = {ref for ref in typed if shown[ref] is not None
                 and count_typed(typed[ref] or "0") == shown[ref]}
    return render_template(
        "attendance/headcount.html", **context,
        picker_url=url_for("attendance.point_sheet", slug=slug, code=code),
        categories=[(ref, name, typed[ref] if ref in typed and ref not in untouched else now,
                     now) for ref, name, now, _same in categories],
        wrong={problem.field for problem in problems})


# ---------------------------------------------------------------- reports


def managed(slug: str) -> Conference:
    conference = conference_by_slug(slug)
    if not manages_conference(current_user, conference):
        abort(403)
    return conference


@bp.get("/attendance")
@login_required
def overview(slug: str):
    conference = conference_by_slug(slug)
    if not manages_conference(current_user, conference):
        if is_htmx():  # a dashboard left open by an organiser no longer one
            return _live_ended(conference, _("Bạn không còn là ban tổ chức hội nghị này."))
        return my_points(conference)
    sessions = reports.attended_sessions(conference)
    asked = session_asked()
    if is_htmx() and asked is not None and asked not in {s.id for s in sessions}:
        return _live_ended(conference, _(
            "Phiên đang xem không còn trong chương trình đã công bố để điểm danh (đã rút "
            "khỏi chương trình hoặc thành giờ nghỉ)."))
    if not sessions:
        if is_htmx():  # nothing published to follow yet: nothing to show
            return ""
        return render_template("attendance/overview.html", conference=conference,
                               session=None, sessions=[])
    session = chosen_session(conference, sessions)
    province = province_asked()
    # Opened without a session, the page follows whichever session is current at each
    # refresh rather than the one it first showed.
    refresh_session = session.id if asked is not None else None
    if is_htmx():
        return live.shared_fragment(
            (conference.id, session.id, province, refresh_session, str(get_locale())),
            lambda: render_template("attendance/_live.html", refresh_session=refresh_session,
                                    **_report_context(conference, session, province)))
    return render_template("attendance/overview.html", sessions=sessions,
                           refresh_session=refresh_session,
                           **_report_context(conference, session, province))


def _live_ended(conference: Conference, message: str):
    """The dashboard's refresh when what it followed is gone: says so, with 286, which
    tells htmx to stop asking (else it asked every 15 s, and was told it would retry)."""
    return render_template("attendance/_live_ended.html", conference=conference,
                           message=message), 286


#: Shortfalls the report page lists; the XLSX report lists up to XLSX_MAX_ROWS.
REPORT_MISSING_ROWS = 100


def _report_context(conference: Conference, session: AgendaSession, province: str) -> dict:
    read_one_snapshot()  # its tables agree while check-ins commit
    shortfalls = reports.compliance(conference, session.id, province, limit=REPORT_MISSING_ROWS)
    context = {
        "conference": conference, "session": session, "province": province,
        "province_name": province_name(province) if province else "",
        "totals": reports.session_totals(conference, province),
        "categories": reports.by_category(conference, session.id, province),
        "shortfalls": shortfalls,
        "arrivals": reports.checkins_over_time(conference, session, province=province),
        "updated_at": utcnow(),
    }
    if province:
        context["points"] = list(reports.by_point(conference, session.id, province=province))
    else:
        context["provinces"] = reports.by_province(conference, session.id)
    return context


def my_points(conference: Conference):
    """A coordinator's figures: the points in their reach, session by session."""
    if current_user.role != Role.COORDINATOR or not coordinates_in(current_user, conference):
        abort(403)
    sessions = reports.attended_sessions(conference)
    if not sessions:
        return render_template("attendance/my_points.html", conference=conference,
                               sessions=[], session=None)
    session = chosen_session(conference, sessions)
    rows = list(reports.by_point(conference, session.id,
                                 point_ids=coordinated_point_ids(current_user, conference.id)))
    total = reports.Tally(base=0)
    for row in rows:
        total.add(row.tally)
    return render_template("attendance/my_points.html", conference=conference,
                           sessions=sessions, session=session, points=rows, total=total)


def report_scope(slug: str, *, for_file: bool = False) -> tuple[Conference, AgendaSession, str]:
    """An organiser's report: the conference, the session asked for, the province or ""."""
    conference = managed(slug)
    sessions = reports.attended_sessions(conference)
    if not sessions:
        abort(404)
    return conference, chosen_session(conference, sessions), province_asked(for_file=for_file)


REPORT_HEADINGS = ["Mã điểm cầu", "Điểm cầu", "Mã tỉnh", "Đã đăng ký", "Có mặt", "Đến muộn",
                   "Có phép", "Vắng", "Chưa điểm danh", "Báo cáo số lượng", "Tỷ lệ dự"]


def _tally_cells(tally: reports.Tally) -> list:
    rate = tally.rate
    return [tally.registered, tally.present, tally.late, tally.excused, tally.absent,
            tally.not_recorded, tally.headcount, Percent(rate) if rate is not None else ""]


def _session_title(session: AgendaSession) -> str:
    """A session's title in a Vietnamese file, marked when its cancellation was published."""
    title = session.attendance_title
    return f"{title} (Đã hủy)" if session.published_cancelled else title


def _point_cells(rows):
    for row in rows:
        yield [row.code, row.name, row.province_code, *_tally_cells(row.tally)]


#: The compliance report's rows are read into a list first: its sheet stops at this many.
XLSX_MAX_ROWS = 100_000


def _missing_cells(shortfalls: reports.Shortfalls, province: str, cancelled: bool):
    """The compliance sheet's rows; a last row says how many more there are when cut."""
    if cancelled:
        # An empty sheet would read as every point having its required categories.
        yield ["Phiên này đã bị hủy: không xét thành phần bắt buộc."]
        return
    missing, total = shortfalls.missing, shortfalls.total
    for m in missing:
        yield [m.code, m.name, m.province_code, m.category, m.attended, m.need]
    if total > len(missing):
        # A file cut short must say so, or a reader takes it for the whole list. There is
        # no CSV of these rows: one province's report holds far fewer.
        yield [f"Còn {format_number(total - len(missing), 'vi')} dòng không ghi vào tệp này (mỗi "
               f"trang tối đa {format_number(len(missing), 'vi')} dòng)"
               + ("." if province else ": hãy tải báo cáo của từng tỉnh, thành phố.")]


@bp.get("/attendance/report.<any(xlsx, csv):kind>")
@login_required
def report_file(slug: str, kind: str):
    conference, session, province = report_scope(slug, for_file=True)
    read_one_snapshot()  # its sheets agree while check-ins commit
    name = f"diem-danh-{slug}-phien-{session.id}{'-' + province if province else ''}.{kind}"
    points = reports.by_point(conference, session.id, province=province)
    if kind == "csv":
        return csv_response(name, REPORT_HEADINGS, _point_cells(points))
    with force_locale("vi"):
        no_category, no_province = str(NO_CATEGORY_NAME), str(NO_PROVINCE_NAME)
    summary_headings = ["Phiên", "Bắt đầu", *REPORT_HEADINGS[3:]]
    tz = ZoneInfo(published_timezone(conference))
    summary = ([_session_title(s),
                s.published_starts_at.astimezone(tz),
                *_tally_cells(t)] for s, t in reports.session_totals(conference, province))
    sheets = [("Tổng hợp theo phiên", summary_headings, summary)]
    if not province:
        sheets.append(("Theo tỉnh", ["Mã tỉnh", "Tỉnh, thành phố", *REPORT_HEADINGS[3:]],
                       ([r.code, r.name if r.code else no_province, *_tally_cells(r.tally)]
                        for r in reports.by_province(conference, session.id))))
    sheets.append(("Theo điểm cầu", REPORT_HEADINGS, _point_cells(points)))
    sheets.append(("Theo thành phần", ["Thành phần", *REPORT_HEADINGS[3:]],
                   ([r.name or no_category, *_tally_cells(r.tally)]
                    for r in reports.by_category(conference, session.id, province))))
    shortfalls = reports.compliance(conference, session.id, province, limit=XLSX_MAX_ROWS)
    sheets.append(("Thiếu thành phần", ["Mã điểm cầu", "Điểm cầu", "Mã tỉnh", "Thành phần",
                                        "Dự", "Cần"],
                   _missing_cells(shortfalls, province, session.published_cancelled)))
    sheets.append(("Điểm danh theo giờ", ["Từ", "Số người đến"],
                   ([at.astimezone(tz), count] for at, count in
                    reports.checkins_over_time(conference, session, province=province))))
    return xlsx_workbook_response(name, sheets)


@bp.get("/attendance/participants.csv")
@login_required
def participants_file(slug: str):
    """Every delegate with their status in every session, streamed row by row."""
    conference = managed(slug)
    sessions = reports.attended_sessions(conference)
    province = province_asked(for_file=True)
    with force_locale("vi"):
        labels = {s.value: str(label) for s, label in ATTENDANCE_LABELS.items()}
    tz = ZoneInfo(published_timezone(conference))
    headings = ["Mã điểm cầu", "Điểm cầu", "Họ và tên", "Chức vụ", "Đơn vị", "Thành phần",
                *(f"{s.published_starts_at.astimezone(tz):%d/%m %H:%M} {_session_title(s)}"
                  for s in sessions)]

    def rows():
        for row in reports.participant_rows(conference, sessions, province=province):
            yield [*row[:6], *(labels.get(value, "") for value in row[6:])]

    name = f"dai-bieu-diem-danh-{slug}{'-' + province if province else ''}.csv"
    return csv_response(name, headings, rows())


@bp.get("/attendance/print")
@login_required
def printable(slug: str):
    conference, session, province = report_scope(slug, for_file=True)
    with force_locale("vi"):
        return render_template(
            "attendance/print.html", **_report_context(conference, session, province))


# ---------------------------------------------------------------- paper lists after the fact


@bp.route("/points/<code>/attendance/<int:session_id>/import", methods=["GET", "POST"])
@login_required
def import_paper_list(slug: str, code: str, session_id: int):
    """Preview a paper list: every row matched and checked, nothing written yet."""
    conference, point, session = published_in_reach(slug, code, session_id)
    form = UploadForm()
    refused = paper_lists.upload_problems(point, session)
    checked, file_errors, token, unread = [], [], None, ""
    # A refused point or session takes no file at all, so its rows are never shown.
    if not refused and form.validate_on_submit():
        upload = form.file.data
        try:
            rows = paper_lists.read_list(upload.read(), upload.filename or "")
        except TableError as problem:
            file_errors = problem.errors
        else:
            unread = paper_lists.unread_message(rows)
            checked = paper_lists.check_rows(point, session, rows)
            if not any(item.errors for item in checked):
                token = paper_lists.keep_for_confirmation(point, session, current_user.id,
                                                          upload.filename or "", checked)
    actions = {name: sum(1 for item in checked if item.action == name)
               for name in (paper_lists.NEW, paper_lists.CHANGE, paper_lists.UNCHANGED)}
    return render_template(
        "attendance/import.html", conference=conference, point=point, session=session,
        form=form, refused=refused, checked=checked, file_errors=file_errors, token=token,
        unread=unread, error_count=sum(len(item.errors) for item in checked) + len(file_errors),
        actions=actions, columns=paper_lists.COLUMNS, accepted=paper_lists.ACCEPTED_WORDS)


@bp.post("/points/<code>/attendance/<int:session_id>/import/<token>")
@login_required
def confirm_paper_list(slug: str, code: str, session_id: int, token: str):
    conference, point, session = published_in_reach(slug, code, session_id)
    done, counts = commit_or_flash(
        lambda: paper_lists.confirm(point, session, current_user.id, token))
    if not done:
        return redirect(url_for("attendance.import_paper_list", slug=slug, code=code,
                                session_id=session.id))
    flash(_("Đã ghi danh sách giấy: %(changed)d đại biểu được ghi mới hoặc sửa, "
            "%(unchanged)d không đổi.", changed=counts.changed, unchanged=counts.unchanged),
          "success")
    return redirect(url_for("attendance.point_sheet", slug=slug, code=code, session=session.id))


@bp.get("/points/<code>/attendance/<int:session_id>/import/template.csv")
@login_required
def paper_list_template(slug: str, code: str, session_id: int):
    """The point's delegates with an empty status column, ready to fill in."""
    conference, point, session = published_in_reach(slug, code, session_id)
    return csv_response(f"diem-danh-{point.code}-phien-{session.id}.csv",
                        [column.heading for column in paper_lists.COLUMNS],
                        paper_lists.template_rows(point))
