"""Browsing the audit trail: a conference's for its organisers, everyone's for admins."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from confmgr.accounts.permissions import manages_conference
from confmgr.audit import listing
from confmgr.audit.labels import ACTION_GROUPS
from confmgr.conferences import services as conferences
from confmgr.enums import Role
from confmgr.i18n import format_number
from confmgr.spreadsheets import csv_response, xlsx_response
from confmgr.xlsx import ToTheSecond

bp = Blueprint("audit", __name__, url_prefix="/manage")

#: Longer logs go to the CSV: Excel opens a workbook of more rows only slowly, if at all.
XLSX_MAX_ROWS = 100_000


def _conference_scope(slug: str) -> listing.Scope:
    conference = conferences.conference_by_slug(slug)
    if not manages_conference(current_user, conference):
        abort(403)
    return listing.Scope(conference, conference.tz)


def _everyone_scope() -> listing.Scope:
    if current_user.role != Role.ADMIN:
        abort(403)
    return listing.Scope(None, ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]))


def _page(scope: listing.Scope, endpoint: str, **endpoint_args):
    query = listing.AuditQuery.from_args(request.args)
    filters = listing.resolve(scope, query)
    return render_template(
        "audit/index.html", scope=scope, conference=scope.conference, query=query,
        errors=filters.errors, page=listing.find_entries(filters, query),
        action_groups=ACTION_GROUPS, endpoint=endpoint, endpoint_args=endpoint_args)


@bp.get("/c/<slug>/audit")
@login_required
def conference_log(slug: str):
    return _page(_conference_scope(slug), "audit.conference_log", slug=slug)


@bp.get("/audit")
@login_required
def everyone_log():
    return _page(_everyone_scope(), "audit.everyone_log")


@bp.get("/c/<slug>/audit.<any(csv, xlsx):kind>")
@login_required
def conference_export(slug: str, kind: str):
    return _export(_conference_scope(slug), kind, f"nhat-ky-{slug}",
                   url_for("audit.conference_log", slug=slug, **_filters_asked()))


@bp.get("/audit.<any(csv, xlsx):kind>")
@login_required
def everyone_export(kind: str):
    return _export(_everyone_scope(), kind, "nhat-ky",
                   url_for("audit.everyone_log", **_filters_asked()))


def _filters_asked() -> dict[str, str]:
    """The filters as typed, for the way back to the log (which names any mistake in
    them); nothing else of the address, which url_for would take for its own arguments."""
    return {name: value for name, value in request.args.items()
            if name in listing.FILTER_NAMES}


def _export(scope: listing.Scope, kind: str, name: str, back: str):
    query = listing.AuditQuery.from_args(request.args)
    filters = listing.resolve(scope, query)
    if filters.errors:
        # The page names the field and the problem.
        return redirect(back)
    if kind == "xlsx" and listing.more_than(filters, XLSX_MAX_ROWS):
        flash(_("Có hơn %(count)s dòng nhật ký phù hợp: quá nhiều cho một tệp Excel. Hãy "
                "lọc hẹp hơn hoặc tải tệp CSV.", count=format_number(XLSX_MAX_ROWS)),
              "warning")
        return redirect(back)
    everyone = scope.conference is None
    headings = ["Thời gian", *(["Hội nghị"] if everyone else []), "Người thực hiện", "Email",
                "Thao tác", "Mã thao tác", "Mã điểm cầu", "Điểm cầu", "Đối tượng", "Chi tiết"]
    zone = scope.zone

    def rows():
        # Files are read in Vietnamese, as every other export, whatever the page's language.
        with force_locale("vi"):
            for line in listing.all_lines(filters):
                yield [ToTheSecond.of(line.entry.at.astimezone(zone)),
                       *([line.conference_title] if everyone else []),
                       line.user_name, line.user_email, line.action_label, line.entry.action,
                       line.point_code, line.point_name, line.target,
                       listing.details_text(line)]

    filename = f"{name}.{kind}"
    if kind == "csv":
        return csv_response(filename, headings, rows())
    return xlsx_response(filename, "Nhật ký", headings, rows())
