"""Importing a point's delegates: a preview where every row is checked, then a confirmation.

Nothing is written at the preview. A file with no errors is kept under a random token in
the instance folder until the coordinator confirms; the confirmation checks it again and
writes every row or none.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple

from flask_babel import gettext as _
from sqlalchemy import select

from confmgr import previews
from confmgr.audit.services import record
from confmgr.conferences.editing import RuleBroken
from confmgr.conferences.models import Conference
from confmgr.conferences.scheduling import Problem
from confmgr.db import bulk_insert, db, utcnow
from confmgr.enums import RegistrationStatus
from confmgr.i18n import counted
from confmgr.points.models import BroadcastPoint
from confmgr.roster.models import Category, Participant, participant_name_fields
from confmgr.roster.services import (
    PersonFields,
    check_person,
    count_registrations,
    hold_people,
    hold_registrations,
    refuse_when_closed,
    update_people,
)
from confmgr.spreadsheets import CellError, Column, Table, phone_with_zero_back
from confmgr.text import fold, name_compare_form, name_fold, normalise_lines, whole_number

#: With the headings offices' own lists use for the same things (compared folded).
COLUMNS = [
    Column("full_name", "Họ và tên", ("ho ten", "ho va ten dai bieu"), required=True),
    # Other offices' names for a column, read where the file has no column of ours.
    Column("position", "Chức vụ", fallbacks=("chuc danh",)),
    Column("unit", "Đơn vị", ("co quan", "don vi cong tac"),
           fallbacks=("co quan cong tac",)),
    Column("category", "Thành phần", fallbacks=("thanh phan tham du",)),
    Column("phone", "Điện thoại", ("so dien thoai", "sdt"),
           fallbacks=("so dt", "di dong", "dien thoai di dong"), digits=True),
    Column("email", "Email", ("thu dien tu",), fallbacks=("e-mail",)),
    Column("note", "Ghi chú", lines=True),
    # A downloaded list carries each delegate's number: a row with one edits that
    # delegate, whatever it changes (a name, a phone), rather than registering another.
    Column("ref", "Mã đại biểu", ("ma dai bieu",)),
]
#: A filled row, shown on the import page rather than left in the template, where it
#: would have been registered with the rows below it.
EXAMPLE = {"full_name": "Nguyễn Văn An", "position": "Bí thư Đảng ủy",
           "unit": "Đảng ủy phường Uông Bí", "phone": "0912345678"}
HEADING = {column.field: column.heading for column in COLUMNS}
#: Headings of the official list that carry nothing to register, so go unread unremarked.
EXPECTED_UNREAD = ("Ký tên",)
FIELD_OF_PROBLEM = {"full_name": "full_name", "position": "position", "unit": "unit",
                    "phone": "phone", "email": "email", "category_id": "category",
                    "note": "note"}
MAX_ROWS = 20_000
MAX_BYTES = 8 * 1024 * 1024


#: A delegate's fields a file row is compared with, to know it is registered as it is.
_STORED = ("full_name", "position", "unit", "category_id", "phone", "email", "note")
#: The file's column of each of those fields, where its name differs.
_COLUMN_OF = {"category_id": "category"}


@dataclass
class CheckedRow:
    number: int
    fields: dict
    category_name: str = ""
    errors: list[CellError] = field(default_factory=list)
    #: What does not stop the import but should be looked at first (a namesake).
    warnings: list[str] = field(default_factory=list)
    #: The delegate number the row carries (a downloaded list's), if any.
    ref: int | None = None
    #: Registered at this point already, with these very fields (a list downloaded, added
    #: to and sent back): nothing to write.
    already: bool = False
    #: The headings of the fields the row changes for the delegate it numbers.
    changes: list[str] = field(default_factory=list)
    #: That delegate's fields before the row's changes, as read when it was checked.
    before: dict | None = None

    @property
    def adds(self) -> bool:
        return not self.already and self.ref is None


def check_rows(point: BroadcastPoint, rows: Table) -> list[CheckedRow]:
    """Every row with its cleaned fields and its errors (by row and column)."""
    categories = {fold(c.name): c for c in db.session.scalars(
        select(Category).where(Category.conference_id == point.conference_id))}
    checked: list[CheckedRow] = []
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        v = row.values
        category = None
        item = CheckedRow(row.number, {})
        if v.get("ref"):
            item.ref = whole_number(v["ref"])
            if item.ref is None:
                item.errors.append(CellError(row.number, HEADING["ref"], _(
                    "«%(value)s» không phải là mã đại biểu: mã là một số, như trong danh sách "
                    "tải về.", value=v["ref"])))
        if v.get("category"):
            category = categories.get(fold(v["category"]))
            if category is None:
                item.errors.append(CellError(row.number, HEADING["category"], _(
                    "Không có thành phần «%(name)s» trong hội nghị này.", name=v["category"])))
        fields = PersonFields(
            full_name=v.get("full_name", ""), position=v.get("position", ""),
            unit=v.get("unit", ""), category_id=category.id if category else None,
            phone=v.get("phone", ""), email=v.get("email", ""), note=v.get("note", ""),
        ).cleaned()
        fields.phone = phone_with_zero_back(fields.phone)
        item.fields = vars(fields).copy()
        item.category_name = category.name if category else ""
        for problem in check_person(fields):
            item.errors.append(CellError(row.number, HEADING[FIELD_OF_PROBLEM[problem.field]],
                                         problem.message))
        name = name_compare_form(fields.full_name)
        for contact in (fields.phone, fields.email):
            if contact and not item.errors:
                earlier = seen.get((name, contact))
                if earlier:
                    item.errors.append(CellError(row.number, HEADING["full_name"], _(
                        "Trùng với dòng %(row)d (cùng họ tên và số điện thoại hoặc email).",
                        row=earlier)))
                    break
                seen[(name, contact)] = row.number
        checked.append(item)
    _mark_numbered(point, checked, set(rows.fields))
    _mark_registered_already(point, checked, set(rows.fields))
    _mark_namesakes(point, checked)
    return checked


def _mark_numbered(point: BroadcastPoint, checked: list[CheckedRow],
                   columns: set[str] | None = None) -> None:
    """Rows that carry a delegate number: the point's delegate, unchanged or with the
    changes the row makes; a number of no delegate here, or given twice, is an error.
    A column the file lacks leaves that field as it is (``columns``: the file's)."""
    numbered = [item for item in checked if item.ref is not None and not item.errors]
    stored, category_names = {}, {}
    for person_id, category_name, *values in db.session.execute(
            select(Participant.id, Category.name,
                   *(getattr(Participant, name) for name in _STORED))
            .outerjoin(Category, Category.id == Participant.category_id)
            .where(Participant.point_id == point.id,
                   Participant.status == RegistrationStatus.REGISTERED,
                   Participant.id.in_([item.ref for item in numbered]))):
        stored[person_id] = dict(zip(_STORED, values))
        category_names[person_id] = category_name or ""
    first: dict[int, int] = {}
    for item in numbered:
        here = stored.get(item.ref)
        if here is None:
            item.errors.append(CellError(item.number, HEADING["ref"], _(
                "Không có đại biểu mã %(ref)d ở điểm cầu này (đại biểu của điểm cầu khác, đã "
                "rút tên, hoặc mã bị sửa); để đăng ký người mới, hãy để trống ô này.",
                ref=item.ref)))
            continue
        if item.ref in first:
            item.errors.append(CellError(item.number, HEADING["ref"], _(
                "Mã đại biểu %(ref)d đã có ở dòng %(row)d.", ref=item.ref,
                row=first[item.ref])))
            continue
        first[item.ref] = item.number
        item.before = here
        if columns is not None:
            for key in _STORED:
                if _COLUMN_OF.get(key, key) not in columns:
                    item.fields[key] = here[key]
            if "category" not in columns:
                item.category_name = category_names[item.ref]
        item.changes = [HEADING[_COLUMN_OF.get(key, key)]
                        for key in _changed_fields(here, item.fields)]
        item.already = not item.changes


class _Namesakes:
    """People of one name seen so far, kept so that whether a newcomer may be one of them
    is a few lookups, not a comparison with each: a file of thousands of namesakes took
    minutes. Two are surely two only when both have a phone, or both an email, and those
    differ; a newcomer may be anyone they are not surely apart from."""

    def __init__(self) -> None:
        #: The first row number (0 for a registered delegate) under each key it was seen.
        self.first: dict[tuple, int] = {}

    @staticmethod
    def _contacts(fields: dict) -> tuple[str, str]:
        return fields["phone"] or "", fields["email"] or ""

    def add(self, fields: dict, number: int = 0) -> None:
        phone, email = self._contacts(fields)
        for key in (("both", phone, email), ("phone", phone), ("email", email), ("anyone",)):
            self.first.setdefault(key, number)

    def may_be(self, fields: dict) -> int | None:
        """The first row number of someone ``fields`` may be, or None."""
        phone, email = self._contacts(fields)
        if phone and email:  # those with this phone or none, and this email or none
            keys = [("both", p, e) for p in ("", phone) for e in ("", email)]
        elif phone:
            keys = [("phone", ""), ("phone", phone)]
        elif email:
            keys = [("email", ""), ("email", email)]
        else:
            keys = [("anyone",)]
        found = [self.first[key] for key in keys if key in self.first]
        return min(found) if found else None


def _mark_namesakes(point: BroadcastPoint, checked: list[CheckedRow]) -> None:
    """Warn of rows whose name is already registered at the point, or came earlier in the
    file, with no phone or email to tell the two apart: the same list imported twice.

    Only a warning, as on the single form: namesakes are common.
    """
    wanted = [item for item in checked if not item.errors and item.adds]
    names = {name_compare_form(item.fields["full_name"]) for item in wanted}
    registered: dict[str, _Namesakes] = {}
    for name, phone, email in db.session.execute(
            select(Participant.name_norm, Participant.phone, Participant.email)
            .where(Participant.point_id == point.id,
                   Participant.status == RegistrationStatus.REGISTERED)):
        if name in names:
            registered.setdefault(name, _Namesakes()).add({"phone": phone, "email": email})
    earlier: dict[str, _Namesakes] = {}
    for item in wanted:
        name = name_compare_form(item.fields["full_name"])
        if name in registered and registered[name].may_be(item.fields) is not None:
            item.warnings.append(_("Điểm cầu đã có đại biểu tên %(name)s; nếu là cùng một "
                                   "người, hãy bỏ dòng này.", name=item.fields["full_name"]))
        row = earlier[name].may_be(item.fields) if name in earlier else None
        if row is not None:
            item.warnings.append(_("Trùng họ tên với dòng %(row)d; nếu là cùng một người, "
                                   "hãy bỏ một dòng.", row=row))
        earlier.setdefault(name, _Namesakes()).add(item.fields, item.number)


def _mark_registered_already(point: BroadcastPoint, checked: list[CheckedRow],
                             columns: set[str] | None = None) -> None:
    """Rows naming someone already registered in the conference, found in a few queries:
    refused, unless the row numbers that delegate or is them as registered at this point
    (kept as they are; without a phone or an email, among the point's own namesakes).
    A row is them as registered when the columns the file has (``columns``; None: all)
    say what is stored: a list without «Thành phần» sent again after a delegate was given
    one is still theirs.

    Looked up by phone and email, which almost never repeat, then compared by name: names
    repeat a great deal, so looking up by name would fetch thousands of namesakes.
    """
    wanted = [item for item in checked if not item.errors]
    known: dict[tuple[str, str], tuple[str, int, dict | None]] = {}
    #: Who holds each phone or email: (full name, point name).
    by_contact: dict[str, list[tuple[str, str]]] = {}
    stored_fields = [getattr(Participant, name) for name in _STORED]
    for column, key in ((Participant.phone, "phone"), (Participant.email, "email")):
        values = sorted({item.fields[key] for item in wanted if item.fields[key]})
        for start in range(0, len(values), 1000):
            rows = db.session.execute(
                select(Participant.name_norm, column, BroadcastPoint.name,
                       Participant.point_id, Participant.id, *stored_fields)
                .join(BroadcastPoint, BroadcastPoint.id == Participant.point_id)
                .where(Participant.conference_id == point.conference_id,
                       Participant.status == RegistrationStatus.REGISTERED,
                       column.in_(values[start:start + 1000]))
            ).all()
            for name, contact, point_name, point_id, person_id, *stored in rows:
                here = dict(zip(_STORED, stored)) if point_id == point.id else None
                known[(name, contact)] = (point_name, person_id, here)
                by_contact.setdefault(contact, []).append((stored[0], point_name))
    # Rows without a phone or an email are found among the point's own delegates (a few
    # hundred): the same name and every field the same is the delegate as registered.
    contactless = {name_compare_form(item.fields["full_name"]) for item in wanted
                   if item.adds and not item.fields["phone"] and not item.fields["email"]}
    here_by_name: dict[str, list[dict]] = {}
    if contactless:
        for name, *stored in db.session.execute(
                select(Participant.name_norm, *stored_fields)
                .where(Participant.point_id == point.id,
                       Participant.status == RegistrationStatus.REGISTERED,
                       Participant.phone == "", Participant.email == "",
                       Participant.name_norm.in_(sorted(contactless)))):
            here_by_name.setdefault(name, []).append(dict(zip(_STORED, stored)))
    # What the file makes of the delegates it numbers: one whose row takes a phone or an
    # email away leaves it free for another row (two namesakes' phones swapped).
    becoming = {item.ref: item.fields for item in wanted if item.ref is not None}
    for item in wanted:
        name = name_compare_form(item.fields["full_name"])
        if item.ref is None:
            item.already = any(_same(here, item.fields, columns)
                               for here in here_by_name.get(name, ()))
            if item.already:
                continue
        for contact in (item.fields["phone"], item.fields["email"]):
            if contact and (name, contact) in known:
                point_name, person_id, here = known[(name, contact)]
                if person_id == item.ref:  # the numbered delegate itself
                    continue
                after = becoming.get(person_id)
                if after is not None and not (
                        name_compare_form(after["full_name"]) == name
                        and contact in (after["phone"], after["email"])):
                    continue
                if item.ref is None and here is not None and _same(here, item.fields,
                                                                    columns):
                    item.already = True
                    break
                item.errors.append(CellError(item.number, HEADING["full_name"], _(
                    "Đại biểu này đã được đăng ký ở %(point)s (cùng họ tên và số điện thoại "
                    "hoặc email).", point=point_name)))
                break
        if item.adds and not item.errors and not item.already:
            _warn_of_alike(item, by_contact)


def _warn_of_alike(item: CheckedRow, by_contact: dict[str, list[tuple[str, str]]]) -> None:
    """A row whose phone or email a registered delegate holds, named as them but for its
    marks ("Nguyen Van Thu" for "Nguyễn Văn Thử"): likely them, not surely."""
    folded = name_fold(item.fields["full_name"])
    name = name_compare_form(item.fields["full_name"])
    for contact in (item.fields["phone"], item.fields["email"]):
        for full_name, point_name in by_contact.get(contact, []) if contact else ():
            if (name_compare_form(full_name) != name
                    and name_fold(full_name) == folded):
                item.warnings.append(_(
                    "Đã có đại biểu %(name)s ở %(point)s cùng số điện thoại hoặc email; nếu "
                    "là cùng một người, hãy bỏ dòng này.", name=full_name, point=point_name))
                return


def _changed_fields(stored: dict, fields: dict) -> list[str]:
    """The fields a file row's ``fields`` change of a delegate's ``stored`` ones, compared
    as the row's are tidied (a note typed in the form may keep doubled spaces)."""
    tidied = {key: stored[key] or "" for key in _STORED}
    tidied["note"] = normalise_lines(tidied["note"])
    return [key for key in _STORED if tidied[key] != (fields[key] or "")]


def _same(stored: dict, fields: dict, columns: set[str] | None = None) -> bool:
    """Whether a row says what is stored, in every field or in the ``columns`` it has."""
    return not [key for key in _changed_fields(stored, fields)
                if columns is None or _COLUMN_OF.get(key, key) in columns]


def only_organisers_add(rows: int) -> str:
    """Why a file's rows that add delegates are refused once registration has closed."""
    return counted("%(count)d dòng chưa có mã đại biểu là đại biểu mới, mà ngoài thời gian "
                   "đăng ký chỉ ban tổ chức thêm được đại biểu.", rows)


KIND = "roster"


def keep_for_confirmation(point: BroadcastPoint, user_id: int, filename: str,
                          checked: list[CheckedRow]) -> str:
    return previews.keep(KIND, {"point_id": point.id, "user_id": user_id}, {
        "filename": filename,
        # Only what the preview said it would write: rows kept as they are are left out,
        # and an edit keeps the delegate as it was seen, so that nobody's later change is
        # undone unseen.
        "rows": [{"number": r.number, "fields": r.fields, "category": r.category_name,
                  "ref": r.ref, "before": r.before} for r in checked if r.adds or r.changes]})


class Imported(NamedTuple):
    added: int
    updated: int


def confirm(point: BroadcastPoint, user_id: int, token: str, *,
            organiser: bool) -> Imported:
    """Write the kept rows (checked again now): the new delegates and the changes to those
    the rows number. The caller commits.

    Registration's closing time holds as for one delegate at a time: after it only
    organisers add delegates.
    """
    payload = previews.claim(KIND, token, {"point_id": point.id, "user_id": user_id},
                            _("Tệp đã xem trước thuộc người dùng hoặc điểm cầu khác."))
    adding = sum(1 for item in payload["rows"] if item.get("ref") is None)
    if adding:
        # Corrections go on after the closing (update_people holds categories back).
        refuse_when_closed(db.session.get(Conference, point.conference_id),
                           organiser=organiser, only_organisers=only_organisers_add(adding))
    # The kept rows were checked at the preview and never left the server; only what
    # others may have done since (registering the same people) needs checking again.
    rechecked = [CheckedRow(item["number"], item["fields"], item["category"],
                            ref=item.get("ref")) for item in payload["rows"]]
    hold_registrations(point, (name_compare_form(item.fields["full_name"])
                               for item in rechecked))
    # Held before they are read: a change of theirs committed after is not undone unseen.
    hold_people(item.ref for item in rechecked if item.ref is not None)
    _mark_numbered(point, rechecked)
    for item, kept in zip(rechecked, payload["rows"], strict=True):
        if item.ref is not None and not item.errors and item.before != kept["before"]:
            item.errors.append(CellError(item.number, HEADING["ref"], _(
                "Đại biểu này đã được sửa từ lúc xem trước; hãy tải danh sách về và làm "
                "lại.")))
    _mark_registered_already(point, rechecked)
    errors = [e for item in rechecked for e in item.errors]
    if errors:
        raise RuleBroken([Problem("", error.located()) for error in errors])
    updated = {item.ref: item for item in rechecked
               if item.ref is not None and not item.already}
    refused = update_people({ref: PersonFields(**item.fields) for ref, item in updated.items()},
                            organiser=organiser)
    if refused:
        raise RuleBroken([Problem("", CellError(
            item.number, HEADING[FIELD_OF_PROBLEM.get(problem.field, "full_name")],
            problem.message).located())
            for item in sorted((updated[ref] for ref in refused), key=lambda i: i.number)
            for problem in refused[item.ref]])
    now = utcnow()
    values = []
    for item in rechecked:
        if not item.adds:
            continue
        values.append({**item.fields, **participant_name_fields(item.fields["full_name"]),
                       "conference_id": point.conference_id, "point_id": point.id,
                       "status": RegistrationStatus.REGISTERED, "created_at": now,
                       "updated_at": now})
    if values:
        bulk_insert(Participant.__table__, values)
        per_category = Counter(item["category_id"] for item in values)
        for category_id, count in sorted(per_category.items(), key=lambda i: i[0] or 0):
            count_registrations(point, category_id, count)
    record("participant.import", target=point, conference_id=point.conference_id,
           point_id=point.id, count=len(values), updated=len(updated), file=payload["filename"])
    return Imported(len(values), len(updated))
