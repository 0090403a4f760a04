"""Error pages in the site's own look and language, never a bare server page.

Under /api/ every error is a problem document (RFC 9457) instead, whichever code raised it.
A database that is busy, that gave up a transaction for another's sake (a deadlock) or
whose connection dropped is a 503 with Retry-After, not a 500: asking again a moment later
works. So is a Redis holding the abuse limits that cannot be
reached, when the limits may not fall back to each process's memory
(RATELIMIT_IN_MEMORY_FALLBACK_ENABLED in confmgr/config.py).
"""
from __future__ import annotations

from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, ServiceUnavailable

from confmgr.api.spec import MAX_BODY_BYTES
from confmgr.db import db

MESSAGES = {
    400: _l("Yêu cầu không hợp lệ. Hãy tải lại trang rồi thử lại."),
    403: _l("Bạn không có quyền xem trang này."),
    404: _l("Không tìm thấy trang này."),
    405: _l("Thao tác này không được phép."),
    413: _l("Tệp gửi lên quá lớn."),
    500: _l("Đã có lỗi ở máy chủ. Vui lòng thử lại sau."),
    503: _l("Máy chủ đang bận, vui lòng thử lại sau ít giây."),
}

API_MESSAGES = {
    400: _l("Yêu cầu không hợp lệ."),
    403: _l("Bạn không có quyền làm việc này."),
    404: _l("Không có tài nguyên này."),
    405: _l("Phương thức này không dùng được ở địa chỉ này."),
    # The API takes no file: only its JSON bodies are read, up to this limit.
    413: _l("Thân yêu cầu quá lớn (tối đa %(limit)d KiB).", limit=MAX_BODY_BYTES // 1024),
}

#: How long a client is asked to wait after the database was busy, in seconds.
RETRY_AFTER_SECONDS = 5


def is_api_request() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


#: PostgreSQL's errors that roll back a transaction which, sent again, may well succeed:
#: a deadlock, a serialization failure, a lock not granted in time.
_TRY_AGAIN = frozenset({"40P01", "40001", "55P03"})


def is_transient(error: OperationalError) -> bool:
    """Whether asking again shortly should succeed: another writer held SQLite's lock past
    the busy timeout, PostgreSQL rolled the transaction back for another's sake, or the
    connection to the database server was lost (the pool has already dropped it and
    connects anew)."""
    return (error.connection_invalidated or "database is locked" in str(error.orig)
            or getattr(error.orig, "sqlstate", None) in _TRY_AGAIN)


def init_app(app: Flask) -> None:
    from confmgr.api.problems import ApiProblem, problem_response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        # The error's own headers (Allow, Retry-After, WWW-Authenticate) go with either page.
        headers = dict(error.get_headers())
        headers.pop("Content-Type", None)
        if is_api_request():
            detail = API_MESSAGES.get(error.code) or MESSAGES.get(error.code, error.description)
            return problem_response(error.code, str(detail), headers=headers)
        message = MESSAGES.get(error.code, error.description)
        if error.code >= 500:
            # A failed write left the session waiting for a rollback; the page reads the
            # signed-in user through it, and would fail in turn.
            db.session.rollback()
        return render_template("error.html", code=error.code, message=message), error.code, headers

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError):
        if not is_transient(error):
            raise error
        app.logger.warning("database unavailable, answered 503: %s", error.orig)
        db.session.rollback()
        return http_error(ServiceUnavailable(retry_after=RETRY_AFTER_SECONDS))

    try:
        from redis.exceptions import RedisError
    except ImportError:  # no Redis client installed: limits count in memory
        pass
    else:
        # Down, too slow, or refusing writes (out of memory): the limits cannot be counted.
        @app.errorhandler(RedisError)
        def limits_unavailable(error: Exception):
            app.logger.error("the rate-limit store is unreachable, answered 503: %s", error)
            return http_error(ServiceUnavailable(retry_after=RETRY_AFTER_SECONDS))

    @app.errorhandler(ApiProblem)
    def api_problem(problem: ApiProblem):
        return problem_response(problem.status, problem.detail, problem.errors, problem.headers)
