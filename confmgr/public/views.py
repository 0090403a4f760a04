from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, send_file, url_for
from flask_babel import force_locale
from flask_login import current_user

from confmgr.accounts.permissions import can_read_conference, manages_conference
from confmgr.calendar import tokens
from confmgr.calendar.subscribe import private_subscription, subscription
from confmgr.conferences import materials, publishing, services
from confmgr.conferences.models import Conference, TopicMaterial
from confmgr.db import db
from confmgr.enums import FeedKind, Visibility
from confmgr.extensions import login_manager
from confmgr.text import plain_text

bp = Blueprint("public", __name__)


def readable_conference(slug: str) -> Conference:
    """A conference the current user may read; a restricted one asks strangers to sign in
    once it is published (before, as a public one, it is unknown to them)."""
    conference = services.conference_by_slug(slug)
    if not can_read_conference(current_user, conference):
        if not current_user.is_authenticated and publishing.published_agenda(conference):
            abort(login_manager.unauthorized())
        abort(404)
    return conference


def published(slug: str) -> tuple[Conference, publishing.PublishedAgenda]:
    """A conference and its latest published agenda; 404 before the first publication."""
    conference = readable_conference(slug)
    agenda = publishing.published_agenda(conference)
    if agenda is None:
        abort(404)
    return conference, agenda


@bp.get("/")
def index():
    # Each as its latest version shows it: a title or dates being edited stay unseen
    # until they are published.
    listed = [(c, publishing.published_agenda(c)) for c in services.published_conferences()
              if can_read_conference(current_user, c)]
    # Newest first by the days as published, not as being edited.
    shown = sorted(((conference.slug, agenda.conference) for conference, agenda in listed
                    if agenda), key=lambda item: item[1].first_day, reverse=True)
    return render_template("public/index.html", conferences=shown)


@bp.get("/c/<slug>/")
def agenda(slug: str):
    conference = readable_conference(slug)
    agenda = publishing.published_agenda(conference)
    if agenda is None:
        # Never published: only its organisers may look at the draft.
        if not manages_conference(current_user, conference):
            abort(404)
        return render_template(
            "public/agenda.html", conference=conference, info=conference,
            days=services.agenda_days(conference), agenda=None,
        )
    feed_token = None
    if conference.visibility == Visibility.RESTRICTED:
        # Calendar clients cannot sign in: each reader gets an address of their own.
        feed, feed_token = private_subscription(FeedKind.CONFERENCE, conference,
                                                agenda.conference.title, user=current_user)
        db.session.commit()
    else:
        feed = subscription(agenda.conference.title, "calendar.conference_feed", slug=slug)
    chosen = tokens.chosen_uids(current_user, conference) if current_user.is_authenticated \
        else None
    return render_template(
        "public/agenda.html", conference=conference, info=agenda.conference,
        days=agenda.days, agenda=agenda, subscription=feed, feed_token=feed_token,
        chosen=chosen,
    )


@bp.get("/c/<slug>/print")
def printable(slug: str):
    conference, agenda = published(slug)
    # An official programme is printed in Vietnamese whatever the reader's language.
    # Public programmes carry a QR code that subscribes a phone to the live calendar.
    feed = None
    if conference.visibility == Visibility.PUBLIC:
        feed = subscription(agenda.conference.title, "calendar.conference_feed", slug=slug)
    with force_locale("vi"):
        return render_template("public/print.html", conference=conference, agenda=agenda,
                               subscription=feed)


@bp.get("/c/<slug>/changelog")
def changelog(slug: str):
    conference, agenda = published(slug)
    return render_template(
        "public/changelog.html", conference=conference, info=agenda.conference,
        releases=releases(conference),
    )


@bp.get("/c/<slug>/changelog.atom")
def changelog_feed(slug: str):
    conference, agenda = published(slug)
    body = render_template(
        "public/changelog.atom.xml", conference=conference, info=agenda.conference,
        releases=releases(conference),
        feed_url=url_for("public.changelog_feed", slug=slug, _external=True),
        page_url=url_for("public.changelog", slug=slug, _external=True),
    )
    # XML takes no control character: one kept from older data would break the whole feed.
    return Response(plain_text(body), content_type="application/atom+xml; charset=utf-8")


@bp.get("/c/<slug>/materials/<int:material_id>")
def material(slug: str, material_id: int):
    """A material file: to everyone once published, before that to the organisers only."""
    conference = readable_conference(slug)
    item = db.session.get(TopicMaterial, material_id)
    if item is None or item.topic.conference_id != conference.id or not item.is_file:
        abort(404)
    agenda = publishing.published_agenda(conference)
    offered = agenda is not None and material_id in agenda.material_ids
    if not offered and not manages_conference(current_user, conference):
        abort(404)
    if not materials.file_path(item).is_file():
        # Restored from a backup without its uploads folder (README, "Backups").
        abort(404)
    response = send_file(
        materials.file_path(item), mimetype=item.content_type, as_attachment=True,
        download_name=item.original_name, max_age=3600,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Shared caches may keep only what anyone may read: a published material of a public
    # conference. A draft's file, or a restricted conference's, is for this reader alone.
    shared = offered and conference.visibility == Visibility.PUBLIC
    response.cache_control.public = shared
    if not shared:
        # Nor may the browser keep it after sign-out, on a commune hall's shared PC
        # (security.add_security_headers says the same of every signed-in page).
        response.cache_control.max_age = None
        response.cache_control.private = True
        response.cache_control.no_store = True
    return response


def releases(conference: Conference) -> list[tuple]:
    """(version, its changes against the one before), newest first."""
    versions = publishing.versions(conference)
    return [
        (version, publishing.diff_snapshots(
            publishing.snapshot_of(versions[index + 1]) if index + 1 < len(versions) else None,
            publishing.snapshot_of(version),
        ))
        for index, version in enumerate(versions)
    ]
