"""Organisers' pages for building and publishing an agenda."""
from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from confmgr.accounts import presenters as presenter_accounts
from confmgr.accounts.models import User
from confmgr.accounts.permissions import manages_conference
from confmgr.accounts.services import AccountError
from confmgr.attendance import reports
from confmgr.conferences import editing, ics_import, materials, publishing, services
from confmgr.conferences.forms import (
    CalendarUploadForm,
    ConferenceForm,
    MaterialFileForm,
    MaterialLinkForm,
    PresenterForm,
    PublishForm,
    RoomForm,
    SessionForm,
    ShiftForm,
    TopicForm,
)
from confmgr.conferences.models import (
    AgendaSession,
    Conference,
    Presenter,
    Topic,
    TopicMaterial,
)
from confmgr.conferences.scheduling import bare_topic_number, in_number_order
from confmgr.db import db
from confmgr.enums import Role, SessionKind, Visibility
from confmgr.i18n import counted
from confmgr.roster.sorting import text_key
from confmgr.text import whole_number
from confmgr.web import commit_or_flash, commit_or_show, login_taken_meanwhile, show_problems

bp = Blueprint("agenda", __name__, url_prefix="/manage")


def managed_conference(slug: str) -> Conference:
    conference = services.conference_by_slug(slug)
    if not manages_conference(current_user, conference):
        abort(403)
    return conference


def owned(model, conference: Conference, object_id: int):
    """A row of the conference, or 404: ids from another conference are never reachable."""
    row = db.session.get(model, object_id)
    if row is None or row.conference_id != conference.id:
        abort(404)
    return row


def flash_warnings(problems) -> None:
    for problem in problems:
        flash(problem.message, "warning")


# ---------------------------------------------------------------- conferences


@bp.route("/conferences/new", methods=["GET", "POST"])
@login_required
def new_conference():
    if current_user.role not in (Role.ADMIN, Role.ORGANISER):
        abort(403)
    form = ConferenceForm()
    if form.validate_on_submit():
        done, conference = commit_or_show(
            form, lambda: editing.create_conference(_conference_fields(form), current_user))
        if done:
            flash(_("Đã tạo hội nghị."), "success")
            return redirect(url_for("agenda.editor", slug=conference.slug))
    return render_template("agenda/conference_form.html", form=form, conference=None)


@bp.route("/c/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit_conference(slug: str):
    conference = managed_conference(slug)
    form = ConferenceForm(obj=conference)
    if request.method == "GET":
        tz = conference.tz
        for field, value in ((form.registration_opens, conference.registration_opens_at),
                             (form.registration_closes, conference.registration_closes_at)):
            field.data = value.astimezone(tz).replace(tzinfo=None) if value else None
    if request.method == "GET":
        form.seen.data = editing.conference_digest(conference)
    if form.validate_on_submit():
        done, moved = commit_or_show(
            form, lambda: editing.update_conference(conference, _conference_fields(form),
                                                    seen=form.seen.data or None))
        if done:
            flash(_("Đã lưu."), "success")
            if moved:
                flash(counted("Múi giờ mới: %(count)d phiên giữ nguyên giờ địa phương, nên "
                              "đổi thời điểm; hãy công bố lại để lịch của đại biểu cập nhật.",
                              moved), "warning")
            return redirect(url_for("agenda.editor", slug=conference.slug))
    return render_template("agenda/conference_form.html", form=form, conference=conference)


def _conference_fields(form: ConferenceForm) -> editing.ConferenceFields:
    zone = form.timezone.data.strip()

    def instant(value):  # typed in the conference's own time zone
        if value is None or not editing.is_conference_zone(zone):
            return None
        return value.replace(tzinfo=ZoneInfo(zone))

    return editing.ConferenceFields(
        slug=form.slug.data.strip(), title=form.title.data.strip(),
        organising_unit=(form.organising_unit.data or "").strip(),
        description=(form.description.data or "").strip(),
        timezone=zone, first_day=form.first_day.data, last_day=form.last_day.data,
        registration_opens_at=instant(form.registration_opens.data),
        registration_closes_at=instant(form.registration_closes.data),
        visibility=Visibility(form.visibility.data),
        checkin_opens_minutes=form.checkin_opens_minutes.data,
        checkin_closes_minutes=form.checkin_closes_minutes.data,
    )


# ---------------------------------------------------------------- the agenda editor


@bp.get("/c/<slug>/agenda")
@login_required
def editor(slug: str):
    conference = managed_conference(slug)
    sessions = services.agenda_sessions(conference)
    latest = publishing.latest_version(conference)
    return render_template(
        "agenda/editor.html", conference=conference,
        days=services.group_by_day(sessions, conference.first_day, conference.last_day),
        latest=latest, pending=publishing.pending_changes(
            conference, latest, publishing.draft_snapshot(conference, sessions)),
    )


def _session_form(conference: Conference, session: AgendaSession | None) -> SessionForm:
    form = SessionForm()
    form.day.choices = [
        SelectChoice(day.isoformat(), f"{day:%d/%m/%Y}")
        for day in services.conference_days(conference)
    ]
    form.topic.choices = [SelectChoice("", "—")] + [
        SelectChoice(t.id, f"{bare_topic_number(t.number)}. {t.title}") for t in in_number_order(
            db.session.scalars(select(Topic).where(Topic.conference_id == conference.id)))
    ]
    form.room.choices = [SelectChoice("", "—")] + [
        SelectChoice(r.id, r.name) for r in services.rooms(conference)]
    form.presenters.choices = [
        SelectChoice(p.id, f"{p.name} — {p.position}" if p.position else p.name)
        for p in services.presenters(conference)
    ]
    if request.method == "GET" and session is not None:
        start, end = session.local_start(), session.local_end()
        form.day.data = start.date().isoformat()
        form.start.data, form.end.data = start.time(), end.time()
        form.kind.data = session.kind.value
        form.title.data, form.description.data = session.title, session.description
        form.topic.data, form.room.data = session.topic_id, session.room_id
        form.presenters.data = [p.id for p in session.presenters]
        form.seen.data = editing.session_digest(session)
    elif request.method == "GET":
        form.day.data = request.args.get("day") or conference.first_day.isoformat()
        form.kind.data = SessionKind.TOPIC.value
    return form


def _session_fields(form: SessionForm) -> editing.SessionFields:
    return editing.SessionFields(
        day=date.fromisoformat(form.day.data), start=form.start.data.replace(second=0),
        end=form.end.data.replace(second=0),
        kind=SessionKind(form.kind.data), title=form.title.data,
        description=form.description.data or "", room_id=form.room.data,
        topic_id=form.topic.data, presenter_ids=tuple(form.presenters.data or ()),
    )


@bp.route("/c/<slug>/sessions/new", methods=["GET", "POST"])
@bp.route("/c/<slug>/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@login_required
def edit_session(slug: str, session_id: int | None = None):
    conference = managed_conference(slug)
    session = owned(AgendaSession, conference, session_id) if session_id else None
    form = _session_form(conference, session)
    if form.validate_on_submit():
        done, result = commit_or_show(
            form, lambda: editing.save_session(conference, session, _session_fields(form),
                                               seen=form.seen.data or None))
        if done:
            saved, warnings = result
            flash(_("Đã lưu phiên «%(title)s».", title=saved.title), "success")
            flash_warnings(warnings)
            if request.form.get("then") == "another":
                return redirect(url_for("agenda.edit_session", slug=slug, day=form.day.data))
            return redirect(url_for("agenda.editor", slug=slug) + f"#s{saved.id}")
    return render_template(
        "agenda/session_form.html", conference=conference, session=session, form=form
    )


@bp.post("/c/<slug>/sessions/<int:session_id>/presenters/<int:presenter_id>/"
         "<any(up, down):direction>")
@login_required
def move_presenter(slug: str, session_id: int, presenter_id: int, direction: str):
    conference = managed_conference(slug)
    session = owned(AgendaSession, conference, session_id)
    commit_or_flash(lambda: editing.move_presenter(session, presenter_id, direction))
    return redirect(url_for("agenda.edit_session", slug=slug, session_id=session_id)
                    + "#presenter-order")


@bp.post("/c/<slug>/sessions/<int:session_id>/<any(cancel, reinstate, delete):action>")
@login_required
def session_action(slug: str, session_id: int, action: str):
    conference = managed_conference(slug)
    session = owned(AgendaSession, conference, session_id)
    title = session.title
    act = {"cancel": editing.cancel_session, "reinstate": editing.reinstate_session,
           "delete": editing.delete_session}[action]
    done, _result = commit_or_flash(lambda: act(session))
    if done:
        flash({
            "cancel": _("Đã hủy phiên «%(title)s».", title=title),
            "reinstate": _("Đã khôi phục phiên «%(title)s».", title=title),
            "delete": _("Đã xóa phiên «%(title)s».", title=title),
        }[action], "success")
    return redirect(url_for("agenda.editor", slug=slug))


@bp.route("/c/<slug>/sessions/<int:session_id>/shift", methods=["GET", "POST"])
@login_required
def shift_session(slug: str, session_id: int):
    conference = managed_conference(slug)
    session = owned(AgendaSession, conference, session_id)
    form = ShiftForm()
    if form.validate_on_submit():
        if form.minutes.data == 0:
            form.minutes.errors.append(_("Nhập số phút khác 0."))
        else:
            try:
                moved = editing.shift_sessions(
                    session, form.minutes.data, following=form.scope.data == "following"
                )
            except editing.RuleBroken as broken:
                db.session.rollback()
                session = owned(AgendaSession, conference, session_id)
                show_problems(form, broken.problems)
            else:
                db.session.commit()
                flash(counted("Đã dời %(count)d phiên %(minutes)+d phút.", len(moved),
                              minutes=form.minutes.data), "success")
                return redirect(url_for("agenda.editor", slug=slug) + f"#s{session_id}")
    return render_template(
        "agenda/shift_form.html", conference=conference, session=session, form=form
    )


# ---------------------------------------------------------------- topics, presenters, rooms


@bp.get("/c/<slug>/topics")
@login_required
def topics(slug: str):
    conference = managed_conference(slug)
    rows = db.session.scalars(
        select(Topic).where(Topic.conference_id == conference.id)
        .options(selectinload(Topic.materials))
    )
    return render_template("agenda/topics.html", conference=conference,
                           topics=in_number_order(rows))


@bp.route("/c/<slug>/topics/new", methods=["GET", "POST"])
@bp.route("/c/<slug>/topics/<int:topic_id>/edit", methods=["GET", "POST"])
@login_required
def edit_topic(slug: str, topic_id: int | None = None):
    conference = managed_conference(slug)
    topic = owned(Topic, conference, topic_id) if topic_id else None
    form = TopicForm(obj=topic)
    if request.method == "GET" and topic is not None:
        form.seen.data = editing.topic_digest(topic)
    if form.validate_on_submit():
        done, saved = commit_or_show(form, lambda: editing.save_topic(
            conference, topic, form.number.data, form.title.data, form.summary.data or "",
            seen=form.seen.data or None))
        if done:
            flash(_("Đã lưu chuyên đề."), "success")
            return redirect(url_for("agenda.edit_topic", slug=slug, topic_id=saved.id))
    return render_topic_page(conference, topic, form)


def render_topic_page(conference, topic, form, link_form=None, file_form=None):
    return render_template(
        "agenda/topic_form.html", conference=conference, topic=topic, form=form,
        link_form=link_form or MaterialLinkForm(formdata=None),
        file_form=file_form or MaterialFileForm(formdata=None),
    )


@bp.post("/c/<slug>/topics/<int:topic_id>/materials/<any(link, file):kind>")
@login_required
def add_material(slug: str, topic_id: int, kind: str):
    conference = managed_conference(slug)
    topic = owned(Topic, conference, topic_id)
    form = MaterialLinkForm() if kind == "link" else MaterialFileForm()
    if form.validate_on_submit():
        try:
            if kind == "link":
                materials.add_link(topic, form.title.data, form.url.data)
                db.session.commit()
            else:
                materials.commit_file(materials.add_file(topic, form.title.data, form.file.data))
        except editing.RuleBroken as broken:
            db.session.rollback()
            show_problems(form, broken.problems)
        else:
            flash(_("Đã thêm tài liệu."), "success")
            return redirect(url_for("agenda.edit_topic", slug=slug, topic_id=topic.id))
    forms = {"link_form": form} if kind == "link" else {"file_form": form}
    return render_topic_page(conference, topic, TopicForm(obj=topic, formdata=None), **forms)


@bp.post("/c/<slug>/materials/<int:material_id>/remove")
@login_required
def remove_material(slug: str, material_id: int):
    conference = managed_conference(slug)
    material = db.session.get(TopicMaterial, material_id)
    if material is None or material.topic.conference_id != conference.id:
        abort(404)
    materials.remove(material)
    db.session.commit()
    flash(_("Đã gỡ tài liệu «%(title)s».", title=material.title), "success")
    return redirect(url_for("agenda.edit_topic", slug=slug, topic_id=material.topic_id))


@bp.get("/c/<slug>/presenters")
@login_required
def presenters(slug: str):
    return _presenters_page(managed_conference(slug))


def _presenters_page(conference: Conference, handed_out: tuple[str, str] | None = None):
    rows = db.session.execute(
        select(Presenter, User.email, User.active).outerjoin(User, User.id == Presenter.user_id)
        .where(Presenter.conference_id == conference.id)).all()
    rows.sort(key=lambda row: (text_key(row[0].name), row[0].id))
    return render_template("agenda/presenters.html", conference=conference,
                           presenters=rows, handed_out=handed_out,
                           login_for=presenter_accounts.login_for)


@bp.post("/c/<slug>/presenters/<int:presenter_id>/account")
@login_required
def presenter_account(slug: str, presenter_id: int):
    """An account for the presenter to answer the questions on their topics."""
    conference = managed_conference(slug)
    presenter = owned(Presenter, conference, presenter_id)
    login = request.form.get("login", "").strip() or presenter_accounts.login_for(
        conference, presenter)
    try:
        with login_taken_meanwhile(login):
            user, password = presenter_accounts.give_account(presenter, login)
            db.session.commit()
    except AccountError as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for("agenda.presenters", slug=slug))
    return _presenters_page(conference, (user.email, password))


@bp.route("/c/<slug>/presenters/new", methods=["GET", "POST"])
@bp.route("/c/<slug>/presenters/<int:presenter_id>/edit", methods=["GET", "POST"])
@login_required
def edit_presenter(slug: str, presenter_id: int | None = None):
    conference = managed_conference(slug)
    presenter = owned(Presenter, conference, presenter_id) if presenter_id else None
    form = PresenterForm(obj=presenter)
    if request.method == "GET" and presenter is not None:
        form.seen.data = editing.presenter_digest(presenter)
    if form.validate_on_submit():
        done, _saved = commit_or_show(form, lambda: editing.save_presenter(
            conference, presenter, form.name.data, form.position.data or "",
            form.unit.data or "", seen=form.seen.data or None))
        if done:
            flash(_("Đã lưu báo cáo viên."), "success")
            return redirect(url_for("agenda.presenters", slug=slug))
    return render_template("agenda/simple_form.html", conference=conference, form=form,
                           heading=_("Báo cáo viên"),
                           back=url_for("agenda.presenters", slug=slug))


@bp.route("/c/<slug>/rooms", methods=["GET", "POST"])
@login_required
def rooms(slug: str):
    conference = managed_conference(slug)
    form = RoomForm()
    if form.validate_on_submit():
        done, _room = commit_or_show(
            form, lambda: editing.save_room(conference, None, form.name.data))
        if done:
            flash(_("Đã thêm phòng."), "success")
            return redirect(url_for("agenda.rooms", slug=slug))
    return render_template("agenda/rooms.html", conference=conference,
                           rooms=services.rooms(conference), form=form)


# ---------------------------------------------------------------- publishing


@bp.route("/c/<slug>/publish", methods=["GET", "POST"])
@login_required
def publish(slug: str):
    conference = managed_conference(slug)
    form = PublishForm()
    if form.validate_on_submit():
        try:
            version = publishing.publish(conference, current_user, form.comment.data or "",
                                         seen_version=whole_number(form.seen_version.data or ""),
                                         seen_draft=form.seen_draft.data or None)
            db.session.commit()
        except (publishing.NothingToPublish, publishing.PublishedMeanwhile,
                publishing.DraftChangedMeanwhile) as refusal:
            db.session.rollback()
            # The page then lists the changes as they are now.
            flash(_publish_refusal(refusal), "warning")
        else:
            flash(_("Đã công bố phiên bản %(number)d.", number=version.number), "success")
            return redirect(url_for("agenda.editor", slug=slug))
    latest = publishing.latest_version(conference)
    draft = publishing.draft_snapshot(conference)
    form.seen_version.data = str(latest.number if latest else 0)
    form.seen_draft.data = publishing.draft_digest(draft)
    return render_template("agenda/publish.html", conference=conference, latest=latest,
                           pending=publishing.pending_changes(conference, latest, draft),
                           form=form, losing=reports.attendance_lost_by_publishing(conference))


def _publish_refusal(refusal: ValueError) -> str:
    if isinstance(refusal, publishing.PublishedMeanwhile):
        return _("Người khác vừa công bố phiên bản %(number)d; hãy xem lại các thay đổi rồi "
                 "công bố lại.", number=refusal.number)
    if isinstance(refusal, publishing.DraftChangedMeanwhile):
        return _("Chương trình vừa được sửa sau khi trang này mở ra; hãy xem lại các thay đổi "
                 "rồi công bố lại.")
    return _("Không có thay đổi nào so với phiên bản đã công bố.")


# ---------------------------------------------------------------- importing a calendar file

@bp.route("/c/<slug>/agenda/import", methods=["GET", "POST"])
@login_required
def import_calendar(slug: str):
    conference = managed_conference(slug)
    form = CalendarUploadForm()
    checked, token = None, None
    if form.validate_on_submit():
        upload = form.file.data
        # One byte past the limit is enough to refuse the file as too big.
        checked = ics_import.check_calendar(
            conference, upload.read(ics_import.MAX_BYTES + 1), upload.filename or "")
        if checked.ready:
            token = ics_import.keep_for_confirmation(conference, current_user.id, checked)
    return render_template("agenda/import_ics.html", conference=conference, form=form,
                           checked=checked, token=token, tz=conference.tz,
                           NEW=ics_import.NEW, UPDATE=ics_import.UPDATE,
                           SKIP=ics_import.SKIP)


@bp.post("/c/<slug>/agenda/import/<token>")
@login_required
def confirm_calendar_import(slug: str, token: str):
    conference = managed_conference(slug)
    done, counts = commit_or_flash(lambda: ics_import.confirm(conference, current_user.id, token))
    if not done:
        return redirect(url_for("agenda.import_calendar", slug=slug))
    flash(_("Đã nhập từ tệp lịch: %(created)d phiên mới, %(updated)d phiên cập nhật, "
            "%(skipped)d bỏ qua.", created=counts.created, updated=counts.updated,
            skipped=counts.skipped), "success")
    return redirect(url_for("agenda.editor", slug=slug))
