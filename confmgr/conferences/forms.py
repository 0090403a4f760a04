"""Forms for building an agenda. Rules live in scheduling/editing; forms only parse input."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.validators import URL, DataRequired, InputRequired, Length, NumberRange, Optional

from confmgr.conferences.labels import SESSION_KIND_LABELS, VISIBILITY_LABELS
from confmgr.enums import Visibility
from confmgr.forms import Form


def optional_int(value):
    return int(value) if value not in (None, "", "None") else None


class ConferenceForm(Form):
    title = StringField(_l("Tên hội nghị"), validators=[DataRequired(), Length(max=500)])
    slug = StringField(
        _l("Địa chỉ rút gọn"), validators=[DataRequired(), Length(max=80)],
        description=_l("Dùng trong đường dẫn /c/<địa chỉ>/, ví dụ tap-huan-2025."),
    )
    organising_unit = StringField(_l("Đơn vị tổ chức"), validators=[Length(max=300)])
    description = TextAreaField(_l("Giới thiệu"))
    timezone = StringField(
        _l("Múi giờ"), default="Asia/Ho_Chi_Minh", validators=[DataRequired(), Length(max=64)]
    )
    # InputRequired: DataRequired would call a date typed but not understood "not filled in".
    first_day = DateField(_l("Ngày bắt đầu"), validators=[InputRequired()])
    last_day = DateField(_l("Ngày kết thúc"), validators=[InputRequired()])
    visibility = SelectField(
        _l("Ai xem được chương trình"),
        choices=[SelectChoice(v.value, label) for v, label in VISIBILITY_LABELS.items()],
        default=Visibility.PUBLIC.value,
    )
    checkin_opens_minutes = IntegerField(
        _l("Mở điểm danh trước giờ bắt đầu phiên (phút)"), default=60,
        validators=[InputRequired(), NumberRange(min=0, max=1440)])
    checkin_closes_minutes = IntegerField(
        _l("Đóng điểm danh sau giờ kết thúc phiên (phút)"), default=120,
        validators=[InputRequired(), NumberRange(min=0, max=10080)])
    registration_opens = DateTimeLocalField(_l("Mở đăng ký đại biểu"), validators=[Optional()],
                                            format="%Y-%m-%dT%H:%M")
    registration_closes = DateTimeLocalField(_l("Đóng đăng ký đại biểu"), validators=[Optional()],
                                             format="%Y-%m-%dT%H:%M")
    seen = HiddenField()  # as SessionForm's (editing.conference_digest)


class SessionForm(Form):
    day = SelectField(_l("Ngày"), validators=[DataRequired()])
    # Seconds are taken (a browser may send them) and dropped (views._session_fields);
    # InputRequired, as the conference's days.
    start = TimeField(_l("Bắt đầu"), validators=[InputRequired()],
                      format=["%H:%M", "%H:%M:%S"])
    end = TimeField(_l("Kết thúc"), validators=[InputRequired()], format=["%H:%M", "%H:%M:%S"])
    kind = SelectField(
        _l("Loại phiên"),
        choices=[SelectChoice(kind.value, label) for kind, label in SESSION_KIND_LABELS.items()],
    )
    title = StringField(_l("Tiêu đề"), validators=[DataRequired(), Length(max=500)])
    topic = SelectField(_l("Chuyên đề"), coerce=optional_int, validators=[Optional()])
    presenters = SelectMultipleField(
        _l("Báo cáo viên"), coerce=int, validators=[Optional()],
        description=_l("Giữ Ctrl (hoặc ⌘) để chọn nhiều người. Người đã có giữ thứ tự trên "
                       "chương trình, người chọn thêm đứng sau."),
    )
    room = SelectField(_l("Phòng"), coerce=optional_int, validators=[Optional()])
    description = TextAreaField(_l("Mô tả"))
    # The session as the page showed it (editing.session_digest): an edit saved meanwhile
    # by someone else is told, not overwritten.
    seen = HiddenField()


class ShiftForm(Form):
    minutes = IntegerField(
        _l("Số phút (âm để dời sớm hơn)"),
        # InputRequired: 0 is typed, and told apart from nothing by its own message.
        validators=[InputRequired(), NumberRange(min=-720, max=720)],
    )
    scope = RadioField(
        _l("Phạm vi"),
        choices=[
            SelectChoice("following", _l("Phiên này và mọi phiên sau trong ngày")),
            SelectChoice("only", _l("Chỉ phiên này")),
        ],
        default="following",
    )


class TopicForm(Form):
    # Its length is checked as stored (scheduling.check_topic_number): typed with its words,
    # or in decomposed letters, it may be longer.
    number = StringField(_l("Số chuyên đề"), validators=[DataRequired(), Length(max=200)],
                         description=_l("Chỉ ghi số, ví dụ 3 hoặc 3a."))
    title = StringField(_l("Tên chuyên đề"), validators=[DataRequired(), Length(max=500)])
    summary = TextAreaField(_l("Tóm tắt"))
    seen = HiddenField()  # as SessionForm's


class PresenterForm(Form):
    name = StringField(_l("Họ và tên"), validators=[DataRequired(), Length(max=200)])
    position = StringField(_l("Chức vụ"), validators=[Length(max=300)])
    unit = StringField(_l("Đơn vị"), validators=[Length(max=300)])
    seen = HiddenField()  # as SessionForm's


class RoomForm(Form):
    name = StringField(_l("Tên phòng"), validators=[DataRequired(), Length(max=200)])


class PublishForm(Form):
    comment = TextAreaField(_l("Ghi chú thay đổi"), validators=[Length(max=2000)])
    # The version the page compared the draft with, and that draft's digest: a publication
    # or an edit meanwhile is told.
    seen_version = HiddenField()
    seen_draft = HiddenField()


# Ids of their own: both share the topic's page with its form, whose title is "title".
class MaterialLinkForm(Form):
    title = StringField(_l("Tên tài liệu"), validators=[DataRequired(), Length(max=300)],
                        id="link-title")
    url = URLField(_l("Đường dẫn"), validators=[DataRequired(), URL(), Length(max=1000)],
                   id="link-url")


class MaterialFileForm(Form):
    title = StringField(_l("Tên tài liệu"), validators=[DataRequired(), Length(max=300)],
                        id="file-title")
    file = FileField(_l("Tệp"), validators=[FileRequired()], id="file-file")


class CalendarUploadForm(Form):
    file = FileField(_l("Tệp lịch (.ics)"), validators=[FileRequired()])
