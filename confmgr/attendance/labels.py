"""Human names for attendance values."""
from flask_babel import lazy_gettext as _l

from confmgr.enums import AttendanceStatus, CheckInMethod

ATTENDANCE_LABELS = {
    AttendanceStatus.PRESENT: _l("Có mặt"),
    AttendanceStatus.LATE: _l("Đến muộn"),
    AttendanceStatus.EXCUSED: _l("Vắng có lý do"),
    AttendanceStatus.ABSENT: _l("Vắng"),
}

METHOD_LABELS = {
    CheckInMethod.MANUAL: _l("Điểm danh tại chỗ"),
    CheckInMethod.QR: _l("Quét mã"),
    CheckInMethod.IMPORT: _l("Danh sách giấy"),
    CheckInMethod.API: _l("Ứng dụng"),
    CheckInMethod.SELF: _l("Tự điểm danh"),
    CheckInMethod.HEADCOUNT: _l("Báo cáo số lượng"),
}
