"""Registering delegates: checks, duplicates, counts and the lists, as plain functions."""
from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, or_, select, text
from sqlalchemy.orm.attributes import set_committed_value

from confmgr.attendance.checkin import (
    follow_delegates,
    forget_attendance,
    hold_points_as_they_are,
)
from confmgr.attendance.models import NO_CATEGORY
from confmgr.audit.services import acting_user_id, record, record_each
from confmgr.conferences.editing import RuleBroken
from confmgr.conferences.models import Conference
from confmgr.conferences.scheduling import Problem
from confmgr.db import db, dialect_insert, hold_rows, utcnow
from confmgr.enums import RegistrationStatus
from confmgr.i18n import counted
from confmgr.points.models import BroadcastPoint
from confmgr.roster.models import (
    Category,
    Participant,
    PointCategoryRegistration,
    participant_name_fields,
)
from confmgr.text import fingerprint, name_compare_form, name_fold, normalise, normalise_lines

PHONE_SEPARATORS = re.compile(r"[\s.\-()]")
VN_PHONE = re.compile(r"^0[1-9][0-9]{8,9}$")
NAME_LIMIT = 200
NOTE_LIMIT = 2000


def _ascii_digits(text: str) -> str:
    # Digits typed full-width ("０９１２") or in another script are the same number; stored as
    # typed they would pass for another phone beside the same one in ASCII.
    return "".join(str(unicodedata.decimal(char)) if char.isdecimal() else char
                   for char in text)


def normalise_phone(raw: str) -> str:
    """Digits only, in ASCII, +84 written as 0: "+84 912.345.678" and "+84 (0)912 345 678"
    are both 0912345678."""
    # normalise: a number copied from a phone's contacts comes wrapped in direction marks.
    phone = PHONE_SEPARATORS.sub("", _ascii_digits(unicodedata.normalize(
        "NFKC", normalise(raw or ""))))
    if phone.startswith("+84"):
        phone = "0" + phone[3:].removeprefix("0")
    elif phone.startswith("84") and len(phone) in (11, 12):
        # "+84..." in a cell Excel made a number: a mobile's 9 digits or a landline's 10
        # after the 84. No number written with its 0 is 11 or 12 digits beginning so.
        phone = "0" + phone[2:]
    return phone


@dataclass
class PersonFields:
    full_name: str
    position: str = ""
    unit: str = ""
    category_id: int | None = None
    phone: str = ""
    email: str = ""
    note: str = ""

    def cleaned(self) -> PersonFields:
        return PersonFields(
            full_name=normalise(self.full_name), position=normalise(self.position),
            unit=normalise(self.unit), category_id=self.category_id,
            phone=normalise_phone(self.phone), email=normalise(self.email).lower(),
            note=normalise_lines(self.note or ""),
        )


#: A delegate's own details, as PersonFields and the participants table name them.
_PERSON_FIELDS = tuple(field.name for field in dataclasses.fields(PersonFields))


def check_person(fields: PersonFields) -> list[Problem]:
    """What is wrong with one delegate's details, field by field (fields already cleaned)."""
    problems = []
    if not fields.full_name:
        problems.append(Problem("full_name", _("Thiếu họ và tên.")))
    elif any(char.isdigit() for char in fields.full_name):
        problems.append(Problem("full_name", _("Họ và tên không được có chữ số.")))
    elif not any(char.isalpha() for char in fields.full_name):
        # "-", "." or a stray accent: a cell meant empty, or a slip; nobody is called so.
        problems.append(Problem("full_name", _("Họ và tên phải có chữ cái.")))
    elif len(fields.full_name) > NAME_LIMIT:
        problems.append(Problem("full_name", _("Họ và tên dài quá %(limit)d ký tự.",
                                               limit=NAME_LIMIT)))
    # The same limits whichever way the details come: form, file or API.
    for name, limit in (("position", 300), ("unit", 300), ("note", NOTE_LIMIT)):
        if len(getattr(fields, name)) > limit:
            problems.append(Problem(name, _("Dài quá %(limit)d ký tự.", limit=limit)))
    if fields.phone and not VN_PHONE.match(fields.phone):
        problems.append(Problem("phone", _("Số điện thoại phải có 10 hoặc 11 chữ số, bắt đầu "
                                           "bằng 0 (hoặc +84).")))
    if fields.email:
        try:
            validate_email(fields.email, check_deliverability=False)
        except EmailNotValidError:
            problems.append(Problem("email", _("Email không hợp lệ.")))
    return problems


def duplicates(conference_id: int, name_norm: str, phone: str, email: str
               ) -> list[Participant]:
    """Registered delegates with the same name and the same phone or email."""
    contacts = []
    if phone:
        contacts.append(Participant.phone == phone)
    if email:
        contacts.append(Participant.email == email)
    if not contacts:
        return []
    query = select(Participant).where(
        Participant.conference_id == conference_id, Participant.name_norm == name_norm,
        Participant.status == RegistrationStatus.REGISTERED, or_(*contacts),
    )
    return list(db.session.scalars(query))


def registration_closed_reason(conference: Conference, now: datetime | None = None) -> str:
    """Why registration is closed now, or "" while it is open."""
    now = now or utcnow()
    tz = conference.tz
    if conference.registration_opens_at and now < conference.registration_opens_at:
        return _("Đăng ký mở từ %(at)s.",
                 at=conference.registration_opens_at.astimezone(tz).strftime("%H:%M %d/%m/%Y"))
    if conference.registration_closes_at and now > conference.registration_closes_at:
        return _("Đăng ký đã đóng lúc %(at)s.",
                 at=conference.registration_closes_at.astimezone(tz).strftime("%H:%M %d/%m/%Y"))
    return ""


def refuse_when_closed(conference: Conference, *, organiser: bool, only_organisers: str = "",
                       field: str = "") -> None:
    """Registration's window binds coordinators, never organisers: refused, a change says
    why registration is closed (and ``only_organisers``, what only they may do now), on
    ``field`` when one field is what they may no longer change."""
    problem = registration_closed_problem(conference, organiser=organiser,
                                          only_organisers=only_organisers, field=field)
    if problem is not None:
        raise RuleBroken([problem])


def registration_closed_problem(conference: Conference, *, organiser: bool,
                                only_organisers: str = "", field: str = "") -> Problem | None:
    """What ``refuse_when_closed`` refuses with, or None."""
    closed = registration_closed_reason(conference)
    if closed and not organiser:
        return Problem(field, f"{closed} {only_organisers}".strip())
    return None


def _check_category(conference_id: int, category_id: int | None) -> list[Problem]:
    if category_id is None:
        return []
    category = db.session.get(Category, category_id)
    if category is None or category.conference_id != conference_id:
        return [Problem("category_id", _("Thành phần không thuộc hội nghị này."))]
    return []


class SentBefore(Exception):
    """The registration's ``client_id`` came with an earlier one: this delegate."""

    def __init__(self, person: Participant):
        super().__init__(person.id)
        self.person = person


def registration_digest(point: BroadcastPoint, fields: PersonFields) -> str:
    """What identifies a registration as sent: its point and details (cleaned)."""
    return fingerprint([point.id, dataclasses.asdict(fields)])


def _sent_again(earlier: Participant, point: BroadcastPoint, fields: PersonFields) -> bool:
    if earlier.client_digest is None:  # registered before digests were kept
        return (earlier.point_id, earlier.name_norm) == (
            point.id, name_compare_form(fields.full_name))
    return earlier.client_digest == registration_digest(point, fields)


def register(point: BroadcastPoint, fields: PersonFields, *, organiser: bool,
             client_id: str | None = None) -> tuple[Participant, list[str]]:
    """Register a delegate at a point; return it with warnings. The caller commits.

    ``client_id``: the sender's id for this registration. Sent again (the answer was lost
    on the way), it registers nobody and raises SentBefore, even if the delegate has been
    moved or renamed since; the caller rolls back. Another registration sent under an id
    used already is refused.
    """
    conference = db.session.get(Conference, point.conference_id)
    fields = fields.cleaned()
    if client_id is not None:
        # Before any rule: a registration sent again is answered as it was, even once
        # registration has closed since. The point's row is held first, so two sendings
        # at once find one another; the id too, for two sendings to two points.
        hold_point(point)
        _hold_client_id(client_id)
        earlier = db.session.scalar(select(Participant).where(
            Participant.client_id == client_id))
        if earlier is not None:
            if not _sent_again(earlier, point, fields):
                raise RuleBroken([Problem("client_id", _(
                    "Mã này đã được dùng cho một lần đăng ký khác."))])
            raise SentBefore(earlier)
    refuse_when_closed(conference, organiser=organiser)
    problems = check_person(fields) + _check_category(conference.id, fields.category_id)
    if problems:
        raise RuleBroken(problems)
    # Counted first: the point's row is then held until the commit, so the same form sent
    # twice (a double tap) registers once, the second finding the first below. A refusal
    # rolls the count back with everything else. The category's count comes after the
    # name, the order an edit takes them in (the other order could deadlock with it).
    _write_point_count(point, 1)
    name_norm = name_compare_form(fields.full_name)
    _hold_names(conference.id, [name_norm])
    same = duplicates(conference.id, name_norm, fields.phone, fields.email)
    if same:
        raise RuleBroken([Problem("full_name", _(
            "Đại biểu này đã được đăng ký ở %(point)s (cùng họ tên và số điện thoại hoặc "
            "email).", point=same[0].point.name))])
    if not fields.phone and not fields.email and _registered_as_sent(point, name_norm, fields):
        # Nothing tells the two apart: the same form sent twice (a double tap), as an
        # import takes such a row for the delegate registered.
        raise RuleBroken([Problem("full_name", _(
            "Điểm cầu đã có đại biểu %(name)s với đúng các thông tin này. Nếu là một người "
            "khác trùng tên, hãy ghi thêm số điện thoại, email hoặc ghi chú để phân biệt.",
            name=fields.full_name))])
    count_category(point, fields.category_id, 1)
    person = Participant(conference_id=conference.id, point_id=point.id, client_id=client_id,
                         client_digest=client_id and registration_digest(point, fields),
                         **vars(fields))
    db.session.add(person)
    db.session.flush()
    record("participant.register", target=person, conference_id=conference.id,
           point_id=point.id, name=person.full_name)
    warnings = []
    # Namesakes are common, so not refused; but with no phone or email to tell them apart
    # the same person entered twice would pass unseen.
    namesake = db.session.scalar(select(Participant.id).where(
        Participant.point_id == point.id, Participant.name_norm == person.name_norm,
        Participant.status == RegistrationStatus.REGISTERED, Participant.id != person.id
    ).limit(1))
    if namesake is not None:
        warnings.append(_("Điểm cầu đã có đại biểu tên %(name)s; nếu là cùng một người, hãy "
                          "rút tên một trong hai.", name=person.full_name))
    alike = _alike_with_same_contact(person)
    if alike is not None:
        # "Nguyen Van Thu" typed on a phone without Vietnamese marks: the same person, most
        # likely, though not surely (a family may share a phone).
        warnings.append(_("Đã có đại biểu %(name)s ở %(point)s cùng số điện thoại hoặc email; "
                          "nếu là cùng một người, hãy rút tên một trong hai.",
                          name=alike.full_name, point=alike.point.name))
    if point.expected_delegates and point.registered_count > point.expected_delegates:
        warnings.append(counted("Điểm cầu đã đăng ký %(count)d đại biểu, nhiều hơn số dự "
                                "kiến %(expected)d.", point.registered_count,
                                expected=point.expected_delegates))
    return person, warnings


def _alike_with_same_contact(person: Participant) -> Participant | None:
    """A registered delegate of the conference with the person's phone or email whose name
    is theirs but for its marks ("Nguyễn Văn Thử" for "Nguyen Van Thu"); one with the very
    same name is refused before (``duplicates``)."""
    contacts = [column == value for column, value in ((Participant.phone, person.phone),
                                                       (Participant.email, person.email))
                if value]
    if not contacts:
        return None
    folded = name_fold(person.full_name)
    return next((other for other in db.session.scalars(select(Participant).where(
        Participant.conference_id == person.conference_id,
        Participant.status == RegistrationStatus.REGISTERED, Participant.id != person.id,
        or_(*contacts)).order_by(Participant.id))
        if name_fold(other.full_name) == folded), None)


def _registered_as_sent(point: BroadcastPoint, name_norm: str, fields: PersonFields) -> bool:
    """Whether a delegate of the point has this name and every one of ``fields`` as is."""
    return db.session.scalar(select(Participant.id).where(
        Participant.point_id == point.id, Participant.name_norm == name_norm,
        Participant.status == RegistrationStatus.REGISTERED,
        *(getattr(Participant, name) == value if value is not None
          else getattr(Participant, name).is_(None)
          for name, value in vars(fields).items() if name != "full_name")).limit(1)) is not None


def hold_point(point: BroadcastPoint) -> None:
    """Hold the point's row until the commit, with a write that changes nothing (the row's
    lock on PostgreSQL, the database's write lock on SQLite): whatever a point's people
    send at the same moment (a double tap, a resend) then applies one after the other.
    The point's count, province and way of reporting are read back into ``point``."""
    _write_point_count(point, 0)


def _write_point_count(point: BroadcastPoint, delta: int) -> None:
    """Move the point's registered count by ``delta`` (0 holds its row), and take its
    province and way of reporting as the row now holds them: written after a points
    import that waited for it, or holding up one that comes later (which then moves what
    this counts), so what is counted next goes where the point is."""
    table = BroadcastPoint.__table__
    fresh = db.session.execute(
        table.update().where(table.c.id == point.id)
        .values(registered_count=table.c.registered_count + delta)
        .returning(table.c.registered_count, table.c.province_code, table.c.headcount_only)
    ).one()
    for name in ("registered_count", "province_code", "headcount_only"):
        set_committed_value(point, name, getattr(fresh, name))


#: Names are held by the share of them they fall in: a lock each would fill PostgreSQL's
#: lock table with a list of 20,000 names ("out of shared memory"). The price: names of a
#: share wait for each other, and a list of thousands holds nearly every share, so while
#: it is confirmed (seconds) every registration in the conference waits for it.
NAME_LOCKS = 1024


def _name_lock(conference_id: int, name_norm: str) -> int:
    share = hashlib.blake2b(name_norm.encode(), digest_size=8).digest()
    return _lock_key(f"{conference_id}:{int.from_bytes(share, 'big') % NAME_LOCKS}")


def _lock_key(name: str) -> int:
    """The key of PostgreSQL's advisory lock called ``name``."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big",
                          signed=True)


def _hold_client_id(client_id: str) -> None:
    """Sendings of one registration id apply one after the other, wherever they go: two
    at once to two points (rows that hold neither back on PostgreSQL) both found no
    earlier one, and the second broke the id's uniqueness, a server error. On SQLite the
    point's count, written just before, holds the whole database already."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                           {"key": _lock_key(f"registration:{client_id}")})


def _hold_names(conference_id: int, name_norms: Iterable[str]) -> None:
    """Registrations of one name in a conference apply one after the other, so the same
    person entered at two points at once is found by the second.

    On SQLite the count written just before holds the whole database already; PostgreSQL
    holds rows only, so the names get locks of their own until the commit, taken in one
    order (two lists holding each other's names would otherwise wait for ever).
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return
    keys = sorted({_name_lock(conference_id, name_norm) for name_norm in name_norms})
    if keys:
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                           [{"key": key} for key in keys])


def hold_registrations(point: BroadcastPoint, name_norms: Iterable[str]) -> None:
    """Before checking whether these people are registered already (a list being
    imported): hold the point, as ``register`` does by counting first, then the names, so
    that the same people registered elsewhere at the same moment are found by whichever
    comes second."""
    hold_point(point)
    _hold_names(point.conference_id, name_norms)


def count_registrations(point: BroadcastPoint, category_id: int | None, delta: int) -> None:
    """Move a point's registered count, in all and for one category, by ``delta``."""
    _write_point_count(point, delta)
    count_category(point, category_id, delta)


def count_category(point: BroadcastPoint, category_id: int | None, delta: int) -> None:
    table = PointCategoryRegistration.__table__
    stmt = dialect_insert(table).values(
        point_id=point.id, category_ref=category_id or 0, conference_id=point.conference_id,
        province_code=point.province_code or "", registered=max(delta, 0))
    db.session.execute(stmt.on_conflict_do_update(
        index_elements=["point_id", "category_ref"],
        set_={"registered": table.c.registered + delta}))


def hold_person(person: Participant) -> None:
    """Hold the delegate's row until the commit and read it afresh, so two changes of one
    delegate at once (a double tap, two tabs) apply one after the other and the second
    sees the first: a withdrawal or a move counted twice would leave the counts wrong
    (``hold_rows``: the row on PostgreSQL, the database's write lock on SQLite).
    """
    table = Participant.__table__
    hold_rows(table, table.c.id == person.id)
    db.session.refresh(person)


def hold_for_edit(person: Participant, full_name: str | None) -> None:
    """Before a delegate's edit is compared and written: hold the names it may write (the
    one typed, ``full_name``, and the one they have now, which a field left alone keeps),
    as registrations do, so that the same person registered meanwhile with the same phone
    is found by whichever comes second; then hold the delegate (``hold_person``). Names
    before delegates, the order a list being confirmed takes them in (the other order
    could deadlock with it on PostgreSQL); so a rename committed after the names were
    read and before the delegate was held is refused, not written under a name unheld.
    So is a move away from the point the caller found them at (and checked the editor's
    reach by)."""
    table = Participant.__table__
    point_id = person.point_id
    stored = db.session.scalar(select(table.c.full_name).where(table.c.id == person.id))
    names = {name_compare_form(name) for name in (full_name, stored) if name}
    _hold_names(person.conference_id, names)
    hold_person(person)
    if person.point_id != point_id:
        raise _moved_meanwhile(person)
    if name_compare_form(person.full_name) not in names:
        raise RuleBroken([Problem("full_name", _(
            "Họ tên đại biểu vừa được người khác sửa thành %(name)s; hãy xem lại rồi lưu lần "
            "nữa.", name=person.full_name))])


def update_person(person: Participant, fields: PersonFields, *, organiser: bool) -> None:
    """Correct a delegate's details. After registration closes a coordinator may still
    correct a name or a number, but only organisers change a category: a coordinator
    could otherwise make up a required category that the point lacks, past sessions
    included."""
    hold_for_edit(person, fields.full_name)
    _update_held(person, fields, organiser=organiser)


def patch_held(person: Participant, changes: dict[str, Any], *, organiser: bool) -> None:
    """Change only the fields named in ``changes`` of a delegate held by ``hold_for_edit``;
    the others keep what the delegate holds once held, not what was read before, which a
    change committed meanwhile may have made stale."""
    kept = {name: getattr(person, name) for name in _PERSON_FIELDS}
    _update_held(person, PersonFields(**{**kept, **changes}), organiser=organiser)


def _update_held(person: Participant, fields: PersonFields, *, organiser: bool) -> None:
    refused = update_people({person.id: fields}, organiser=organiser)
    if refused:
        raise RuleBroken(refused[person.id])
    db.session.refresh(person)


def hold_people(person_ids: Iterable[int]) -> None:
    """``hold_person`` for many delegates (a list sent back edited), a thousand a statement;
    the caller reads them afterwards."""
    table = Participant.__table__
    ids = sorted(set(person_ids))
    for start in range(0, len(ids), 1000):
        hold_rows(table, table.c.id.in_(ids[start:start + 1000]))


#: What a delegate's change is checked against, beside their fields.
_STANDING = ("status", "conference_id", "point_id")


def update_people(edits: dict[int, PersonFields], *, organiser: bool
                  ) -> dict[int, list[Problem]]:
    """Correct delegates' details (``edits``: the new fields by delegate id), each by the
    rules of ``update_person``, in a few statements however many: a list of 20,000 sent
    back edited took half a minute one statement after another. The caller holds them.

    Returns the problems of each delegate refused. Nothing is written when their own
    details are refused; a name and phone or email another delegate has is found once
    all are written (a list may swap two namesakes' phones), so then the caller rolls
    back. Written past the ORM: refresh any of their objects read again."""
    if not edits:
        return {}
    table = Participant.__table__
    ids = sorted(edits)
    stored = {}
    for start in range(0, len(ids), 1000):
        for row in db.session.execute(
                select(table.c.id, *(table.c[name] for name in _STANDING + _PERSON_FIELDS))
                .where(table.c.id.in_(ids[start:start + 1000]))).mappings():
            stored[row["id"]] = row
    conference_ids = {row["conference_id"] for row in stored.values()}
    conferences = {id_: db.session.get(Conference, id_) for id_ in conference_ids}
    own_categories = {(id_, conference_id) for id_, conference_id in db.session.execute(
        select(Category.id, Category.conference_id)
        .where(Category.conference_id.in_(conference_ids)))}
    # Only what changes is written: a save that changes nothing leaves updated_at (the
    # API's ETag) as it was.
    cleaned = {person_id: fields.cleaned() for person_id, fields in edits.items()}
    cleaned = {person_id: fields for person_id, fields in cleaned.items()
               if any(getattr(fields, name) != stored[person_id][name]
                      for name in _PERSON_FIELDS)}
    if not cleaned:
        return {}
    refused: dict[int, list[Problem]] = {}
    for person_id, fields in cleaned.items():
        here = stored[person_id]
        if fields.category_id != here["category_id"]:
            closed = registration_closed_problem(
                conferences[here["conference_id"]], organiser=organiser,
                only_organisers=_("Chỉ ban tổ chức đổi thành phần được."), field="category_id")
            if closed is not None:
                refused[person_id] = [closed]
                continue
        problems = check_person(fields)
        if (fields.category_id is not None
                and (fields.category_id, here["conference_id"]) not in own_categories):
            problems.append(Problem("category_id", _("Thành phần không thuộc hội nghị này.")))
        if problems:
            refused[person_id] = problems
    if refused:
        return refused

    now = utcnow()
    written = [{"person_id": person_id, **vars(fields),
                **participant_name_fields(fields.full_name), "updated_at": now}
               for person_id, fields in cleaned.items()]
    db.session.execute(
        table.update().where(table.c.id == bindparam("person_id"))
        .values({name: bindparam(name) for name in written[0] if name != "person_id"}),
        written)
    # Moved between categories: the point's counts, then what they attended, follow, in
    # that order, the one withdrawals and moves take too (else two could deadlock).
    points: dict[int, BroadcastPoint] = {}
    moves: Counter[tuple[int, int | None]] = Counter()
    recategorised = []
    for person_id, fields in cleaned.items():
        here = stored[person_id]
        if fields.category_id == here["category_id"]:
            continue
        if here["point_id"] not in points:
            points[here["point_id"]] = db.session.get(BroadcastPoint, here["point_id"])
        if here["status"] == RegistrationStatus.REGISTERED:
            moves[(here["point_id"], here["category_id"])] -= 1
            moves[(here["point_id"], fields.category_id)] += 1
        recategorised.append((person_id, points[here["point_id"]], fields.category_id))
    hold_points_as_they_are(points.values())  # counted in their provinces as they are now
    for (point_id, category_id), delta in sorted(moves.items(), key=lambda m: (
            m[0][0], m[0][1] or 0)):
        if delta:
            count_category(points[point_id], category_id, delta)
    follow_delegates([(person_id, point, category_id or NO_CATEGORY)
                      for person_id, point, category_id in recategorised],
                     user_id=acting_user_id())
    record_each("participant.update", [
        (Participant, person_id, stored[person_id]["conference_id"],
         stored[person_id]["point_id"], _changes(stored[person_id], fields))
        for person_id, fields in cleaned.items()])
    return _sharing_contacts(cleaned, {person_id: here["conference_id"]
                                       for person_id, here in stored.items()})


def _changes(stored, fields: PersonFields) -> dict:
    """The log's details of a delegate's correction: who they are now, and each field
    changed as [before, after] (a renamed delegate's old name would be lost otherwise)."""
    changed = {name: [stored[name], getattr(fields, name)] for name in _PERSON_FIELDS
               if getattr(fields, name) != stored[name]}
    return {"name": fields.full_name, **changed}


def _sharing_contacts(people: dict[int, PersonFields], conference_of: dict[int, int]
                      ) -> dict[int, list[Problem]]:
    """Of these delegates (their fields as written), those another registered delegate of
    their conference shares a name and a phone or an email with; by phone and email,
    which almost never repeat, a thousand a statement."""
    clashing: dict[int, list[Problem]] = {}
    for column, key in ((Participant.phone, "phone"), (Participant.email, "email")):
        wanted: dict[tuple[int, str, str], list[int]] = {}
        for person_id, fields in people.items():
            contact = getattr(fields, key)
            if contact:
                wanted.setdefault((conference_of[person_id], name_compare_form(
                    fields.full_name), contact), []).append(person_id)
        values = sorted({wanted_key[2] for wanted_key in wanted})
        for start in range(0, len(values), 1000):
            for other_id, conference_id, name_norm, contact in db.session.execute(
                    select(Participant.id, Participant.conference_id, Participant.name_norm,
                           column)
                    .where(Participant.conference_id.in_(set(conference_of.values())),
                           Participant.status == RegistrationStatus.REGISTERED,
                           column.in_(values[start:start + 1000]))):
                for person_id in wanted.get((conference_id, name_norm, contact), ()):
                    if person_id != other_id and person_id not in clashing:
                        clashing[person_id] = [Problem("full_name", _(
                            "Đã có đại biểu cùng họ tên và số điện thoại hoặc email."))]
    return clashing


def _hold_with_points(person: Participant, *others: BroadcastPoint) -> BroadcastPoint:
    """Hold the delegate's point and ``others``, in the order of their ids, then the
    delegate; return their point. Points before delegates, as registrations and lists
    being confirmed hold them (the other order could deadlock with them on PostgreSQL),
    and points in one order (two moves between two points at once likewise). The points
    are read as they are now: how they report, the provinces counts leave and go to.

    A delegate moved by someone else in between is at a point not held: refused, as
    holding it now, out of order, could deadlock (a review's stress run did)."""
    held = {}
    for point in sorted([db.session.get(BroadcastPoint, person.point_id), *others],
                        key=lambda p: p.id):
        if point.id not in held:
            _write_point_count(point, 0)
            held[point.id] = point
    hold_person(person)
    if person.point_id not in held:
        raise _moved_meanwhile(person)
    return held[person.point_id]


def _moved_meanwhile(person: Participant) -> RuleBroken:
    return RuleBroken([Problem("point", _(
        "Đại biểu vừa được chuyển sang %(point)s; hãy xem lại rồi làm lại.",
        point=db.session.get(BroadcastPoint, person.point_id).name))])


def withdraw(person: Participant, *, organiser: bool) -> bool:
    """Take a delegate off the list, and their attendance out of every report; False if
    they were off it already. After registration closes only organisers may: a coordinator
    could otherwise take a session's absentees off and report a full house."""
    point = _hold_with_points(person)
    if person.status == RegistrationStatus.WITHDRAWN:
        return False
    refuse_when_closed(db.session.get(Conference, person.conference_id), organiser=organiser,
                       only_organisers=_("Chỉ ban tổ chức rút tên đại biểu được."))
    person.status = RegistrationStatus.WITHDRAWN
    count_registrations(point, person.category_id, -1)
    forget_attendance(person.id, user_id=acting_user_id())
    record("participant.withdraw", target=person, conference_id=person.conference_id,
           point_id=person.point_id, name=person.full_name)
    return True


def point_with_code(conference_id: int, code: str) -> BroadcastPoint:
    """The conference's point with this code, or a problem on the code typed."""
    code = code.strip()
    point = db.session.scalar(select(BroadcastPoint).where(
        BroadcastPoint.conference_id == conference_id, BroadcastPoint.code == code))
    if point is None:
        raise RuleBroken([Problem("point_code", _(
            "Không có điểm cầu mã %(code)s trong hội nghị này.", code=code))])
    return point


def move(person: Participant, destination: BroadcastPoint) -> bool:
    """An organiser's act: the delegate now belongs to another point of the conference,
    with their registration and what they have attended. False if they were there."""
    if destination.conference_id != person.conference_id:
        raise RuleBroken([Problem("point", _("Điểm cầu không thuộc hội nghị này."))])
    origin = _hold_with_points(person, destination)
    source = origin.id
    if source == destination.id:
        return False
    person.point_id = destination.id
    # A badge printed at the old point names it, and that point's coordinator keeps it:
    # its code opens nothing now; the new point's badges give the delegate another.
    person.checkin_code = None
    # Their own calendar now shows the new point's address: its SEQUENCE must rise.
    person.moved(origin, destination, utcnow())
    if person.status == RegistrationStatus.REGISTERED:
        count_registrations(origin, person.category_id, -1)
        count_registrations(destination, person.category_id, 1)
    # Rates would pass 100 % at the old point and the new point's sheet contradict its
    # counts if attendance stayed behind (a withdrawn delegate has none left). A point that
    # reports headcounts takes no names: there the delegate would be counted twice.
    if destination.headcount_only:
        forget_attendance(person.id, user_id=acting_user_id())
    else:
        follow_delegates([(person.id, destination, person.category_id or NO_CATEGORY)],
                         user_id=acting_user_id())
    record("participant.move", target=person, conference_id=person.conference_id,
           point_id=destination.id, source=source, destination=destination.id)
    return True


# ---------------------------------------------------------------- lists

ORDERS = ("alpha", "protocol")


def roster(point_ids: Select | list[int] | None, order: str = "alpha", *,
           conference_id: int | None = None) -> Select:
    """Registered delegates of some points, or of a whole conference (``point_ids`` None),
    in Vietnamese alphabetical or protocol order (which needs ``conference_id``)."""
    query = (
        select(Participant)
        .outerjoin(Category, Category.id == Participant.category_id)
        .where(Participant.status == RegistrationStatus.REGISTERED)
    )
    if point_ids is not None:
        query = query.where(Participant.point_id.in_(point_ids))
    if conference_id is not None:
        # With the conference's own index, alphabetical pages are read, not sorted.
        query = query.where(Participant.conference_id == conference_id)
    if order == "protocol":
        # By category as every list shows them (categories of one rank by their Vietnamese
        # names, which no database orders so), those without one last, then by name.
        from confmgr.roster.categories import listed_order

        place = listed_order(db.session.get(Conference, conference_id), Participant.category_id)
        return query.order_by(place, Participant.name_key, Participant.id)
    return query.order_by(Participant.name_key, Participant.id)

