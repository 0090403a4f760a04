"""Abuse limits, security headers and the client's real address behind a proxy.

Every counter lives in Flask-Limiter's storage (``RATELIMIT_STORAGE_URI``): with Redis
they hold across every worker and server, with ``memory://`` only within one process.
While that store cannot be reached the counters fall back to this process's memory (see
``RATELIMIT_IN_MEMORY_FALLBACK_ENABLED`` in confmgr/config.py for why).
"""
from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TypeVar

from flask import Flask, Response, abort, current_app, request, session
from flask_babel import gettext as _
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage
from limits.strategies import RateLimiter
from werkzeug.middleware.proxy_fix import ProxyFix

from confmgr.accounts.models import User
from confmgr.accounts.services import normalise_email
from confmgr.errors import is_api_request
from confmgr.i18n import counted

#: Where each application keeps its limiter. Flask-Limiter holds its storage on the
#: extension object, so each application gets its own rather than sharing a global one.
LIMITER = "confmgr.limiter"
#: Where each application keeps the sign-in counters (``LoginCounters``).
LOGIN_COUNTERS = "confmgr.login_counters"

#: No inline script or style anywhere: the pages use classes in app.css, and htmx is told
#: not to add its indicator styles (templates/_htmx.html).
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    # data: for the empty favicon in base.html.
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))

#: Badges are scanned with the phone's own camera app, which opens the check-in address;
#: no page uses the camera, the microphone or the location itself.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Content-Type-Options": "nosniff",
    "Permissions-Policy": PERMISSIONS_POLICY,
}


def init_app(app: Flask) -> None:
    proxies = int(app.config["PROXY_FIX"] or 0)
    if proxies:
        # Behind nginx every request comes from the proxy; without this the per-address
        # limits would count every client together and lock everyone out at once.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

    limiter = Limiter(key_func=get_remote_address)
    limiter.init_app(app)
    app.extensions[LIMITER] = limiter
    if app.config["RATELIMIT_ENABLED"]:
        app.extensions[LOGIN_COUNTERS] = LoginCounters(
            limiter.limiter, bool(app.config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"]))
        _limit_the_api(app, limiter)
    app.after_request(add_security_headers)
    app.before_request(refuse_nul_bytes)


def refuse_nul_bytes() -> None:
    """A NUL in a form or an address is never typed by a person, and PostgreSQL cannot store
    it: refuse the request at once rather than fail at the database. (The API names the
    member at fault itself, in confmgr/api/spec.py.)"""
    if is_api_request():
        return
    values = [*request.args.values(), *request.form.values(), *request.args, *request.form]
    if any("\x00" in value for value in values):
        abort(400)


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if "Cache-Control" not in response.headers and _signed_in():
        # What a signed-in person is shown (delegates' phones, officers' contacts, badge
        # codes, exports) is theirs alone: on a commune hall's shared PC neither the
        # browser nor a proxy may keep a copy. Pages that may be kept say so themselves.
        response.headers["Cache-Control"] = "private, no-store"
    return response


def _signed_in() -> bool:
    """Whether the request carries a sign-in, judged without the database: this runs after
    every answer, a 503 for a database that is down among them."""
    remember = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    return bool(session.get("_user_id") or remember in request.cookies
                or "Authorization" in request.headers)


# ---------------------------------------------------------------- the JSON API


def _limit_the_api(app: Flask, limiter: Limiter) -> None:
    from confmgr.api.views import bp

    def message() -> str:
        return _("Quá nhiều yêu cầu. Hãy đợi số giây ghi trong tiêu đề Retry-After rồi gửi lại.")

    # Shared across the blueprint: the budget is for the whole API, not each address in it.
    limiter.shared_limit(app.config["API_LIMIT_PER_CALLER"], scope="api-caller",
                         key_func=api_caller, error_message=message)(bp)
    limiter.shared_limit(app.config["API_LIMIT_PER_ADDRESS"], scope="api-address",
                         key_func=get_remote_address, error_message=message)(bp)


def api_caller() -> str:
    """The token a request carries (as a digest: keys in the store must not be usable
    secrets), or its address when it carries none."""
    scheme, _space, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and secret.strip():
        return "token:" + hashlib.sha256(secret.strip().encode()).hexdigest()[:32]
    return "address:" + (get_remote_address() or "")


# ---------------------------------------------------------------- signing in


@dataclass(frozen=True)
class LoginRefusal:
    """Why a sign-in is refused without looking at the password, and for how long."""

    #: "address" (too many attempts from one client) or "account" (too many failures).
    reason: str
    retry_after: int

    @property
    def minutes(self) -> int:
        return math.ceil(self.retry_after / 60)

    @property
    def message(self) -> str:
        minutes = self.minutes
        if self.reason == "account":
            return counted("Tài khoản này tạm thời bị khóa vì nhập sai mật khẩu quá nhiều "
                           "lần. Vui lòng thử lại sau %(minutes)d phút.", minutes,
                           minutes=minutes)
        return counted("Có quá nhiều lần đăng nhập từ địa chỉ mạng của bạn. "
                       "Vui lòng thử lại sau %(minutes)d phút.", minutes, minutes=minutes)


@cache
def _item(text: str) -> RateLimitItem:
    return parse(text)


def _enabled() -> bool:
    return bool(current_app.config["RATELIMIT_ENABLED"])


def _counter(kind: str, value: str) -> tuple[RateLimitItem, tuple[str, ...]]:
    """The limit and the key of one counter: attempts per address, failures per account
    typed ("login-account"), or the lock those failures put on it ("login-locked")."""
    config = current_app.config
    if kind == "login-address":
        item = _item(config["LOGIN_LIMIT_PER_ADDRESS"])
    else:
        # A digest: the store holds no email addresses, and every key is the same length.
        value = hashlib.sha256(normalise_email(value).encode()).hexdigest()[:32]
        item = _item(config["LOGIN_FAILURES_PER_ACCOUNT"])
        if kind == "login-locked":
            item = _lock_item(item)
    return item, (config["RATELIMIT_KEY_PREFIX"], kind, value)


@cache
def _lock_item(failures: RateLimitItem) -> RateLimitItem:
    """One hit per the failures' period ("5 per 15 minutes" -> "1 per 15 minutes"): hit once
    when the account is locked, it holds the lock for the whole period from that moment."""
    return type(failures)(1, failures.multiples)


def _store_errors() -> tuple[type[Exception], ...]:
    """What a limit store that is down, too slow or refusing writes raises."""
    try:
        from redis.exceptions import RedisError
    except ImportError:  # no Redis client installed: limits count in memory
        return (StorageError, OSError)
    return (StorageError, OSError, RedisError)


STORE_ERRORS = _store_errors()

#: After the store failed, how long sign-in counters stay in this process before the store
#: is tried again, in seconds: a store that is down is not asked on every attempt.
STORE_RETRY_SECONDS = 5.0

Result = TypeVar("Result")


class LoginCounters:
    """The sign-in counters: in the limiter's store, or in this process while it is down.

    Flask-Limiter falls back by itself only for the limits it checks (the API's); these
    counters are read and written here, so they fall back here, to the same strategy.
    """

    def __init__(self, store: RateLimiter, fallback: bool) -> None:
        self.store = store
        # memory:// is this process's memory already, and does not go away.
        local = fallback and not isinstance(store.storage, MemoryStorage)
        self.local = type(store)(MemoryStorage()) if local else None
        self.store_down_until = 0.0

    def run(self, operation: Callable[[RateLimiter], Result]) -> Result:
        if self.local is None:
            # Without the fallback, fail closed: the store's error answers 503
            # (confmgr/errors.py).
            return operation(self.store)
        if time.monotonic() >= self.store_down_until:
            try:
                return operation(self.store)
            except STORE_ERRORS as error:
                current_app.logger.warning(
                    "the rate-limit store is unreachable; sign-in limits count in this "
                    "process for %g seconds: %s", STORE_RETRY_SECONDS, error)
                self.store_down_until = time.monotonic() + STORE_RETRY_SECONDS
        return operation(self.local)


def _count(operation: Callable[[RateLimiter], Result]) -> Result:
    return current_app.extensions[LOGIN_COUNTERS].run(operation)


def _seconds_left(item: RateLimitItem, key: tuple[str, ...]) -> int:
    reset_at = _count(lambda counters: counters.get_window_stats(item, *key)).reset_time
    return max(1, math.ceil(reset_at - time.time()))


def check_login_attempt(login: str) -> LoginRefusal | None:
    """Count a sign-in attempt from the client's address; the refusal, if it must be refused.

    A locked account is refused whatever password comes with it.
    """
    if not _enabled():
        return None
    item, key = _counter("login-address", get_remote_address() or "")
    if not _count(lambda counters: counters.hit(item, *key)):
        return LoginRefusal("address", _seconds_left(item, key))
    return account_lock(login)


def account_lock(login: str) -> LoginRefusal | None:
    """The lock on the account ``login`` names, if too many failures locked it."""
    if not _enabled() or not login.strip():
        return None
    item, key = _counter("login-locked", login)
    if not _count(lambda counters: counters.test(item, *key)):
        return LoginRefusal("account", _seconds_left(item, key))
    return None


def count_failed_login(login: str) -> LoginRefusal | None:
    """Count a wrong password for the account; the lock, if this failure locked it."""
    if not _enabled() or not login.strip():
        return None
    failures, key = _counter("login-account", login)
    lock, lock_key = _counter("login-locked", login)

    def count(counters: RateLimiter) -> bool:
        """Whether this failure locked the account."""
        counters.hit(failures, *key)
        if counters.test(failures, *key):
            return False
        # Locked for the whole period from now: the failures' window opened with the first
        # of them and may have only seconds left. The count starts again once the lock ends.
        counters.hit(lock, *lock_key)
        counters.clear(failures, *key)
        return True

    return account_lock(login) if _count(count) else None


def forget_failed_logins(login: str) -> None:
    """Lift the account's lock and forget its failures: after a successful sign-in, or when
    an administrator lets the user in again."""
    if _enabled() and login.strip():
        for kind in ("login-account", "login-locked"):
            item, key = _counter(kind, login)
            _count(lambda counters: counters.clear(item, *key))


def login_locks(users: list[User]) -> dict[int, LoginRefusal]:
    """The users (by id) that failed sign-ins have locked, with the lock's time left."""
    locks = {user.id: account_lock(user.email) for user in users}
    return {user_id: lock for user_id, lock in locks.items() if lock is not None}
