"""A point's delegates: register, import with preview, list, print, export."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from confmgr.accounts.permissions import manages_conference
from confmgr.calendar.subscribe import private_subscription
from confmgr.conferences.editing import RuleBroken
from confmgr.conferences.publishing import published_title
from confmgr.conferences.scheduling import Problem
from confmgr.db import db
from confmgr.enums import FeedKind, RegistrationStatus
from confmgr.i18n import counted
from confmgr.points.forms import UploadForm
from confmgr.roster import categories, importing, services
from confmgr.roster.forms import MoveForm, PersonForm
from confmgr.roster.models import Participant
from confmgr.spreadsheets import (
    CellError,
    TableError,
    csv_response,
    file_error,
    read_table,
    template_headings,
    unread_message,
    xlsx_response,
)
from confmgr.text import normalise, normalise_lines
from confmgr.web import commit_or_flash, point_in_reach, show_problems, show_rule_problems

bp = Blueprint("roster", __name__, url_prefix="/manage/c/<slug>/points/<code>/delegates")


def order_from(args) -> str:
    return args.get("order") if args.get("order") in services.ORDERS else "alpha"


@bp.get("")
@login_required
def index(slug: str, code: str):
    conference, point = point_in_reach(slug, code)
    order = order_from(request.args)
    delegates = db.session.scalars(
        services.roster([point.id], order, conference_id=conference.id)
        .options(selectinload(Participant.category))).all()
    return render_template("roster/index.html", conference=conference, point=point,
                           delegates=delegates, order=order,
                           organiser=manages_conference(current_user, conference),
                           closed=services.registration_closed_reason(conference))


def _person_form(conference, person=None) -> PersonForm:
    form = PersonForm(obj=person)
    form.category.choices = [SelectChoice("", "—")] + [
        SelectChoice(c.id, c.name) for c in categories.categories(conference)]
    if person is not None and request.method == "GET":
        form.category.data = person.category_id
    return form


def _fields(form: PersonForm) -> services.PersonFields:
    return services.PersonFields(
        full_name=form.full_name.data or "", position=form.position.data or "",
        unit=form.unit.data or "", category_id=form.category.data, phone=form.phone.data or "",
        email=form.email.data or "", note=form.note.data or "",
    )


#: The edit form's fields and the delegate's attributes they show.
FORM_FIELDS = {"full_name": "full_name", "position": "position", "unit": "unit",
               "category": "category_id", "phone": "phone", "email": "email", "note": "note"}


def shown_values(person: Participant) -> dict[str, str]:
    """What the edit form shows of the delegate, field by field, as it sends it back with
    the form (``shown_<field>``): a save then changes only what its user changed."""
    return {name: "" if getattr(person, attr) is None else str(getattr(person, attr))
            for name, attr in FORM_FIELDS.items()}


def _as_compared(name: str, value) -> str:
    # As a browser sends it back: a note's line breaks as CRLF, a field's text as typed.
    text = "" if value is None else str(value)
    return normalise_lines(text) if name == "note" else normalise(text)


def _changes_since_shown(form: PersonForm, person: Participant) -> tuple[dict, list[Problem]]:
    """The fields the user changed on the form, as PersonFields changes; and, for those the
    delegate no longer holds as the form showed them (someone saved meanwhile), a problem
    naming what they hold now. A form sent without what it showed changes every field."""
    typed = _fields(form)
    held = shown_values(person)
    changes, clashes = {}, []
    for name, attr in FORM_FIELDS.items():
        shown = request.form.get(f"shown_{name}")
        if shown is not None and _as_compared(name, form[name].data) == _as_compared(name, shown):
            continue
        changes[attr] = getattr(typed, attr)
        if shown is not None and _as_compared(name, held[name]) != _as_compared(name, shown):
            now = (person.category.name if person.category else "—") if name == "category" \
                else held[name]
            clashes.append(Problem(name, _(
                "Người khác vừa đổi ô này thành «%(value)s»; bấm Lưu lần nữa để thay bằng nội "
                "dung bạn nhập.", value=now)))
    return changes, clashes


@bp.route("/new", methods=["GET", "POST"])
@login_required
def register(slug: str, code: str):
    conference, point = point_in_reach(slug, code)
    form = _person_form(conference)
    if form.validate_on_submit():
        try:
            person, warnings = services.register(
                point, _fields(form), organiser=manages_conference(current_user, conference))
            db.session.commit()
        except RuleBroken as broken:
            db.session.rollback()
            show_problems(form, broken.problems)
        else:
            flash(_("Đã đăng ký %(name)s.", name=person.full_name), "success")
            for warning in warnings:
                flash(warning, "warning")
            if request.form.get("then") == "another":
                return redirect(url_for("roster.register", slug=slug, code=code))
            return redirect(url_for("roster.index", slug=slug, code=code))
    elif form.is_submitted():
        show_rule_problems(form, services.check_person(_fields(form).cleaned()))
    return render_template("roster/form.html", conference=conference, point=point, form=form,
                           person=None, move_form=None)


def _person(point, person_id: int) -> Participant:
    person = db.session.get(Participant, person_id)
    if person is None or person.point_id != point.id:
        abort(404)
    return person


@bp.route("/<int:person_id>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str, code: str, person_id: int):
    conference, point = point_in_reach(slug, code)
    person = _person(point, person_id)
    form = _person_form(conference, person)
    organiser = manages_conference(current_user, conference)
    shown = shown_values(person)
    if form.validate_on_submit():
        # Held, and read afresh, before comparing: a save landing in between is seen.
        try:
            services.hold_for_edit(person, form.full_name.data)
            changes, clashes = _changes_since_shown(form, person)
            if clashes:
                raise RuleBroken(clashes)
            services.patch_held(person, changes, organiser=organiser)
            db.session.commit()
        except RuleBroken as broken:
            db.session.rollback()
            show_problems(form, broken.problems)
            # What the delegate holds now: saving again puts what was typed over it.
            shown = shown_values(db.session.get(Participant, person_id))
        else:
            flash(_("Đã lưu.") if changes else _("Không có thay đổi nào để lưu."),
                  "success" if changes else "info")
            return redirect(url_for("roster.index", slug=slug, code=code))
    elif form.is_submitted():
        show_rule_problems(form, services.check_person(_fields(form).cleaned()))
    feed = feed_token = None
    title = published_title(conference)
    if (conference.is_published and title is not None
            and person.status == RegistrationStatus.REGISTERED):
        feed, feed_token = private_subscription(
            FeedKind.DELEGATE, conference, f"{title} — {person.full_name}",
            participant=person)
        db.session.commit()
    return render_template("roster/form.html", conference=conference, point=point, form=form,
                           person=person, shown=shown,
                           move_form=MoveForm(formdata=None) if organiser else None,
                           may_withdraw=organiser or not services.registration_closed_reason(
                               conference),
                           subscription=feed, feed_token=feed_token)


@bp.post("/<int:person_id>/withdraw")
@login_required
def withdraw(slug: str, code: str, person_id: int):
    conference, point = point_in_reach(slug, code)
    person = _person(point, person_id)
    done, withdrawn = commit_or_flash(lambda: services.withdraw(
        person, organiser=manages_conference(current_user, conference)))
    if done:
        flash(_("Đã rút tên %(name)s.", name=person.full_name) if withdrawn
              else _("%(name)s đã được rút tên trước đó.", name=person.full_name),
              "success" if withdrawn else "info")
    return redirect(url_for("roster.index", slug=slug, code=code))


@bp.post("/<int:person_id>/move")
@login_required
def move(slug: str, code: str, person_id: int):
    conference, point = point_in_reach(slug, code)
    if not manages_conference(current_user, conference):
        abort(403)  # moving a delegate between points is the organisers' act
    person = _person(point, person_id)
    form = MoveForm()
    if not form.validate_on_submit():
        # The form sits on the delegate's page, which this answer returns to.
        for errors in form.errors.values():
            for error in errors:
                flash(error, "danger")
        return redirect(url_for("roster.edit", slug=slug, code=code, person_id=person_id))

    def move_there():
        destination = services.point_with_code(conference.id, form.point_code.data)
        return destination, services.move(person, destination)

    done, result = commit_or_flash(move_there)
    if not done:
        return redirect(url_for("roster.edit", slug=slug, code=code, person_id=person_id))
    destination, moved = result
    if not moved:
        flash(_("%(name)s đã ở %(point)s.", name=person.full_name, point=destination.name),
              "info")
        return redirect(url_for("roster.edit", slug=slug, code=code, person_id=person_id))
    flash(_("Đã chuyển %(name)s sang %(point)s.", name=person.full_name,
            point=destination.name), "success")
    return redirect(url_for("roster.index", slug=slug, code=code))


# ---------------------------------------------------------------- import


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_file(slug: str, code: str):
    conference, point = point_in_reach(slug, code)
    form = UploadForm()
    checked, file_errors, token, unread = [], [], None, ""
    if form.validate_on_submit():
        upload = form.file.data
        try:
            rows = read_table(upload.read(), upload.filename or "", importing.COLUMNS,
                              max_rows=importing.MAX_ROWS, max_bytes=importing.MAX_BYTES)
            if not rows:  # headings only: say so, rather than show an empty preview
                raise file_error(_("Tệp không có đại biểu nào: hãy điền danh sách dưới dòng "
                                   "tiêu đề."))
        except TableError as problem:
            file_errors = problem.errors
        else:
            unread = unread_message(rows.unread(importing.EXPECTED_UNREAD))
            checked = importing.check_rows(point, rows)
            file_errors = _refused_while_closed(conference, checked)
            if (not file_errors and not any(item.errors for item in checked)
                    and not all(item.already for item in checked)):
                token = importing.keep_for_confirmation(point, current_user.id,
                                                        upload.filename or "", checked)
    error_count = sum(len(item.errors) for item in checked) + len(file_errors)
    return render_template("roster/import.html", conference=conference, point=point,
                           form=form, checked=checked, file_errors=file_errors, token=token,
                           error_count=error_count, unread=unread,
                           already=sum(1 for item in checked if item.already),
                           adding=sum(1 for item in checked if item.adds),
                           updating=sum(1 for item in checked if item.changes),
                           warned=sum(1 for item in checked if item.warnings),
                           example=_example_row())


def _refused_while_closed(conference, checked) -> list:
    """Said at the preview rather than only at the confirmation: outside registration's
    window, a coordinator's file may correct delegates but neither add any (the file
    errors returned) nor change one's category (each such row's category cell is marked
    with an error here)."""
    closed = services.registration_closed_reason(conference)
    if not closed or manages_conference(current_user, conference):
        return []
    heading = importing.HEADING["category"]
    for item in checked:
        if heading in item.changes:
            item.errors.append(CellError(item.number, heading, f"{closed} " + _(
                "Chỉ ban tổ chức đổi thành phần được.")))
    adding = sum(1 for item in checked if item.adds)
    if not adding:
        return []
    return file_error(f"{closed} " + importing.only_organisers_add(adding)).errors


@bp.post("/import/<token>")
@login_required
def confirm_import(slug: str, code: str, token: str):
    conference, point = point_in_reach(slug, code)
    done, imported = commit_or_flash(lambda: importing.confirm(
        point, current_user.id, token, organiser=manages_conference(current_user, conference)))
    if not done:
        return redirect(url_for("roster.import_file", slug=slug, code=code))
    if imported.added or not imported.updated:
        flash(counted("Đã nhập %(count)d đại biểu.", imported.added), "success")
    if imported.updated:
        flash(counted("Đã cập nhật %(count)d đại biểu.", imported.updated), "success")
    return redirect(url_for("roster.index", slug=slug, code=code))


@bp.get("/template.xlsx")
@login_required
def template(slug: str, code: str):
    point_in_reach(slug, code)
    headings = [heading for heading, _value in _example_row()]
    return xlsx_response("mau-danh-sach-dai-bieu.xlsx", "Đại biểu", headings, [])


def _example_row() -> list[tuple[str, str]]:
    """The template's headings, each with the example's value (importing.EXAMPLE). A new
    list has no delegate numbers yet: those come with a downloaded one."""
    columns = [column for column in importing.COLUMNS if column.field != "ref"]
    return [("STT", "1"), *zip(template_headings(columns),
                               (importing.EXAMPLE.get(column.field, "") for column in columns))]


# ---------------------------------------------------------------- print and export


@bp.get("/print")
@login_required
def printable(slug: str, code: str):
    conference, point = point_in_reach(slug, code)
    delegates = db.session.scalars(services.roster(
        [point.id], order_from(request.args), conference_id=conference.id)).all()
    return render_template("roster/print.html", conference=conference, point=point,
                           delegates=delegates)


#: The import's columns, after a row number: a list downloaded, edited and sent back
#: changes the delegates it numbers.
EXPORT_HEADINGS = ["STT", *(column.heading for column in importing.COLUMNS)]


@bp.get("/export.<any(csv, xlsx):kind>")
@login_required
def export(slug: str, code: str, kind: str):
    conference, point = point_in_reach(slug, code)
    delegates = db.session.scalars(
        services.roster([point.id], order_from(request.args),
                        conference_id=conference.id)
        .options(selectinload(Participant.category))).all()
    rows = ([index, p.full_name, p.position, p.unit, p.category.name if p.category else "",
             p.phone, p.email, p.note, p.id] for index, p in enumerate(delegates, start=1))
    name = f"dai-bieu-{point.code}.{kind}"
    if kind == "csv":
        return csv_response(name, EXPORT_HEADINGS, rows)
    return xlsx_response(name, "Đại biểu", EXPORT_HEADINGS, rows)
