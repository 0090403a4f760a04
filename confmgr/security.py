"""Abuse limits, security headers and the client's real address behind a proxy.

Every counter lives in Flask-Limiter's storage (``RATELIMIT_STORAGE_URI``): with Redis
they hold across every worker and server, with ``memory://`` only within one process.
While that store cannot be reached the counters fall back to this process's memory (see
``RATELIMIT_IN_MEMORY_FALLBACK_ENABLED`` in confmgr/config.py for why).
"""
from __future__ import annotations

import hashlib
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import TypeVar

from flask import Flask, Response, abort, current_app, request, session
from flask_babel import gettext as _
from flask_limiter import Limiter
from itsdangerous import BadSignature, URLSafeSerializer
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse, parse_many
from limits.errors import StorageError
from limits.storage import MemoryStorage
from limits.strategies import RateLimiter
from werkzeug.middleware.proxy_fix import ProxyFix

from confmgr.accounts.models import User
from confmgr.accounts.services import normalise_email
from confmgr.config import ConfigurationError
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


#: Settings written as limits ("5 per minute"; the API's may join several with ";"), each
#: with how it is read: one that cannot be read would fail every sign-in (or quietly lift
#: the API's limit), so it stops the app at start-up instead.
LIMIT_SETTINGS = {"LOGIN_LIMIT_PER_ADDRESS": parse, "LOGIN_FAILURES_PER_ACCOUNT": parse,
                  "API_LIMIT_PER_CALLER": parse_many, "API_LIMIT_PER_ADDRESS": parse_many}


def init_app(app: Flask) -> None:
    # Bad settings stop the app at start-up, in one line, not at the first request.
    device_cookie_seconds(app.config)
    for name, read in LIMIT_SETTINGS.items():
        try:
            read(str(app.config[name]))
        except ValueError:
            raise ConfigurationError(f"{name} must be a limit such as \"5 per minute\", "
                                     f"not {app.config[name]!r}.") from None
    proxies = app.config["PROXY_FIX"]
    if proxies is None or isinstance(proxies, str) and not proxies.strip():
        proxies = 0  # left blank in an environment file: none
    elif isinstance(proxies, str) and proxies.strip().isdigit():
        proxies = int(proxies)
    if isinstance(proxies, bool) or not isinstance(proxies, int) or proxies < 0:
        raise ConfigurationError(f"PROXY_FIX must be a whole number of proxies (0: none), "
                                 f"not {proxies!r}.")
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
    member at fault itself, in confmgr/api/spec.py.) A path holding a NUL names no page or
    record: not found, in the API too."""
    if "\x00" in request.path:
        abort(404)
    if is_api_request():
        return
    # Every value of a name given more than once (ticked boxes), not only the first.
    values = [*request.args, *request.form,
              *(value for _name, values in request.args.lists() for value in values),
              *(value for _name, values in request.form.lists() for value in values)]
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

    #: "address" (too many attempts from one client), "account" (too many failures from
    #: browsers the account has no device cookie in) or "device" (too many failures from
    #: one browser holding the account's device cookie).
    reason: str
    retry_after: int

    @property
    def minutes(self) -> int:
        return math.ceil(self.retry_after / 60)

    @property
    def message(self) -> str:
        minutes = self.minutes
        if self.reason in ("account", "device"):
            # The same words for both: the person at the keyboard is told to wait either way.
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


def _login_digest(login: str) -> str:
    """A digest of ``login`` for keys and cookies: the store holds no email addresses, and
    every key is the same length."""
    return hashlib.sha256(normalise_email(login).encode()).hexdigest()[:32]


def _address_counter() -> tuple[RateLimitItem, tuple[str, ...]]:
    config = current_app.config
    return (_item(config["LOGIN_LIMIT_PER_ADDRESS"]),
            (config["RATELIMIT_KEY_PREFIX"], "login-address", get_remote_address() or ""))


@dataclass(frozen=True)
class _Counted:
    """Where one sign-in attempt's failures count, and which lock refuses it."""

    #: "account" or "device", as in LoginRefusal.
    reason: str
    failures: tuple[str, ...]
    lock: tuple[str, ...]

    @property
    def failures_item(self) -> RateLimitItem:
        return _item(current_app.config["LOGIN_FAILURES_PER_ACCOUNT"])

    @property
    def lock_item(self) -> RateLimitItem:
        return _lock_item(self.failures_item)


def _account_counted(login: str) -> _Counted:
    """The account's own counters: failures typed into browsers it has no device cookie in
    ("login-account"), and the lock they put on it ("login-locked")."""
    prefix, digest = current_app.config["RATELIMIT_KEY_PREFIX"], _login_digest(login)
    return _Counted("account", (prefix, "login-account", digest),
                    (prefix, "login-locked", digest))


def _counted(login: str) -> _Counted:
    """The counters of an attempt on ``login`` from this request's browser: its device
    cookie's for that login if it holds a valid one, the account's otherwise."""
    nonce = device_nonce(login)
    if nonce is None:
        return _account_counted(login)
    prefix, digest = current_app.config["RATELIMIT_KEY_PREFIX"], _login_digest(login)
    generation = str(_count(lambda counters: counters.storage.get(_generation_key(digest))))
    return _Counted("device", (prefix, "login-device", digest, nonce, generation),
                    (prefix, "login-device-locked", digest, nonce, generation))


def _generation_key(digest: str) -> str:
    """The store key of an account's device generation: part of the key of each of its
    devices' counters, changed when an administrator lifts its locks, which lifts every
    device's lock at once (they cannot be listed to be cleared one by one)."""
    return f"LIMITER/{current_app.config['RATELIMIT_KEY_PREFIX']}/login-devices/{digest}"


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

    A locked account, or a locked device cookie, is refused whatever password comes with it.
    """
    if not _enabled():
        return None
    item, key = _address_counter()
    if not _count(lambda counters: counters.hit(item, *key)):
        return LoginRefusal("address", _seconds_left(item, key))
    return login_lock(login)


def login_lock(login: str) -> LoginRefusal | None:
    """The lock that refuses this browser's attempts on ``login``: its device cookie's if it
    holds one for that login, else the account's. So failures from elsewhere never lock
    the owner out of a browser they signed in from before (OWASP's device cookies)."""
    if not _enabled() or not login.strip():
        return None
    return _lock(_counted(login))


def account_lock(login: str) -> LoginRefusal | None:
    """The lock on the account ``login`` names, which refuses browsers without its device
    cookie, if too many failures from them locked it."""
    if not _enabled() or not login.strip():
        return None
    return _lock(_account_counted(login))


def _lock(counted: _Counted) -> LoginRefusal | None:
    item, key = counted.lock_item, counted.lock
    if not _count(lambda counters: counters.test(item, *key)):
        return LoginRefusal(counted.reason, _seconds_left(item, key))
    return None


def reserve_failed_login(login: str) -> LoginRefusal | None:
    """Before the password for ``login`` is checked: count the attempt as a failure, from
    this browser against its device cookie or else the account, unless a lock refuses it
    (the refusal then). forget_failed_logins takes the count back when the password is
    right. Counted after the check, attempts sent together all passed the lock while
    theirs were being checked: as many guesses as requests, not the limit."""
    if not _enabled() or not login.strip():
        return None
    counted = _counted(login)
    failures, key = counted.failures_item, counted.failures
    lock, lock_key = counted.lock_item, counted.lock

    def count(counters: RateLimiter) -> bool:
        """Whether the attempt may be checked. The count's own increment decides, so that
        of attempts sent together no more than the limit pass, however they interleave."""
        if not counters.test(lock, *lock_key):
            return False
        if not counters.hit(failures, *key):
            # Past the limit: the lock is on, or the last attempt allowed is about to set
            # it (a round trip away, in Redis). Set here, it refuses this attempt too.
            counters.hit(lock, *lock_key)
            return False
        if not counters.test(failures, *key):
            # The last attempt allowed: it is checked, and those after it are refused for
            # the lock's whole period from now (the failures' window opened with the first
            # of them and may have only seconds left; it ends before the lock does).
            counters.hit(lock, *lock_key)
        return True

    return None if _count(count) else _lock(counted)


def release_failed_login(login: str) -> None:
    """Take back reserve_failed_login's count of an attempt whose password was never
    checked (the database down): retries through an outage must not lock owners out. The
    lock goes with it if the count no longer reaches the limit (this attempt set it)."""
    if not _enabled() or not login.strip():
        return
    counted = _counted(login)

    def release(counters: RateLimiter) -> None:
        counters.hit(counted.failures_item, *counted.failures, cost=-1)
        if counters.test(counted.failures_item, *counted.failures):
            counters.clear(counted.lock_item, *counted.lock)

    _count(release)


def forget_failed_logins(login: str) -> None:
    """After a successful sign-in: forget the failures counted against what this attempt
    counts against (the account, or this browser's device cookie), and lift its lock."""
    if _enabled() and login.strip():
        _forget(_counted(login))


def _forget(counted: _Counted) -> None:
    for item, key in ((counted.failures_item, counted.failures),
                      (counted.lock_item, counted.lock)):
        _count(lambda counters: counters.clear(item, *key))


def lift_login_locks(login: str) -> None:
    """When an administrator lets the user in again: the account's lock and failures, and
    those of every device cookie for it, are forgotten."""
    if not _enabled() or not login.strip():
        return
    _forget(_account_counted(login))
    key = _generation_key(_login_digest(login))
    # Random rather than counted up: a value already used could bring back the locks of
    # that generation. Kept as long as a device cookie lives; when it expires the devices
    # go back to generation 0, which at worst ends their locks of the moment early.
    generation = secrets.randbits(48) + 1
    lifetime = device_cookie_seconds(current_app.config)

    def change(counters: RateLimiter) -> None:
        counters.storage.clear(key)
        counters.storage.incr(key, lifetime, amount=generation)

    _count(change)


def login_locks(users: list[User]) -> dict[int, LoginRefusal]:
    """The users (by id) that failed sign-ins have locked, with the lock's time left.

    Only the accounts' locks: a device cookie's lock shuts out one browser, which the
    administrator cannot see, and their unlock lifts it with the account's."""
    locks = {user.id: account_lock(user.email) for user in users}
    return {user_id: lock for user_id, lock in locks.items() if lock is not None}


# ---------------------------------------------------------------- device cookies

#: Kept apart from every other use of SECRET_KEY: a session cookie's signature is not a
#: device cookie's.
DEVICE_COOKIE_SALT = "confmgr.login-device"
#: Logins one browser keeps trust for, the most recent first: a commune hall's shared PC
#: serves a few coordinators, and a cookie must stay well under 4 KB.
DEVICE_COOKIE_LOGINS = 10


def device_cookie_seconds(config) -> int:
    """``DEVICE_COOKIE_DURATION`` in seconds (a timedelta, or a number of seconds)."""
    duration = config["DEVICE_COOKIE_DURATION"]
    if isinstance(duration, timedelta):
        duration = duration.total_seconds()
    if isinstance(duration, bool) or not isinstance(duration, int | float) or duration < 1:
        raise ConfigurationError(
            f"DEVICE_COOKIE_DURATION must be a positive number of seconds or a timedelta, "
            f"not {duration!r}.")
    return int(duration)


def _device_serializer() -> URLSafeSerializer:
    # As Flask signs its session: the current key signs, the fallbacks still verify.
    keys = [*(current_app.config.get("SECRET_KEY_FALLBACKS") or ()), current_app.secret_key]
    return URLSafeSerializer(keys, salt=DEVICE_COOKIE_SALT)


def _device_entries() -> list[list]:
    """The unexpired [login digest, nonce, issued at] entries of this request's device
    cookie, the most recent first; none if it is missing, forged or malformed."""
    value = request.cookies.get(current_app.config["DEVICE_COOKIE_NAME"])
    if not value:
        return []
    try:
        entries = _device_serializer().loads(value)
    except BadSignature:
        return []
    if not isinstance(entries, list):
        return []
    oldest = time.time() - device_cookie_seconds(current_app.config)
    return [entry for entry in entries
            if isinstance(entry, list) and len(entry) == 3
            and isinstance(entry[0], str) and isinstance(entry[1], str)
            and isinstance(entry[2], int) and entry[2] > oldest]


def device_nonce(login: str) -> str | None:
    """The nonce of this browser's device cookie for ``login``, if it holds a valid one."""
    digest = _login_digest(login)
    return next((nonce for entry_digest, nonce, _issued in _device_entries()
                 if entry_digest == digest), None)


def remember_device(response: Response, login: str) -> None:
    """After a successful sign-in to ``login``: give this browser a device cookie for it,
    with a new nonce, keeping those it holds for other logins."""
    digest = _login_digest(login)
    entries = [entry for entry in _device_entries() if entry[0] != digest]
    entries.insert(0, [digest, secrets.token_urlsafe(16), int(time.time())])
    app = current_app._get_current_object()
    response.set_cookie(
        app.config["DEVICE_COOKIE_NAME"],
        _device_serializer().dumps(entries[:DEVICE_COOKIE_LOGINS]),
        max_age=device_cookie_seconds(app.config),
        path=app.session_interface.get_cookie_path(app),
        domain=app.session_interface.get_cookie_domain(app),
        secure=bool(app.config["SESSION_COOKIE_SECURE"]),
        httponly=True, samesite="Lax")
