from __future__ import annotations

from flask import Blueprint, Response, abort, url_for

from confmgr.calendar.feeds import build_calendar
from confmgr.conferences import services

bp = Blueprint("calendar", __name__)


@bp.get("/c/<slug>/agenda.ics")
def conference_feed(slug: str):
    conference = services.conference_by_slug(slug)
    if not conference.is_published:
        abort(404)  # a draft never leaks, not even to its organisers' calendar clients
    body = build_calendar(
        conference,
        services.agenda_sessions(conference),
        url_for("public.agenda", slug=slug, _external=True),
        name=conference.title,
    )
    response = Response(body, content_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{slug}.ics"'
    return response
