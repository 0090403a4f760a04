"""Calendar feeds over HTTP: public feeds by address, private feeds by secret token."""
from __future__ import annotations

import hashlib
from datetime import date

from flask import Blueprint, Response, abort, request, url_for

from confmgr.calendar.feeds import ALARM_CHOICES, Feed, build_calendar
from confmgr.conferences.publishing import PublishedAgenda
from confmgr.public.views import published

bp = Blueprint("calendar", __name__)
bp.add_app_template_global(ALARM_CHOICES, "alarm_choices")

#: How long clients and proxies may keep a feed before asking again (a 304 is cheap).
MAX_AGE = 900


def alarm_minutes() -> int | None:
    """The reminder asked for in ``?alarm=``; anything but a listed choice is refused."""
    value = request.args.get("alarm", "")
    if not value:
        return None
    if not value.isdigit() or int(value) not in ALARM_CHOICES:
        abort(Response(
            "alarm: choose one of " + ", ".join(map(str, ALARM_CHOICES)) + " (minutes)\n",
            status=400, content_type="text/plain; charset=utf-8"))
    return int(value)


def feed_response(agenda: PublishedAgenda, feed: Feed, filename: str, *,
                  private: bool = False) -> Response:
    """The feed, or a 304 when the client already holds this version of it."""
    # A version never changes and the feed's options are in the key, so the ETag is known
    # before anything is built.
    options = repr((feed.name, feed.uids, feed.day, feed.place, feed.alarm_minutes))
    digest = hashlib.blake2s(options.encode(), digest_size=6).hexdigest()
    etag = f"v{agenda.number}-{int(agenda.published_at.timestamp())}-{digest}"
    if request.if_none_match.contains(etag) or (
        not request.if_none_match and request.if_modified_since
        and request.if_modified_since >= agenda.published_at.replace(microsecond=0)
    ):
        response = Response(status=304)
    else:
        response = Response(build_calendar(agenda, feed),
                            content_type="text/calendar; charset=utf-8")
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.set_etag(etag)
    response.last_modified = agenda.published_at
    if private:
        # Personal data (a point's stream link, a delegate's name): no shared caches.
        response.cache_control.private = True
    else:
        response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    return response


def _agenda_url(slug: str) -> str:
    return url_for("public.agenda", slug=slug, _external=True)


@bp.get("/c/<slug>/agenda.ics")
def conference_feed(slug: str):
    # Built from the latest published version only: a draft never leaks into calendars.
    _, agenda = published(slug)
    feed = Feed(name=agenda.conference.title, page_url=_agenda_url(slug),
                source_url=url_for("calendar.conference_feed", slug=slug, _external=True),
                alarm_minutes=alarm_minutes())
    return feed_response(agenda, feed, f"{slug}.ics")


@bp.get("/c/<slug>/days/<day>.ics")
def day_feed(slug: str, day: str):
    _, agenda = published(slug)
    try:
        chosen = date.fromisoformat(day)
    except ValueError:
        abort(404)
    if not agenda.conference.first_day <= chosen <= agenda.conference.last_day:
        abort(404)
    feed = Feed(name=f"{agenda.conference.title} — {chosen.strftime('%d/%m/%Y')}",
                page_url=_agenda_url(slug),
                source_url=url_for("calendar.day_feed", slug=slug, day=day, _external=True),
                day=chosen, alarm_minutes=alarm_minutes())
    return feed_response(agenda, feed, f"{slug}-{day}.ics")


@bp.get("/c/<slug>/sessions/<uid>.ics")
def session_feed(slug: str, uid: str):
    _, agenda = published(slug)
    session = next((s for s in agenda.sessions if s.uid == uid), None)
    if session is None:
        abort(404)
    feed = Feed(name=session.title, page_url=_agenda_url(slug),
                source_url=url_for("calendar.session_feed", slug=slug, uid=uid, _external=True),
                uids=(uid,), alarm_minutes=alarm_minutes())
    return feed_response(agenda, feed, f"{slug}-{session.id}.ics")
