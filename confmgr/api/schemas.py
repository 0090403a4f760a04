"""What the API reads and writes: pydantic models, which are also its OpenAPI schemas."""
from __future__ import annotations

from datetime import date, datetime, timezone
import unicodedata
from typing import Annotated, Generic, TypeVar
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
)
from pydantic_core import PydanticCustomError

from confmgr.enums import (
    AttendanceStatus,
    ConferenceStatus,
    PointLevel,
    RegistrationStatus,
    Role,
    SessionKind,
    SessionStatus,
    TokenScope,
    Visibility,
)
from confmgr.i18n import N_
from confmgr.points.listing import NO_PROVINCE
from confmgr.points.official import provinces

T = TypeVar("T")


class Closed(BaseModel):
    """A request body or query: unknown members are refused rather than silently ignored,
    so a misspelt filter is an error, not a list of everything."""

    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    """One page of a list; follow ``next`` (also sent as a Link header) for the rest."""

    model_config = ConfigDict(json_schema_extra={"description": N_(
        "Một trang của danh sách; đi theo next (cũng gửi trong tiêu đề Link) để lấy "
        "phần còn lại.")})

    items: list[T]
    next: str | None = Field(description=N_("Địa chỉ trang sau; null ở trang cuối."))


def official_province(code: str) -> str:
    """A province code from the official list, NO_PROVINCE (the points outside every
    province), or empty (the whole country)."""
    if code and code not in provinces() and code != NO_PROVINCE:
        # Its own kind, so that the message can be given in the caller's language.
        raise PydanticCustomError("province_unknown", "unknown province code {code}",
                                  {"code": code})
    return code


#: The moments every time zone can show: a day inside the years Python's dates hold (a
#: zone is at most 14 hours from UTC). 23:00 on 31/12/9999 in UTC is year 10000 in Hà Nội,
#: which a message naming the moment in the conference's zone could not write.
_SHOWN_EVERYWHERE = (datetime(1, 1, 2, tzinfo=timezone.utc),
                     datetime(9999, 12, 30, tzinfo=timezone.utc))


def _in_utc(moment: datetime) -> datetime:
    try:
        moment = moment.astimezone(timezone.utc)
    except OverflowError:  # year 9999 in a zone west of Greenwich, say
        raise PydanticCustomError("datetime_out_of_range", "not a time UTC can hold") from None
    if not _SHOWN_EVERYWHERE[0] <= moment <= _SHOWN_EVERYWHERE[1]:
        raise PydanticCustomError("datetime_out_of_range", "not a time every zone can show")
    return moment


#: A moment with its zone, read as UTC.
Moment = Annotated[AwareDatetime, AfterValidator(_in_utc)]


#: A province filter: a code that is not on the official list is refused, not a list of
#: nothing (or a report of zeros).
ProvinceCode = Annotated[str, StringConstraints(max_length=10), AfterValidator(official_province)]


class PageQuery(Closed):
    limit: int = Field(100, ge=1, le=500, description=N_("Số mục mỗi trang (1–500)."))
    after: int = Field(0, ge=0, le=2**31 - 1,
                       description=N_("Mã số (id) của mục cuối trang trước; 0 cho trang đầu."))


# ---------------------------------------------------------------- who is asking


class Me(BaseModel):
    id: int
    email: str
    display_name: str
    role: Role
    token_scope: TokenScope = Field(description=N_(
        "Token chỉ đọc (read) hay đọc và ghi (write), trong quyền của người dùng."))


# ---------------------------------------------------------------- agenda


class ConferenceOut(BaseModel):
    id: int
    slug: str
    title: str
    organising_unit: str
    timezone: str
    first_day: date
    last_day: date
    status: ConferenceStatus
    visibility: Visibility
    agenda_version: int | None = Field(description=N_("Số phiên bản chương trình đã công bố."))


class MaterialOut(BaseModel):
    title: str
    url: str


class TopicOut(BaseModel):
    number: str
    title: str
    summary: str
    materials: list[MaterialOut]
    session_ids: list[int]


class PresenterOut(BaseModel):
    name: str
    position: str
    unit: str
    session_ids: list[int]


class SessionTopic(BaseModel):
    number: str
    title: str


class SessionPresenter(BaseModel):
    name: str
    position: str
    unit: str


class SessionOut(BaseModel):
    id: int
    uid: str
    starts_at: datetime
    ends_at: datetime
    kind: SessionKind
    title: str
    description: str
    status: SessionStatus
    room: str | None
    topic: SessionTopic | None
    presenters: list[SessionPresenter]
    sequence: int


class CategoryOut(BaseModel):
    id: int
    name: str
    rank: int


# ---------------------------------------------------------------- points


class PointQuery(PageQuery):
    province: ProvinceCode = Field("", description=N_(
        "Mã tỉnh/thành (vd. 22); «none»: các điểm cầu không thuộc tỉnh, thành phố nào."))
    level: PointLevel | None = None


class PointOut(BaseModel):
    id: int
    code: str
    name: str
    level: PointLevel
    parent_code: str | None
    province_code: str | None
    admin_unit_code: str | None
    address: str
    host_unit: str
    expected_delegates: int
    registered_count: int
    headcount_only: bool


# ---------------------------------------------------------------- delegates

def _composed(text):
    # As the web forms take text (confmgr/forms.py): composed first, so a limit counts the
    # text as stored, not the decomposed letters some keyboards type.
    if not isinstance(text, str):
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: JSON can escape one, no text holds it
        raise PydanticCustomError("string_unicode", "not a unicode string") from None
    return unicodedata.normalize("NFC", text)


def typed_text(limit: int):
    """A text member of at most ``limit`` characters once composed."""
    return Annotated[str, BeforeValidator(_composed), StringConstraints(max_length=limit)]


Name = typed_text(200)
Text300 = typed_text(300)


class ParticipantQuery(PageQuery):
    status: RegistrationStatus | None = None


class ParticipantIn(Closed):
    full_name: Name
    position: Text300 = ""
    unit: Text300 = ""
    category_id: StrictInt | None = Field(None, ge=1, le=2**31 - 1)
    phone: typed_text(40) = ""
    email: typed_text(254) = ""
    note: typed_text(2000) = ""
    client_id: UUID | None = Field(None, description=N_(
        "Mã do máy gửi tự sinh cho lần đăng ký này; gửi lại cùng mã (khi không nhận được "
        "trả lời) không đăng ký thêm ai mà trả lời bằng đại biểu đã đăng ký."))


def _no_default(schema: dict) -> None:
    schema.pop("default", None)


class ParticipantPatch(Closed):
    """Only the members sent change."""

    model_config = ConfigDict(json_schema_extra={"description": N_(
        "Chỉ các trường được gửi thay đổi.")})

    # Left out, the name is kept; a delegate cannot be without one, so null is refused and
    # the document offers none, not even as the default.
    full_name: Name = Field(None, json_schema_extra=_no_default)
    position: Text300 | None = None
    unit: Text300 | None = None
    category_id: StrictInt | None = Field(None, ge=1, le=2**31 - 1)
    phone: typed_text(40) | None = None
    email: typed_text(254) | None = None
    note: typed_text(2000) | None = None


class ParticipantOut(BaseModel):
    id: int
    point_code: str
    full_name: str
    position: str
    unit: str
    category_id: int | None
    phone: str
    email: str
    note: str
    status: RegistrationStatus
    created_at: datetime
    updated_at: datetime


class ParticipantCreated(ParticipantOut):
    warnings: list[str]
    replayed: bool = Field(False, description=N_(
        "Đã nhận mã này trước đó; không ghi lại lần nữa."))


# ---------------------------------------------------------------- attendance


class CheckIn(Closed):
    id: UUID = Field(description=N_("Mã do máy gửi tự sinh; gửi lại cùng mã không đổi gì thêm."))
    # Strict: JSON's true or 1.0 is no id, though Python would take either for 1.
    participant_id: StrictInt = Field(ge=1, le=2**31 - 1)
    session_id: StrictInt = Field(ge=1, le=2**31 - 1)
    status: AttendanceStatus = AttendanceStatus.PRESENT
    taken_at: Moment | None = Field(None, description=N_(
        "Lúc máy ghi lượt điểm danh (ISO 8601, có múi giờ), nếu máy gửi sau: biểu đồ "
        "điểm danh theo giờ tính đại biểu đến lúc đó. Bỏ trống là lúc máy chủ nhận."))


class CheckInBatch(Closed):
    checkins: list[CheckIn] = Field(min_length=1, max_length=500)
    sent_at: Moment | None = Field(None, description=N_(
        "Lúc máy gửi lô này, theo đồng hồ của máy (ISO 8601, có múi giờ), ghi mới ở mỗi lần "
        "gửi, cả khi gửi lại: máy chủ dùng để chỉnh các ``taken_at`` theo đồng hồ của mình "
        "khi đồng hồ máy chạy sai (lệch quá một ngày thì bị từ chối)."))


class CheckInResult(BaseModel):
    id: UUID
    participant_id: int
    session_id: int
    status: AttendanceStatus
    changed: bool = Field(description=N_("Lần gửi đầu tiên có thay đổi điểm danh hay không."))
    replayed: bool = Field(description=N_("Đã nhận mã này trước đó; không ghi lại lần nữa."))
    superseded: bool = Field(description=N_(
        "Điểm cầu đã ghi một thay đổi sau lúc máy ghi lượt này (``taken_at``); thay đổi đó "
        "được giữ, lượt này không đổi gì."))


class CheckInResults(BaseModel):
    results: list[CheckInResult]


class AttendanceQuery(PageQuery):
    session_id: int = Field(ge=1, le=2**31 - 1)


class AttendanceOut(BaseModel):
    id: int
    participant_id: int
    session_id: int
    status: AttendanceStatus
    recorded_at: datetime = Field(description=N_(
        "Lúc ghi trạng thái này: lúc máy chủ nhận, hoặc lúc máy ghi (``taken_at``) nếu máy "
        "gửi sau."))


# ---------------------------------------------------------------- reports


class Tally(BaseModel):
    registered: int
    expected: int
    present: int
    late: int
    excused: int
    absent: int
    headcount: int
    attended: int
    not_recorded: int
    rate: float | None


class SessionReport(BaseModel):
    session_id: int
    title: str
    starts_at: datetime
    tally: Tally


class SessionReports(BaseModel):
    province: str
    sessions: list[SessionReport]


class ReportQuery(Closed):
    province: ProvinceCode = Field("", description=N_(
        "Mã tỉnh/thành; «none»: các điểm cầu không thuộc tỉnh, thành phố nào; trống là cả "
        "nước."))


class ProvinceReport(BaseModel):
    code: str
    name: str
    tally: Tally


class ProvinceReports(BaseModel):
    session_id: int
    provinces: list[ProvinceReport]


class PointReport(BaseModel):
    code: str
    name: str
    province_code: str
    headcount_only: bool
    tally: Tally


class PointReportQuery(Closed):
    province: ProvinceCode = ""
    limit: int = Field(500, ge=1, le=2000)
    after: str = Field("", max_length=40, description=N_("Mã điểm cầu cuối trang trước."))


