from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user

from confmgr.accounts.permissions import manages_conference
from confmgr.conferences import services
from confmgr.conferences.models import Conference

bp = Blueprint("public", __name__)


def visible_conference(slug: str) -> Conference:
    """A published conference, or a draft for those who manage it; 404 for anyone else."""
    conference = services.conference_by_slug(slug)
    if not conference.is_published and not manages_conference(current_user, conference):
        abort(404)
    return conference


@bp.get("/")
def index():
    return render_template("public/index.html", conferences=services.published_conferences())


@bp.get("/c/<slug>/")
def agenda(slug: str):
    conference = visible_conference(slug)
    return render_template(
        "public/agenda.html", conference=conference, days=services.agenda_days(conference)
    )
