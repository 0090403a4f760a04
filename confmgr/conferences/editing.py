"""Changing a conference's agenda. Every function checks the rules, records the change in the
audit trail and leaves the commit to its caller, so one request is one transaction.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, fields as dataclass_fields
from datetime import date, datetime, time, timedelta, timezone
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update

from confmgr.accounts.models import User
from confmgr.audit.services import record
from confmgr.conferences.models import (
    AgendaSession,
    AgendaVersion,
    Conference,
    Presenter,
    Room,
    Topic,
    session_presenters,
)
from confmgr.conferences.scheduling import (
    Problem,
    Slot,
    bare_topic_number,
    binds_a_cancelled_session,
    check_slot,
    check_topic_number,
    skipped_by_clocks,
    skipped_message,
    slot_of,
)
from confmgr.db import db, utcnow
from confmgr.enums import Role, SessionKind, SessionStatus, Visibility
from confmgr.text import fingerprint, name_compare_form, normalise

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class RuleBroken(ValueError):
    """A change breaks agenda rules; ``problems`` say which field and why."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def _refuse_if_blocking(problems: list[Problem]) -> list[Problem]:
    """Raise for blocking problems; hand the warnings back to the caller."""
    if any(p.blocking for p in problems):
        raise RuleBroken([p for p in problems if p.blocking])
    return problems


# ---------------------------------------------------------------- conferences


@dataclass
class ConferenceFields:
    slug: str
    title: str
    organising_unit: str
    description: str
    timezone: str
    first_day: date
    last_day: date
    #: When delegates may be registered, in the conference's time zone; None is open-ended.
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    visibility: Visibility = Visibility.PUBLIC
    checkin_opens_minutes: int = 60
    checkin_closes_minutes: int = 120


#: The years a conference's dates may fall in.
YEARS = range(2000, 2101)
#: The most days one conference may span.
MAX_DAYS = 60


def _published_at_another_slug(conference_id: int, slug: str) -> bool:
    """Whether the conference was ever published, under an address other than ``slug``."""
    return db.session.scalar(
        select(Conference.slug).where(Conference.id == conference_id,
                                      select(AgendaVersion.id).where(
                                          AgendaVersion.conference_id == conference_id
                                      ).exists())) not in (None, slug)


def check_conference(fields: ConferenceFields, conference_id: int | None) -> list[Problem]:
    problems = []
    if not SLUG_PATTERN.match(fields.slug):
        problems.append(Problem("slug", _(
            "Chỉ dùng chữ thường không dấu, chữ số và dấu gạch ngang, ví dụ tap-huan-2025."
        )))
    else:
        taken = select(Conference.id).where(Conference.slug == fields.slug)
        if conference_id is not None:
            taken = taken.where(Conference.id != conference_id)
        if db.session.scalar(taken) is not None:
            problems.append(Problem("slug", _("Địa chỉ này đã được dùng.")))
        elif conference_id is not None and _published_at_another_slug(conference_id,
                                                                       fields.slug):
            # Every calendar subscribed and every link sent holds the address, and frab's
            # event ids are made of it: a new one would leave them all at a 404.
            problems.append(Problem("slug", _(
                "Hội nghị đã công bố nên không đổi được địa chỉ: các lịch đã đăng ký và "
                "các liên kết đã gửi đều theo địa chỉ này.")))
    if not is_conference_zone(fields.timezone):
        problems.append(Problem("timezone", _("Múi giờ không hợp lệ: hãy dùng tên IANA.")))
    # Dates far from now are typing slips; at the year 1 or 9999 they would not even
    # convert to UTC, and a conference of centuries would build pages of every day.
    far = [(name, value) for name, value in (
        ("first_day", fields.first_day), ("last_day", fields.last_day),
        ("registration_opens", fields.registration_opens_at),
        ("registration_closes", fields.registration_closes_at))
        if value is not None and value.year not in YEARS]
    for name, _value in far:
        problems.append(Problem(name, _("Năm phải từ %(first)d đến %(last)d.",
                                        first=YEARS.start, last=YEARS.stop - 1)))
    if far:
        return problems
    if fields.last_day < fields.first_day:
        problems.append(Problem("last_day", _("Ngày kết thúc phải từ ngày bắt đầu trở đi.")))
    elif (fields.last_day - fields.first_day).days >= MAX_DAYS:
        problems.append(Problem("last_day", _("Một hội nghị kéo dài tối đa %(days)d ngày.",
                                              days=MAX_DAYS)))
    for name, moment in (("registration_opens", fields.registration_opens_at),
                         ("registration_closes", fields.registration_closes_at)):
        if moment is not None and skipped_by_clocks(moment):
            problems.append(Problem(name, skipped_message(moment, fields.timezone)))
    if (fields.registration_opens_at and fields.registration_closes_at
            and fields.registration_closes_at <= fields.registration_opens_at):
        problems.append(Problem("registration_closes", _("Đóng đăng ký phải sau mở đăng ký.")))
    return problems


#: Names zoneinfo lists that are no place's time: "localtime" is whatever the server is set
#: to (and feeds would say TZID:localtime), "Factory" and "posixrules" are the database's own.
_NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})


def is_conference_zone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone a conference may be held in."""
    return name in _conference_zones()


@cache
def _conference_zones() -> frozenset[str]:
    # available_timezones() walks the zone database's folders at every call.
    return frozenset(available_timezones()) - _NOT_PLACES


def create_conference(fields: ConferenceFields, user: User) -> Conference:
    _refuse_if_blocking(check_conference(fields, None))
    conference = Conference(**vars(fields))
    db.session.add(conference)
    db.session.flush()
    if user.role == Role.ORGANISER:
        user.conferences.append(conference)  # who creates it organises it
    record("conference.create", target=conference, conference_id=conference.id,
           slug=fields.slug)
    return conference


def update_conference(conference: Conference, fields: ConferenceFields,
                      seen: str | None = None) -> int:
    """Save the conference's fields; returns how many sessions a new time zone moved.
    ``seen``: the conference_digest its form showed; changed since, it is refused.

    The agenda was written in local time ("8:00 on the 14th"), so in a new time zone each
    session keeps its local times, which means new instants.
    """
    hold_conference(conference)  # no session saved meanwhile on a day this drops
    _as_it_is_now(conference, conference_digest, seen, _(
        "Người khác vừa sửa thông tin hội nghị sau khi bạn mở trang; hãy mở lại trang để "
        "xem thay đổi đó rồi sửa lại."))
    problems = check_conference(fields, conference.id)
    if fields.first_day <= fields.last_day and not any(
            p.field in ("first_day", "last_day") for p in problems):
        problems += _sessions_left_out(conference, fields.first_day, fields.last_day)
    if fields.timezone != conference.timezone and not any(
            p.field == "timezone" for p in problems):
        problems += _times_the_new_zone_skips(conference, ZoneInfo(fields.timezone))
    _refuse_if_blocking(problems)
    before = {name: getattr(conference, name) for name in vars(fields)}
    old_zone = conference.tz
    for name, value in vars(fields).items():
        setattr(conference, name, value)
    moved = 0
    if fields.timezone != before["timezone"]:
        moved = _keep_local_times(conference, old_zone)
    record("conference.update", target=conference, conference_id=conference.id,
           **changed_fields(before, vars(fields)), **({"sessions_moved": moved} if moved else {}))
    return moved


def conference_digest(conference: Conference) -> str:
    """A fingerprint of what the conference's form edits."""
    return fingerprint({field.name: str(getattr(conference, field.name))
                        for field in dataclass_fields(ConferenceFields)})


def _sessions_left_out(conference: Conference, first_day: date, last_day: date) -> list[Problem]:
    """Sessions, cancelled ones included, that the new days would leave out: no day would
    show them and the editor could not save them again, so they must be moved first.

    Read in the current zone even when the zone changes too: sessions keep their local
    times (see _keep_local_times).
    """
    tz = conference.tz
    first = datetime.combine(first_day, time(0), tz)
    after_last = datetime.combine(last_day + timedelta(days=1), time(0), tz)
    problems = []
    before = _count_and_earliest(conference, AgendaSession.starts_at < first)
    if before is not None:
        count, earliest = before
        problems.append(Problem("first_day", _(
            "%(count)d phiên nằm trước ngày này, sớm nhất là «%(title)s» (%(day)s); hãy dời "
            "các phiên đó vào các ngày của hội nghị trước.",
            count=count, title=earliest.title, day=_local_day(earliest, tz))))
    after = _count_and_earliest(conference, or_(AgendaSession.starts_at >= after_last,
                                                 AgendaSession.ends_at > after_last))
    if after is not None:
        count, earliest = after
        problems.append(Problem("last_day", _(
            "%(count)d phiên nằm sau ngày này, sớm nhất là «%(title)s» (%(day)s); hãy dời "
            "các phiên đó vào các ngày của hội nghị trước.",
            count=count, title=earliest.title, day=_local_day(earliest, tz))))
    return problems


def _count_and_earliest(conference: Conference, where) -> tuple[int, AgendaSession] | None:
    sessions = select(AgendaSession).where(AgendaSession.conference_id == conference.id, where)
    count = db.session.scalar(sessions.with_only_columns(func.count()))
    if not count:
        return None
    return count, db.session.scalar(sessions.order_by(AgendaSession.starts_at).limit(1))


def _local_day(session: AgendaSession, tz) -> str:
    return session.starts_at.astimezone(tz).strftime("%d/%m/%Y")


def _times_the_new_zone_skips(conference: Conference, new_zone: ZoneInfo) -> list[Problem]:
    """The first session whose local start or end never happens in ``new_zone`` (the clocks
    jump over it there): it could not keep its local times (see _keep_local_times)."""
    old_zone = conference.tz
    for session in db.session.scalars(select(AgendaSession).where(
            AgendaSession.conference_id == conference.id).order_by(AgendaSession.starts_at)):
        for moment in (session.starts_at, session.ends_at):
            local = moment.astimezone(old_zone).replace(tzinfo=new_zone)
            if skipped_by_clocks(local):
                return [Problem("timezone", _(
                    "Phiên «%(title)s» không giữ được giờ địa phương: %(why)s",
                    title=session.title, why=skipped_message(local, new_zone.key)))]
    return []


def _keep_local_times(conference: Conference, old_zone) -> int:
    new_zone = conference.tz
    sessions = db.session.scalars(select(AgendaSession).where(
        AgendaSession.conference_id == conference.id)).all()
    for session in sessions:
        for name in ("starts_at", "ends_at"):
            local = getattr(session, name).astimezone(old_zone).replace(tzinfo=new_zone)
            setattr(session, name, local.astimezone(timezone.utc))
    return len(sessions)


# ---------------------------------------------------------------- sessions


@dataclass
class SessionFields:
    day: date
    start: Any  # datetime.time
    end: Any
    kind: SessionKind
    title: str
    description: str = ""
    room_id: int | None = None
    topic_id: int | None = None
    presenter_ids: tuple[int, ...] = ()


def _slot(conference: Conference, fields: SessionFields, session_id: int | None) -> Slot:
    tz = conference.tz
    starts_at = datetime.combine(fields.day, fields.start, tz)
    ends_at = datetime.combine(fields.day, fields.end, tz)
    return Slot(starts_at, ends_at, fields.room_id, fields.topic_id,
                tuple(fields.presenter_ids), session_id)


def _presenters(conference: Conference, ids) -> list[Presenter]:
    """The presenters with these ids, in this order, each once; all must belong to the
    conference."""
    ids = list(dict.fromkeys(ids))  # the same presenter picked twice is one presenter
    if not ids:
        return []
    rows = list(db.session.scalars(
        select(Presenter).where(Presenter.id.in_(ids), Presenter.conference_id == conference.id)
    ))
    if len(rows) != len(set(ids)):
        raise RuleBroken([Problem("presenters", _("Báo cáo viên không thuộc hội nghị này."))])
    by_id = {row.id: row for row in rows}
    return [by_id[i] for i in ids]


def hold_conference(conference: Conference) -> None:
    """Hold the conference's row until commit, before checking a change against what the
    conference holds (its days and zone, sessions, versions, points, categories): two such
    changes at once are then checked one after the other, the second against the first's
    result, instead of both against what was there before either (which no constraint
    would catch: two sessions in one room, a loop of points' parents, two categories that
    fold alike). On SQLite this write takes the database's write lock; on PostgreSQL, the
    row's lock.

    The conference is read again once held: a change of its days or time zone committed
    while this request waited must decide where a session goes, not the copy read before."""
    db.session.execute(update(Conference).where(Conference.id == conference.id)
                       .values(updated_at=utcnow())
                       .execution_options(synchronize_session=False))
    db.session.refresh(conference)


def save_session(
    conference: Conference, session: AgendaSession | None, fields: SessionFields,
    seen: str | None = None,
) -> tuple[AgendaSession, list[Problem]]:
    """Create or update a session; return it with the warnings it raised. ``seen``: the
    session_digest of the session as the editor's page showed it; a session saved since
    by someone else is refused, not overwritten with the rest of that page."""
    hold_conference(conference)
    if session is not None:
        _as_it_is_now(session, session_digest, seen, _(
            "Người khác vừa sửa phiên này sau khi bạn mở trang; hãy mở lại trang để xem "
            "thay đổi đó rồi sửa lại."))
    slot = _slot(conference, fields, session.id if session else None)
    warnings = _refuse_if_blocking(_rules_for(session, check_slot(conference, slot)))
    presenters = _presenters(conference, fields.presenter_ids)
    values = {
        "starts_at": slot.starts_at, "ends_at": slot.ends_at, "kind": fields.kind,
        "title": fields.title.strip(), "description": fields.description.strip(),
        "room_id": fields.room_id, "topic_id": fields.topic_id,
    }
    if session is None:
        session = AgendaSession(conference_id=conference.id, **values)
        db.session.add(session)
        assign_presenters(session, presenters)
        record("session.create", target=session, conference_id=conference.id,
               title=session.title)
    else:
        before = _session_values(session)
        for name, value in values.items():
            setattr(session, name, value)
        assign_presenters(session, in_kept_order(session.presenters, presenters))
        record("session.update", target=session, conference_id=conference.id,
               **changed_fields(before, _session_values(session)))
    return session, warnings


def in_kept_order(current: list[Presenter], picked: list[Presenter]) -> list[Presenter]:
    """``picked``, those the session has already in the order it lists them, then the
    others in the order sent. A form's list sends its choices in its own order (by name),
    whatever the order given them: saved as sent, every save sorted them by name."""
    chosen = {p.id for p in picked}
    kept = [p for p in current if p.id in chosen]
    return kept + [p for p in picked if p not in kept]


def assign_presenters(session: AgendaSession, presenters: list[Presenter]) -> None:
    """The session's presenters, listed in this order wherever it is shown."""
    session.presenters = presenters
    db.session.flush()  # the links are written; then their places
    links = session_presenters.c
    for position, presenter in enumerate(presenters):
        db.session.execute(update(session_presenters).where(
            links.session_id == session.id, links.presenter_id == presenter.id,
        ).values(position=position))


def move_presenter(session: AgendaSession, presenter_id: int, direction: str) -> None:
    """Move one of the session's presenters a place ``up`` or ``down`` the order they are
    listed in (the session form's list sends its choices by name, so it cannot)."""
    order = list(session.presenters)
    index = next((i for i, p in enumerate(order) if p.id == presenter_id), None)
    if index is None:
        raise RuleBroken([Problem("", _("Báo cáo viên này không có trong phiên."))])
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(order):
        return  # already first or last: a second click, or a stale page
    before = _session_values(session)
    order[index], order[other] = order[other], order[index]
    assign_presenters(session, order)
    record("session.update", target=session, conference_id=session.conference_id,
           **changed_fields(before, _session_values(session)))


def _rules_for(session: AgendaSession | None, problems: list[Problem]) -> list[Problem]:
    """The problems a session must answer: a cancelled one, only those of its own day and
    times (scheduling.binds_a_cancelled_session)."""
    if session is not None and session.status == SessionStatus.CANCELLED:
        return [problem for problem in problems if binds_a_cancelled_session(problem)]
    return problems


def _session_values(session: AgendaSession) -> dict[str, Any]:
    return {
        "starts_at": session.starts_at.astimezone(timezone.utc).isoformat(),
        "ends_at": session.ends_at.astimezone(timezone.utc).isoformat(),
        "kind": session.kind.value, "title": session.title,
        "description": session.description, "room_id": session.room_id,
        "topic_id": session.topic_id, "presenter_ids": [p.id for p in session.presenters],
    }


def _as_it_is_now(row, digest: Callable[[Any], str], seen: str | None,
                  changed_meanwhile: str) -> None:
    """Read ``row`` afresh (the caller holds the conference); refused with
    ``changed_meanwhile`` when it is no longer as its form showed it (``seen``: its
    ``digest`` then), so that a save does not put back unseen what another has changed."""
    db.session.refresh(row)
    if seen is not None and digest(row) != seen:
        raise RuleBroken([Problem("", changed_meanwhile)])


def session_digest(session: AgendaSession) -> str:
    """A fingerprint of what the session's form edits, and of its status."""
    return fingerprint({**_session_values(session), "status": session.status.value})


def delete_session(session: AgendaSession) -> None:
    """Only a session never published may disappear; a published one is cancelled instead."""
    hold_conference(session.conference)
    db.session.refresh(session)  # published while this request waited?
    if session.first_published_at is not None:
        raise RuleBroken([Problem("", _(
            "Phiên này đã được công bố nên không xóa được; hãy hủy phiên để lịch của đại biểu "
            "được cập nhật."
        ))])
    record("session.delete", target=session, conference_id=session.conference_id,
           title=session.title)
    db.session.delete(session)


def cancel_session(session: AgendaSession) -> None:
    if session.status == SessionStatus.CANCELLED:  # a second click, or a stale page
        return
    session.status = SessionStatus.CANCELLED
    record("session.cancel", target=session, conference_id=session.conference_id,
           title=session.title)


def reinstate_session(session: AgendaSession) -> None:
    if session.status == SessionStatus.CONFIRMED:
        return
    conference = session.conference
    hold_conference(conference)
    db.session.refresh(session)  # checked where it is now, moved meanwhile or not
    if session.status == SessionStatus.CONFIRMED:
        return
    blocking = [p for p in check_slot(conference, slot_of(session)) if p.blocking]
    if blocking:
        # Said on the agenda's page, away from the session: which one could not come back.
        raise RuleBroken([Problem(p.field, _(
            "Không khôi phục được phiên «%(title)s»: %(why)s", title=session.title,
            why=p.message)) for p in blocking])
    session.status = SessionStatus.CONFIRMED
    record("session.reinstate", target=session, conference_id=session.conference_id,
           title=session.title)


def shift_sessions(session: AgendaSession, minutes: int, *, following: bool) -> list[AgendaSession]:
    """Move a session, and with ``following`` every later session of its day, by N minutes.

    All of them move or none does: the first broken rule undoes the whole shift.
    """
    conference = session.conference
    hold_conference(conference)
    db.session.refresh(session)  # moved from where it is now, not as first read
    moved = [session]
    if following:
        tz = conference.tz
        day_end = datetime.combine(
            session.starts_at.astimezone(tz).date() + timedelta(days=1), datetime.min.time(), tz
        )
        moved = list(db.session.scalars(
            select(AgendaSession)
            .where(AgendaSession.conference_id == conference.id)
            .where(AgendaSession.status == SessionStatus.CONFIRMED)
            .where(AgendaSession.starts_at >= session.starts_at)
            .where(AgendaSession.starts_at < day_end)
            .order_by(AgendaSession.starts_at)
        ))
        if session not in moved:
            moved.insert(0, session)
    delta = timedelta(minutes=minutes)
    days = {item.id: item.starts_at.astimezone(conference.tz).date() for item in moved}
    for item in moved:
        item.starts_at += delta
        item.ends_at += delta
    db.session.flush()  # the checks below query the new times
    problems = []
    for item in moved:
        broken = [problem.message for problem in
                  _rules_for(item, check_slot(conference, slot_of(item))) if problem.blocking]
        if not broken and item.starts_at.astimezone(conference.tz).date() != days[item.id]:
            # A slip keeps each session on its day: past midnight it would land among the
            # next day's sessions unannounced. Moving to another day is an edit of its own.
            broken = [_("Dời giờ không đưa phiên sang ngày khác; hãy sửa ngày giờ của phiên.")]
        problems.extend(Problem("minutes", f"«{item.title}»: {message}") for message in broken)
    if problems:
        raise RuleBroken(problems)
    record("session.shift", target=session, conference_id=conference.id, minutes=minutes,
           sessions=[item.id for item in moved])
    return moved


# ---------------------------------------------------------------- topics, presenters, rooms


def save_topic(
    conference: Conference, topic: Topic | None, number: str, title: str, summary: str,
    seen: str | None = None,
) -> Topic:
    """``seen``: the topic_digest its form showed; changed since, it is refused."""
    number = bare_topic_number(number)
    # Checked one save after another: "9a" and "9A" saved at once both passed the check,
    # which the database's constraint (case kept) did not catch.
    hold_conference(conference)
    if topic is not None:
        _as_it_is_now(topic, topic_digest, seen, _(
            "Người khác vừa sửa chuyên đề này sau khi bạn mở trang; hãy mở lại trang để xem "
            "thay đổi đó rồi sửa lại."))
    _refuse_if_blocking(check_topic_number(conference, number, topic.id if topic else None))
    if topic is None:
        topic = Topic(conference_id=conference.id)
        db.session.add(topic)
        action, before = "topic.create", None
    else:
        action, before = "topic.update", _topic_values(topic)
    topic.number, topic.title, topic.summary = number, title.strip(), summary.strip()
    record(action, target=topic, conference_id=conference.id,
           **_saved_details(before, _topic_values(topic)))
    return topic


def topic_digest(topic: Topic) -> str:
    return fingerprint(_topic_values(topic))


def _topic_values(topic: Topic) -> dict[str, Any]:
    # Not "number": in the log that names an agenda version's number.
    return {"topic_number": topic.number, "title": topic.title, "summary": topic.summary}


def save_presenter(
    conference: Conference, presenter: Presenter | None, name: str, position: str, unit: str,
    seen: str | None = None,
) -> Presenter:
    """``seen``: the presenter_digest its form showed; changed since, it is refused."""
    name, position, unit = normalise(name), normalise(position), normalise(unit)
    # The same person twice would be booked twice at once unseen: the clash check knows
    # presenters by id. Namesakes differ in position or unit; a name's tone may be written
    # in either accepted place ("Hoà", "Hòa"). Compared here (a conference has tens):
    # SQLite's lower() knows no "Ễ". One save after another, or two at once both pass.
    hold_conference(conference)
    if presenter is not None:
        _as_it_is_now(presenter, presenter_digest, seen, _(
            "Người khác vừa sửa báo cáo viên này sau khi bạn mở trang; hãy mở lại trang để "
            "xem thay đổi đó rồi sửa lại."))

    def key(name: str, position: str, unit: str) -> tuple[str, str, str]:
        return (name_compare_form(name), normalise(position).casefold(),
                normalise(unit).casefold())

    wanted = key(name, position, unit)
    others = db.session.execute(select(
        Presenter.id, Presenter.name, Presenter.position, Presenter.unit
    ).where(Presenter.conference_id == conference.id))
    if any(key(*row[1:]) == wanted
           for row in others if presenter is None or row.id != presenter.id):
        raise RuleBroken([Problem("name", _(
            "Đã có báo cáo viên %(name)s cùng chức vụ và đơn vị.", name=name))])
    if presenter is None:
        presenter = Presenter(conference_id=conference.id)
        db.session.add(presenter)
        action, before = "presenter.create", None
    else:
        action, before = "presenter.update", _presenter_values(presenter)
    presenter.name, presenter.position, presenter.unit = name, position, unit
    record(action, target=presenter, conference_id=conference.id,
           **_saved_details(before, _presenter_values(presenter)))
    return presenter


def presenter_digest(presenter: Presenter) -> str:
    return fingerprint(_presenter_values(presenter))


def _presenter_values(presenter: Presenter) -> dict[str, Any]:
    return {"name": presenter.name, "position": presenter.position, "unit": presenter.unit}


def _saved_details(before: dict[str, Any] | None, after: dict[str, Any]) -> dict[str, Any]:
    """What the log keeps of a topic or presenter saved: all it holds when created, each
    field that changed (before and after) when updated."""
    return after if before is None else changed_fields(before, after)


def room_key(name: str) -> str:
    """What tells rooms apart: their names, case aside ("HỘI TRƯỜNG" is the hall "Hội
    trường"), diacritics kept ("Phòng Ba" and "Phòng Bà" are two rooms). A name pasted
    from Word (decomposed letters, a doubled or no-break space) is the same room."""
    return normalise(name).casefold()


def save_room(conference: Conference, room: Room | None, name: str) -> Room:
    name = normalise(name)  # as every name is kept
    # Compared here, as presenters are (a conference has tens): SQLite's lower() knows no
    # "Ộ", and a second room for one hall would escape its clashes. One save after
    # another, or two at once both pass.
    hold_conference(conference)
    wanted = room_key(name)
    others = db.session.execute(select(Room.id, Room.name).where(
        Room.conference_id == conference.id))
    if any(room_key(other_name) == wanted for other_id, other_name in others
           if room is None or other_id != room.id):
        raise RuleBroken([Problem("name", _("Đã có phòng tên này."))])
    if room is None:
        room = Room(conference_id=conference.id)
        db.session.add(room)
    room.name = name
    record("room.save", target=room, conference_id=conference.id, name=name)
    return room


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The fields that changed, as {field: [old, new]} for the audit trail."""
    return {
        name: [_plain(before[name]), _plain(after[name])]
        for name in after
        if before.get(name) != after[name]
    }


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    return value

