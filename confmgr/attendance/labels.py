"""Human names for attendance values."""
from flask_babel import lazy_gettext as _l

from confmgr.enums import AttendanceStatus, CheckInMethod

ATTENDANCE_LABELS = {
    AttendanceStatus.PRESENT: _l("Có mặt"),
    AttendanceStatus.LATE: _l("Đến muộn"),
    AttendanceStatus.EXCUSED: _l("Có phép"),
    AttendanceStatus.ABSENT: _l("Vắng"),
}

METHOD_LABELS = {
    CheckInMethod.MANUAL: _l("Điểm danh tại chỗ"),
    CheckInMethod.QR: _l("Quét mã"),
    CheckInMethod.IMPORT: _l("Danh sách giấy"),
    CheckInMethod.API: _l("Ứng dụng"),
    CheckInMethod.SELF: _l("Tự điểm danh"),
    CheckInMethod.HEADCOUNT: _l("Báo cáo số lượng"),
    CheckInMethod.ALL_PRESENT: _l("Có mặt cho người chưa điểm danh"),
}

#: On the buttons of a phone-sized sheet, where four must fit on one line.
ATTENDANCE_BUTTON_LABELS = {
    AttendanceStatus.PRESENT: _l("Có mặt"),
    AttendanceStatus.LATE: _l("Muộn"),
    AttendanceStatus.EXCUSED: _l("Có phép"),
    AttendanceStatus.ABSENT: _l("Vắng"),
}

#: Delegates of no category, and those a headcount counts outside the categories: one group
#: under one name, in the headcount form and in every report.
NO_CATEGORY_NAME = _l("Thành phần khác")

#: Each status's Bootstrap colour, in the sheet's order of buttons.
ATTENDANCE_STYLES = {
    AttendanceStatus.PRESENT: "success",
    AttendanceStatus.LATE: "warning",
    AttendanceStatus.EXCUSED: "info",
    AttendanceStatus.ABSENT: "secondary",
}
