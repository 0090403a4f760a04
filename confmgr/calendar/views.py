"""Calendar feeds over HTTP: public feeds by address, private feeds by secret token."""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from confmgr.accounts.models import User
from confmgr.accounts.permissions import can_read_conference, can_view_point
from confmgr.calendar import frab, tokens
from confmgr.calendar.feeds import ALARM_CHOICES, Feed, Place, build_calendar
from confmgr.calendar.models import FeedToken
from confmgr.calendar.subscribe import private_subscription
from confmgr.conferences import publishing
from confmgr.conferences.models import AgendaVersion, Conference
from confmgr.conferences.publishing import PublishedAgenda
from confmgr.db import db
from confmgr.enums import FeedKind, RegistrationStatus, Visibility
from confmgr.i18n import safe_next_url
from confmgr.points.models import BroadcastPoint
from confmgr.public.views import published
from confmgr.roster.models import Participant
from confmgr.text import whole_number

bp = Blueprint("calendar", __name__)
bp.add_app_template_global(ALARM_CHOICES, "alarm_choices")

#: How long clients and proxies may keep a feed before asking again (a 304 is cheap).
MAX_AGE = 900


def alarm_minutes() -> int | None:
    """The reminder asked for in ``?alarm=``; anything but a listed choice is refused."""
    value = request.args.get("alarm", "")
    if not value:
        return None
    if whole_number(value) not in ALARM_CHOICES:
        abort(Response(
            "alarm: choose one of " + ", ".join(map(str, ALARM_CHOICES)) + " (minutes)\n",
            status=400, content_type="text/plain; charset=utf-8"))
    return whole_number(value)


def versioned_response(conference: Conference, agenda: PublishedAgenda, options: str,
                       build: Callable[[], bytes], content_type: str, *,
                       filename: str | None = None, private: bool = False,
                       modified: datetime | None = None) -> Response:
    """A body made from one published version and ``options``, or a 304 when the client
    already holds it.

    ``modified`` is when the body last changed if that is later than the publication (a
    point's place changed since). ``private`` bodies (personal feeds, restricted
    conferences) are kept from shared caches, and only their ETag tells whether the client
    holds them: a personal feed also follows what changes between publications without a
    date (chosen sessions, a delegate's name), which the options carry.
    """
    modified = max(agenda.published_at, modified or agenda.published_at)
    # A version never changes and the options are in the key, so the ETag is known before
    # anything is built.
    digest = hashlib.blake2s(options.encode(), digest_size=6).hexdigest()
    etag = f"v{agenda.number}-{int(modified.timestamp())}-{digest}"
    # Weak comparison (RFC 9110 §13.1.2): a proxy that compressed the body sends W/"…".
    # _held_since() judges a date against the publication alone.
    if request.if_none_match.contains_weak(etag) or (
        not private and not request.if_none_match and request.if_modified_since
        and modified == agenda.published_at
        and _held_since(conference, agenda, request.if_modified_since)
    ):
        response = Response(status=304)
    else:
        response = Response(build(), content_type=content_type)
        if filename is not None:
            response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.set_etag(etag)
    response.last_modified = modified
    if private:
        # Personal data (a point's stream link, a delegate's name) or an agenda only some
        # may read: a shared cache would hand it to anyone.
        response.cache_control.private = True
    else:
        response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    return response


def _held_since(conference: Conference, agenda: PublishedAgenda, since: datetime) -> bool:
    """Whether a client whose copy dates from ``since`` holds this version.

    HTTP dates keep whole seconds and Last-Modified is the publication rounded down, so an
    earlier version published in the same second went out with the same date: then only a
    date past this publication (its ceiling) proves the client holds this one.
    """
    floor = agenda.published_at.replace(microsecond=0)
    if since < floor:
        return False
    if since >= floor + timedelta(seconds=1) or agenda.published_at == floor:
        return True
    same_second = db.session.scalar(
        select(AgendaVersion.id)
        .where(AgendaVersion.conference_id == conference.id)
        .where(AgendaVersion.number < agenda.number, AgendaVersion.published_at >= floor)
        .limit(1))
    return same_second is None


def feed_response(conference: Conference, agenda: PublishedAgenda, feed: Feed, filename: str,
                  *, private: bool = False) -> Response:
    """The feed, or a 304 when the client already holds this version of it."""
    # Everything the body is built from besides the version: the addresses too, which a
    # renamed conference changes under a private feed's unchanged token.
    options = repr((feed.name, feed.uids, feed.day, feed.place, feed.alarm_minutes,
                    feed.page_url, feed.source_url))
    return versioned_response(conference, agenda, options, lambda: build_calendar(agenda, feed),
                              "text/calendar; charset=utf-8", filename=filename,
                              private=private,
                              modified=feed.place.changed_at if feed.place else None)


def _agenda_url(slug: str) -> str:
    return url_for("public.agenda", slug=slug, _external=True)


def _source_url(endpoint: str, **values) -> str:
    """Where a calendar refreshes this feed from (SOURCE): this address, reminder and all."""
    return url_for(endpoint, **values, alarm=alarm_minutes(), _external=True)


def is_restricted(conference: Conference) -> bool:
    """Whether its public addresses answer only signed-in readers, so no shared cache may
    keep what they answer."""
    return conference.visibility != Visibility.PUBLIC


@bp.get("/c/<slug>/agenda.ics")
def conference_feed(slug: str):
    # Built from the latest published version only: a draft never leaks into calendars.
    conference, agenda = published(slug)
    feed = Feed(name=agenda.conference.title, page_url=_agenda_url(slug),
                source_url=_source_url("calendar.conference_feed", slug=slug),
                alarm_minutes=alarm_minutes())
    return feed_response(conference, agenda, feed, f"{slug}.ics",
                         private=is_restricted(conference))


@bp.get("/c/<slug>/days/<day>.ics")
def day_feed(slug: str, day: str):
    conference, agenda = published(slug)
    try:
        chosen = date.fromisoformat(day)
    except ValueError:
        abort(404)
    if not agenda.conference.first_day <= chosen <= agenda.conference.last_day:
        abort(404)
    feed = Feed(name=f"{agenda.conference.title} — {chosen.strftime('%d/%m/%Y')}",
                page_url=_agenda_url(slug),
                source_url=_source_url("calendar.day_feed", slug=slug, day=day),
                day=chosen, alarm_minutes=alarm_minutes())
    return feed_response(conference, agenda, feed, f"{slug}-{day}.ics",
                         private=is_restricted(conference))


@bp.get("/c/<slug>/sessions/<uid>.ics")
def session_feed(slug: str, uid: str):
    conference, agenda = published(slug)
    session = next((s for s in agenda.sessions if s.uid == uid), None)
    if session is None:
        abort(404)
    feed = Feed(name=session.title, page_url=_agenda_url(slug),
                source_url=_source_url("calendar.session_feed", slug=slug, uid=uid),
                uids=(uid,), alarm_minutes=alarm_minutes())
    return feed_response(conference, agenda, feed, f"{slug}-{session.id}.ics",
                         private=is_restricted(conference))


# ---------------------------------------------------------------- private feeds


def point_place(point: BroadcastPoint) -> Place:
    """Where a point's delegates sit: its address (or name), and the link it joins by."""
    location = f"{point.name}, {point.address}" if point.address else point.name
    return Place(location=location, stream_url=point.stream_url)


def _private_feed(row: FeedToken, conference: Conference, agenda: PublishedAgenda) -> Feed:
    """What a token opens; 404 when its owner may no longer read it."""
    title = agenda.conference.title
    common = {"page_url": _agenda_url(conference.slug), "alarm_minutes": alarm_minutes(),
              "source_url": _source_url("calendar.token_feed", token=row.token)}
    if row.kind in (FeedKind.CONFERENCE, FeedKind.CHOSEN):
        user = db.session.get(User, row.user_id)
        if user is None or not user.active or not can_read_conference(user, conference):
            abort(404)
        if row.kind == FeedKind.CONFERENCE:
            return Feed(name=title, **common)
        chosen = tokens.chosen_uids(user, conference)
        uids = tuple(s.uid for s in agenda.sessions if s.uid in chosen)
        return Feed(name=f"{title} — phiên đã chọn", uids=uids, **common)
    if row.kind == FeedKind.POINT:
        point = db.session.get(BroadcastPoint, row.point_id)
        place = replace(point_place(point), revision=point.place_revision,
                        changed_at=point.place_changed_at)
        return Feed(name=f"{title} — {point.name}", place=place, **common)
    person = db.session.get(Participant, row.participant_id)
    if person.status != RegistrationStatus.REGISTERED:
        abort(404)
    # The delegate's own count, not the point's: it also rises when they are moved, and
    # never falls when the new point's place changed fewer times than the old one's.
    place = replace(point_place(person.point), revision=person.place_revision,
                    changed_at=person.place_changed_at)
    return Feed(name=f"{title} — {person.full_name}", place=place, **common)


@bp.get("/feeds/<token>.ics")
def token_feed(token: str):
    row = tokens.find_active(token)
    if row is None:
        abort(404)  # unknown or revoked: the same answer, so neither can be told apart
    conference = db.session.get(Conference, row.conference_id)
    agenda = publishing.published_agenda(conference)
    if agenda is None:
        abort(404)
    feed = _private_feed(row, conference, agenda)
    return feed_response(conference, agenda, feed, f"{conference.slug}.ics", private=True)


def may_rotate(user: User, row: FeedToken) -> bool:
    if row.kind in (FeedKind.CONFERENCE, FeedKind.CHOSEN):
        return row.user_id == user.id
    if row.kind == FeedKind.POINT:
        return can_view_point(user, db.session.get(BroadcastPoint, row.point_id))
    return can_view_point(user, db.session.get(Participant, row.participant_id).point)


@bp.post("/feeds/<int:token_id>/rotate")
@login_required
def rotate(token_id: int):
    row = db.session.get(FeedToken, token_id)
    if row is None or not may_rotate(current_user, row):
        abort(404)
    if row.is_active:
        tokens.rotate(row, current_user)
        db.session.commit()
        flash(_("Đã đổi địa chỉ bí mật: địa chỉ cũ không còn dùng được, "
                "hãy đăng ký lại bằng địa chỉ mới."), "success")
    return redirect(safe_next_url(request.form.get("next"), url_for("dashboard.home")))


# ---------------------------------------------------------------- a user's own sessions


@bp.post("/c/<slug>/my/<uid>")
@login_required
def choose(slug: str, uid: str):
    conference, agenda = published(slug)
    session = next((s for s in agenda.sessions if s.uid == uid), None)
    if session is None:
        abort(404)
    if request.form.get("chosen") not in ("0", "1"):
        abort(400)
    chosen = request.form["chosen"] == "1"
    # A cancelled session may be taken out of a calendar, not put into one.
    if session.is_cancelled and chosen:
        if uid not in tokens.chosen_uids(current_user, conference):
            flash(_("Phiên này đã hủy nên không thêm vào lịch được."), "warning")
    else:
        tokens.choose(current_user, conference, uid, chosen)
        db.session.commit()
    return redirect(safe_next_url(request.form.get("next"),
                                  url_for("public.agenda", slug=slug)) + f"#s{session.id}")


@bp.get("/c/<slug>/my")
@login_required
def my_sessions(slug: str):
    conference, agenda = published(slug)
    chosen = tokens.chosen_uids(current_user, conference)
    feed, row = private_subscription(FeedKind.CHOSEN, conference,
                                     f"{agenda.conference.title} — phiên đã chọn",
                                     user=current_user)
    db.session.commit()
    return render_template(
        "calendar/my_sessions.html", conference=conference, info=agenda.conference,
        sessions=[s for s in agenda.sessions if s.uid in chosen], feed_token=row,
        subscription=feed,
    )


# ---------------------------------------------------------------- schedules for conference apps


def _frab_response(slug: str, kind: str, content_type: str) -> Response:
    # Seen by whoever may read the public .ics: 404 until the first publication.
    conference, agenda = published(slug)
    site = frab.Site(
        slug=slug, agenda_url=_agenda_url(slug),
        material_url=lambda material_id: url_for(
            "public.material", slug=slug, material_id=material_id, _external=True),
    )
    return versioned_response(conference, agenda, repr(("frab", kind, site.agenda_url)),
                              lambda: frab.export(agenda, site, kind), content_type,
                              private=is_restricted(conference))


@bp.get("/c/<slug>/schedule.xml")
def frab_xml(slug: str):
    return _frab_response(slug, "xml", "application/xml; charset=utf-8")


@bp.get("/c/<slug>/schedule.json")
def frab_json(slug: str):
    return _frab_response(slug, "json", "application/json")
