"""Importing broadcast points from a spreadsheet: every row checked, then all written or none."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from flask_babel import gettext as _
from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import aliased

from confmgr.attendance import checkin
from confmgr.attendance.models import SessionPointCategoryCount, SessionPointCount
from confmgr.audit.services import record
from confmgr.conferences.editing import hold_conference
from confmgr.conferences.models import Conference
from confmgr.db import db, utcnow
from confmgr.enums import ConnectionTestStatus, PointLevel
from confmgr.i18n import format_number
from confmgr.points.models import (
    PLACE_FIELDS,
    BroadcastPoint,
    place_bookkeeping,
    point_search_text,
)
from confmgr.points.official import communes_by_code, provinces
from confmgr.roster.models import PointCategoryRegistration
from confmgr.spreadsheets import (
    CellError,
    Column,
    Row,
    Table,
    TableError,
    file_error,
    phone_with_zero_back,
)
from confmgr.text import count_typed, fold, has_space_or_control

COLUMNS = [
    Column("code", "Mã điểm cầu", ("ma",), required=True, digits=True),
    Column("name", "Tên điểm cầu", ("ten",), required=True),
    Column("level", "Cấp", ("cap diem cau",), required=True),
    Column("parent_code", "Mã điểm cầu cấp trên", ("ma cap tren",), digits=True),
    Column("admin_unit_code", "Mã đơn vị hành chính", ("ma dvhc",), digits=True),
    Column("address", "Địa chỉ"),
    Column("host_unit", "Đơn vị chủ trì"),
    Column("chair_name", "Người chủ trì"),
    Column("chair_position", "Chức vụ người chủ trì"),
    Column("technical_officer_name", "Cán bộ kỹ thuật"),
    Column("technical_officer_phone", "Điện thoại cán bộ kỹ thuật", digits=True),
    Column("stream_url", "Đường truyền"),
    Column("access_code", "Mã truy cập", digits=True),
    Column("expected_delegates", "Số đại biểu dự kiến"),
    Column("headcount_only", "Chỉ báo số lượng", ("bao so luong",)),
]
HEADING = {column.field: column.heading for column in COLUMNS}

LEVEL_WORDS = {
    PointLevel.MAIN: ("trung uong", "diem cau chinh", "chinh", "main"),
    PointLevel.PROVINCE: ("tinh", "thanh pho", "tinh/thanh pho", "province"),
    PointLevel.COMMUNE: ("xa", "phuong", "dac khu", "xa/phuong", "commune"),
    PointLevel.OTHER: ("khac", "bo nganh", "don vi", "other"),
}
LEVELS = {word: level for level, words in LEVEL_WORDS.items() for word in words}
#: "Chỉ báo số lượng": the point reports headcounts, not names. Empty is no.
HEADCOUNT_WORDS = {"co": True, "x": True, "true": True, "1": True,
                   "": False, "khong": False, "false": False, "0": False}
#: At least one letter or digit: "." and ".." are path steps, which a browser resolves
#: away, so the point's address would lead elsewhere.
CODE = re.compile(r"^(?=.*[A-Za-z0-9])[A-Za-z0-9._-]{1,40}$")
#: Codes a point cannot have: its page, /points/<code>, would be one of the list's own
#: pages (a test keeps this in step with the routes).
RESERVED_CODES = frozenset({"new", "import", "official", "template.xlsx", "export.csv",
                            "export.xlsx"})
PHONE = re.compile(r"^[0-9 +().-]{0,20}$")
#: A filled row, shown on the import page rather than left in the template: imported with
#: the rows below it, it overwrote the real point 22 (its contacts blanked).
EXAMPLE = {"code": "22", "name": "Điểm cầu tỉnh Quảng Ninh", "level": "Tỉnh",
           "parent_code": "TW", "admin_unit_code": "22", "address": "Trụ sở Tỉnh ủy",
           "technical_officer_name": "Nguyễn Văn An", "technical_officer_phone": "0912345678",
           "expected_delegates": "200"}
#: More delegates than any point holds: a bigger number is a slip (and past a database
#: integer, an error).
MAX_EXPECTED = 1_000_000
#: Levels of points one under another: the real tree has three (the main venue, provinces,
#: communes), and a longer chain slows every walk of it.
MAX_LEVELS = 10
TEXT_LIMITS = {"name": 300, "address": 500, "host_unit": 300, "chair_name": 200,
               "chair_position": 300, "technical_officer_name": 200, "stream_url": 500,
               "access_code": 100}


def overlong(values: dict) -> list[tuple[str, str]]:
    """(field, message) for each of ``values`` longer than its column, counted as stored."""
    return [(field, _("Dài quá %(limit)d ký tự.", limit=limit))
            for field, limit in TEXT_LIMITS.items() if len(values.get(field, "")) > limit]


def stream_url_refusal(url: str) -> str | None:
    """Why a point's stream link cannot be kept, or None when it can (or is empty)."""
    if url and not url.startswith(("http://", "https://")):
        return _("Đường truyền phải bắt đầu bằng http:// hoặc https://.")
    if has_space_or_control(url):
        # The link goes raw into the point's calendar feed: a line break in it would end
        # that property and pass the rest off as properties and reminders of its own.
        return _("Đường truyền không được chứa dấu cách, dấu xuống dòng hay ký tự điều khiển.")
    return None


@dataclass
class Checked:
    number: int
    values: dict


class KnownCodes:
    """Codes a cell may mean, and those of them that begin with 0 by the number Excel makes
    of them when the column is not formatted as text ("06811" becomes 6811)."""

    def __init__(self, codes: Iterable[str]):
        self.codes = set(codes)
        # Looked up, not searched: a file of 31,000 rows asks for each of its rows.
        self.all_by_number: dict[str, list[str]] = {}
        for code in self.codes:
            if code.isdigit() and code.startswith("0"):
                self.all_by_number.setdefault(code.lstrip("0"), []).append(code)
        # Two codes that make the same number ("04", "00004"): neither is meant.
        self.by_number: dict[str, str | None] = {
            number: codes[0] if len(codes) == 1 else None
            for number, codes in self.all_by_number.items()}

    def lost_zeros(self, text: str) -> list[str]:
        """The codes ``text`` may be once its dropped zeros are back (none if it is known)."""
        if not text.isdigit() or text in self.codes:
            return []
        return sorted(self.all_by_number.get(text, []))


def with_zeros_back(text: str, *known: KnownCodes) -> str:
    """``text`` with the leading zeros a spreadsheet dropped put back, where that makes a
    code of ``known`` (looked in in order) and ``text`` as it is is none of them."""
    if not text.isdigit() or any(text in codes.codes for codes in known):
        return text
    for codes in known:
        if codes.by_number.get(text):
            return codes.by_number[text]
    return text


@cache
def official_units(level: PointLevel | None) -> KnownCodes:
    """The official codes a point of ``level`` may have as its administrative unit."""
    if level == PointLevel.PROVINCE:
        return KnownCodes(provinces())
    if level == PointLevel.COMMUNE:
        return KnownCodes(communes_by_code())
    return KnownCodes([*provinces(), *communes_by_code()])


def with_lost_zeros(conference: Conference, rows: Table) -> Table:
    """The rows of a file with the leading zeros Excel drops from codes typed as numbers put
    back ("6811" for the point or commune "06811"), where that makes a code this conference
    or the official list has; the point code, the parent's and the administrative unit's,
    and an existing point's access code where it is the stored one less its zeros.

    Without it such a row would make a new point beside the one it means.
    """
    levels, access_codes = {}, {}
    for code, level, access_code in db.session.execute(
            select(BroadcastPoint.code, BroadcastPoint.level, BroadcastPoint.access_code)
            .where(BroadcastPoint.conference_id == conference.id)):
        levels[code], access_codes[code] = level, access_code
    existing = KnownCodes(levels)
    # A point's own code takes zeros back only to be a point of its level: a ministry
    # numbered 1 is not the province point 01, and would have overwritten it.
    existing_by_level = {level: KnownCodes(code for code, at in levels.items() if at == level)
                         for level in PointLevel}
    restored = []
    for row in rows:
        values = dict(row.values)
        level = LEVELS.get(fold(values.get("level", "")))
        # Province and commune points take the official codes as theirs.
        official = [official_units(level)] if level in (PointLevel.PROVINCE,
                                                        PointLevel.COMMUNE) else []
        values["code"] = with_zeros_back(values.get("code", ""),
                                         existing_by_level.get(level, KnownCodes(())),
                                         *official)
        if "admin_unit_code" in values:
            values["admin_unit_code"] = with_zeros_back(values["admin_unit_code"],
                                                        official_units(level))
        if values.get("access_code") and access_codes.get(values["code"]):
            # A meeting room's code such as "000123" the same once Excel made it 123.
            values["access_code"] = with_zeros_back(
                values["access_code"], KnownCodes([access_codes[values["code"]]]))
        restored.append(Row(row.number, values))
    # A parent may be a point of the file itself.
    parents = KnownCodes(existing.codes | {row.values["code"] for row in restored})
    for row in restored:
        if "parent_code" in row.values:
            row.values["parent_code"] = with_zeros_back(row.values["parent_code"], parents)
    return Table(restored, rows.fields)


def check_rows(conference: Conference, rows: list[Row]) -> list[Checked]:
    """Every row made ready to write, or TableError listing every problem by row and column."""
    errors: list[CellError] = []
    existing, stored_units, levels = {}, {}, {}
    for code, province, unit, level in db.session.execute(
            select(BroadcastPoint.code, BroadcastPoint.province_code,
                   BroadcastPoint.admin_unit_code, BroadcastPoint.level)
            .where(BroadcastPoint.conference_id == conference.id)):
        existing[code], stored_units[code], levels[code] = province, unit, level
    official_provinces, official_communes = provinces(), communes_by_code()
    first_seen: dict[str, int] = {}
    checked: list[Checked] = []

    def fail(row: Row, field: str, message: str) -> None:
        errors.append(CellError(row.number, HEADING[field], message))

    for row in rows:
        v = dict(row.values)
        level = LEVELS.get(fold(v.get("level", "")))
        code = v.get("code", "")
        if not CODE.match(code):
            # "Đ" is a letter to its readers: the letters meant are said.
            fail(row, "code", _("Mã chỉ gồm chữ cái không dấu (A–Z), số và . _ - (tối đa 40 "
                                "ký tự), có ít nhất một chữ hoặc số."))
        elif code in RESERVED_CODES:
            fail(row, "code", _("Mã «%(code)s» trùng địa chỉ một trang của danh sách điểm "
                                "cầu; hãy chọn mã khác.", code=code))
        elif code in first_seen:
            fail(row, "code", _("Mã %(code)s trùng với dòng %(row)d.", code=code,
                                row=first_seen[code]))
        else:
            first_seen[code] = row.number
        if not v.get("name"):
            fail(row, "name", _("Thiếu tên điểm cầu."))
        for field, message in overlong(v):
            fail(row, field, message)
        if level is None:
            fail(row, "level", _("Cấp phải là một trong: Trung ương, Tỉnh, Xã, Khác."))
        v["level"] = level
        if level is not None:
            levels[code] = level
        # A file without the column leaves a point's unit as it is, and its province
        # with it: not the parent's, which would count the commune in another province.
        unit = (v["admin_unit_code"] if "admin_unit_code" in v
                else stored_units.get(code) or "")
        if unit:
            meant = official_units(level).lost_zeros(unit)
            if meant:
                fail(row, "admin_unit_code", _(
                    "Mã %(code)s không có trong danh mục 2025; có lẽ đã mất số 0 ở đầu "
                    "(%(codes)s?): Excel bỏ số 0 khi cột không định dạng là Văn bản (Text).",
                    code=unit, codes=", ".join(meant)))
            elif level == PointLevel.PROVINCE and unit not in official_provinces:
                fail(row, "admin_unit_code",
                     _("Không có tỉnh mã %(code)s trong danh mục 2025.", code=unit))
            elif level == PointLevel.COMMUNE and unit not in official_communes:
                fail(row, "admin_unit_code",
                     _("Không có xã/phường mã %(code)s trong danh mục 2025.", code=unit))
            elif unit not in official_provinces and unit not in official_communes:
                fail(row, "admin_unit_code",
                     _("Mã %(code)s không có trong danh mục 2025.", code=unit))
        elif (level == PointLevel.PROVINCE and code in official_provinces
              or level == PointLevel.COMMUNE and code in official_communes):
            unit = code  # official points use the official code as theirs, of their kind
        v["admin_unit_code"] = unit or None
        headcount = HEADCOUNT_WORDS.get(fold(v.get("headcount_only", "")))
        if headcount is None:
            fail(row, "headcount_only", _("Ghi «có» nếu điểm cầu chỉ báo số lượng, hoặc để trống."))
        v["headcount_only"] = bool(headcount)
        # Thousands as Vietnamese writes them ("1.200"), as Excel set for Vietnam saves them.
        expected = count_typed(v.get("expected_delegates", "") or "0")
        if expected is None:
            fail(row, "expected_delegates", _("Phải là số nguyên không âm."))
        elif expected > MAX_EXPECTED:
            fail(row, "expected_delegates", _("Nhiều nhất %(limit)s đại biểu.",
                                              limit=format_number(MAX_EXPECTED)))
        v["expected_delegates"] = expected or 0  # a row with an error is not written
        if "technical_officer_phone" in v:
            v["technical_officer_phone"] = phone_with_zero_back(v["technical_officer_phone"])
        if not PHONE.match(v.get("technical_officer_phone", "")):
            fail(row, "technical_officer_phone", _("Số điện thoại không hợp lệ."))
        refusal = stream_url_refusal(v.get("stream_url", ""))
        if refusal:
            fail(row, "stream_url", refusal)
        checked.append(Checked(row.number, v))

    # Parents and provinces, once every code of the file is known: of every point as it
    # will be once the file is applied, the points it does not name too.
    file_codes = {item.values["code"] for item in checked}
    stored_parents, parents = _parents_after(conference, checked)

    def unit_province(unit: str | None) -> str | None:
        if unit in official_provinces:
            return unit
        return official_communes[unit].province_code if unit in official_communes else None

    own = {code: unit_province(unit) for code, unit in stored_units.items()}
    for item in checked:
        own[item.values["code"]] = unit_province(item.values["admin_unit_code"])
    own = {code: province for code, province in own.items() if province}
    levels_after = {**levels, **{item.values["code"]: item.values["level"] for item in checked
                                 if item.values.get("level")}}

    found: dict[str, str | None] = {}

    def province_of(code: str | None) -> str | None:
        """The point's unit's province; else its parent's, so a point moved under another
        province's parent goes with it; else, with no parent to go by (the main venue), the
        province it has."""
        # Up the parents to a point that settles it, then back down: not by recursion,
        # which a file of points a thousand deep would take past Python's limit.
        chain: list[str] = []
        while code and code not in found and code not in chain:  # a loop is reported below
            chain.append(code)
            if code in own:
                break
            code = parents.get(code)
        above = found.get(code) if code and code not in chain else None
        for code in reversed(chain):
            above = found[code] = own.get(code) or above or existing.get(code)
        return above

    @cache
    def every_code() -> KnownCodes:  # made once, for the rows whose parent is unknown
        return KnownCodes([*existing, *file_codes])

    for item in checked:
        v = item.values
        parent = v.get("parent_code", "")
        if parent:
            if parent == v["code"]:
                errors.append(CellError(item.number, HEADING["parent_code"],
                                        _("Một điểm cầu không thể là cấp trên của chính nó.")))
            elif parent not in existing and parent not in file_codes:
                # A number two codes become ("04" and "00004"): neither was put back.
                meant = every_code().lost_zeros(parent)
                errors.append(CellError(item.number, HEADING["parent_code"], _(
                    "Không có điểm cầu mã %(code)s trong hội nghị này; có lẽ đã mất số 0 ở đầu "
                    "(%(codes)s?): Excel bỏ số 0 khi cột không định dạng là Văn bản (Text).",
                    code=parent, codes=", ".join(meant)) if meant else _(
                    "Không có điểm cầu mã %(code)s trong hội nghị này.", code=parent)))
            elif (v["level"] == PointLevel.COMMUNE and v["admin_unit_code"] in official_communes
                  and levels.get(parent) != PointLevel.MAIN):
                # Under the main venue, which stands for no province, a commune of any.
                own_province = official_communes[v["admin_unit_code"]].province_code
                parents_province = province_of(parent)
                if parents_province and parents_province != own_province:
                    errors.append(CellError(item.number, HEADING["parent_code"], _(
                        "%(commune)s thuộc %(own)s, không thuộc %(other)s của điểm cầu %(code)s.",
                        commune=official_communes[v["admin_unit_code"]].name,
                        own=official_provinces[own_province].name,
                        other=official_provinces[parents_province].name
                        if parents_province in official_provinces else parents_province,
                        code=parent,
                    )))
        v["province_code"] = province_of(v["code"])
    errors.extend(_communes_left_behind(
        checked, existing, stored_units, stored_parents, parents, province_of,
        lambda code: levels_after.get(code) == PointLevel.MAIN))
    errors.extend(_tree_problems(checked, stored_parents, parents))
    if errors:
        raise TableError(sorted(errors, key=lambda e: e.row))
    return checked


def _communes_left_behind(checked: list[Checked], stored_provinces: dict[str, str | None],
                          stored_units: dict[str, str | None],
                          stored_parents: dict[str, str | None],
                          parents: dict[str, str | None], province_of, is_main) -> list[CellError]:
    """Rows that take a point into another province while communes of another stay below
    it, however deep (the file does not move them): those would hang under a point of a
    province not theirs, which no form or file could save again, and be counted in it
    besides. Told on the row that moved them, on the cell that did: its unit, or its
    parent when it goes with a new one."""
    rows = {item.values["code"]: item for item in checked}
    moved = {code: item for code, item in rows.items()
             if code in stored_provinces
             and item.values["province_code"] != stored_provinces[code]}
    if not moved:
        return []
    # The rows that move them: a new parent or unit of their own, not a row following its
    # parent to another province.
    moving = {code: item for code, item in moved.items()
              if parents.get(code) != stored_parents.get(code)
              or item.values["admin_unit_code"] != stored_units.get(code)}
    communes = communes_by_code()
    # By the row that moved them: the province of the communes left, and their codes.
    left: dict[str, tuple[str, list[str]]] = {}
    for code, unit in sorted(stored_units.items()):
        parent = parents.get(code)
        if code in rows or unit not in communes or parent is None or is_main(parent):
            continue  # a row of the file is judged by its own row
        if province_of(parent) in (None, communes[unit].province_code):
            continue
        culprit, seen = parent, set()
        while culprit is not None and culprit not in moving and culprit not in seen:
            seen.add(culprit)
            culprit = parents.get(culprit)
        if culprit in moving:
            left.setdefault(culprit, (communes[unit].province_code, []))[1].append(code)
    names = {code: province.name for code, province in provinces().items()}
    return [CellError(moving[code].number, HEADING[
        "admin_unit_code" if moving[code].values["admin_unit_code"] != stored_units.get(code)
        else "parent_code"], _(
        "Điểm cầu %(code)s còn các điểm cầu xã, phường của %(province)s ở dưới (%(codes)s): "
        "hãy chuyển chúng sang điểm cầu cấp trên khác trước.", code=code,
        province=names[province], codes=", ".join(codes[:5]) + (", …" if len(codes) > 5 else "")))
        for code, (province, codes) in left.items()]


def _parents_after(conference: Conference, checked: list[Checked]
                   ) -> tuple[dict[str, str | None], dict[str, str | None]]:
    """Every point's parent's code as stored, and once the file is applied."""
    parent = aliased(BroadcastPoint)
    stored: dict[str, str | None] = dict(db.session.execute(
        select(BroadcastPoint.code, parent.code)
        .outerjoin(parent, parent.id == BroadcastPoint.parent_id)
        .where(BroadcastPoint.conference_id == conference.id)).all())
    after = dict(stored)
    for item in checked:
        code = item.values["code"]
        # A file without the column leaves the stored points where they are.
        if "parent_code" in item.values or code not in stored:
            after[code] = item.values.get("parent_code") or None
    return stored, after


def _tree_problems(checked: list[Checked], stored: dict[str, str | None],
                   parents: dict[str, str | None]) -> list[CellError]:
    """Rows whose chain of parents, once the file is applied (``parents``; ``stored``
    before), comes back to them, or goes more than MAX_LEVELS deep.

    A loop would make every walk up or down the tree (a coordinator's reach) endless, and
    a chain of hundreds makes each of them slow.
    """
    rows = {item.values["code"]: item for item in checked}
    levels, loops = _levels(parents)
    errors = []
    for item in checked:
        start = item.values["code"]
        if start in loops and parents[start] != start:  # its own parent: reported above
            chain, current = [start], parents[start]
            while current != start:
                chain.append(current)
                current = parents[current]
            errors.append(CellError(item.number, HEADING["parent_code"], _(
                "Các điểm cầu cấp trên tạo thành vòng: %(chain)s.",
                chain=" → ".join([*chain, start]))))
    deepest_below: dict[str, tuple[int, str]] = {}  # by the row that moved them there
    for code, level in levels.items():
        if level <= MAX_LEVELS:
            continue
        if code in rows:
            errors.append(CellError(rows[code].number, HEADING["parent_code"], _(
                "Điểm cầu này sẽ ở cấp thứ %(level)d tính từ điểm cầu trên cùng; tối đa "
                "%(limit)d cấp.", level=level, limit=MAX_LEVELS)))
            continue
        # A point the file does not name, sent down by a row that moved one above it.
        moved, seen = parents.get(code), set()
        while moved is not None and moved not in seen and not (
                moved in rows and parents[moved] != stored.get(moved)):
            seen.add(moved)
            moved = parents.get(moved)
        if moved is not None and moved not in seen:
            deepest_below[moved] = max(deepest_below.get(moved, (0, "")), (level, code))
    for moved, (level, code) in deepest_below.items():
        errors.append(CellError(rows[moved].number, HEADING["parent_code"], _(
            "Chuyển điểm cầu này về đây sẽ đưa điểm cầu %(code)s bên dưới nó xuống cấp "
            "thứ %(level)d; tối đa %(limit)d cấp.", code=code, level=level, limit=MAX_LEVELS)))
    return errors


def _levels(parents: dict[str, str | None]) -> tuple[dict[str, int], set[str]]:
    """Each point's level (1 for one without a parent) and the points on a loop of parents,
    which count as level 0; the points below a loop count from it."""
    levels: dict[str, int] = {}
    loops: set[str] = set()
    for start in parents:
        chain: list[str] = []
        on_chain: set[str] = set()
        code = start
        while code is not None and code not in levels and code not in on_chain:
            chain.append(code)
            on_chain.add(code)
            code = parents.get(code)
        if code in on_chain:
            loop = chain[chain.index(code):]
            loops.update(loop)
            levels.update(dict.fromkeys(loop, 0))
            chain = chain[:len(chain) - len(loop)]
        level = levels.get(code, 0)  # 0 above the top
        for below in reversed(chain):
            level += 1
            levels[below] = level
    return levels, loops


FIELDS = ("name", "level", "admin_unit_code", "province_code", "address", "host_unit",
          "chair_name", "chair_position", "technical_officer_name", "technical_officer_phone",
          "stream_url", "access_code", "expected_delegates", "headcount_only")


def updated_fields(columns: set[str]) -> list[str]:
    """The point fields an update from a file with these columns sets."""
    fields = [f for f in FIELDS if f in columns]
    if "admin_unit_code" in columns or "parent_code" in columns:
        fields.append("province_code")  # worked out from the unit or the parent
    return fields


def import_points(conference: Conference, rows: Table, *, logged: bool = True
                  ) -> tuple[int, int]:
    """Add new points and update existing ones (same code); return (added, updated).

    Nothing is written unless every row is right; the caller commits. ``logged``: the
    import's own entry in the audit log (the form of one point writes its own instead).
    """
    if not rows:
        raise file_error(_("Tệp không có dòng dữ liệu nào dưới dòng tiêu đề."))
    # Checked against the points as they are once held: two files at once, one putting A
    # under B and the other B under A, would each pass against the tree before the other
    # and make a loop; two adding one code would both insert it.
    hold_conference(conference)
    checked = check_rows(conference, rows)
    existing = db.session.execute(
        select(BroadcastPoint.code, BroadcastPoint.id, BroadcastPoint.province_code,
               BroadcastPoint.headcount_only)
        .where(BroadcastPoint.conference_id == conference.id)).all()
    ids = {point.code: point.id for point in existing}
    # As they were, to know afterwards which points the file switches or moves.
    provinces = {point.id: point.province_code for point in existing}
    reporting = {point.code: point.headcount_only for point in existing}
    updates = [item.values for item in checked if item.values["code"] in ids]
    pending = [item.values for item in checked if item.values["code"] not in ids]
    added = len(pending)
    # The rows that change their point's way of reporting (names or headcounts).
    switching = [item for item in checked if item.values["code"] in ids
                 and reporting[item.values["code"]] != item.values["headcount_only"]
                 ] if "headcount_only" in rows.fields else []
    now = utcnow()
    # New points go in layer by layer, so each finds its parent's id already written.
    while pending:
        ready = [v for v in pending if not v.get("parent_code") or v["parent_code"] in ids]
        if not ready:  # a loop of parents within the file
            raise TableError([CellError(0, HEADING["parent_code"],
                                        _("Các điểm cầu trong tệp làm cấp trên của nhau."))])
        db.session.execute(insert(BroadcastPoint.__table__), [
            {**{f: v.get(f, "") for f in FIELDS}, "conference_id": conference.id,
             "code": v["code"], "parent_id": ids.get(v.get("parent_code") or ""),
             "search_text": point_search_text(v["name"], v["code"]), "created_at": now,
             "connection_test_status": ConnectionTestStatus.NOT_TESTED}
            for v in ready
        ])
        ids.update(db.session.execute(
            select(BroadcastPoint.code, BroadcastPoint.id).where(
                BroadcastPoint.conference_id == conference.id,
                BroadcastPoint.code.in_([v["code"] for v in ready]),
            )
        ).all())
        pending = [v for v in pending if v["code"] not in ids]
    if updates:
        # A file without a column leaves that field alone: a short file of names must not
        # blank the addresses, links and chairs already entered for existing points.
        columns = rows.fields
        fields = updated_fields(columns)
        stored = {row.code: row for row in db.session.execute(
            select(BroadcastPoint.code, BroadcastPoint.place_revision,
                   BroadcastPoint.place_changed_at, BroadcastPoint.parent_id,
                   *(getattr(BroadcastPoint, name)
                     for name in dict.fromkeys((*PLACE_FIELDS, *fields))))
            .where(BroadcastPoint.conference_id == conference.id,
                   BroadcastPoint.code.in_([v["code"] for v in updates])))}
        # Only the points the file changes are written and counted: a list sent back as
        # it was downloaded updates nothing.
        updates = [v for v in updates if _changes(stored[v["code"]], v, fields, ids,
                                                  "parent_code" in columns)]
    if updates:
        # Every row this may write held first, in the order of their ids, the order a move
        # holds its two points in: the file's, and those without a unit of their own, whose
        # province follows their parent's below (one statement a level, in no order).
        db.session.execute(
            select(BroadcastPoint.id)
            .where(BroadcastPoint.conference_id == conference.id,
                   or_(BroadcastPoint.id.in_([ids[v["code"]] for v in updates]),
                       and_(BroadcastPoint.admin_unit_code.is_(None),
                            BroadcastPoint.parent_id.is_not(None))))
            .order_by(BroadcastPoint.id).with_for_update(key_share=True)).all()
        db.session.execute(update(BroadcastPoint), [
            {**{f: v[f] for f in fields}, "id": ids[v["code"]],
             "search_text": point_search_text(v["name"], v["code"]),
             **place_bookkeeping(stored[v["code"]], {f: v[f] for f in fields}, now),
             **({"parent_id": ids.get(v["parent_code"] or "")}
                if "parent_code" in columns else {})}
            for v in updates
        ])
    # After inserts too: a new point may sit below one the file moved.
    _provinces_follow_parents(conference)
    moved = [point_id for point_id, province in db.session.execute(
        select(BroadcastPoint.id, BroadcastPoint.province_code)
        .where(BroadcastPoint.conference_id == conference.id))
        if provinces.get(point_id, province) != province]
    # Once written, and before their attendance is counted or moved: what is being counted
    # at these points commits first, and is seen below; what comes next waits and then
    # counts by what this made.
    checkin.hold_points_alone(conference.id,
                              [ids[item.values["code"]] for item in switching] + moved)
    _refuse_mode_changes_after_attendance(conference, switching)
    if updates:
        checkin.arrivals_follow_provinces(conference.id)
        counts_follow_provinces(conference)
    if logged:
        record("points.import", target=conference, conference_id=conference.id,
               added=added, updated=len(updates))
    return added, len(updates)


def _changes(point, values: dict, fields: list[str], ids: dict[str, int],
             parent_given: bool) -> bool:
    """Whether ``values`` from a file would change the stored ``point`` (a row)."""
    def stored(value):
        return "" if value is None else value

    if parent_given and point.parent_id != ids.get(values["parent_code"] or ""):
        return True
    return any(stored(getattr(point, name)) != stored(values[name]) for name in fields)


def import_file(conference: Conference, rows: Table) -> tuple[int, int]:
    """import_points for the rows of a spreadsheet, once the zeros it dropped are back."""
    hold_conference(conference)  # before the zeros go back from the codes import_points checks
    return import_points(conference, with_lost_zeros(conference, rows))


def _refuse_mode_changes_after_attendance(conference: Conference,
                                          switching: list[Checked]) -> None:
    """A point that has recorded attendance keeps its way of reporting: names and
    headcounts would otherwise both count in its figures."""
    if not switching:
        return
    counted = SessionPointCount
    recorded = set(db.session.scalars(
        select(BroadcastPoint.code).distinct().join(
            counted, counted.point_id == BroadcastPoint.id)
        .where(BroadcastPoint.conference_id == conference.id,
               BroadcastPoint.code.in_([item.values["code"] for item in switching]),
               (counted.present + counted.late + counted.excused + counted.absent
                + counted.headcount) > 0)))
    errors = [CellError(item.number, HEADING["headcount_only"], _(
        "Điểm cầu %(code)s đã có số liệu điểm danh nên không đổi cách báo cáo được nữa.",
        code=item.values["code"]))
        for item in switching if item.values["code"] in recorded]
    if errors:
        raise TableError(errors)


def _provinces_follow_parents(conference: Conference) -> None:
    """Points without an administrative unit of their own take their parent's province,
    down the whole tree: the points below one that moved move with it."""
    point = BroadcastPoint.__table__
    parent = point.alias("parent")
    parents = (select(parent.c.province_code).where(parent.c.id == point.c.parent_id)
               .scalar_subquery())
    statement = point.update().where(
        point.c.conference_id == conference.id, point.c.admin_unit_code.is_(None),
        point.c.parent_id.is_not(None),
        func.coalesce(point.c.province_code, "") != func.coalesce(parents, "")
    ).values(province_code=parents)
    # One level per pass; the tree is a few levels deep and has no loops (checked above).
    while db.session.execute(statement).rowcount:
        pass


def counts_follow_provinces(conference: Conference) -> None:
    """Give the kept counts (registered by category, attended by session) the province of
    their point again, where it moved.

    Reports by province read these rows alone, so a stale province would count a point's
    delegates and their attendance in the province it left.
    """
    for model in (PointCategoryRegistration, SessionPointCount, SessionPointCategoryCount):
        table = model.__table__
        own = (select(func.coalesce(BroadcastPoint.province_code, ""))
               .where(BroadcastPoint.id == table.c.point_id).scalar_subquery())
        db.session.execute(table.update().where(table.c.conference_id == conference.id,
                                                table.c.province_code != own)
                           .values(province_code=own))


#: What the export adds for reading, which an import of that export rightly skips.
EXPORT_ONLY_HEADINGS = ["Tỉnh", "Đã đăng ký", "Chạy thử", "Ghi chú chạy thử"]
EXPORT_HEADINGS = [column.heading for column in COLUMNS] + EXPORT_ONLY_HEADINGS


LEVEL_NAMES = {PointLevel.MAIN: "Trung ương", PointLevel.PROVINCE: "Tỉnh",
               PointLevel.COMMUNE: "Xã", PointLevel.OTHER: "Khác"}
TEST_NAMES = {ConnectionTestStatus.NOT_TESTED: "Chưa chạy thử",
              ConnectionTestStatus.PASSED: "Đạt", ConnectionTestStatus.FAILED: "Không đạt"}


def export_rows(points, parent_codes: dict[int, str]):
    """One row per point, in the import's own columns, so an export can be edited and re-imported."""
    official = provinces()
    for p in points:
        yield [
            p.code, p.name, LEVEL_NAMES[p.level], parent_codes.get(p.parent_id, ""),
            p.admin_unit_code or "", p.address, p.host_unit, p.chair_name, p.chair_position,
            p.technical_officer_name, p.technical_officer_phone, p.stream_url, p.access_code,
            p.expected_delegates, "có" if p.headcount_only else "",
            official[p.province_code].name if p.province_code in official else "",
            p.registered_count, TEST_NAMES[p.connection_test_status], p.connection_test_note,
        ]
