"""Questions: a point raises them, organisers and presenters triage and answer them, and
every point reads the published digest."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import and_, func, select
from wtforms import SelectChoice

from confmgr.accounts.permissions import TriageScope, manages_conference, triage_scope
from confmgr.conferences import publishing
from confmgr.conferences import services as conferences
from confmgr.conferences.editing import RuleBroken
from confmgr.conferences.models import Conference, Presenter
from confmgr.conferences.scheduling import Problem
from confmgr.db import db, hold_rows
from confmgr.enums import QuestionStatus
from confmgr.i18n import counted, safe_next_url
from confmgr.points.listing import province_choices
from confmgr.public.views import readable_conference
from confmgr.questions import listing, services
from confmgr.questions.forms import AnswerForm, AssignForm, EditForm, RaiseForm
from confmgr.questions.models import Question
from confmgr.spreadsheets import xlsx_response
from confmgr.text import whole_number
from confmgr.web import commit_or_flash, point_in_reach, show_problems, ticked

bp = Blueprint("questions", __name__)


@bp.context_processor
def topic_names() -> dict:
    # The pages name a topic through this, or its number through the topic_number filter,
    # never by the stored number, which may still carry the words "Chuyên đề".
    return {"topic_label": listing.topic_label}


def _topic_choices(conference: Conference, filed: Question | None = None
                   ) -> list[SelectChoice]:
    """The topics of the published agenda, as it names them: a draft topic is no one's
    to ask about yet. A question ``filed`` under another topic keeps it as a choice, so
    saving its wording alone does not re-file it."""
    topics = listing.published_topics(conference)
    choices = [SelectChoice("", _("Câu hỏi chung (không theo chuyên đề)"))] + [
        SelectChoice(t.id, listing.topic_label(t)) for t in topics]
    if filed is not None and filed.topic is not None \
            and filed.topic_id not in {t.id for t in topics}:
        choices.append(SelectChoice(filed.topic_id, listing.topic_label(filed.topic)))
    return choices


def _presenter_choices(conference: Conference) -> list[SelectChoice]:
    return [SelectChoice("", "—")] + [SelectChoice(p.id, p.name)
                                      for p in conferences.presenters(conference)]


# ---------------------------------------------------------------- a point raises


@bp.route("/manage/c/<slug>/points/<code>/questions", methods=["GET", "POST"])
@login_required
def point_questions(slug: str, code: str):
    conference, point = point_in_reach(slug, code)
    form = RaiseForm()
    form.topic.choices = _topic_choices(conference)
    if form.validate_on_submit():
        text = form.body.data or ""
        numbered = services.split_pasted(text) if form.as_list.data else [(0, text)]
        try:
            raised = services.raise_questions(
                conference, point, numbered, topic_id=form.topic.data,
                asker=services.Asker(form.asker_name.data or "", form.asker_position.data or ""),
                user_id=current_user.id)
        except RuleBroken as broken:
            db.session.rollback()
            show_problems(form, broken.problems)
        else:
            db.session.commit()
            if raised:
                flash(counted("Đã gửi %(count)d câu hỏi.", len(raised)), "success")
            else:
                flash(_("Điểm cầu vừa gửi đúng những câu hỏi này; không gửi lại."), "info")
            return redirect(url_for("questions.point_questions", slug=slug, code=code))
    return render_template("questions/point.html", conference=conference, point=point,
                           form=form, questions=listing.point_questions([point.id]),
                           topic_titles={t.id: t.title
                                         for t in listing.published_topics(conference)},
                           manages=manages_conference(current_user, conference))


# ---------------------------------------------------------------- triage


def _triaging(slug: str) -> tuple[Conference, TriageScope]:
    """The conference and what the current user may do with its questions."""
    conference = conferences.conference_by_slug(slug)
    scope = triage_scope(current_user, conference)
    if scope is None:
        abort(403)
    return conference, scope


def _reaches(reach, standing_id: int) -> bool:
    return db.session.scalar(select(Question.id).where(Question.id == standing_id,
                                                       reach)) is not None


def _question(conference: Conference, reach, question_id: int, *, lock: bool = False
              ) -> Question:
    """A question of the conference that the current user may triage. Reach is judged on
    the question that answers it: a duplicate follows the question it was merged into,
    whatever topic it was first raised under. ``lock`` holds the row until the commit."""
    statement = select(Question).where(Question.id == question_id,
                                       Question.conference_id == conference.id)
    if lock:
        hold_rows(Question.__table__, statement.whereclause)
        statement = statement.execution_options(populate_existing=True)
    question = db.session.scalar(statement)
    if question is None or not _reaches(reach, question.merged_into_id or question.id):
        abort(404)
    return question


def _merged_out_of_reach(conference: Conference, scope: TriageScope,
                         question_id: int) -> Question | None:
    """The question with this id if it is in the user's reach itself but merged into one
    that is not (another presenter's topic); else None."""
    question = db.session.scalar(select(Question).where(
        Question.id == question_id, Question.conference_id == conference.id,
        Question.merged_into_id.is_not(None), scope.reach))
    if question is None or _reaches(scope.reach, question.merged_into_id):
        return None
    return question


def _out_of_reach(conference: Conference, scope: TriageScope, question_id: int) -> bool:
    """Whether the conference has a question with this id that the user may not triage
    (as _question judges it)."""
    standing = db.session.scalar(select(func.coalesce(Question.merged_into_id, Question.id))
                                 .where(Question.id == question_id,
                                        Question.conference_id == conference.id))
    return standing is not None and not _reaches(scope.reach, standing)


def _standing(conference: Conference, reach, ids: list[int]) -> list[Question] | None:
    """The standing questions with these ids, locked until the commit, oldest first; None,
    with a message naming the others, if any of them is not one (merged meanwhile, out of
    reach, another conference's): nothing is done then."""
    hold_rows(Question.__table__, and_(Question.id.in_(ids),
                                       Question.conference_id == conference.id))
    found = list(db.session.scalars(
        select(Question).where(Question.id.in_(ids), Question.conference_id == conference.id,
                               Question.merged_into_id.is_(None), reach)
        .order_by(Question.id).execution_options(populate_existing=True)))
    missing = sorted(set(ids) - {q.id for q in found})
    if missing:
        db.session.rollback()
        # Merged or out of reach, in the same words: no more is said of a question that
        # is not the user's to see.
        flash(counted("Không thay đổi gì: câu hỏi %(ids)s vừa được gộp hoặc không thuộc "
                      "phạm vi của bạn. Hãy tải lại trang và chọn lại.", len(missing),
                      ids=", ".join(f"#{question_id}" for question_id in missing)), "danger")
        return None
    return sorted(found, key=lambda q: (q.raised_at, q.id))


def _ticked() -> list[int]:
    ids = [whole_number(value) for value in ticked("ids")]
    if None in ids:
        abort(400)
    return ids


def _organiser(scope: TriageScope) -> None:
    if not scope.manages:
        abort(403)


@bp.get("/manage/c/<slug>/questions")
@login_required
def triage(slug: str):
    conference, scope = _triaging(slug)
    query = listing.TriageQuery.from_args(request.args)
    page = listing.triage(conference, scope.reach, query)
    assign = AssignForm()
    assign.presenter.choices = _presenter_choices(conference)
    return render_template(
        "questions/triage.html", conference=conference, page=page, query=query,
        queue=listing.queue(conference, scope.reach, as_published=not scope.manages),
        provinces=province_choices(), assign=assign, manages=scope.manages,
        words_cut=len(listing.search_words(query.text)) > listing.SEARCH_WORDS,
        search_words=listing.SEARCH_WORDS)


#: A presenter the form did not offer: of another conference, or removed since the page
#: was shown.
NO_SUCH_PRESENTER = _l("Báo cáo viên này không có trong hội nghị; hãy tải lại trang và chọn "
                       "lại.")

#: Bulk actions on ticked questions; assigning and publishing are the organisers'.
BULK_ACTIONS = ("merge", "assign", "publish")


@bp.post("/manage/c/<slug>/questions/bulk")
@login_required
def bulk(slug: str):
    """Merge, assign or publish the ticked questions, all of them or none."""
    conference, scope = _triaging(slug)
    action = request.form.get("action", "")
    if action not in BULK_ACTIONS:
        abort(400)
    if action != "merge":
        _organiser(scope)
    # Back to the triage page as it was filtered, if the address given is one of it.
    asked = safe_next_url(request.form.get("back"), "")
    back = redirect(asked if asked.startswith(f"/manage/c/{slug}/questions")
                    else url_for("questions.triage", slug=slug))
    ids = _ticked()
    if not ids:
        flash(_("Hãy chọn ít nhất một câu hỏi."), "warning")
        return back
    chosen = _standing(conference, scope.reach, ids)
    if chosen is None:
        return back
    if action == "merge":
        done, merged = commit_or_flash(lambda: services.merge(
            chosen[0], chosen[1:], publishes=scope.manages))
        if done:
            flash(counted("Đã gộp %(count)d câu hỏi vào câu hỏi #%(id)d.", len(merged),
                          id=chosen[0].id), "success")
    elif action == "assign":
        form = AssignForm()
        form.presenter.choices = _presenter_choices(conference)
        if not form.validate():
            flash(str(NO_SUCH_PRESENTER), "danger")
            return back
        if not form.presenter.data:  # taking many back is done one by one, on purpose
            flash(_("Hãy chọn báo cáo viên để giao các câu hỏi đã chọn."), "danger")
            return back
        presenter = db.session.get(Presenter, form.presenter.data)
        done, _none = commit_or_flash(lambda: services.assign(chosen, presenter))
        if done:
            flash(counted("Đã giao %(count)d câu hỏi.", len(chosen)), "success")
    else:
        done, _none = commit_or_flash(lambda: services.publish(chosen))
        if done:
            flash(counted("Đã công bố %(count)d câu hỏi.", len(chosen)), "success")
    return back


@bp.get("/manage/c/<slug>/questions/<int:question_id>")
@login_required
def detail(slug: str, question_id: int):
    conference, scope = _triaging(slug)
    question = _question(conference, scope.reach, question_id)
    if question.merged_into_id is not None:
        return redirect(url_for("questions.detail", slug=slug, question_id=question.merged_into_id,
                                _anchor=f"q{question.id}"))
    return _detail_page(conference, scope, question)


def _detail_page(conference, scope: TriageScope, question, answer=None, edit=None,
                 held_answer="", held_body=""):
    answer = answer or AnswerForm(formdata=None, answer=question.answer)
    answer.shown.data = question.answer or ""
    edit = edit or EditForm(formdata=None, body=question.body, topic=question.topic_id)
    edit.shown_body.data = question.body
    edit.topic.choices = _topic_choices(conference, question)
    assign = AssignForm(formdata=None, presenter=question.assignee_id)
    assign.presenter.choices = _presenter_choices(conference)
    return render_template(
        "questions/detail.html", conference=conference, question=question,
        topic_name=listing.topic_labels(conference, as_published=not scope.manages).get(
            question.topic_id, ""),
        group=listing.group(question), similar=listing.similar(question, scope.reach),
        answer=answer, edit=edit, assign=assign, manages=scope.manages,
        held_answer=held_answer, held_body=held_body)


def _on_the_question_joined(conference, scope: TriageScope, question, **forms):
    """The page of the question that ``question`` was merged into while a form of it was
    being filled in, the form's text kept: it goes on that question once its writer has
    seen it (and whatever it holds already)."""
    standing = _question(conference, scope.reach, question.standing.id, lock=True)
    flash(_("Câu hỏi #%(id)d vừa được gộp vào câu hỏi #%(into)d dưới đây; nội dung bạn viết "
            "được giữ trong ô: hãy xem lại rồi lưu.", id=question.id, into=standing.id),
          "warning")
    if "edit" in forms:
        forms["edit"].topic.choices = _topic_choices(conference, standing)
    # The answer it holds, beside the text kept in the box: saved, that text replaces it.
    held = standing.answer if "answer" in forms else ""
    return _detail_page(conference, scope, standing, held_answer=held or "", **forms)


def _change(slug: str, question_id: int, change, done_message: str, organiser_only=True):
    conference, scope = _triaging(slug)
    if organiser_only:
        _organiser(scope)
    question = _question(conference, scope.reach, question_id, lock=True)
    done, _result = commit_or_flash(lambda: change(conference, scope.reach, question))
    if done:
        flash(done_message, "success")
    return redirect(url_for("questions.detail", slug=slug, question_id=question.standing.id))


def _form_change(conference, scope: TriageScope, question, form, change, done_message,
                 **forms):
    """Apply a form's change to a question: on success commit and go back to the question;
    when a rule is broken, the question's page again with the problems on their fields.

    ``done_message`` is the message, or a function of what the change returned."""
    if form.validate_on_submit():
        try:
            result = change(form)
        except RuleBroken as broken:
            db.session.rollback()
            show_problems(form, broken.problems)
        else:
            db.session.commit()
            flash(done_message(result) if callable(done_message) else done_message, "success")
            return redirect(url_for("questions.detail", slug=conference.slug,
                                    question_id=question.id))
    return _detail_page(conference, scope, question, **forms)


@bp.post("/manage/c/<slug>/questions/<int:question_id>/answer")
@login_required
def answer(slug: str, question_id: int):
    conference, scope = _triaging(slug)
    form = AnswerForm()
    if form.validate_on_submit() and (form.answer.data or "").strip():
        # Its presenter was writing the answer when the organisers merged it into another
        # presenter's question, filed it under another topic or took it back: the text
        # comes back to them rather than into a 404.
        joined_elsewhere = _merged_out_of_reach(conference, scope, question_id)
        if joined_elsewhere is not None or _out_of_reach(conference, scope, question_id):
            return render_template("questions/answer_not_saved.html", conference=conference,
                                   manages=scope.manages, question_id=question_id,
                                   merged=joined_elsewhere, text=form.answer.data), 409
    question = _question(conference, scope.reach, question_id, lock=True)
    if question.merged_into_id is not None and form.validate_on_submit():
        return _on_the_question_joined(conference, scope, question, answer=form)
    if form.validate_on_submit() and services.changed_meanwhile(
            question.answer or "", shown=form.shown.data, sent=form.answer.data or ""):
        flash(_("Người khác vừa lưu một câu trả lời cho câu hỏi này; nội dung bạn viết được "
                "giữ trong ô: hãy xem lại rồi lưu."), "warning")
        return _detail_page(conference, scope, question, answer=form,
                            held_answer=question.answer or "")
    publishes = scope.manages
    withdraws = not publishes and question.status == QuestionStatus.PUBLISHED

    def message(changed: bool) -> str:
        if changed and withdraws:
            return _("Đã lưu câu trả lời; câu hỏi được rút khỏi trang hỏi đáp chờ Ban Tổ "
                     "chức công bố lại.")
        return _("Đã lưu câu trả lời.")

    return _form_change(
        conference, scope, question, form,
        lambda f: services.answer(question, f.answer.data or "", user_id=current_user.id,
                                  publishes=publishes),
        message, answer=form)


@bp.post("/manage/c/<slug>/questions/<int:question_id>/edit")
@login_required
def edit(slug: str, question_id: int):
    conference, scope = _triaging(slug)
    _organiser(scope)
    question = _question(conference, scope.reach, question_id, lock=True)
    form = EditForm()
    form.topic.choices = _topic_choices(conference, question)
    if question.merged_into_id is not None and form.validate_on_submit():
        return _on_the_question_joined(conference, scope, question, edit=form)
    if form.validate_on_submit() and services.changed_meanwhile(
            question.body, shown=form.shown_body.data, sent=form.body.data or ""):
        flash(_("Người khác vừa sửa câu hỏi này; nội dung bạn viết được giữ trong ô: hãy "
                "xem lại rồi lưu."), "warning")
        return _detail_page(conference, scope, question, edit=form, held_body=question.body)
    return _form_change(
        conference, scope, question, form,
        lambda f: services.edit(question, f.body.data or "", f.topic.data),
        _("Đã lưu câu hỏi."), edit=form)


@bp.post("/manage/c/<slug>/questions/<int:question_id>/assign")
@login_required
def assign(slug: str, question_id: int):
    def change(conference, _reach, question):
        form = AssignForm()
        form.presenter.choices = _presenter_choices(conference)
        if not form.validate():
            raise RuleBroken([Problem("presenter", str(NO_SUCH_PRESENTER))])
        presenter = db.session.get(Presenter, form.presenter.data) if form.presenter.data else None
        services.assign([question], presenter)

    taken_back = not request.form.get("presenter")
    return _change(slug, question_id, change,
                   _("Đã thôi giao câu hỏi.") if taken_back else _("Đã giao câu hỏi."))


@bp.post("/manage/c/<slug>/questions/<int:question_id>/merge")
@login_required
def merge(slug: str, question_id: int):
    """Merge the ticked similar questions into this one."""
    conference, scope = _triaging(slug)
    _question(conference, scope.reach, question_id)  # out of reach is no address, as everywhere
    ticked = _ticked()
    together = _standing(conference, scope.reach, [question_id, *ticked])
    if together is not None:
        target = next(q for q in together if q.id == question_id)
        done, _merged = commit_or_flash(lambda: services.merge(
            target, [q for q in together if q.id != question_id], publishes=scope.manages))
        if done:
            flash(_("Đã gộp các câu hỏi trùng."), "success")
    return redirect(url_for("questions.detail", slug=slug, question_id=question_id))


@bp.post("/manage/c/<slug>/questions/<int:question_id>/split")
@login_required
def split(slug: str, question_id: int):
    """Undo a merge: the duplicate stands alone again."""
    conference, scope = _triaging(slug)
    question = _question(conference, scope.reach, question_id)
    # The question it was merged into is written too (the answer the merge passed on goes
    # back): both are held, in the order of their ids as a merge holds them, before either
    # is read for the change; an answer saved to it meanwhile is not written over.
    hold_rows(Question.__table__, Question.id.in_(
        [question.id, question.merged_into_id or question.id]))
    question = _question(conference, scope.reach, question_id, lock=True)
    target = question.merged_into
    done, _result = commit_or_flash(lambda: services.split(question,
                                                           publishes=scope.manages))
    if done:
        flash(_("Câu hỏi #%(id)d đã được tách ra.", id=question.id), "success")
    return redirect(url_for("questions.detail", slug=slug,
                            question_id=target.id if target else question.id))


@bp.post("/manage/c/<slug>/questions/<int:question_id>/publish")
@login_required
def publish(slug: str, question_id: int):
    # The answer the page showed: one saved since is read before it is published.
    shown = request.form.get("shown")
    return _change(slug, question_id, lambda _c, _r, q: services.publish(
        [q], reviewed=None if shown is None else {q.id: shown}),
                   _("Đã công bố câu hỏi và câu trả lời."))


@bp.post("/manage/c/<slug>/questions/<int:question_id>/unpublish")
@login_required
def unpublish(slug: str, question_id: int):
    return _change(slug, question_id, lambda _c, _r, q: services.unpublish(q),
                   _("Đã hủy công bố."))


@bp.get("/manage/c/<slug>/questions/counts")
@login_required
def counts(slug: str):
    conference = conferences.conference_by_slug(slug)
    if not manages_conference(current_user, conference):
        abort(403)
    return render_template("questions/counts.html", conference=conference,
                           counts=listing.counts(conference))


# ---------------------------------------------------------------- the digest


def _digest_conference(slug: str) -> tuple[Conference, str]:
    """A conference whose digest the current user may read, with its title as published:
    as its agenda, only once published, except for its organisers."""
    conference = readable_conference(slug)
    agenda = publishing.published_agenda(conference)
    if agenda is None and not manages_conference(current_user, conference):
        abort(404)
    return conference, agenda.conference.title if agenda else conference.title


@bp.get("/c/<slug>/questions", defaults={"printable": False})
@bp.get("/c/<slug>/questions/print", defaults={"printable": True},
        endpoint="digest_print")
def digest(slug: str, printable: bool):
    conference, title = _digest_conference(slug)
    query = listing.DigestQuery.from_args(request.args)
    return render_template("questions/digest.html", conference=conference, title=title,
                           page=listing.digest(conference, query, whole=printable),
                           topics=[] if printable else listing.answered_topics(conference),
                           query=query, printable=printable)


@bp.get("/c/<slug>/questions.xlsx")
def digest_xlsx(slug: str):
    conference, _title = _digest_conference(slug)
    query = listing.DigestQuery.from_args(request.args)
    general_label = _("Câu hỏi chung")
    zone = ZoneInfo(publishing.published_timezone(conference))  # as the agenda reads
    rows = ([listing.topic_label(section.topic) or general_label, number, question.body,
             question.answer, section.answerers.get(question.id, ""),
             question.points_count, question.published_at.astimezone(zone)]
            for section in listing.digest(conference, query, whole=True).items
            for number, question in enumerate(section.questions, start=section.first_number))
    return xlsx_response(
        f"hoi-dap-{conference.slug}.xlsx", _("Hỏi đáp"),
        [_("Chuyên đề"), _("STT"), _("Câu hỏi"), _("Trả lời"), _("Báo cáo viên"),
         _("Số điểm cầu hỏi"), _("Công bố lúc")], rows)
