"""Paper attendance lists: who attended a session at a point, uploaded after the fact.

The same two steps as the delegate import: a preview where every row is matched to one of
the point's registered delegates and checked, with nothing written; then a confirmation
that checks everything again and records every row through ``checkin.record``, or none.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from flask_babel import gettext as _
from sqlalchemy import select

from confmgr import previews
from confmgr.attendance import checkin
from confmgr.attendance.labels import ATTENDANCE_LABELS
from confmgr.attendance.models import Attendance
from confmgr.audit.services import record as audit
from confmgr.conferences.editing import RuleBroken
from confmgr.conferences.models import AgendaSession
from confmgr.conferences.scheduling import Problem
from confmgr.db import db, hold_rows, utcnow
from confmgr.enums import AttendanceStatus, CheckInMethod, RegistrationStatus
from confmgr.points.models import BroadcastPoint
from confmgr.roster import importing as roster_importing
from confmgr.roster.models import Participant
from confmgr.roster.services import normalise_phone
from confmgr.spreadsheets import (
    CellError,
    Column,
    Row,
    Table,
    TableError,
    file_error,
    listed_headings,
    phone_with_zero_back,
    read_table,
)
from confmgr.text import fold, name_compare_form, name_fold, normalise, whole_number

#: A paper list is the delegate list marked up, so its name and phone read as the
#: delegate import reads them; its other columns (position, signature) are not needed.
_ROSTER = {column.field: column for column in roster_importing.COLUMNS}
_ROSTER_READ = ("full_name", "phone", "note", "ref")
COLUMNS = [
    _ROSTER["full_name"],
    Column("status", "Điểm danh", ("tinh trang", "trang thai")),
    _ROSTER["phone"],
    # The official delegate list ends in "Ký tên | Ghi chú": a list marked on paper may
    # say who was missing there rather than in a status column.
    Column("note", "Ghi chú", ("ghi chu",)),
    # Namesakes without phones (common at communes) are told apart by the number the
    # template (and a downloaded delegate list) gives each of them.
    _ROSTER["ref"],
]
HEADING = {column.field: column.heading for column in COLUMNS}
MAX_ROWS = 5_000
MAX_BYTES = 4 * 1024 * 1024

#: The words a paper list may carry in its status column, as people write them.
ACCEPTED_WORDS = {
    AttendanceStatus.PRESENT: ("có mặt", "x", "có", "\u2713", "\u2714"),
    AttendanceStatus.LATE: ("muộn", "đến muộn", "đi muộn", "trễ", "đến trễ"),
    AttendanceStatus.EXCUSED: ("vắng có lý do", "có lý do", "vắng có phép", "có phép", "phép"),
    AttendanceStatus.ABSENT: ("vắng", "vắng mặt", "vắng không phép", "vắng không lý do"),
}
_STATUS_OF_WORD = {fold(word): status
                   for status, words in ACCEPTED_WORDS.items() for word in words}


def status_of_word(text: str) -> AttendanceStatus | None:
    """The status a word of the list means; "lí do" is the older spelling of "lý do"."""
    return _STATUS_OF_WORD.get(re.sub(r"\bli do\b", "ly do", fold(text)))


_WORD_LIST = ", ".join(f"«{word}»" for words in ACCEPTED_WORDS.values() for word in words)

#: Words of a note (or of another cell) that speak of attendance ("vắng buổi sáng", "nghỉ
#: ốm", "không có mặt"): with their marks, as written (without them "nghi" is also "nghị"
#: and "om" "ôm"), and not "mặt" or "công tác" alone or "cấp phép", which name units ("Mặt
#: trận", "Ban Công tác đại biểu", "Phòng Cấp phép")...
_SPEAKS_OF_ATTENDANCE = re.compile(
    r"\b(vắng|muộn|(?<!cấp )(?<!giấy )phép|nghỉ|có mặt|ốm|đi công tác|không dự|không tham dự"
    r"|không tham gia|không đến|chưa đến|không họp|không về|bận|(đi|dự|họp) thay|cử người"
    r"|việc riêng|việc gia đình|việc nhà|nằm viện|đi viện|khám bệnh|đi học"
    r"|vang|muon|phep)\b")  # these three as typed without marks, not "vàng" or "muốn"
#: ... and the phrases that stay unmistakable folded, typed without marks, or a whole cell
#: that can only mean absent ("nghi" alone is "nghỉ"; in "đề nghị" it is not alone).
_SPEAKS_OF_ATTENDANCE_FOLDED = re.compile(
    r"\b(co phep|nghi om|nghi phep|co mat|di cong tac|khong du|khong tham du|khong tham gia"
    r"|khong den|chua den|khong hop|ban viec|(di|du|hop) thay|cu nguoi|viec rieng"
    r"|viec gia dinh|viec nha|nam vien|di vien|kham benh|di hoc)\b|^(nghi|om)$")
#: Headings of a column that records attendance other than ours ("Vắng", "Có mặt", "Không
#: tham dự", "Nghỉ", "Đến muộn"), folded. "Thành phần tham dự" is the category column,
#: known by that name (see _LIST_COLUMNS), so it is not taken for one.
_ATTENDANCE_HEADING = re.compile(
    r"\b(vang|co mat|diem danh|du hop|tham du|khong du|phep|(?<!hoi )nghi|om|muon)\b")
#: Headings of a column of reasons for absence ("Lý do vắng"), folded: a reason says absent.
_REASON_HEADING = re.compile(r"\b(ly do|li do)\b")
#: The delegate list's own columns a paper list may keep (position, unit, category, email),
#: by every name the delegate import knows them by, folded: they say nothing of attendance.
_LIST_COLUMNS = frozenset(fold(name) for column in roster_importing.COLUMNS
                          if column.field not in _ROSTER_READ
                          for name in (column.heading, column.field, *column.aliases,
                                       *column.fallbacks))
#: Words of those columns' headings, which also head them combined ("Chức vụ, đơn vị").
_LIST_HEADING_WORDS = re.compile(r"\b(chuc vu|chuc danh|don vi|co quan|thanh phan|e-?mail)\b")
#: Columns a paper list carries that go unread unremarked: those, and the signature column
#: (whose cells are still looked at: "vắng" may be written where a signature would be).
EXPECTED_UNREAD = (*_LIST_COLUMNS, *roster_importing.EXPECTED_UNREAD)


def _list_column(heading: str) -> bool:
    """Whether a heading names one of the delegate list's own columns, alone or combined."""
    folded = fold(heading)
    return folded in _LIST_COLUMNS or bool(_LIST_HEADING_WORDS.search(folded))


NEW, CHANGE, UNCHANGED = "new", "change", "unchanged"


@dataclass
class CheckedRow:
    number: int
    #: What the file says, spaces tidied.
    name: str
    status_text: str
    phone: str
    #: The delegate's number, as the template gives it to namesakes; None if not written.
    ref: int | None = None
    status: AttendanceStatus | None = None
    participant_id: int | None = None
    #: The delegate's name as registered.
    matched_name: str = ""
    #: What is recorded for the delegate in this session now.
    current: AttendanceStatus | None = None
    errors: list[CellError] = field(default_factory=list)

    @property
    def action(self) -> str:
        if self.errors or self.participant_id is None:
            return ""
        if self.current is None:
            return NEW
        return UNCHANGED if self.current == self.status else CHANGE


class ImportCounts(NamedTuple):
    changed: int
    unchanged: int


def upload_problems(point: BroadcastPoint, session: AgendaSession,
                    now: datetime | None = None) -> list[Problem]:
    """Why no list can be taken for this point and session, whatever the file holds."""
    if point.headcount_only:
        return [Problem("", _(
            "Điểm cầu này báo cáo số lượng, không nhận danh sách điểm danh theo tên; hãy "
            "báo cáo số lượng trên trang điểm danh."))]
    return checkin.session_problems(checkin.point_conference(point), session, now or utcnow(),
                                    after_the_fact=True)


def _records_attendance(heading: str) -> bool:
    """Whether a column not read records attendance ("Vắng", "Có mặt"), not a reason."""
    folded = fold(heading)
    return (not _list_column(heading) and bool(_ATTENDANCE_HEADING.search(folded))
            and not _REASON_HEADING.search(folded))


def read_list(data: bytes, filename: str) -> Table:
    """The rows of a paper list; refused where a column we do not read records attendance,
    since reading the list without it would record its absentees as present."""
    rows = read_table(data, filename, COLUMNS, max_rows=MAX_ROWS, max_bytes=MAX_BYTES)
    if not rows:
        raise file_error(_("Tệp không có dữ liệu."))
    filled = {heading for row in rows for heading, _text in row.others}
    recording = [label for label in rows.ignored
                 if label in filled and label not in rows.unheaded
                 and _records_attendance(rows.heading_of(label))]
    refused = [CellError(0, heading, _(
        "Cột «%(heading)s» ghi việc dự họp nhưng không phải cột «%(column)s»: hãy ghi "
        "tình trạng của từng người vào cột «%(column)s» (để trống là có mặt) rồi tải lên "
        "lại.", heading=heading, column=HEADING["status"])) for heading in recording]
    # Marks in a column without a heading may well be who came: they cannot be guessed.
    refused += [CellError(0, label, _(
        "%(column)s có dữ liệu nhưng không có tiêu đề: nếu đó là tình trạng dự họp, hãy đặt "
        "tiêu đề «%(status)s»; nếu không, hãy xóa cột đó rồi tải lên lại.",
        column=label[:1].upper() + label[1:], status=HEADING["status"]))
        for label in rows.unheaded]
    refused += _ticks_beside_blanks(rows, told=set(recording))
    if refused:
        raise TableError(refused)
    return rows


#: What a list ticks beside a name, folded: "x", "có", "1", "+", a check mark (as Word's
#: symbols give it too: "√"), a ticked box (a spreadsheet's TRUE), "(đã ký)"; and any word
#: that means present ("có mặt").
_TICKS = frozenset({"x", "v", "co", "1", "+", "\u2713", "\u2714", "\u221a", "\u2611",
                    "\u2705", "true", "da ky", "ky"})


def _tick(text: str) -> bool:
    return (fold(text).strip(" ().") in _TICKS
            or status_of_word(text) == AttendanceStatus.PRESENT)


#: What a list writes beside a name it does not tick, folded: nothing, "không", "-", "0",
#: an empty box (a spreadsheet's FALSE).
_UNTICKED = frozenset({"", "khong", "k", "chua", "-", "0", "\u2610", "false"})
#: Columns that tick who a person is, not whether they came ("Nam", "Nữ", "Đảng viên"),
#: folded: some ticked and others blank is what they are for.
_TRAIT_HEADINGS = frozenset({"nam", "nu", "gioi tinh", "dang vien", "doan vien"})


def _counts_beyond_one(text: str) -> bool:
    number = whole_number(text.strip())
    return number is not None and number > 1


def _ticks_beside_blanks(rows: Table, told: set[str]) -> list[CellError]:
    """A list that ticks some names and leaves others blank (or "không"), in the status
    column, the note column or any column not read, was filled as "tick who came": its
    blanks may be absentees, so the rule that a blank is present cannot be applied to it.
    Columns not read are any such: "Ký tên", "Chữ ký", "Sáng", "Ngày 14/6", "Tham gia";
    only the delegate list's own columns are left out, those of a person's traits
    ("Nam", "Nữ") and those refused already (``told``)."""
    ours = (HEADING["status"], HEADING["note"])
    problems = []
    for heading, cell in (
            (HEADING["status"], lambda row: row.values.get("status", "")),
            (HEADING["note"], lambda row: row.values.get("note", "")),
            *((heading, lambda row, h=heading: dict(row.others).get(h, ""))
              for heading in rows.ignored if heading not in rows.unheaded
              and heading not in told and not _list_column(rows.heading_of(heading))
              and fold(rows.heading_of(heading)) not in _TRAIT_HEADINGS)):
        if heading not in ours and any(_counts_beyond_one(cell(row)) for row in rows):
            continue  # numbers ("Tổ", "Bàn": 1, 2, 3), whose 1 ticks nobody
        ticked = [row.number for row in rows if _tick(cell(row))]
        blank = [row.number for row in rows if fold(cell(row)).strip(" ().") in _UNTICKED
                 and not row.values.get("status", "").strip()]
        if ticked and blank:
            message = _(
                "Cột «%(column)s» đánh dấu một số người (như dòng %(ticked)d) và để trống ở "
                "những người khác (như dòng %(blank)d): không rõ ô trống là có mặt hay vắng. "
                "Hãy ghi «vắng» cho người vắng ở cột «%(status)s», hoặc đánh dấu mọi người có "
                "mặt.", column=heading, ticked=ticked[0], blank=blank[0],
                status=HEADING["status"])
            if heading not in ours:
                message += " " + _("Nếu cột này không nói về điểm danh, hãy xóa nó khỏi tệp.")
            problems.append(CellError(0, heading, message))
    return problems


def unread_message(rows: Table) -> str:
    """What the reader is told of the columns a paper list carries that were not read."""
    unread = rows.unread(EXPECTED_UNREAD)
    if not unread:
        return ""
    return _("Không đọc các cột: %(columns)s. Danh sách điểm danh chỉ dùng các cột %(ours)s.",
             columns=listed_headings(unread),
             ours=", ".join(f"«{column.heading}»" for column in COLUMNS))


def check_rows(point: BroadcastPoint, session: AgendaSession, rows: list[Row]) -> list[CheckedRow]:
    """Every row matched to one registered delegate of the point, with its errors.

    A point has at most a few hundred delegates, so they are all read once and names are
    compared here, without diacritics: "nguyen van an" finds "Nguyễn Văn An".
    """
    registered: dict[str, list] = {}
    withdrawn: dict[str, str] = {}
    for person in db.session.execute(
        select(Participant.id, Participant.full_name, Participant.phone, Participant.status)
        .where(Participant.point_id == point.id,
               Participant.conference_id == point.conference_id)
        .order_by(Participant.id)
    ):
        if person.status == RegistrationStatus.REGISTERED:
            registered.setdefault(name_fold(person.full_name), []).append(person)
        else:
            withdrawn[name_fold(person.full_name)] = person.full_name
    recorded = dict(db.session.execute(
        select(Attendance.participant_id, Attendance.status).where(
            Attendance.session_id == session.id,
            Attendance.participant_id.in_(
                select(Participant.id).where(Participant.point_id == point.id)))
    ).all())

    checked: list[CheckedRow] = []
    seen: dict[int, int] = {}
    for row in rows:
        values = row.values
        item = CheckedRow(row.number, normalise(values.get("full_name", "")),
                          normalise(values.get("status", "")),
                          phone_with_zero_back(normalise_phone(values.get("phone", ""))))
        checked.append(item)
        ref = normalise(values.get("ref", ""))
        if ref:
            item.ref = whole_number(ref)
            if item.ref is None:
                item.errors.append(CellError(row.number, HEADING["ref"], _(
                    "«%(value)s» không phải là mã đại biểu: mã là một số, như trong mẫu danh "
                    "sách tải từ trang điểm danh.", value=ref)))
        if not item.status_text:
            # Read as present, "vắng buổi sáng" in a note would record the opposite of the
            # paper: a row whose other cells speak of attendance needs its status written.
            item.errors.extend(_unwritten_status(row))
            if not item.errors:
                item.status = AttendanceStatus.PRESENT  # a name on the list means they came
        else:
            item.status = status_of_word(item.status_text)
            if item.status is None:
                item.errors.append(CellError(row.number, HEADING["status"], _(
                    "Không hiểu «%(value)s». Hãy ghi một trong các từ: %(words)s (để trống "
                    "là có mặt).", value=item.status_text, words=_WORD_LIST)))
        if not item.name:
            item.errors.append(CellError(row.number, HEADING["full_name"],
                                         _("Thiếu họ và tên.")))
            continue
        person = _match(item, registered.get(name_fold(item.name), []), withdrawn)
        if person is None:
            continue
        earlier = seen.get(person.id)
        if earlier is not None:
            item.errors.append(CellError(row.number, HEADING["full_name"], _(
                "%(name)s đã có ở dòng %(row)d; mỗi đại biểu chỉ ghi một dòng.",
                name=person.full_name, row=earlier)))
            continue
        seen[person.id] = row.number
        item.participant_id, item.matched_name = person.id, person.full_name
        item.current = recorded.get(person.id)
    return checked


def _unwritten_status(row: Row) -> list[CellError]:
    """The cells of a row without a status that say the delegate was not simply present."""
    cells = [(HEADING["note"], row.values.get("note", "")),
             *((heading, text) for heading, text in row.others if not _list_column(heading))]
    errors = []
    for heading, text in cells:
        text = normalise(text)
        if text and (_REASON_HEADING.search(fold(heading))
                     or _SPEAKS_OF_ATTENDANCE.search(text.lower())
                     or _SPEAKS_OF_ATTENDANCE_FOLDED.search(fold(text))):
            errors.append(CellError(row.number, heading, _(
                "«%(value)s» nói về việc dự họp: hãy ghi vào cột «Điểm danh» một trong các "
                "từ: %(words)s (để trống là có mặt).", value=text, words=_WORD_LIST)))
    return errors


def _spelled_alike(typed: str, registered: str) -> bool:
    """Whether no word carries marks other than the same word on the other side: "Nguyen
    Van Hung" and "Nguyễn Văn Hùng" are one name either way round, "Nguyễn Văn Hưng" is
    another."""
    return all(word == own or word == fold(word) or own == fold(own) for word, own in zip(
        name_compare_form(typed).split(" "), name_compare_form(registered).split(" ")))


def _match(item: CheckedRow, candidates: list, withdrawn: dict[str, str]):
    """The one delegate a row names, or None with the reason added to the row's errors."""
    alike = [c for c in candidates if _spelled_alike(item.name, c.full_name)]
    gone = withdrawn.get(name_fold(item.name))
    if candidates and not alike and not (gone and _spelled_alike(item.name, gone)):
        item.errors.append(CellError(item.number, HEADING["full_name"], _(
            "«%(name)s» khác dấu với tên đã đăng ký ở điểm cầu này: %(registered)s. Hãy ghi "
            "đúng tên đã đăng ký.", name=item.name,
            registered=", ".join(f"«{c.full_name}»" for c in candidates))))
        return None
    candidates = alike
    if item.ref is not None:
        numbered = [c for c in candidates if c.id == item.ref]
        if not numbered:
            item.errors.append(CellError(item.number, HEADING["ref"], _(
                "Mã đại biểu %(ref)d không phải của «%(name)s» ở điểm cầu này; hãy dùng mã "
                "trong mẫu danh sách tải từ trang điểm danh.", ref=item.ref, name=item.name)))
            return None
        candidates = numbered
    if len(candidates) > 1 and item.phone:
        by_phone = [c for c in candidates if c.phone == item.phone]
        if not by_phone:
            item.errors.append(CellError(item.number, HEADING["phone"], _(
                "Không có đại biểu «%(name)s» nào có số điện thoại %(phone)s ở điểm cầu này.",
                name=item.name, phone=item.phone)))
            return None
        candidates = by_phone
    elif len(candidates) > 1:
        # "Lê Thị Hòa" written with its diacritics is not "Lê Thị Hoa".
        typed = name_compare_form(item.name)
        exact = [c for c in candidates if name_compare_form(c.full_name) == typed]
        if len(exact) == 1:
            candidates = exact
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        key = name_fold(item.name)
        if key in withdrawn:
            message = _("%(name)s đã rút tên khỏi hội nghị.", name=withdrawn[key])
        else:
            message = _("«%(name)s» không có trong danh sách đại biểu đã đăng ký của điểm "
                        "cầu này.", name=item.name)
        item.errors.append(CellError(item.number, HEADING["full_name"], message))
    elif item.phone:
        item.errors.append(CellError(item.number, HEADING["phone"], _(
            "Có %(count)d đại biểu tên «%(name)s» cùng số điện thoại %(phone)s; hãy điểm "
            "danh họ trên trang điểm danh.", count=len(candidates), name=item.name,
            phone=item.phone)))
    else:
        item.errors.append(CellError(item.number, HEADING["full_name"], _(
            "Có %(count)d đại biểu tên «%(name)s» ở điểm cầu này; hãy ghi số điện thoại ở "
            "cột «%(column)s» hoặc mã đại biểu ở cột «%(ref)s» (mẫu danh sách tải từ trang "
            "điểm danh có sẵn mã) để phân biệt.", count=len(candidates), name=item.name,
            column=HEADING["phone"], ref=HEADING["ref"])))
    return None


def template_rows(point: BroadcastPoint) -> list[list]:
    """The point's delegates, for a list to fill in (a row of COLUMNS each); a phone and
    the delegate's number only where a name repeats."""
    people = db.session.execute(
        select(Participant.id, Participant.full_name, Participant.phone)
        .where(Participant.point_id == point.id,
               Participant.status == RegistrationStatus.REGISTERED)
        .order_by(Participant.name_key, Participant.id)).all()
    repeated = Counter(name_fold(name) for _id, name, _number in people)
    return [[name, "", phone, "", ref] if repeated[name_fold(name)] > 1 else [name, "", "", "", ""]
            for ref, name, phone in people]


# ---------------------------------------------------------------- the confirmation


KIND = "attendance"


def keep_for_confirmation(point: BroadcastPoint, session: AgendaSession, user_id: int,
                          filename: str, checked: list[CheckedRow]) -> str:
    return previews.keep(KIND, _owner(point, session, user_id), {
        "filename": filename,
        "rows": [{"number": r.number, "name": r.name, "status": r.status_text,
                  "phone": r.phone, "ref": r.ref, "participant_id": r.participant_id,
                  "current": r.current.value if r.current else None}
                 for r in checked]})


def _owner(point: BroadcastPoint, session: AgendaSession, user_id: int) -> dict:
    return {"point_id": point.id, "session_id": session.id, "user_id": user_id}


def confirm(point: BroadcastPoint, session: AgendaSession, user_id: int, token: str,
            now: datetime | None = None) -> ImportCounts:
    """Record the kept list, checked again now; the caller commits, or rolls back on RuleBroken."""
    payload = previews.claim(KIND, token, _owner(point, session, user_id),
                            _("Tệp đã xem trước thuộc người dùng, điểm cầu hoặc phiên khác."))
    now = now or utcnow()
    # As the point is now: switched to headcounts since the preview, the list is refused
    # once, not row by row.
    checkin.hold_point_as_it_is(point)
    problems = upload_problems(point, session, now)
    if problems:
        raise RuleBroken(problems)

    # The session, the roster and what was recorded may all have changed since the preview.
    # The point's delegates are held before that is read: a check-in committed after the
    # read would be replaced unseen, as the comparison below is there to prevent.
    hold_rows(Participant.__table__, Participant.point_id == point.id)
    kept = payload["rows"]
    rows = [Row(item["number"], {"full_name": item["name"], "status": item["status"],
                                 "phone": item["phone"], "ref": str(item.get("ref") or "")})
            for item in kept]
    checked = check_rows(point, session, rows)
    for item, before in zip(checked, kept, strict=True):
        if not item.errors and item.participant_id != before["participant_id"]:
            item.errors.append(CellError(item.number, HEADING["full_name"], _(
                "Danh sách đại biểu của điểm cầu đã thay đổi từ lúc xem trước; hãy tải lên "
                "lại.")))
        elif (not item.errors and "current" in before and item.current is not None
              and item.current != item.status and item.current.value != before["current"]):
            # Recorded meanwhile (a tap, a self check-in): the preview said otherwise of
            # this row, and the list would replace it unseen.
            item.errors.append(CellError(item.number, HEADING["full_name"], _(
                "%(name)s vừa được điểm danh «%(status)s» từ lúc xem trước; hãy tải lên lại "
                "để xem.", name=item.matched_name, status=ATTENDANCE_LABELS[item.current])))
    problems = [Problem("", error.located()) for item in checked for error in item.errors]
    if problems:
        raise RuleBroken(problems)

    changed = unchanged = 0
    for item in checked:
        try:
            outcome = checkin.record(session, point, item.participant_id, item.status,
                                     user_id=user_id, method=CheckInMethod.IMPORT, now=now,
                                     after_the_fact=True)
        except RuleBroken as broken:
            problems.extend(Problem("", CellError(item.number, HEADING["full_name"],
                                                  p.message).located())
                            for p in broken.problems)
            continue
        if outcome.changed:
            changed += 1
        else:
            unchanged += 1
    if problems:
        raise RuleBroken(problems)
    audit("attendance.import", target=point, conference_id=point.conference_id,
          point_id=point.id, user_id=user_id, session_id=session.id, file=payload["filename"],
          changed=changed, unchanged=unchanged)
    return ImportCounts(changed, unchanged)
