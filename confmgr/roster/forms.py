from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from confmgr.conferences.forms import optional_int


class PersonForm(FlaskForm):
    full_name = StringField(_l("Họ và tên"), validators=[DataRequired(), Length(max=200)])
    position = StringField(_l("Chức vụ"), validators=[Length(max=300)])
    unit = StringField(_l("Đơn vị"), validators=[Length(max=300)])
    category = SelectField(_l("Thành phần"), coerce=optional_int, validators=[Optional()])
    phone = StringField(_l("Điện thoại"), validators=[Length(max=40)])
    email = StringField(_l("Email"), validators=[Length(max=254)])
    note = TextAreaField(_l("Ghi chú"), validators=[Length(max=2000)])


class MoveForm(FlaskForm):
    point_code = StringField(_l("Chuyển sang điểm cầu (mã)"), validators=[DataRequired()])
