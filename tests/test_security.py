"""Abuse limits, security headers, the password policy, one's own password, account admin."""
from __future__ import annotations

import hashlib
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from html import unescape

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from confmgr import create_app
from confmgr.accounts.models import User
from confmgr.accounts.passwords import password_problems
from confmgr.api import tokens
from confmgr.audit.models import AuditEntry
from confmgr.db import db
from confmgr.enums import Role, TokenScope
from confmgr.config import ConfigurationError
from confmgr.security import CONTENT_SECURITY_POLICY, DEVICE_COOKIE_SALT
from tests.conftest import _empty_all_tables, csrf_token, make_app
from tests.helpers import (
    ADMIN,
    COORDINATOR,
    ORGANISER,
    bearer,
    field_errors,
    flashes,
    logged_in,
    post_form,
)

LOCKED = ("Tài khoản này tạm thời bị khóa vì nhập sai mật khẩu quá nhiều lần. "
          "Vui lòng thử lại sau 15 phút.")
WRONG = "Email hoặc mật khẩu không đúng."

SHORT = "Mật khẩu phải có ít nhất 10 ký tự."
DIGITS = "Mật khẩu không được chỉ gồm chữ số."
OWN = "Mật khẩu không được trùng với email, tên đăng nhập hay họ tên."
COMMON = "Mật khẩu này quá phổ biến, dễ bị đoán ra; hãy chọn mật khẩu khác."


#: In ``app``'s parameters, the storage URI of the test's own Redis (``redis_server``).
OWN_REDIS = "the test's own Redis"


@dataclass
class RedisServer:
    url: str
    process: subprocess.Popen

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path):
    """A redis-server of the test's own on a free port, for tests that stop it."""
    program = shutil.which("redis-server")
    if program is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server): "
                    "a limit store that goes away is not tested")
    redis = pytest.importorskip("redis", reason="the redis package is not installed: "
                                "pip install -e '.[redis]'")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [program, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = RedisServer(f"redis://127.0.0.1:{port}/0", process)
    client = redis.Redis.from_url(server.url, socket_connect_timeout=1)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.RedisError:
            if process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                pytest.fail(f"redis-server did not start on port {port}")
            time.sleep(0.05)
    client.close()
    yield server
    server.stop()


@pytest.fixture
def app(database_url, tmp_path, request):
    """The application with the abuse limits on (the suite's default turns them off);
    ``indirect`` parameters change its configuration."""
    config = dict(getattr(request, "param", {}))
    if config.get("RATELIMIT_STORAGE_URI") == OWN_REDIS:
        config["RATELIMIT_STORAGE_URI"] = request.getfixturevalue("redis_server").url
    app = make_app(database_url, tmp_path / "instance", RATELIMIT_ENABLED=True, **config)
    yield app
    with app.app_context():
        _empty_all_tables()
        db.engine.dispose()


def refusal(response) -> str | None:
    found = re.search(r'login-refusal" role="alert">([^<]*)<', response.get_data(as_text=True))
    return unescape(found.group(1)) if found else None


def attempt(client, email: str, password: str, address: str = "127.0.0.1"):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


def sign_out(client) -> None:
    assert client.post("/logout", data={"csrf_token": csrf_token(client, "/manage/")}
                       ).status_code == 302


def audit_actions(app, *actions: str) -> list[tuple[str, dict]]:
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action.in_(actions))
                                     .order_by(AuditEntry.id))
        return [(entry.action, entry.details) for entry in entries]


def user_named(app, email: str) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        db.session.expunge(user)
        return user


# ---------------------------------------------------------------- password policy


@pytest.mark.parametrize(("password", "problems"), [
    ("dai-va-kho-doan-7", []),
    ("ngan-7", [SHORT]),
    ("1234567890123", [DIGITS]),
    ("12345", [SHORT, DIGITS, COMMON]),
    ("matkhau123", [COMMON]),
    ("MatKhau123", [COMMON]),
    ("MậtKhẩu123", [COMMON]),  # diacritics do not make it another password
    ("123456789a", [COMMON]),
    ("qwertyuiop", [COMMON]),
    ("Tran.Van.Binh", [OWN]),  # the display name, spelt without diacritics
    ("binh.tran.hoang@example.org", [OWN]),  # the email
    ("BINH.TRAN.HOANG", [OWN]),  # the email's local part
])
def test_password_policy(password, problems):
    assert password_problems(password, login="binh.tran.hoang@example.org",
                             display_name="Trần Văn Bình") == problems


def test_setup_shows_each_policy_problem_on_the_password_field(app, client):
    def submit(password):
        page = client.post("/setup", data={
            "display_name": "Nguyễn Thị Hoa", "email": "hoa@example.org", "password": password,
            "confirm": password, "csrf_token": csrf_token(client, "/setup")})
        assert page.status_code == 200
        return field_errors(page.get_data(as_text=True), "password")

    assert submit("matkhau123") == [COMMON]
    assert submit("12345678901") == [DIGITS]
    assert submit("Nguyen Thi Hoa") == [OWN]
    assert submit("hoa@example.org") == [OWN]
    with app.app_context():
        assert db.session.scalar(select(User)) is None


def test_create_user_command_applies_the_policy(runner, app):
    result = runner.invoke(args=["create-user", "--email", "boss@example.org", "--name", "Boss",
                                 "--role", "admin", "--password", "password123"])
    assert result.exit_code == 1
    # The command line speaks English.
    assert ("Error: This password is too common and easily guessed; choose another."
            in result.output)
    with app.app_context():
        assert db.session.scalar(select(User)) is None


# ---------------------------------------------------------------- signing in


def test_five_failures_lock_the_account_even_against_the_right_password(client, demo):
    for _ in range(4):
        response = attempt(client, ORGANISER[0], "sai-mat-khau-roi")
        assert (response.status_code, refusal(response)) == (200, None)
        assert field_errors(response.get_data(as_text=True), "password") == [WRONG]
    fifth = attempt(client, "Organiser@Example.org", "sai-mat-khau-roi")  # the same account
    assert (fifth.status_code, refusal(fifth)) == (429, LOCKED)
    assert 890 <= int(fifth.headers["Retry-After"]) <= 900

    right = attempt(client, ORGANISER[0], ORGANISER[1])
    assert (right.status_code, refusal(right)) == (429, LOCKED)
    assert 890 <= int(right.headers["Retry-After"]) <= 900
    # Nor any other spelling of it: a control character is dropped as the form reads it.
    for spelling in (ORGANISER[0] + "\x01", "\x1b" + ORGANISER[0].upper(), f" {ORGANISER[0]}\t"):
        assert attempt(client, spelling, ORGANISER[1]).status_code == 429, spelling
    assert client.get("/manage/").status_code == 302  # still signed out

    # Another account is not locked with it.
    assert attempt(client, COORDINATOR[0], COORDINATOR[1]).status_code == 302
    email = {"email": "organiser@example.org"}
    assert audit_actions(demo, "user.login_failed", "user.login_locked") == [
        ("user.login_failed", email)] * 5 + [("user.login_locked", email)]


@pytest.mark.parametrize("app", [{"LOGIN_FAILURES_PER_ACCOUNT": "2 per 1 second"}],
                         indirect=True)
def test_the_lock_ends_with_its_window(client, demo):
    attempt(client, ORGANISER[0], "sai-mat-khau-roi")
    locked = attempt(client, ORGANISER[0], "sai-mat-khau-roi")
    assert (locked.status_code, locked.headers["Retry-After"]) == (429, "1")
    assert refusal(locked) == LOCKED.replace("15 phút", "1 phút")
    time.sleep(1.1)
    assert attempt(client, ORGANISER[0], ORGANISER[1]).status_code == 302


def test_a_successful_sign_in_forgets_earlier_failures(client, demo):
    for _ in range(4):
        attempt(client, ORGANISER[0], "sai-mat-khau-roi")
    assert attempt(client, ORGANISER[0], ORGANISER[1]).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/manage/")})
    for _ in range(4):
        assert attempt(client, ORGANISER[0], "sai-mat-khau-roi").status_code == 200


@pytest.mark.parametrize("app", [{"LOGIN_FAILURES_PER_ACCOUNT": "2 per 3 seconds"}],
                         indirect=True)
def test_the_lock_lasts_its_whole_period_from_the_failure_that_locked(client, demo):
    """Not what is left of the window the first failure opened."""
    attempt(client, ORGANISER[0], "sai-mat-khau-roi")
    time.sleep(2)
    locked = attempt(client, ORGANISER[0], "sai-mat-khau-roi")  # about 1 s of that window left
    assert (locked.status_code, locked.headers["Retry-After"]) == (429, "3")
    time.sleep(1.2)  # the first failure's window is over; the lock is not
    right = attempt(client, *ORGANISER)
    assert (right.status_code, refusal(right)) == (429, LOCKED.replace("15 phút", "1 phút"))
    assert right.headers["Retry-After"] in ("1", "2")


@pytest.mark.parametrize("app", [{"PASSWORD_HASH_METHOD": "scrypt"}], indirect=True)
def test_every_failed_sign_in_costs_the_configured_hash(demo, ctx, monkeypatch):
    """A generated password's light hash fails in milliseconds: the failure spends the
    configured method's check as well, as an unknown login does, so timing tells nothing."""
    from confmgr.accounts import models, services
    from confmgr.accounts.coordinators import create_coordinator
    from confmgr.points.models import BroadcastPoint

    checked = []
    real_check = models.check_password_hash

    def check(password_hash, password):
        checked.append(password_hash.partition("$")[0])  # the method and its cost
        return real_check(password_hash, password)

    monkeypatch.setattr(models, "check_password_hash", check)
    uong_bi = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "06811"))
    coordinator, password = create_coordinator("06811@tap-huan", "Điều phối Uông Bí", [uong_bi])
    services.create_user("chosen@example.org", "mot-mat-khau-dai", "A", Role.ORGANISER)
    db.session.commit()
    generated, configured = "pbkdf2:sha256:2000", "scrypt:32768:8:1"

    def checks(login, typed):
        checked.clear()
        user = services.authenticate(login, typed)
        return user.email if user else None, checked[:]

    assert checks("06811@tap-huan", "sai-mat-khau-roi") == (None, [generated, configured])
    assert checks("nobody@example.org", "sai-mat-khau-roi") == (None, [configured])
    assert checks("chosen@example.org", "sai-mat-khau-roi") == (None, [configured])
    assert checks("06811@tap-huan", password) == ("06811@tap-huan", [generated])
    coordinator.active = False
    assert checks("06811@tap-huan", password) == (None, [generated, configured])
    # A password typed decomposed is checked twice (composed, then as typed): for every
    # login alike, or its time told which exist.
    decomposed = "ma\u0302\u0323t-kha\u0302u-sai"  # "mật-khẩu-sai"
    assert checks("nobody@example.org", decomposed) == (None, [configured] * 2)
    assert checks("chosen@example.org", decomposed) == (None, [configured] * 2)
    assert checks("06811@tap-huan", decomposed) == (None, [generated] * 2 + [configured] * 2)


@pytest.mark.parametrize("app", [{}, {"RATELIMIT_STORAGE_URI": OWN_REDIS}], indirect=True,
                         ids=["memory", "redis"])
def test_guesses_sent_together_get_no_more_password_checks_than_the_limit(demo, monkeypatch):
    """The lock was looked at before the password was checked and the failure counted
    after: fifteen guesses sent at once from fifteen addresses all passed the lock while
    theirs were being checked, fifteen guesses where five are allowed. In Redis, those
    counted past the limit before the fifth had set the lock were let through too."""
    import threading
    import time

    from confmgr.accounts import models

    real_check, checked = models.check_password_hash, []

    def slow_check(password_hash, typed):  # as long as a production hash takes
        checked.append(typed)
        time.sleep(0.2)
        return real_check(password_hash, typed)

    monkeypatch.setattr(models, "check_password_hash", slow_check)
    clients = [demo.test_client() for _ in range(15)]
    tokens = [csrf_token(client, "/login") for client in clients]
    start, answers = threading.Barrier(len(clients)), []

    def guess(number: int) -> None:
        start.wait()
        answers.append(clients[number].post("/login", data={
            "email": ORGANISER[0], "password": f"doan-sai-{number}",
            "csrf_token": tokens[number]},
            environ_base={"REMOTE_ADDR": f"203.0.113.{number + 1}"}).status_code)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    guesses = [typed for typed in checked if typed.startswith("doan-sai-")]
    assert len(guesses) == 5
    # The ten past the limit are refused unchecked; the five checked say the password is
    # wrong, or that the account is locked if the lock came before their answer.
    assert answers.count(429) >= 10 and set(answers) <= {200, 429}


def test_an_attempt_counted_past_the_limit_before_the_lock_is_on_is_refused(app):
    """The last attempt allowed sets the lock a round trip after its count: one counted in
    between was let through to have its password checked."""
    from confmgr import security

    with app.test_request_context("/login", method="POST",
                                  environ_base={"REMOTE_ADDR": "203.0.113.9"}):
        store = app.extensions[security.LOGIN_COUNTERS].store
        real_hit, locking, between = store.hit, [], []

        def hit(item, *key, **kwargs):
            if "login-locked" in key and not locking:  # the fifth, about to lock
                locking.append(True)
                between.append(security.reserve_failed_login("someone@example.org"))
            return real_hit(item, *key, **kwargs)

        store.hit = hit
        for _ in range(5):
            assert security.reserve_failed_login("someone@example.org") is None
        assert between[0] is not None and between[0].retry_after > 0
        assert security.reserve_failed_login("someone@example.org") is not None


def test_sign_ins_the_database_failed_to_check_do_not_lock_the_owner_out(demo, monkeypatch):
    """Attempts are counted before their password is checked: five retries through a
    database outage (each a 503) locked the owner out for the lock's whole period once it
    was back, though no password had been checked."""
    from sqlalchemy.exc import OperationalError

    from confmgr.accounts import services

    real_authenticate = services.authenticate

    def database_down(email, password):
        raise OperationalError("SELECT users.id FROM users", {}, Exception("database is locked"))

    client = demo.test_client()
    monkeypatch.setattr(services, "authenticate", database_down)
    for n in range(5):
        assert attempt(client, *ORGANISER, address=f"198.51.100.{n + 10}").status_code == 503
    monkeypatch.setattr(services, "authenticate", real_authenticate)
    assert attempt(client, *ORGANISER, address="198.51.100.99").status_code == 302


# Addresses of the browsers in the device cookie tests, each its own so that no test trips
# the per-address limit.
ATTACKER, OWNER, NEW_BROWSER, PHONE = "203.0.113.7", "198.51.100.2", "198.51.100.3", "198.51.100.4"


def test_an_attackers_failures_do_not_lock_the_owner_out_of_their_own_browser(demo):
    """Logins are guessable ("<point code>@<conference>"), so anyone can lock any account:
    the lock refuses the attacker and new browsers, never the browser its owner signed in
    from before."""
    owner, attacker, new_browser = (demo.test_client() for _ in range(3))
    first = attempt(owner, *COORDINATOR, address=OWNER)
    assert first.status_code == 302
    [device] = [c for c in first.headers.getlist("Set-Cookie") if c.startswith("login_device=")]
    assert re.fullmatch(r"login_device=[\w.-]+; Expires=[^;]+; Max-Age=31536000; HttpOnly; "
                        r"Path=/; SameSite=Lax", device), device
    sign_out(owner)

    for number in range(4):
        wrong = attempt(attacker, COORDINATOR[0], f"doan-mat-khau-{number}", address=ATTACKER)
        assert (wrong.status_code, refusal(wrong)) == (200, None)
    fifth = attempt(attacker, COORDINATOR[0], "doan-mat-khau-5", address=ATTACKER)
    assert (fifth.status_code, refusal(fifth)) == (429, LOCKED)
    for client, address in ((attacker, ATTACKER), (new_browser, NEW_BROWSER)):
        right = attempt(client, *COORDINATOR, address=address)
        assert (right.status_code, refusal(right)) == (429, LOCKED)
        assert 890 <= int(right.headers["Retry-After"]) <= 900

    mine = attempt(owner, *COORDINATOR, address=OWNER)
    assert (mine.status_code, mine.headers["Location"]) == (302, "/manage/")
    assert owner.get("/manage/").status_code == 200
    # The owner's sign-in leaves the account's lock on for everyone else.
    assert refusal(attempt(new_browser, *COORDINATOR, address=NEW_BROWSER)) == LOCKED
    page = logged_in(demo.test_client(), ADMIN).get("/admin/users?q=quang")
    assert login_lock_notes(page.get_data(as_text=True)) == [
        "Tạm khóa do nhập sai mật khẩu nhiều lần, còn 15 phút"]
    email = {"email": COORDINATOR[0]}
    assert audit_actions(demo, "user.login_failed", "user.login_locked") == [
        ("user.login_failed", email)] * 5 + [("user.login_locked", email)]


def test_failures_in_the_owners_browser_lock_that_browser_only(demo):
    pc, phone, new_browser = (demo.test_client() for _ in range(3))
    for client, address in ((pc, OWNER), (phone, PHONE)):
        assert attempt(client, *COORDINATOR, address=address).status_code == 302
        sign_out(client)

    for _ in range(4):
        wrong = attempt(pc, COORDINATOR[0], "sai-mat-khau-roi", address=OWNER)
        assert (wrong.status_code, refusal(wrong)) == (200, None)
        assert field_errors(wrong.get_data(as_text=True), "password") == [WRONG]
    fifth = attempt(pc, COORDINATOR[0], "sai-mat-khau-roi", address=OWNER)
    assert (fifth.status_code, refusal(fifth)) == (429, LOCKED)
    assert 890 <= int(fifth.headers["Retry-After"]) <= 900
    right = attempt(pc, *COORDINATOR, address=OWNER)
    assert (right.status_code, refusal(right)) == (429, LOCKED)

    # The account is not locked: the owner's phone, and a browser new to it, sign in ...
    assert attempt(phone, *COORDINATOR, address=PHONE).status_code == 302
    assert attempt(new_browser, *COORDINATOR, address=NEW_BROWSER).status_code == 302
    page = logged_in(demo.test_client(), ADMIN).get("/admin/users?q=quang")
    assert login_lock_notes(page.get_data(as_text=True)) == []
    # ... and their sign-ins do not lift the lock on the browser that failed.
    assert refusal(attempt(pc, *COORDINATOR, address=OWNER)) == LOCKED
    email = {"email": COORDINATOR[0]}
    assert audit_actions(demo, "user.login_failed", "user.login_locked") == [
        ("user.login_failed", email)] * 5 + [("user.login_locked", email)]


def device_cookie(secret: str, login: str, nonce: str, issued: int) -> str:
    digest = hashlib.sha256(login.encode()).hexdigest()[:32]
    return URLSafeSerializer(secret, salt=DEVICE_COOKIE_SALT).dumps([[digest, nonce, issued]])


def test_a_forged_or_another_logins_device_cookie_is_not_trusted(demo):
    owner, organisers, forger, new_browser = (demo.test_client() for _ in range(4))
    assert attempt(owner, *COORDINATOR, address=OWNER).status_code == 302
    sign_out(owner)
    assert attempt(organisers, *ORGANISER, address=PHONE).status_code == 302
    sign_out(organisers)

    # Signed with another key: its failures count against the account and lock it.
    forger.set_cookie("login_device", device_cookie("not-the-secret", COORDINATOR[0], "x",
                                                    int(time.time())))
    for _ in range(4):
        assert attempt(forger, COORDINATOR[0], "sai-mat-khau-roi", address=ATTACKER
                       ).status_code == 200
    fifth = attempt(forger, COORDINATOR[0], "sai-mat-khau-roi", address=ATTACKER)
    assert (fifth.status_code, refusal(fifth)) == (429, LOCKED)
    assert refusal(attempt(forger, *COORDINATOR, address=ATTACKER)) == LOCKED
    assert refusal(attempt(new_browser, *COORDINATOR, address=NEW_BROWSER)) == LOCKED

    genuine = owner.get_cookie("login_device").value
    payload, signature = genuine.rsplit(".", 1)
    untrusted = {
        "another login's": organisers.get_cookie("login_device").value,
        "tampered": f"{payload}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}",
        "expired": device_cookie("test-secret", COORDINATOR[0], "x",
                                 int(time.time()) - 366 * 24 * 3600),
        "malformed": "khong-phai-cookie",
    }
    for name, value in untrusted.items():
        browser = demo.test_client()
        browser.set_cookie("login_device", value)
        right = attempt(browser, *COORDINATOR, address=NEW_BROWSER)
        assert (right.status_code, refusal(right)) == (429, LOCKED), name
    # The same key and shape, unexpired: the test's cookies are made as the app makes them.
    made = demo.test_client()
    made.set_cookie("login_device", device_cookie("test-secret", COORDINATOR[0], "x",
                                                  int(time.time()) - 364 * 24 * 3600))
    assert attempt(made, *COORDINATOR, address=NEW_BROWSER).status_code == 302
    assert attempt(owner, *COORDINATOR, address=OWNER).status_code == 302


@pytest.mark.parametrize("app", [{}, {"RATELIMIT_STORAGE_URI": OWN_REDIS}], indirect=True,
                         ids=["memory", "redis"])
@pytest.mark.parametrize("action", ["reactivate", "reset-password"])
def test_an_administrators_unlock_or_reset_lifts_both_kinds_of_lock(demo, action):
    owner, attacker, new_browser = (demo.test_client() for _ in range(3))
    assert attempt(owner, *COORDINATOR, address=OWNER).status_code == 302
    sign_out(owner)
    for client, address in ((attacker, ATTACKER), (owner, OWNER)):
        for _ in range(5):
            attempt(client, COORDINATOR[0], "sai-mat-khau-roi", address=address)
    for client, address in ((owner, OWNER), (new_browser, NEW_BROWSER)):
        assert refusal(attempt(client, *COORDINATOR, address=address)) == LOCKED

    admin = logged_in(demo.test_client(), ADMIN)
    response = post_form(admin, f"/admin/users/{user_named(demo, COORDINATOR[0]).id}/{action}",
                         {})
    if action == "reactivate":
        password = COORDINATOR[1]
    else:
        password = re.search(r'<strong class="password">([^<]+)</strong>',
                             response.get_data(as_text=True)).group(1)
    # Lifted without a sign-in in between: a wrong password is told so, not refused.
    wrong = attempt(owner, COORDINATOR[0], "sai-mat-khau-roi", address=OWNER)
    assert (wrong.status_code, refusal(wrong)) == (200, None)
    assert attempt(owner, COORDINATOR[0], password, address=OWNER).status_code == 302
    assert attempt(new_browser, COORDINATOR[0], password, address=NEW_BROWSER
                   ).status_code == 302
    # The log names who lifted the lock: an unlock of its own, or the reset that did it.
    lifted = "user.login_unlock" if action == "reactivate" else "user.password_reset"
    with demo.app_context():
        [entry] = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action.in_(("user.login_unlock", "user.reactivate",
                                   "user.password_reset"))))
        assert (entry.action, entry.user_id, entry.details) == (
            lifted, user_named(demo, ADMIN[0]).id, {"email": COORDINATOR[0]})


def test_an_unlock_with_no_lock_on_writes_nothing_to_the_log(demo):
    admin = logged_in(demo.test_client(), ADMIN)
    response = post_form(admin, f"/admin/users/{user_named(demo, COORDINATOR[0]).id}/reactivate",
                         {})
    assert response.status_code == 302
    assert audit_actions(demo, "user.login_unlock", "user.reactivate") == []


def test_one_browser_keeps_a_device_cookie_for_each_login_signed_in_there(demo):
    """A commune hall's shared PC, where each coordinator signs in in turn."""
    hall, attacker = demo.test_client(), demo.test_client()
    for account in (COORDINATOR, ORGANISER):
        assert attempt(hall, *account, address=OWNER).status_code == 302
        sign_out(hall)
    for account, address in ((COORDINATOR, ATTACKER), (ORGANISER, PHONE)):
        for _ in range(5):
            attempt(attacker, account[0], "sai-mat-khau-roi", address=address)
        assert refusal(attempt(attacker, *account, address=address)) == LOCKED
    for account in (COORDINATOR, ORGANISER):
        assert attempt(hall, *account, address=OWNER).status_code == 302
        sign_out(hall)


def test_a_failure_in_a_trusted_browser_costs_the_configured_hash_too(demo, monkeypatch):
    """As an unknown login's does, or one from a browser without the device cookie."""
    from confmgr.accounts import models
    from confmgr.accounts.coordinators import create_coordinator
    from confmgr.points.models import BroadcastPoint

    with demo.app_context():
        uong_bi = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "06811"))
        _coordinator, password = create_coordinator("06811@tap-huan", "Điều phối", [uong_bi])
        db.session.commit()
    trusted, untrusted = demo.test_client(), demo.test_client()
    assert attempt(trusted, "06811@tap-huan", password, address=OWNER).status_code == 302
    sign_out(trusted)

    checked = []
    real_check = models.check_password_hash

    def check(password_hash, typed):
        checked.append(password_hash.partition("$")[0])
        return real_check(password_hash, typed)

    monkeypatch.setattr(models, "check_password_hash", check)
    for client, address in ((trusted, OWNER), (untrusted, NEW_BROWSER)):
        checked.clear()
        assert attempt(client, "06811@tap-huan", "sai-mat-khau-roi", address=address
                       ).status_code == 200
        # The account's generated password's light hash, then the configured method's.
        assert checked == ["pbkdf2:sha256:2000", "pbkdf2:sha256:1000"], address


def test_a_bad_device_cookie_duration_stops_the_app(tmp_path, monkeypatch):
    monkeypatch.setenv("CONFMGR_DEVICE_COOKIE_DURATION", "a year")
    with pytest.raises(ConfigurationError) as refused:
        create_app({"SECRET_KEY": "x"}, instance_path=str(tmp_path))
    assert refused.value.message == ("DEVICE_COOKIE_DURATION must be a positive number of "
                                     "seconds or a timedelta, not 'a year'.")


def test_too_many_attempts_from_one_address(app, client):
    addresses = "Có quá nhiều lần đăng nhập từ địa chỉ mạng của bạn. Vui lòng thử lại sau 1 phút."
    with app.app_context():  # a user, so the setup page does not stand in the way
        db.session.add(User(email="a@example.org", display_name="A", role=Role.ADMIN,
                            password_hash="x"))
        db.session.commit()
    # Different accounts each time: only the address is common to them.
    for number in range(10):
        assert attempt(client, f"user{number}@example.org", "sai-mat-khau-roi").status_code == 200
    eleventh = attempt(client, "user10@example.org", "sai-mat-khau-roi")
    assert (eleventh.status_code, refusal(eleventh)) == (429, addresses)
    assert 1 <= int(eleventh.headers["Retry-After"]) <= 60
    assert attempt(client, "user10@example.org", "sai", address="10.0.0.2").status_code == 200


@pytest.mark.parametrize("app", [{"PROXY_FIX": 1}], indirect=True)
def test_behind_a_proxy_each_client_is_counted_on_its_own(app, client):
    with app.app_context():
        db.session.add(User(email="a@example.org", display_name="A", role=Role.ADMIN,
                            password_hash="x"))
        db.session.commit()

    def through_proxy(client_address, number):
        token = csrf_token(client, "/login")
        return client.post("/login", data={"email": f"user{number}@example.org",
                                           "password": "sai", "csrf_token": token},
                           headers={"X-Forwarded-For": client_address},
                           environ_base={"REMOTE_ADDR": "127.0.0.1"})

    for number in range(10):
        assert through_proxy("203.0.113.7", number).status_code == 200
    assert through_proxy("203.0.113.7", 10).status_code == 429
    assert through_proxy("203.0.113.8", 11).status_code == 200


def test_logout_needs_a_post_with_the_token(client, demo):
    logged_in(client, ORGANISER)
    assert client.get("/logout").status_code == 405
    assert client.get("/manage/").status_code == 200
    assert client.post("/logout").status_code == 400
    assert client.get("/manage/").status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf_token(client, "/manage/")}
                       ).status_code == 302
    assert client.get("/manage/").status_code == 302


# ---------------------------------------------------------------- the API


@pytest.mark.parametrize("app", [{"API_LIMIT_PER_CALLER": "3 per minute"}], indirect=True)
def test_the_api_answers_too_many_requests_as_a_problem(client, demo):
    def bearer(email):
        with demo.app_context():
            _token, secret = tokens.issue(db.session.scalar(
                select(User).where(User.email == email)), "kiểm thử", TokenScope.READ)
            db.session.commit()
        return {"Authorization": f"Bearer {secret}"}

    organiser = bearer(ORGANISER[0])
    for remaining in ("2", "1", "0"):
        response = client.get("/api/v1/conferences", headers=organiser)
        assert (response.status_code, response.headers["X-RateLimit-Remaining"]) == (200,
                                                                                     remaining)
    refused = client.get("/api/v1/conferences", headers=organiser)
    assert refused.status_code == 429
    assert refused.content_type == "application/problem+json"
    assert refused.get_json() == {
        "type": "about:blank", "title": "Too Many Requests", "status": 429,
        "detail": "Quá nhiều yêu cầu. Hãy đợi số giây ghi trong tiêu đề Retry-After rồi gửi lại.",
        "instance": "/api/v1/conferences", "errors": []}
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # Each token has its own budget.
    assert client.get("/api/v1/conferences", headers=bearer(COORDINATOR[0])).status_code == 200


@pytest.mark.parametrize("app", [{"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0",
                                  "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": False}],
                         indirect=True)
def test_without_the_fallback_an_unreachable_limit_store_is_a_503(client, demo):
    """Nothing listens on port 1: every sign-in and API request waits for the store."""
    response = attempt(client, ORGANISER[0], ORGANISER[1])
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "Máy chủ đang bận, vui lòng thử lại sau ít giây." in response.get_data(as_text=True)
    assert client.get("/manage/").status_code == 302  # not signed in
    with demo.app_context():
        _token, secret = tokens.issue(db.session.scalar(
            select(User).where(User.email == ORGANISER[0])), "kiểm thử", TokenScope.READ)
        db.session.commit()
    api = client.get("/api/v1/conferences", headers={"Authorization": f"Bearer {secret}"})
    assert (api.status_code, api.content_type) == (503, "application/problem+json")
    assert api.get_json()["detail"] == "Máy chủ đang bận, vui lòng thử lại sau ít giây."


@pytest.mark.parametrize("app", [{"RATELIMIT_STORAGE_URI": OWN_REDIS,
                                  "API_LIMIT_PER_CALLER": "3 per minute"}], indirect=True)
def test_a_limit_store_lost_mid_request_falls_back_to_memory(app, client, demo, redis_server,
                                                             caplog):
    """Redis stops after the API's limit was checked and before its headers are written:
    the answer is still the API's (it was a 500), and the limits go on in memory."""
    stop_after_the_check = []

    @app.before_request  # runs after Flask-Limiter's check, registered with the app
    def stop_redis() -> None:
        if stop_after_the_check:
            redis_server.stop()

    organiser = bearer(demo, ORGANISER[0])
    first = client.get("/api/v1/conferences", headers=organiser)
    assert (first.status_code, first.headers["X-RateLimit-Remaining"]) == (200, "2")
    stop_after_the_check.append(True)
    lost = client.get("/api/v1/conferences", headers=organiser)
    assert lost.status_code == 200
    assert lost.headers["X-RateLimit-Limit"] == "3"
    assert ("Rate limit storage unreachable - falling back to in-memory storage"
            in caplog.messages)
    # The caller's budget starts again in this process's memory, and still runs out.
    statuses = [client.get("/api/v1/conferences", headers=organiser) for _ in range(4)]
    assert [(r.status_code, r.headers["X-RateLimit-Remaining"]) for r in statuses] == [
        (200, "2"), (200, "1"), (200, "0"), (429, "0")]


@pytest.mark.parametrize("app", [{"RATELIMIT_STORAGE_URI": OWN_REDIS}], indirect=True)
def test_sign_ins_count_in_memory_while_the_limit_store_is_down(app, client, demo,
                                                                redis_server, caplog):
    """Signing in keeps working, and five failures still lock an account: in this process,
    without the failures Redis counted before it went away."""
    for _ in range(4):
        assert attempt(client, ORGANISER[0], "sai-mat-khau-roi").status_code == 200
    redis_server.stop()

    admin = demo.test_client()
    assert attempt(admin, *ADMIN, address="10.0.0.9").status_code == 302
    assert ("the rate-limit store is unreachable; sign-in limits count in this process "
            "for 5 seconds: Error 111 connecting to "
            f"{redis_server.url.removeprefix('redis://').removesuffix('/0')}. "
            "Connection refused.") in caplog.messages
    page = admin.get("/admin/users?q=organiser")  # reads every listed account's lock
    assert page.status_code == 200
    assert login_lock_notes(page.get_data(as_text=True)) == []

    for _ in range(4):
        wrong = attempt(client, ORGANISER[0], "sai-mat-khau-roi")
        assert (wrong.status_code, refusal(wrong)) == (200, None)
    fifth = attempt(client, ORGANISER[0], "sai-mat-khau-roi")
    assert (fifth.status_code, refusal(fifth)) == (429, LOCKED)
    right = attempt(client, *ORGANISER)
    assert (right.status_code, refusal(right)) == (429, LOCKED)
    page = admin.get("/admin/users?q=organiser").get_data(as_text=True)
    assert login_lock_notes(page) == ["Tạm khóa do nhập sai mật khẩu nhiều lần, còn 15 phút"]


# ---------------------------------------------------------------- headers and cookies


def test_every_response_carries_the_security_headers(client, demo):
    expected = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "X-Content-Type-Options": "nosniff",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    }
    assert CONTENT_SECURITY_POLICY == (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
    for url, status in [("/", 200), ("/login", 200), ("/static/css/app.css", 200),
                        ("/no-such-page", 404), ("/api/v1/conferences", 401)]:
        response = client.get(url)
        assert response.status_code == status, url
        assert {name: response.headers.get(name) for name in expected} == expected, url


@pytest.mark.parametrize("app", [{"SESSION_COOKIE_SECURE": True}], indirect=True)
def test_cookies_are_secure_when_configured(app, client, demo):
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"email": ORGANISER[0], "password": ORGANISER[1],
                                           "remember": "y", "csrf_token": token})
    cookies = response.headers.getlist("Set-Cookie")
    assert sorted(c.split("=")[0] for c in cookies) == ["login_device", "remember_token",
                                                        "session"]
    for cookie in cookies:
        assert "; Secure" in cookie and "; HttpOnly" in cookie and "; SameSite=Lax" in cookie


def test_secure_cookies_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CONFMGR_SESSION_COOKIE_SECURE", "true")
    monkeypatch.setenv("CONFMGR_PROXY_FIX", "1")
    app = create_app({"SECRET_KEY": "x"}, instance_path=str(tmp_path))
    assert (app.config["SESSION_COOKIE_SECURE"], app.config["REMEMBER_COOKIE_SECURE"],
            app.config["PROXY_FIX"], app.config["RATELIMIT_ENABLED"]) == (True, True, 1, True)


# ---------------------------------------------------------------- one's own password


def test_change_my_password(app, client, demo):
    assert client.get("/account/password").status_code == 302  # signed in only
    logged_in(client, COORDINATOR)

    def change(current, new, confirm=None):
        return post_form(client, "/account/password", {
            "current_password": current, "password": new,
            "confirm": new if confirm is None else confirm})

    page = change("sai-mat-khau-roi", "mot-mat-khau-moi-dai").get_data(as_text=True)
    assert field_errors(page, "current_password") == ["Mật khẩu hiện tại không đúng."]
    page = change(COORDINATOR[1], "quangninh@example.org").get_data(as_text=True)
    assert field_errors(page, "password") == [OWN]
    page = change(COORDINATOR[1], "anhyeuem123").get_data(as_text=True)
    assert field_errors(page, "password") == [COMMON]
    page = change(COORDINATOR[1], "mot-mat-khau-moi-dai", "khac-han").get_data(as_text=True)
    assert field_errors(page, "confirm") == ["Hai mật khẩu không khớp."]
    assert post_form(client, "/account/password", {"current_password": COORDINATOR[1],
                                                   "password": "", "confirm": ""}
                     ).status_code == 200

    # A token made with the old password (by its owner, or by whoever had it) goes with it.
    token = bearer(demo, COORDINATOR[0])
    assert client.get("/api/v1/me", headers=token).status_code == 200
    response = change(COORDINATOR[1], "mot-mat-khau-moi-dai")
    assert (response.status_code, response.headers["Location"]) == (302, "/manage/")
    assert flashes(client.get("/manage/").get_data(as_text=True)) == [
        "Đã đổi mật khẩu.",
        "Đã thu hồi 1 token API tạo trước khi đổi mật khẩu; hãy tạo token mới cho các ứng "
        "dụng còn dùng."]
    assert client.get("/api/v1/me", headers=token).status_code == 401
    client.post("/logout", data={"csrf_token": csrf_token(client, "/manage/")})
    assert attempt(client, COORDINATOR[0], COORDINATOR[1]).status_code == 200
    assert attempt(client, COORDINATOR[0], "mot-mat-khau-moi-dai").status_code == 302
    coordinator = user_named(demo, COORDINATOR[0])
    assert [(a, d) for a, d in audit_actions(demo, "user.password_change",
                                             "user.password_change_failed")] == [
        ("user.password_change_failed", {}), ("user.password_change", {})]
    with demo.app_context():
        assert db.session.scalars(select(AuditEntry.target_id).where(
            AuditEntry.action == "user.password_change")).all() == [coordinator.id]


def test_guessing_the_current_password_locks_the_account(client, demo):
    logged_in(client, COORDINATOR)

    def change(current):
        return post_form(client, "/account/password", {
            "current_password": current, "password": "mot-mat-khau-moi-dai",
            "confirm": "mot-mat-khau-moi-dai"})

    assert [change("sai-mat-khau-roi").status_code for _ in range(5)] == [200] * 4 + [429]
    right = change(COORDINATOR[1])
    assert (right.status_code, refusal(right)) == (429, LOCKED)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/manage/")})
    # The same lock as at the sign-in page: this browser's, which signed in before; the
    # account itself is not locked.
    assert refusal(attempt(client, COORDINATOR[0], COORDINATOR[1])) == LOCKED
    assert attempt(demo.test_client(), *COORDINATOR, address=NEW_BROWSER).status_code == 302


# ---------------------------------------------------------------- account administration


def user_rows(page: str) -> list[tuple[str, str]]:
    """(email, status) of each account listed."""
    return [(unescape(email), unescape(status)) for email, status in re.findall(
        r'<tr id="user-\d+"[^>]*>\s*<td>([^<]*)</td>.*?<td class="user-status">([^<]*)',
        page, re.S)]


def login_lock_notes(page: str) -> list[str]:
    return [unescape(note) for note in re.findall(r'class="[^"]*login-lock">([^<]*)<', page)]


def test_only_admins_manage_accounts(client, demo):
    coordinator = user_named(demo, COORDINATOR[0])
    assert client.get("/admin/users").headers["Location"].startswith("/login")
    for account in (ORGANISER, COORDINATOR):
        logged_in(client, account)
        assert client.get("/admin/users").status_code == 403
        for action in ("reset-password", "deactivate", "reactivate"):
            assert post_form(client, f"/admin/users/{coordinator.id}/{action}", {}
                             ).status_code == 403
        client.post("/logout", data={"csrf_token": csrf_token(client, "/manage/")})
    logged_in(client, ADMIN)
    # Without the form's token nothing happens.
    assert client.post(f"/admin/users/{coordinator.id}/deactivate").status_code == 400
    assert client.post(f"/admin/users/{coordinator.id}/reset-password").status_code == 400
    assert post_form(client, "/admin/users/999999/deactivate", {}).status_code == 404
    assert user_named(demo, COORDINATOR[0]).active is True
    assert audit_actions(demo, "user.deactivate", "user.password_reset") == []


def test_the_account_list_searches_filters_and_pages(app, client, demo):
    from confmgr.accounts.coordinators import create_for_points
    from confmgr.conferences.models import Conference
    from confmgr.points.models import BroadcastPoint

    with demo.app_context():
        conference = db.session.scalar(select(Conference))
        points = list(db.session.scalars(select(BroadcastPoint).order_by(BroadcastPoint.code)))
        create_for_points(conference, points)
        db.session.commit()
        coordinators = db.session.scalar(select(db.func.count()).select_from(User).where(
            User.role == Role.COORDINATOR))
    logged_in(client, ADMIN)
    page = client.get("/admin/users?role=coordinator").get_data(as_text=True)
    assert f"{coordinators} tài khoản" in page
    assert len(user_rows(page)) == min(coordinators, 50)

    page = client.get("/admin/users?q=uong+bi").get_data(as_text=True)
    assert user_rows(page) == [("06811@tap-huan-cap-xa-2025", "Đang hoạt động")]
    page = client.get("/admin/users?q=Quảng+Ninh").get_data(as_text=True)
    assert user_rows(page) == [("quangninh@example.org", "Đang hoạt động")]  # point 22
    for typed in ("QUANG NINH", "ĐIỀU PHỐI ĐIỂM CẦU QUẢNG"):  # case and diacritics ignored
        page = client.get("/admin/users", query_string={"q": typed}).get_data(as_text=True)
        assert user_rows(page) == [("quangninh@example.org", "Đang hoạt động")]
    page = client.get("/admin/users?q=%C4%90I%E1%BB%80U+PH%E1%BB%90I+%C4%90I%E1%BB%82M+C%E1%BA%A6U+U%C3%94NG"
                      ).get_data(as_text=True)  # "ĐIỀU PHỐI ĐIỂM CẦU UÔNG"
    assert user_rows(page) == [("06811@tap-huan-cap-xa-2025", "Đang hoạt động")]
    page = client.get("/admin/users?q=ORGANISER").get_data(as_text=True)
    assert user_rows(page) == [("organiser@example.org", "Đang hoạt động")]
    page = client.get("/admin/users?q=50%25").get_data(as_text=True)  # LIKE's % is plain text
    assert user_rows(page) == []

    with demo.app_context():
        logins = list(db.session.scalars(select(User.email).order_by(User.email)))
    second = client.get("/admin/users?page=2").get_data(as_text=True)
    assert [email for email, _ in user_rows(second)] == logins[50:100]
    assert client.get("/admin/users?page=x&role=nobody&status=x").status_code == 200


def test_an_admin_resets_a_password_shown_once_and_lifts_the_lock(client, demo):
    coordinator = user_named(demo, COORDINATOR[0])
    for _ in range(5):
        attempt(client, COORDINATOR[0], "sai-mat-khau-roi")
    assert refusal(attempt(client, *COORDINATOR)) == LOCKED
    logged_in(client, ADMIN)
    response = post_form(client, f"/admin/users/{coordinator.id}/reset-password",
                         {"next": "/admin/users?q=quang"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    password = re.search(r'<strong class="password">([^<]+)</strong>', page).group(1)
    assert len(password) == 12 and password_problems(password, login=COORDINATOR[0]) == []
    assert 'href="/admin/users?q=quang"' in page
    assert "account-inactive" not in page
    assert password not in client.get("/admin/users?q=quang").get_data(as_text=True)
    assert audit_actions(demo, "user.password_reset") == [
        ("user.password_reset", {"email": COORDINATOR[0]})]
    client.post("/logout", data={"csrf_token": csrf_token(client, "/manage/")})
    assert attempt(client, COORDINATOR[0], COORDINATOR[1]).status_code == 200
    assert attempt(client, COORDINATOR[0], password).status_code == 302


def test_a_reset_of_a_deactivated_account_says_it_cannot_sign_in_yet(client, demo):
    """The page said "give this to the user", who then could not sign in with it."""
    coordinator = user_named(demo, COORDINATOR[0])
    logged_in(client, ADMIN)
    post_form(client, f"/admin/users/{coordinator.id}/deactivate", {})
    page = post_form(client, f"/admin/users/{coordinator.id}/reset-password", {}
                     ).get_data(as_text=True)
    assert re.findall(r'class="alert alert-warning account-inactive" role="alert">([^<]+)<',
                      page) == ["Tài khoản này đang bị khóa: mật khẩu mới chỉ dùng được sau "
                                "khi mở khóa tài khoản."]


def test_a_deactivated_account_is_signed_out_and_cannot_sign_in(app, client, demo):
    coordinator = user_named(demo, COORDINATOR[0])
    admin = user_named(demo, ADMIN[0])
    other, kept = app.test_client(), app.test_client()
    logged_in(other, COORDINATOR)
    logged_in(kept, COORDINATOR)
    logged_in(client, ADMIN)

    response = post_form(client, f"/admin/users/{coordinator.id}/deactivate",
                         {"next": "/admin/users?q=quang"})
    assert response.headers["Location"] == "/admin/users?q=quang"
    page = client.get("/admin/users?q=quang").get_data(as_text=True)
    assert flashes(page) == [
        "Đã khóa tài khoản quangninh@example.org; tài khoản này không đăng nhập được nữa."]
    assert user_rows(page) == [("quangninh@example.org", "Đã khóa")]
    assert other.get("/manage/").status_code == 302  # the open session ended
    assert attempt(other, *COORDINATOR).status_code == 200

    # An admin cannot lock themselves out, nor reset their own password here.
    post_form(client, f"/admin/users/{admin.id}/deactivate", {})
    assert flashes(client.get("/admin/users").get_data(as_text=True)) == [
        "Bạn không thể tự khóa tài khoản của mình."]
    post_form(client, f"/admin/users/{admin.id}/reset-password", {})
    assert flashes(client.get("/admin/users").get_data(as_text=True)) == [
        "Hãy đổi mật khẩu của chính bạn ở trang Đổi mật khẩu."]
    assert user_named(demo, ADMIN[0]).active is True

    post_form(client, f"/admin/users/{coordinator.id}/reactivate", {})
    # A session opened before the lock stays ended; signing in again works.
    assert kept.get("/manage/").status_code == 302
    assert attempt(other, *COORDINATOR).status_code == 302
    email = {"email": COORDINATOR[0]}
    assert audit_actions(demo, "user.deactivate", "user.reactivate", "user.password_reset") == [
        ("user.deactivate", email), ("user.reactivate", email)]


def test_a_remembered_sign_in_stays_remembered_after_a_new_password(client, demo):
    """The remember-me cookie names the old password; the browser gets one for the new, or
    closing it signed the user out although they had asked to be remembered."""
    token = csrf_token(client, "/login")
    client.post("/login", data={"email": COORDINATOR[0], "password": COORDINATOR[1],
                                "remember": "y", "csrf_token": token})
    response = post_form(client, "/account/password", {
        "current_password": COORDINATOR[1], "password": "mot-mat-khau-moi-dai",
        "confirm": "mot-mat-khau-moi-dai"})
    assert response.status_code == 302
    assert "remember_token" in [c.split("=")[0] for c in response.headers.getlist("Set-Cookie")]
    client.delete_cookie("session")  # the browser closed
    assert client.get("/manage/").status_code == 200


def test_a_new_password_ends_the_sessions_opened_with_the_old_one(demo):
    here, elsewhere, admin = (logged_in(demo.test_client(), COORDINATOR),
                              logged_in(demo.test_client(), COORDINATOR),
                              logged_in(demo.test_client(), ADMIN))
    response = post_form(here, "/account/password", {
        "current_password": COORDINATOR[1], "password": "mot-mat-khau-moi-dai",
        "confirm": "mot-mat-khau-moi-dai"})
    assert response.status_code == 302
    # The session that changed it carries on; the other one is signed out.
    assert here.get("/manage/").status_code == 200
    assert elsewhere.get("/manage/").headers["Location"].startswith("/login")
    # An administrator's reset signs out the rest.
    coordinator = user_named(demo, COORDINATOR[0])
    post_form(admin, f"/admin/users/{coordinator.id}/reset-password", {})
    assert here.get("/manage/").headers["Location"].startswith("/login")
    assert admin.get("/manage/").status_code == 200


def test_a_new_secret_key_with_the_old_as_fallback_signs_nobody_out(demo):
    """Sessions carry a stamp keyed with SECRET_KEY (User.session_stamp): with the old key
    in SECRET_KEY_FALLBACKS they go on, and are stamped anew under the new key, so they
    outlive the fallback's removal. Without the fallback the key change signs out."""
    kept, away = (logged_in(demo.test_client(), COORDINATOR),
                  logged_in(demo.test_client(), ORGANISER))
    old = demo.config["SECRET_KEY"]
    demo.secret_key = "mot-khoa-bi-mat-moi"
    demo.config["SECRET_KEY_FALLBACKS"] = [old]
    assert kept.get("/manage/").status_code == 200
    demo.config["SECRET_KEY_FALLBACKS"] = []
    assert kept.get("/manage/").status_code == 200
    assert post_form(kept, "/language", {"lang": "en", "next": "/manage/"}).status_code == 302
    # Not seen while the old key was a fallback: signed out with it.
    assert away.get("/manage/").headers["Location"].startswith("/login")


def test_every_form_that_shows_a_secret_once_is_sent_once(demo):
    """A password or token shown once: a second click while the first was answered showed
    "already taken" instead (confirm.js; tests/e2e shows it in a browser)."""
    from confmgr.demo.loader import SLUG

    admin = logged_in(demo.test_client(), ADMIN)
    organiser = logged_in(demo.test_client(), ORGANISER)
    for client, url, action in (
            (organiser, f"/manage/c/{SLUG}/coordinators", None),
            (organiser, f"/manage/c/{SLUG}/points", "/coordinators/bulk"),
            (organiser, f"/manage/c/{SLUG}/presenters", "/account"),
            (admin, "/admin/users", "/reset-password"),
            (organiser, "/account/tokens", None)):
        page = client.get(url).get_data(as_text=True)
        forms = re.findall(r'<form method="post"([^>]*)>', page)
        chosen = [attributes for attributes in forms
                  if (action in attributes if action else "action=" not in attributes)]
        assert chosen and all(a.endswith(" data-once") for a in chosen), (url, chosen)


def test_unlocking_lifts_the_lock_of_failed_sign_ins_which_the_list_shows(client, demo):
    coordinator = user_named(demo, COORDINATOR[0])
    for _ in range(5):
        attempt(client, COORDINATOR[0], "sai-mat-khau-roi")
    assert refusal(attempt(client, *COORDINATOR)) == LOCKED
    admin = logged_in(demo.test_client(), ADMIN)
    page = admin.get("/admin/users?q=quang").get_data(as_text=True)
    assert user_rows(page) == [("quangninh@example.org", "Đang hoạt động")]
    assert login_lock_notes(page) == ["Tạm khóa do nhập sai mật khẩu nhiều lần, còn 15 phút"]
    assert f'action="/admin/users/{coordinator.id}/reactivate"' in page
    assert login_lock_notes(admin.get("/admin/users?q=organiser").get_data(as_text=True)) == []

    # Khóa, then Mở khóa: the account is let in again at once.
    post_form(admin, f"/admin/users/{coordinator.id}/deactivate", {})
    post_form(admin, f"/admin/users/{coordinator.id}/reactivate", {})
    page = admin.get("/admin/users?q=quang").get_data(as_text=True)
    assert (user_rows(page), login_lock_notes(page)) == (
        [("quangninh@example.org", "Đang hoạt động")], [])
    assert f'action="/admin/users/{coordinator.id}/reactivate"' not in page
    assert attempt(client, *COORDINATOR).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/manage/")})

    # An account only mistyping locked has a button of its own, which lifts that lock,
    # and is not said to have been locked by anyone (in English, "Reactivated" it was).
    stranger = demo.test_client()  # no device cookie: the account itself is locked
    for _ in range(5):
        attempt(stranger, COORDINATOR[0], "sai-mat-khau-roi", address="10.0.0.2")
    assert refusal(attempt(stranger, *COORDINATOR, address="10.0.0.2")) == LOCKED
    admin.post("/language", data={"csrf_token": csrf_token(admin), "lang": "en", "next": "/"})
    page = admin.get("/admin/users?q=quang").get_data(as_text=True)
    row = re.search(rf'<tr id="user-{coordinator.id}".*?</tr>', page, re.S).group(0)
    assert re.findall(r'<button class="btn btn-sm [^"]*"[^>]*>([^<]*)</button>', row) == [
        "Reset password", "Deactivate", "Lift sign-in lock"]
    response = post_form(admin, f"/admin/users/{coordinator.id}/reactivate", {})
    assert response.status_code == 302
    assert flashes(admin.get("/admin/users").get_data(as_text=True)) == [
        "Lifted the sign-in lock of quangninh@example.org; they can sign in again."]
    assert attempt(stranger, *COORDINATOR, address="10.0.0.2").status_code == 302


def test_a_reset_or_a_lock_revokes_the_api_tokens_for_good(client, demo):
    from tests.helpers import bearer

    coordinator = user_named(demo, COORDINATOR[0])
    before_reset = bearer(demo, COORDINATOR[0])
    others = bearer(demo, ORGANISER[0])
    api = demo.test_client()
    assert api.get("/api/v1/me", headers=before_reset).status_code == 200
    logged_in(client, ADMIN)

    post_form(client, f"/admin/users/{coordinator.id}/reset-password", {})
    assert api.get("/api/v1/me", headers=before_reset).status_code == 401
    before_lock = bearer(demo, COORDINATOR[0])
    assert api.get("/api/v1/me", headers=before_lock).status_code == 200
    post_form(client, f"/admin/users/{coordinator.id}/deactivate", {})
    post_form(client, f"/admin/users/{coordinator.id}/reactivate", {})
    # Unlocking does not bring them back.
    assert api.get("/api/v1/me", headers=before_reset).status_code == 401
    assert api.get("/api/v1/me", headers=before_lock).status_code == 401
    # Another user's token is untouched.
    assert api.get("/api/v1/me", headers=others).status_code == 200
    with demo.app_context():
        revoked = db.session.execute(select(tokens.ApiToken.user_id, tokens.ApiToken.revoked_at)
                                     .order_by(tokens.ApiToken.id)).all()
    assert [(user_id, at is not None) for user_id, at in revoked] == [
        (coordinator.id, True), (user_named(demo, ORGANISER[0]).id, False),
        (coordinator.id, True)]
    assert [action for action, _details in audit_actions(
        demo, "api_token.revoke", "user.password_reset", "user.deactivate")] == [
        "api_token.revoke", "user.password_reset", "api_token.revoke", "user.deactivate"]
    # The admin revoked them, not their owner: the log names who acted, and whose they were.
    with demo.app_context():
        revocations = db.session.execute(
            select(AuditEntry.user_id, AuditEntry.details)
            .where(AuditEntry.action == "api_token.revoke").order_by(AuditEntry.id)).all()
    admin_id = user_named(demo, ADMIN[0]).id
    assert [(user_id, details["email"]) for user_id, details in revocations] == [
        (admin_id, coordinator.email), (admin_id, coordinator.email)]


def test_the_account_list_stays_within_a_phone_screen(client, demo):
    """The visually hidden heading of the actions column is absolutely positioned: the
    scrolling wrapper must be its containing block, or it widens the whole page."""
    logged_in(client, ADMIN)
    page = client.get("/admin/users").get_data(as_text=True)
    assert '<div class="table-responsive position-relative">' in page
    assert '<th><span class="visually-hidden">Thao tác</span></th>' in page


def test_what_a_signed_in_person_is_shown_is_never_stored(client, demo):
    """Delegates' contacts, badge codes and reports may sit on a commune hall's shared PC:
    neither the browser nor a proxy keeps them. Pages that may be kept keep their own."""
    from confmgr.demo.loader import SLUG

    anonymous = demo.test_client()
    assert "Cache-Control" not in anonymous.get("/login").headers
    public = anonymous.get(f"/c/{SLUG}/agenda.ics")
    logged_in(client, COORDINATOR)
    for url in (f"/manage/c/{SLUG}/points/06811/delegates/export.csv",
                f"/manage/c/{SLUG}/points/06811/badges",
                f"/manage/c/{SLUG}/points/06811/attendance"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "private, no-store", url
    # A page that sets its own caching keeps it when a signed-in person reads it.
    assert public.headers["Cache-Control"] == "public, max-age=900"
    assert client.get(f"/c/{SLUG}/agenda.ics").headers["Cache-Control"] == "public, max-age=900"
    # The API's answers say for themselves that they are private (revalidated by ETag).
    api = demo.test_client().get(f"/api/v1/conferences/{SLUG}/points",
                                 headers=bearer(demo, ORGANISER[0]))
    assert api.status_code == 200
    assert api.headers["Cache-Control"] == "private, no-cache"


def test_a_nul_in_any_value_of_a_repeated_field_is_refused(client, demo):
    """Only the first value of each name was looked at: a NUL in a second ticked box
    reached the database, where PostgreSQL cannot store or compare it."""
    from confmgr.demo.loader import SLUG
    from tests.helpers import ORGANISER, logged_in, post_form

    logged_in(client, ORGANISER)
    for codes in ("BAD\x00", ["06811", "BAD\x00"]):
        assert post_form(client, f"/manage/c/{SLUG}/coordinators/bulk",
                         {"code": codes}).status_code == 400, codes
    assert client.get("/login?next=%2F&next=%2F%00").status_code == 400


# ---------------------------------------------------------------- odd input at the door


#: A host no URL parser accepts: urlsplit() raises "Invalid IPv6 URL".
BAD_HOST = "//["


def test_a_next_or_referrer_with_a_host_no_parser_reads_is_left_aside(client, demo):
    """/login?next=//[ with the right password was a 500, its session never saved; as were
    an administrator's action, the language switch, and a signed-out POST or htmx request
    whose Referer or HX-Current-URL held such a host."""
    response = client.post("/login", query_string={"next": BAD_HOST}, data={
        "email": ORGANISER[0], "password": ORGANISER[1],
        "csrf_token": csrf_token(client, "/login")})
    assert (response.status_code, response.headers["Location"]) == (302, "/manage/")
    assert client.get("/manage/").status_code == 200
    assert post_form(client, "/language", {"lang": "en", "next": BAD_HOST}).headers[
        "Location"] == "/"
    admin = logged_in(demo.test_client(), ADMIN)
    coordinator = user_named(demo, COORDINATOR[0])
    response = post_form(admin, f"/admin/users/{coordinator.id}/deactivate", {"next": BAD_HOST})
    assert (response.status_code, response.headers["Location"]) == (302, "/admin/users")

    stranger = demo.test_client()
    response = stranger.post("/logout", data={"csrf_token": csrf_token(stranger, "/login")},
                             headers={"Referer": "http://[oops"})
    assert (response.status_code, response.headers["Location"]) == (302, "/login")
    assert stranger.get("/manage/", headers={"HX-Request": "true",
                                             "HX-Current-URL": "http://[oops"}
                        ).status_code == 401


def test_the_token_forms_single_use_value_in_other_letters_is_refused_not_a_500(client, demo):
    logged_in(client, ORGANISER)
    client.get("/account/tokens")  # the session now holds the form's value
    response = post_form(client, "/account/tokens",
                         {"name": "Sở Nội vụ", "scope": "read", "once": "é"},
                         follow_redirects=True)
    assert "Biểu mẫu này đã được gửi một lần: không tạo thêm token." in flashes(
        response.get_data(as_text=True))


def test_a_mangled_remember_me_cookie_is_taken_for_none(client, demo):
    """Its digest check raised TypeError on a character that is not ASCII: every page
    showing the menu was a 500 until the cookie was cleared by hand."""
    client.set_cookie("remember_token", "1:abc:def|\u00e9")
    assert [client.get(url).status_code for url in ("/", "/login", "/manage/")] == [
        200, 200, 302]


def test_a_password_proven_on_the_change_form_forgets_the_slips_before(client, demo):
    """Four slips of the current password, then the right one: one typo of the new one at
    the next sign-in locked the owner out of their own browser, the four never forgotten
    (a sign-in forgets them)."""
    assert attempt(client, *COORDINATOR).status_code == 302
    new = "mot-mat-khau-moi-dai"

    def change(current):
        return post_form(client, "/account/password",
                         {"current_password": current, "password": new, "confirm": new})

    for _ in range(4):
        assert change("sai-mat-khau-roi").status_code == 200
    assert change(COORDINATOR[1]).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/manage/")})
    assert refusal(attempt(client, COORDINATOR[0], new + "x")) is None
    assert attempt(client, COORDINATOR[0], new).status_code == 302


def test_a_password_of_spaces_only_is_refused(runner, app):
    """The sign-in form strips it to nothing, so the account could never be used."""
    assert password_problems(" " * 12) == ["Mật khẩu không được chỉ gồm dấu cách."]
    result = runner.invoke(args=["create-user", "--email", "boss@example.org", "--name", "Boss",
                                 "--role", "admin", "--password", " " * 12])
    assert result.exit_code == 1
    with app.app_context():
        assert db.session.scalar(select(User)) is None
