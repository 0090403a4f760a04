from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)

from confmgr.conferences.forms import optional_int
from confmgr.forms import Form


class TopicField(SelectField):
    """The published agenda's topics: another (a draft's, or one taken off the agenda since
    the page was loaded) is refused as such, not as a choice that is not valid."""

    def pre_validate(self, form) -> None:
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError(_l("Chuyên đề này không có trong chương trình đã công bố; "
                                     "hãy chọn lại.")) from None


class RaiseForm(Form):
    # Lengths are checked by the service, which names the line of a pasted list.
    topic = TopicField(_l("Chuyên đề"), coerce=optional_int)
    body = TextAreaField(_l("Câu hỏi, khó khăn, vướng mắc"))
    as_list = BooleanField(_l("Nhiều câu hỏi, mỗi dòng một câu"))
    asker_name = StringField(_l("Người hỏi (không bắt buộc)"))
    asker_position = StringField(_l("Chức vụ người hỏi (không bắt buộc)"))


class AnswerForm(Form):
    answer = TextAreaField(_l("Trả lời"))
    # The answer as the page showed it: one saved by someone else since is not overwritten
    # unseen.
    shown = HiddenField()


class EditForm(Form):
    topic = TopicField(_l("Chuyên đề"), coerce=optional_int)
    body = TextAreaField(_l("Nội dung câu hỏi"))
    # The wording as the page showed it, as AnswerForm's ``shown``.
    shown_body = HiddenField()


class AssignForm(Form):
    presenter = SelectField(_l("Giao cho báo cáo viên"), coerce=optional_int)


class ActionForm(Form):
    """A button that changes something: only its CSRF token to check."""
