"""Error pages in the site's own look and language, never a bare server page."""
from __future__ import annotations

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: _l("Yêu cầu không hợp lệ. Hãy tải lại trang rồi thử lại."),
    403: _l("Bạn không có quyền xem trang này."),
    404: _l("Không tìm thấy trang này."),
    405: _l("Thao tác này không được phép."),
    413: _l("Tệp gửi lên quá lớn."),
    500: _l("Đã có lỗi ở máy chủ. Vui lòng thử lại sau."),
}


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        message = MESSAGES.get(error.code, error.description)
        return render_template("error.html", code=error.code, message=message), error.code
