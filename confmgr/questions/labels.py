"""Human names for question values."""
from flask_babel import lazy_gettext as _l

from confmgr.enums import QuestionStatus

QUESTION_STATUS_LABELS = {
    QuestionStatus.NEW: _l("Mới"),
    QuestionStatus.ASSIGNED: _l("Đã giao"),
    QuestionStatus.ANSWERED: _l("Đã trả lời"),
    QuestionStatus.PUBLISHED: _l("Đã công bố"),
}

#: Bootstrap colours of the status badges.
QUESTION_STATUS_COLOURS = {
    QuestionStatus.NEW: "secondary",
    QuestionStatus.ASSIGNED: "info",
    QuestionStatus.ANSWERED: "primary",
    QuestionStatus.PUBLISHED: "success",
}
