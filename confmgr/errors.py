"""Error pages in the site's own look and language, never a bare server page.

Under /api/ every error is a problem document (RFC 9457) instead, whichever code raised it.
"""
from __future__ import annotations

from flask import Flask, render_template, request
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

API_MESSAGES = {
    400: _l("Yêu cầu không hợp lệ."),
    403: _l("Bạn không có quyền làm việc này."),
    404: _l("Không có tài nguyên này."),
    405: _l("Phương thức này không dùng được ở địa chỉ này."),
}


def is_api_request() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    from confmgr.api.problems import ApiProblem, problem_response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if is_api_request():
            headers = dict(error.get_headers())
            headers.pop("Content-Type", None)
            detail = API_MESSAGES.get(error.code) or MESSAGES.get(error.code, error.description)
            return problem_response(error.code, str(detail), headers=headers)
        message = MESSAGES.get(error.code, error.description)
        return render_template("error.html", code=error.code, message=message), error.code

    @app.errorhandler(ApiProblem)
    def api_problem(problem: ApiProblem):
        return problem_response(problem.status, problem.detail, problem.errors, problem.headers)
