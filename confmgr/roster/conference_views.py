"""Conference-wide delegate pages for organisers: categories, compliance, national lists."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from confmgr.accounts.permissions import manages_conference
from confmgr.conferences import services as conferences
from confmgr.db import db
from confmgr.enums import PointLevel
from confmgr.paging import page_number
from confmgr.points import listing
from confmgr.points.labels import POINT_LEVEL_LABELS
from confmgr.points.models import BroadcastPoint
from confmgr.roster import categories, services
from confmgr.roster.forms import CategoryEditForm, CategoryForm, RequirementForm
from confmgr.roster.models import Category, Participant
from confmgr.spreadsheets import csv_response, xlsx_response
from confmgr.text import whole_number
from confmgr.web import commit_or_show, province_asked

bp = Blueprint("delegates", __name__, url_prefix="/manage/c/<slug>")
PER_PAGE = 100


def organised(slug: str):
    conference = conferences.conference_by_slug(slug)
    if not manages_conference(current_user, conference):
        abort(403)
    return conference


@bp.route("/categories", methods=["GET", "POST"])
@login_required
def category_list(slug: str):
    conference = organised(slug)
    form = CategoryForm(prefix="category")
    rule = RequirementForm(prefix="rule")
    listed = categories.categories(conference)
    rule.category.choices = [SelectChoice(c.id, c.name) for c in listed]
    rule.level.choices = [SelectChoice(level.value, label)
                          for level, label in POINT_LEVEL_LABELS.items()]
    if request.form.get("form") == "category" and form.validate_on_submit():
        done, _category = commit_or_show(form, lambda: categories.add_category(
            conference, form.name.data, form.rank.data))
        if done:
            flash(_("Đã thêm thành phần."), "success")
            return redirect(url_for("delegates.category_list", slug=slug))
    if request.form.get("form") == "rule" and rule.validate_on_submit():
        done, _requirement = commit_or_show(rule, lambda: categories.require(
            db.session.get(Category, rule.category.data), PointLevel(rule.level.data),
            rule.min_count.data or 0))
        if done:
            flash(_("Đã lưu yêu cầu thành phần."), "success")
            return redirect(url_for("delegates.category_list", slug=slug))
    listed = categories.categories(conference, with_requirements=True)
    return render_template("roster/categories.html", conference=conference, categories=listed,
                           form=form, rule=rule)


@bp.route("/categories/<int:category_id>/edit", methods=["GET", "POST"])
@login_required
def edit_category(slug: str, category_id: int):
    conference = organised(slug)
    category = db.session.get(Category, category_id)
    if category is None or category.conference_id != conference.id:
        abort(404)
    form = CategoryEditForm(obj=category)
    if not form.is_submitted():
        form.shown_name.data, form.shown_rank.data = category.name, str(category.rank)
    if form.validate_on_submit():
        shown_rank = whole_number(form.shown_rank.data or "")
        shown = (form.shown_name.data or "", shown_rank) if shown_rank is not None else None
        done, changed = commit_or_show(form, lambda: categories.update_category(
            category, form.name.data, form.rank.data, shown=shown))
        if done:
            flash(_("Đã lưu thành phần.") if changed else _("Không có thay đổi nào để lưu."),
                  "success")
            return redirect(url_for("delegates.category_list", slug=slug))
        # Shown again with what is stored now, so that saving again is a decision.
        form.shown_name.data, form.shown_rank.data = category.name, str(category.rank)
    return render_template("roster/category_edit.html", conference=conference,
                           category=category, form=form)


@bp.get("/compliance")
@login_required
def compliance(slug: str):
    conference = organised(slug)
    province = province_asked()
    page = page_number(request.args)
    missing, total = categories.shortfalls(conference, province=province, limit=PER_PAGE,
                                           offset=(page - 1) * PER_PAGE)
    return render_template("roster/compliance.html", conference=conference, missing=missing,
                           total=total, page=page, pages=max(1, -(-total // PER_PAGE)),
                           province=province, provinces=listing.province_choices())


@bp.get("/delegates")
@login_required
def national(slug: str):
    """Every registered delegate, nationally or in one province, in either order."""
    conference = organised(slug)
    province = province_asked(for_file=bool(request.args.get("export")))
    order = request.args.get("order") if request.args.get("order") in services.ORDERS else "alpha"
    page = page_number(request.args)
    points = select(BroadcastPoint.id).where(BroadcastPoint.conference_id == conference.id)
    if province:
        points = points.where(listing.in_province(BroadcastPoint.province_code, province))
    query = services.roster(points if province else None, order, conference_id=conference.id)
    # The points' own counts: counting the join again at every page took a third of a
    # second at 330,000 delegates.
    total = db.session.scalar(select(func.coalesce(func.sum(BroadcastPoint.registered_count), 0))
                              .where(BroadcastPoint.id.in_(points)))
    delegates = db.session.scalars(
        query.options(selectinload(Participant.category), selectinload(Participant.point))
        .limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    kind = request.args.get("export")
    if kind in ("csv", "xlsx"):
        return _export(conference, query, kind, province)
    return render_template("roster/national.html", conference=conference, delegates=delegates,
                           total=total, page=page, pages=max(1, -(-total // PER_PAGE)),
                           province=province, order=order, provinces=listing.province_choices(),
                           offset=(page - 1) * PER_PAGE)


def _export(conference, query, kind: str, province: str):
    # The point's code and the delegate's number, as a point's own list and the paper
    # lists of attendance carry them: rows are matched by number, namesakes included.
    headings = ["STT", "Họ và tên", "Chức vụ", "Đơn vị", "Thành phần", "Mã điểm cầu",
                "Điểm cầu", "Điện thoại", "Email", "Mã đại biểu"]
    # Plain rows of the columns written, not delegates as objects: building 330,000 of
    # them took most of the export's time.
    statement = query.with_only_columns(
        Participant.full_name, Participant.position, Participant.unit, Category.name,
        BroadcastPoint.code, BroadcastPoint.name, Participant.phone, Participant.email,
        Participant.id,
    ).join(BroadcastPoint, BroadcastPoint.id == Participant.point_id)

    def rows():
        # Streamed in batches, so a national list never sits in memory whole.
        for index, row in enumerate(db.session.execute(statement.execution_options(
                yield_per=5000)), start=1):
            full_name, position, unit, category, code, point, phone, email, number = row
            yield [index, full_name, position, unit, category or "", code, point, phone,
                   email, number]

    name = f"dai-bieu-{conference.slug}{'-' + province if province else ''}.{kind}"
    if kind == "csv":
        return csv_response(name, headings, rows())
    return xlsx_response(name, "Đại biểu", headings, rows())
