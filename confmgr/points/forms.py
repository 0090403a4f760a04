"""Forms for broadcast points, their coordinators and connection tests."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.validators import DataRequired, Length, Optional, StopValidation

from confmgr.forms import Form
from confmgr.points.importing import stream_url_refusal
from confmgr.points.labels import POINT_LEVEL_LABELS


def stream_link_rules(form, field) -> None:
    """The import's rules for a stream link. WTForms' URL() alone lets spaces and line
    breaks through, and one would end the link's line in the point's calendar feed."""
    # Only the ends are trimmed before saving.
    refusal = stream_url_refusal((field.data or "").strip())
    if refusal:
        # Stops the chain: "Invalid URL" besides would say the same less clearly.
        raise StopValidation(refusal)


class PointForm(Form):
    code = StringField(_l("Mã điểm cầu"), validators=[DataRequired(), Length(max=40)])
    name = StringField(_l("Tên điểm cầu"), validators=[DataRequired(), Length(max=300)])
    level = SelectField(_l("Cấp"), choices=[
        SelectChoice(level.value, label) for level, label in POINT_LEVEL_LABELS.items()
    ])
    parent_code = StringField(_l("Mã điểm cầu cấp trên"), validators=[Length(max=40)])
    admin_unit_code = StringField(_l("Mã đơn vị hành chính"), validators=[Length(max=10)])
    address = StringField(_l("Địa chỉ"), validators=[Length(max=500)])
    host_unit = StringField(_l("Đơn vị chủ trì"), validators=[Length(max=300)])
    chair_name = StringField(_l("Người chủ trì"), validators=[Length(max=200)])
    chair_position = StringField(_l("Chức vụ người chủ trì"), validators=[Length(max=300)])
    technical_officer_name = StringField(_l("Cán bộ kỹ thuật"), validators=[Length(max=200)])
    technical_officer_phone = StringField(_l("Điện thoại cán bộ kỹ thuật"),
                                          validators=[Length(max=20)])
    # The import's rules alone: URL() also wants a domain's ending, and refused an intranet
    # host ("http://hoinghi-qn:8080/") that an imported point already had, so that the
    # point could no longer be saved.
    stream_url = URLField(_l("Đường truyền"), validators=[Optional(), stream_link_rules,
                                                          Length(max=500)])
    access_code = StringField(_l("Mã truy cập"), validators=[Length(max=100)])
    # Checked by the import's rules (points.importing), which read "1.200" as Vietnamese
    # writes a thousand and two hundred: an IntegerField refused it.
    expected_delegates = StringField(_l("Số đại biểu dự kiến"), default="0",
                                     render_kw={"inputmode": "numeric"})
    headcount_only = BooleanField(
        _l("Chỉ báo số lượng"),
        description=_l("Điểm cầu báo cáo số người dự từng phiên theo thành phần, không "
                       "điểm danh theo tên."))


class OfficialPointsForm(Form):
    scope = RadioField(_l("Tạo"), default="provinces", choices=[
        SelectChoice("provinces", _l("Tất cả 34 điểm cầu tỉnh, thành phố")),
        SelectChoice("communes", _l("Các tỉnh và toàn bộ xã, phường của các tỉnh được chọn")),
        SelectChoice("everything", _l("Tất cả: 34 tỉnh và 3.321 xã, phường, đặc khu")),
    ])
    provinces = SelectMultipleField(_l("Tỉnh được chọn"), validators=[Optional()])


class UploadForm(Form):
    file = FileField(_l("Tệp .xlsx hoặc .csv"), validators=[FileRequired()])


class CoordinatorForm(Form):
    display_name = StringField(_l("Họ và tên"), validators=[DataRequired(), Length(max=200)])
    login = StringField(_l("Email hoặc tên đăng nhập"), validators=[DataRequired(), Length(max=254)])
    point_codes = StringField(_l("Mã các điểm cầu"), validators=[DataRequired()],
                              description=_l("Cách nhau bởi dấu phẩy, ví dụ 22, 06811."))


class SlotForm(Form):
    day = DateField(_l("Ngày"), validators=[DataRequired()])
    start = TimeField(_l("Bắt đầu"), validators=[DataRequired()])
    end = TimeField(_l("Kết thúc"), validators=[DataRequired()])
    note = StringField(_l("Điểm cầu tham gia"), validators=[Length(max=500)])


class TestResultForm(Form):
    status = RadioField(_l("Kết quả"), choices=[
        SelectChoice("passed", _l("Đạt")), SelectChoice("failed", _l("Không đạt")),
    ])
    slot = SelectField(_l("Đợt chạy thử"), validators=[Optional()])
    note = TextAreaField(_l("Ghi chú"), validators=[Length(max=2000)])
