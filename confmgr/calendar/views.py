from __future__ import annotations

from flask import Blueprint, Response, url_for

from confmgr.calendar.feeds import build_calendar
from confmgr.public.views import published

bp = Blueprint("calendar", __name__)


@bp.get("/c/<slug>/agenda.ics")
def conference_feed(slug: str):
    # Built from the latest published version only: a draft never leaks into calendars.
    conference, agenda = published(slug)
    body = build_calendar(
        agenda,
        url_for("public.agenda", slug=slug, _external=True),
        name=agenda.conference.title,
    )
    response = Response(body, content_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{slug}.ics"'
    return response
