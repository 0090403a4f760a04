from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required
from sqlalchemy import func, select

from confmgr.accounts.permissions import managed_conferences, manages_conference
from confmgr.conferences import publishing
from confmgr.conferences import services as conferences
from confmgr.db import db
from confmgr.enums import Role
from confmgr.points import services as points
from confmgr.points.models import BroadcastPoint

bp = Blueprint("dashboard", __name__, url_prefix="/manage")
#: A coordinator's points listed on the home page; the points page lists them all, paged.
HOME_POINTS = 10


@bp.get("/")
@login_required
def home():
    listed = list(db.session.scalars(managed_conferences(current_user)))
    my_points = {}
    if current_user.role == Role.COORDINATOR:
        my_points = {c.id: points.coordinated_points(current_user, c.id, HOME_POINTS)
                     for c in listed}
    # Before its first publication a conference's agenda page is its organisers' alone.
    published = publishing.latest_version_numbers([c.id for c in listed])
    return render_template("dashboard/home.html", conferences=listed, my_points=my_points,
                           published=published)


@bp.get("/c/<slug>/")
@login_required
def conference(slug: str):
    conference = conferences.conference_by_slug(slug)
    if not manages_conference(current_user, conference):
        abort(403)
    point_count = db.session.scalar(
        select(func.count()).where(BroadcastPoint.conference_id == conference.id)
    )
    # The points' own counts: counting two million delegates' rows would take a second.
    participant_count = db.session.scalar(
        select(func.coalesce(func.sum(BroadcastPoint.registered_count), 0))
        .where(BroadcastPoint.conference_id == conference.id)
    )
    return render_template(
        "dashboard/conference.html",
        conference=conference,
        point_count=point_count,
        participant_count=participant_count,
    )
