"""Reading the audit trail: filters, pages newest first, readable details, exports.

A national conference writes millions of entries, so pages are keyset pages on (time, id):
every page, the hundredth as the first, is one range read of an index that ends in those
two columns (see ``AuditEntry``), whatever the filters, and nothing counts the whole log.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, exists, func, literal, select, tuple_

from confmgr.accounts.listing import ROLE_LABELS
from confmgr.accounts.models import User
from confmgr.audit.labels import ACTION_LABELS, CHANGE_ACTIONS, DETAIL_LABELS, TARGET_LABELS
from confmgr.audit.models import AuditEntry
from confmgr.conferences.labels import SESSION_KIND_LABELS, VISIBILITY_LABELS
from confmgr.conferences.models import (
    AgendaSession,
    AgendaVersion,
    Conference,
    Presenter,
    Room,
    Topic,
    TopicMaterial,
)
from confmgr.db import UTCDateTime, db
from confmgr.i18n import counted
from confmgr.points.labels import POINT_LEVEL_LABELS, TEST_STATUS_LABELS
from confmgr.points.models import BroadcastPoint
from confmgr.roster.models import Category, Participant
from confmgr.text import fold, whole_number

PER_PAGE = 50


#: The log's filters, as named in its address.
FILTER_NAMES = ("point", "user", "action", "from", "to")


@dataclass(frozen=True)
class AuditQuery:
    point: str = ""
    user: str = ""
    action: str = ""
    day_from: date | None = None
    day_to: date | None = None
    #: Keyset: the entries older than the entry with this id (its time, then its id); or,
    #: going back up, those newer than the entry ``after`` names.
    before: int | None = None
    after: int | None = None
    per_page: int = PER_PAGE
    #: Problems with the filters, by the name of the field they came from.
    errors: dict[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def from_args(cls, args) -> AuditQuery:
        errors: dict[str, str] = {}
        day_from = _day(args.get("from", ""), "from", errors)
        day_to = _day(args.get("to", ""), "to", errors)
        if day_from and day_to and day_from > day_to:
            errors["to"] = _("Ngày kết thúc (%(to)s) trước ngày bắt đầu (%(start)s).",
                             to=day_to.strftime("%d/%m/%Y"), start=day_from.strftime("%d/%m/%Y"))
            day_to = None
        action = args.get("action", "")
        return cls(
            point=args.get("point", "").strip()[:40],  # as long as a point's code may be
            user=args.get("user", "").strip()[:254],
            # A choice from the list only; anything else (an old link) filters nothing.
            action=action if action in ACTION_LABELS else "",
            day_from=day_from, day_to=day_to,
            before=whole_number(args.get("before", "")),
            after=whole_number(args.get("after", "")),
            errors=errors,
        )

    def args(self, **changes) -> dict:
        """The filters as URL arguments; the position (``before``/``after``) only if given."""
        values = {"point": self.point, "user": self.user, "action": self.action,
                  "from": self.day_from.isoformat() if self.day_from else "",
                  "to": self.day_to.isoformat() if self.day_to else ""}
        values.update(changes)
        return {name: value for name, value in values.items() if value not in ("", None)}


def _day(text: str, name: str, errors: dict[str, str]) -> date | None:
    """A date as the browser's date field sends it (2025-06-14) or as people type it
    (14/06/2025)."""
    text = text.strip()
    if not text:
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            day = datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        # Years far out (0001, 9999) would overflow once moved to UTC.
        if 1900 <= day.year <= 2999:
            return day
    errors[name] = _("«%(value)s» không phải là ngày; hãy nhập theo dạng ngày/tháng/năm, "
                     "ví dụ 14/06/2025.", value=text[:40])
    return None


@dataclass(frozen=True)
class Scope:
    """Whose entries: one conference's (its organisers), or everyone's (admins)."""
    conference: Conference | None
    zone: ZoneInfo


#: More users than this matching the user filter is a search too loose to be useful.
MAX_MATCHING_USERS = 500


@dataclass(frozen=True)
class Filters:
    """The query turned into conditions on ``AuditEntry``, with what was wrong in it."""
    where: list[ColumnElement[bool]]
    errors: dict[str, str]
    #: The time zone the entries' times are read in.
    zone: ZoneInfo
    #: Which log this is (one conference's, or every entry): the entries a reader may page
    #: from.
    scope: list[ColumnElement[bool]]


def resolve(scope: Scope, query: AuditQuery) -> Filters:
    """The conditions of ``query`` within ``scope``. Points and users are looked up first,
    so the log is filtered by their ids: the planner then reads the matching index, and a
    code or a name that matches nothing can say so."""
    errors = dict(query.errors)
    within = ([AuditEntry.conference_id == scope.conference.id]
              if scope.conference is not None else [])
    where: list[ColumnElement[bool]] = list(within)
    if query.point:
        points = select(BroadcastPoint.id).where(BroadcastPoint.code == query.point)
        if scope.conference is not None:
            points = points.where(BroadcastPoint.conference_id == scope.conference.id)
        point_ids = list(db.session.scalars(points))
        if not point_ids:
            errors["point"] = _("Không có điểm cầu nào mã «%(code)s».", code=query.point)
        where.append(AuditEntry.point_id.in_(point_ids))
    if query.user:
        user_ids = matching_users(query.user, scope.conference)
        if not user_ids:
            errors["user"] = _no_matching_user(scope, query.user)
        elif len(user_ids) > MAX_MATCHING_USERS:
            errors["user"] = _too_many_matching_users(scope, query.user)
            user_ids = []
        where.append(AuditEntry.user_id.in_(user_ids))
    if query.action:
        where.append(AuditEntry.action == query.action)
    # Days are the conference's (or, for everyone's entries, the installation's) days.
    if query.day_from:
        where.append(AuditEntry.at >= _midnight(query.day_from, scope.zone))
    if query.day_to:
        where.append(AuditEntry.at < _midnight(query.day_to + timedelta(days=1), scope.zone))
    return Filters(where, errors, scope.zone, within)


def matching_users(text: str, conference: Conference | None = None) -> list[int]:
    """Ids of the users whose email or display name contains ``text``, whatever its case
    and diacritics (one more than the most the filter takes, to tell a loose search).

    Within a conference, only those who did something in its log: its organisers may not
    learn from the answer which accounts exist elsewhere on the installation."""
    folded = fold(text)
    if not folded:  # a lone accent: "contains nothing" would be every user
        return []
    statement = select(User.id).where(User.search_text.contains(folded, autoescape=True))
    if conference is not None:
        statement = statement.where(
            select(AuditEntry.id).where(AuditEntry.user_id == User.id,
                                        AuditEntry.conference_id == conference.id).exists())
    # No order needed: past the limit the ids are not used at all.
    return list(db.session.scalars(statement.limit(MAX_MATCHING_USERS + 1)))


def _no_matching_user(scope: Scope, text: str) -> str:
    if scope.conference is None:
        return _("Không có người dùng nào có email hoặc tên chứa «%(text)s».", text=text)
    return _("Nhật ký của hội nghị này không có thao tác nào của người có email hoặc tên "
             "chứa «%(text)s».", text=text)


def _too_many_matching_users(scope: Scope, text: str) -> str:
    if scope.conference is None:
        return _("Hơn %(count)d người dùng có email hoặc tên chứa «%(text)s»; "
                 "hãy gõ cụ thể hơn.", count=MAX_MATCHING_USERS, text=text)
    return counted("Hơn %(count)d người có thao tác trong nhật ký của hội nghị này có email "
                   "hoặc tên chứa «%(text)s»; hãy gõ cụ thể hơn.", MAX_MATCHING_USERS,
                   text=text)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


@dataclass(frozen=True)
class AuditLine:
    """One entry with the names it refers to, as a page or an export shows it."""
    entry: AuditEntry
    user_name: str
    user_email: str
    point_code: str
    point_name: str
    conference_title: str
    #: Names of the rows the entry refers to by id, by (kind, id); see ``named``.
    names: dict[tuple[str, int], str] = field(default_factory=dict, compare=False)
    #: The time zone its times are read in.
    zone: ZoneInfo | None = None

    @property
    def action_label(self) -> str:
        label = ACTION_LABELS.get(self.entry.action)
        return str(label) if label is not None else self.entry.action

    @property
    def target(self) -> str:
        """"Phiên: Khai mạc", "Đại biểu: Nguyễn Văn An": its kind and its name (its id when
        it is gone)."""
        entry = self.entry
        if not entry.target_type:
            return ""
        kind = str(TARGET_LABELS.get(entry.target_type, entry.target_type))
        if not entry.target_id:
            return kind
        name = self.names.get((entry.target_type, entry.target_id))
        return f"{kind}: {name}" if name else f"{kind} #{entry.target_id}"

    @property
    def details(self) -> list[tuple[str, str]]:
        return detail_lines(self.entry, self.names, self.zone)


def _lines_statement(where: list[ColumnElement[bool]]) -> Select:
    # Names by primary key, row by row: a page of fifty costs fifty index look-ups each.
    return (select(AuditEntry, User.display_name, User.email, BroadcastPoint.code,
                   BroadcastPoint.name, Conference.title)
            .outerjoin(User, User.id == AuditEntry.user_id)
            .outerjoin(BroadcastPoint, BroadcastPoint.id == AuditEntry.point_id)
            .outerjoin(Conference, Conference.id == AuditEntry.conference_id)
            .where(*where))


def _line(row) -> AuditLine:
    entry, user_name, user_email, point_code, point_name, conference_title = row
    return AuditLine(entry, user_name or "", user_email or "", point_code or "",
                     point_name or "", conference_title or "")


#: How a row the log refers to by id is named, by its kind, and the conference it belongs
#: to (None: rows of no one conference).
_NAMES = {
    "AgendaSession": lambda: (AgendaSession, AgendaSession.title, AgendaSession.conference_id),
    "AgendaVersion": lambda: (AgendaVersion, AgendaVersion.number,
                              AgendaVersion.conference_id),
    "BroadcastPoint": lambda: (BroadcastPoint, BroadcastPoint.code + " · " + BroadcastPoint.name,
                               BroadcastPoint.conference_id),
    "Category": lambda: (Category, Category.name, Category.conference_id),
    "Conference": lambda: (Conference, Conference.title, None),
    "Participant": lambda: (Participant, Participant.full_name, Participant.conference_id),
    "Presenter": lambda: (Presenter, Presenter.name, Presenter.conference_id),
    "Room": lambda: (Room, Room.name, Room.conference_id),
    "Topic": lambda: (Topic, Topic.number + ". " + Topic.title, Topic.conference_id),
    "TopicMaterial": lambda: (TopicMaterial, TopicMaterial.title, Topic.conference_id),
    "User": lambda: (User, User.email, None),
}

#: Details that hold the id (or ids) of a row of some kind.
_REFERENCES = {
    "category_id": "Category", "destination": "BroadcastPoint", "presenter_id": "Presenter",
    "presenter_ids": "Presenter", "room_id": "Room", "session_id": "AgendaSession",
    "sessions": "AgendaSession", "source": "BroadcastPoint", "topic_id": "Topic",
}

#: Details whose values are the names of an enum's members, and those members' labels.
_VALUE_LABELS = {"kind": SESSION_KIND_LABELS, "level": POINT_LEVEL_LABELS,
                 "role": ROLE_LABELS, "status": TEST_STATUS_LABELS,
                 "visibility": VISIBILITY_LABELS}


def named(lines: list[AuditLine], zone: ZoneInfo) -> list[AuditLine]:
    """The lines with the names of what they refer to, looked up once per kind and
    conference for all.

    A conference's rows are named only in its own entries: an id the log kept may since
    belong to a row of another conference (SQLite gives a deleted row's id again), whose
    name, perhaps an unpublished draft's, is not this log's to show.
    """
    wanted: dict[tuple[str, int | None], set[int]] = {}
    for line in lines:
        entry = line.entry
        references = [(entry.target_type, [entry.target_id] if entry.target_id else [])]
        references += [(_REFERENCES.get(key), _ids(value))
                       for key, value in (entry.details or {}).items()]
        for kind, ids in references:
            if kind in _NAMES and ids:
                scope = entry.conference_id if _NAMES[kind]()[2] is not None else None
                wanted.setdefault((kind, scope), set()).update(ids)
    names: dict[int | None, dict[tuple[str, int], str]] = {}
    for (kind, scope), ids in wanted.items():
        model, name, conference = _NAMES[kind]()
        statement = select(model.id, name).where(model.id.in_(sorted(ids)))
        if model is TopicMaterial:
            statement = statement.join(Topic, Topic.id == TopicMaterial.topic_id)
        if conference is not None:
            statement = statement.where(conference == scope)
        names.setdefault(scope, {}).update(
            ((kind, row_id), str(text)) for row_id, text in db.session.execute(statement))
    everyone = names.get(None, {})
    return [replace(line, names={**everyone, **names.get(line.entry.conference_id, {})},
                    zone=zone) for line in lines]


def _ids(value: Any) -> list[int]:
    """The ids in a detail: one, a list of them, or a change [before, after] of either."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, list):
        return [found for item in value for found in _ids(item)]
    return []


@dataclass(frozen=True)
class AuditPage:
    lines: list[AuditLine]
    query: AuditQuery
    has_newer: bool
    has_older: bool

    # A page with no lines (paged past an end, or a kept position whose filter was
    # changed) has no entry to page from: both ways lead to the newest page.
    def newer_args(self) -> dict:
        return self.query.args(after=self.lines[0].entry.id) if self.lines else self.query.args()

    def older_args(self) -> dict:
        return (self.query.args(before=self.lines[-1].entry.id) if self.lines
                else self.query.args())


#: Newest first: by time, then by id for entries written in the same microsecond.
NEWEST_FIRST = (AuditEntry.at.desc(), AuditEntry.id.desc())
OLDEST_FIRST = (AuditEntry.at, AuditEntry.id)


def _position(entry: AuditEntry):
    """An entry's place in the log's order, to compare other entries with."""
    return tuple_(literal(entry.at, UTCDateTime()), literal(entry.id))


_PLACE = tuple_(AuditEntry.at, AuditEntry.id)


def _entry_at(entry_id: int | None, filters: Filters) -> AuditEntry | None:
    """The entry a reader paged from, if it is in this log: another conference's would
    tell when its entries were written."""
    if entry_id is None:
        return None
    return db.session.scalar(select(AuditEntry).where(AuditEntry.id == entry_id,
                                                       *filters.scope))


def find_entries(filters: Filters, query: AuditQuery) -> AuditPage:
    """One page of the matching entries, newest first, from the query's position (the
    entry the reader paged from: its time and id)."""
    where = filters.where
    statement = _lines_statement(where)
    limit = query.per_page + 1
    after = _entry_at(query.after, filters)
    before = _entry_at(query.before, filters)
    if after is not None:
        rows = db.session.execute(statement.where(_PLACE > _position(after))
                                  .order_by(*OLDEST_FIRST).limit(limit)).all()
        has_newer = len(rows) > query.per_page
        lines = named([_line(row) for row in reversed(rows[:query.per_page])], filters.zone)
        last = lines[-1].entry if lines else after
        has_older = _any(where, _PLACE < _position(last)) if lines else _any(
            where, _PLACE <= _position(last))
    else:
        if before is not None:
            statement = statement.where(_PLACE < _position(before))
        rows = db.session.execute(statement.order_by(*NEWEST_FIRST).limit(limit)).all()
        has_older = len(rows) > query.per_page
        lines = named([_line(row) for row in rows[:query.per_page]], filters.zone)
        if before is None:
            has_newer = False
        elif lines:
            has_newer = _any(where, _PLACE > _position(lines[0].entry))
        else:
            has_newer = _any(where, _PLACE >= _position(before))
    return AuditPage(lines, query, has_newer, has_older)


def _any(where: list[ColumnElement[bool]], beyond: ColumnElement[bool]) -> bool:
    return bool(db.session.scalar(select(exists().where(*where, beyond))))


def all_lines(filters: Filters) -> Iterator[AuditLine]:
    """Every matching entry, newest first, read in batches so a long log never sits in
    memory whole."""
    statement = _lines_statement(filters.where).order_by(*NEWEST_FIRST)
    batch: list[AuditLine] = []
    for row in db.session.execute(statement.execution_options(yield_per=BATCH)):
        batch.append(_line(row))
        if len(batch) == BATCH:
            yield from named(batch, filters.zone)
            batch = []
    yield from named(batch, filters.zone)


BATCH = 2000


def more_than(filters: Filters, count: int) -> bool:
    """Do more than ``count`` entries match? Reads at most count + 1 ids."""
    ids = select(AuditEntry.id).where(*filters.where).limit(count + 1).subquery()
    return db.session.scalar(select(func.count()).select_from(ids)) > count


# ---------------------------------------------------------------- details


def detail_lines(entry: AuditEntry, names: dict[tuple[str, int], str] | None = None,
                 zone: ZoneInfo | None = None) -> list[tuple[str, str]]:
    """The details as (label, value) lines a person can read: lists joined, changes as
    "before → after", ids as the names of what they refer to, times in ``zone``."""
    changes = entry.action in CHANGE_ACTIONS
    lines = []
    for key, value in (entry.details or {}).items():
        def text(item: Any) -> str:
            return _text(item, key, names or {}, zone)

        if changes and isinstance(value, list) and len(value) == 2:
            shown = f"{text(value[0])} → {text(value[1])}"
        else:
            shown = text(value)
        lines.append((str(DETAIL_LABELS.get(key, key)), shown))
    return lines


def _text(value: Any, key: str, names: dict[tuple[str, int], str],
          zone: ZoneInfo | None) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, list):
        return ", ".join(_text(item, key, names, zone) for item in value) or "—"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    kind = _REFERENCES.get(key)
    if kind is not None and isinstance(value, int):
        return names.get((kind, value), f"#{value}")
    if key in _VALUE_LABELS and value in _VALUE_LABELS[key]:
        return str(_VALUE_LABELS[key][value])
    if isinstance(value, str) and key in _TIME_KEYS:
        return _moment(value, zone) or value
    return str(value)


#: The details the code stores as ISO dates or instants: only these are shown as times.
#: Anything typed (a unit, a login tried at the sign-in) is shown as typed, even when it
#: reads as a date, and a far one ("9999-12-31 23:00+00:00") cannot break the log.
_TIME_KEYS = frozenset({"starts_at", "ends_at", "first_day", "last_day",
                        "registration_opens_at", "registration_closes_at"})


def _moment(text: str, zone: ZoneInfo | None) -> str:
    """An ISO date or instant as Vietnamese documents write it, in the log's time zone;
    "" when ``text`` is neither, or has no place in that zone."""
    if not (len(text) >= 10 and text[4] == "-" and text[7] == "-"):
        return ""
    try:
        moment = datetime.fromisoformat(text)
        if len(text) > 10 and moment.tzinfo is not None and zone is not None:
            moment = moment.astimezone(zone)
    except (ValueError, OverflowError):
        return ""
    if len(text) == 10:
        return f"{moment:%d/%m/%Y}"
    return f"{moment:%H:%M %d/%m/%Y}"


def details_text(line: AuditLine) -> str:
    """The details on one line, for a spreadsheet cell."""
    return "; ".join(f"{key}: {value}" for key, value in line.details)
