"""Human names for point values."""
from flask_babel import lazy_gettext as _l

from confmgr.enums import ConnectionTestStatus, PointLevel

#: The points outside every province (central agencies, the main venue), where a list
#: names a province; printed reports render it in Vietnamese.
NO_PROVINCE_NAME = _l("Không thuộc tỉnh, thành phố nào")

POINT_LEVEL_LABELS = {
    PointLevel.MAIN: _l("Điểm cầu chính (Trung ương)"),
    PointLevel.PROVINCE: _l("Tỉnh, thành phố"),
    PointLevel.COMMUNE: _l("Xã, phường, đặc khu"),
    PointLevel.OTHER: _l("Khác (bộ, ngành, đơn vị)"),
}

TEST_STATUS_LABELS = {
    ConnectionTestStatus.NOT_TESTED: _l("Chưa chạy thử"),
    ConnectionTestStatus.PASSED: _l("Đạt"),
    ConnectionTestStatus.FAILED: _l("Không đạt"),
}

PROGRESS_LABELS = {
    "none": _l("Chưa đăng ký ai"),
    "partial": _l("Đăng ký chưa đủ"),
    "complete": _l("Đã đủ số dự kiến"),
    "no_target": _l("Chưa có số dự kiến"),
}
