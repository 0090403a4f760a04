"""Human names for agenda values, translatable like every other UI string."""
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from confmgr.enums import ConferenceStatus, SessionKind, SessionStatus, Visibility

SESSION_KIND_LABELS = {
    SessionKind.OPENING: _l("Khai mạc"),
    SessionKind.DIRECTIVE: _l("Phát biểu chỉ đạo"),
    SessionKind.TOPIC: _l("Chuyên đề"),
    SessionKind.DISCUSSION: _l("Thảo luận"),
    SessionKind.BREAK: _l("Giải lao"),
    SessionKind.CLOSING: _l("Bế mạc"),
    SessionKind.OTHER: _l("Khác"),
}

SESSION_STATUS_LABELS = {
    SessionStatus.CONFIRMED: _l("Chính thức"),
    SessionStatus.CANCELLED: _l("Đã hủy"),
}

VISIBILITY_LABELS = {
    Visibility.PUBLIC: _l("Công khai: ai cũng xem được chương trình và đăng ký lịch"),
    Visibility.RESTRICTED: _l("Hạn chế: chỉ ban tổ chức, điều phối viên và người có địa chỉ "
                              "lịch bí mật"),
}

CONFERENCE_STATUS_LABELS = {
    ConferenceStatus.DRAFT: _l("Bản nháp"),
    ConferenceStatus.PUBLISHED: _l("Đã công bố"),
    ConferenceStatus.CANCELLED: _l("Đã hủy"),
}

CHANGE_LABELS = {
    "added": lazy_pgettext("change", "Thêm"),  # "Thêm" alone is the button "Add"
    "removed": _l("Bỏ"),
    "moved": _l("Đổi giờ/phòng"),
    "retitled": _l("Đổi tên"),
    "cancelled": _l("Hủy"),
    "reinstated": _l("Khôi phục"),
    "updated": _l("Cập nhật nội dung"),
    "conference": _l("Thông tin hội nghị"),
}
