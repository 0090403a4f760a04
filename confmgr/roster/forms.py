from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from confmgr.conferences.forms import optional_int
from confmgr.forms import Form


class PersonForm(Form):
    full_name = StringField(_l("Họ và tên"), validators=[DataRequired(), Length(max=200)])
    position = StringField(_l("Chức vụ"), validators=[Length(max=300)])
    unit = StringField(_l("Đơn vị"), validators=[Length(max=300)])
    category = SelectField(_l("Thành phần"), coerce=optional_int, validators=[Optional()])
    phone = StringField(_l("Điện thoại"), validators=[Length(max=40)])
    email = StringField(_l("Email"), validators=[Length(max=254)])
    note = TextAreaField(_l("Ghi chú"), validators=[Length(max=2000)])


class MoveForm(Form):
    # Its errors are flashed, away from the field: the message names what is missing.
    # At most a code's length: the code typed comes back in a message, which the session
    # cookie carries.
    point_code = StringField(_l("Chuyển sang điểm cầu (mã)"), validators=[DataRequired(
        message=_l("Hãy nhập mã điểm cầu cần chuyển đến.")), Length(max=40)])


class CategoryForm(Form):
    name = StringField(_l("Tên thành phần"), validators=[DataRequired(), Length(max=200)])
    rank = IntegerField(_l("Thứ tự nghi thức"), default=100,
                        description=_l("Số nhỏ được xếp trước trong danh sách theo thành phần."),
                        # 0 is a rank (the first); DataRequired would take it for empty.
                        validators=[InputRequired(), NumberRange(min=0, max=100_000)])


class CategoryEditForm(CategoryForm):
    # The name and rank as the form showed them: a change saved by someone else since is
    # not overwritten unseen.
    shown_name = HiddenField()
    shown_rank = HiddenField()


class RequirementForm(Form):
    category = SelectField(_l("Thành phần"), coerce=int)
    level = SelectField(_l("Cấp điểm cầu"))
    min_count = IntegerField(_l("Số người tối thiểu (0 để bỏ)"), default=1,
                             validators=[NumberRange(min=0, max=1000)])
