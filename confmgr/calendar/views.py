from __future__ import annotations

from flask import Blueprint, Response, request, url_for

from confmgr.calendar.feeds import build_calendar
from confmgr.public.views import published

bp = Blueprint("calendar", __name__)

#: How long clients and proxies may keep a feed before asking again (a 304 is cheap).
MAX_AGE = 900


@bp.get("/c/<slug>/agenda.ics")
def conference_feed(slug: str):
    # Built from the latest published version only: a draft never leaks into calendars.
    conference, agenda = published(slug)
    # A version never changes, so its number and time identify the feed: a client that
    # already has it gets a 304 before anything is built.
    etag = f"{slug}-v{agenda.number}-{int(agenda.published_at.timestamp())}"
    if request.if_none_match.contains(etag) or (
        not request.if_none_match and request.if_modified_since
        and request.if_modified_since >= agenda.published_at.replace(microsecond=0)
    ):
        response = Response(status=304)
    else:
        body = build_calendar(
            agenda,
            url_for("public.agenda", slug=slug, _external=True),
            name=agenda.conference.title,
        )
        response = Response(body, content_type="text/calendar; charset=utf-8")
        response.headers["Content-Disposition"] = f'attachment; filename="{slug}.ics"'
    response.set_etag(etag)
    response.last_modified = agenda.published_at
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    return response
