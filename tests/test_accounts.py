"""Setup, login, logout and who may open which management page."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from confmgr.accounts.coordinators import create_coordinator
from confmgr.accounts.models import SignIn, User
from confmgr.accounts.services import AccountError, create_user, signed_in_user
from confmgr.audit.models import AuditEntry
from confmgr.conferences.models import Conference, Presenter
from confmgr.db import db
from confmgr.demo.loader import SLUG
from confmgr.enums import Role
from confmgr.points.models import BroadcastPoint
from tests.conftest import csrf_token, login
from tests.helpers import ADMIN, field_errors, logged_in

ORGANISER = ("organiser@example.org", "demo-organiser-2025")
COORDINATOR = ("quangninh@example.org", "demo-quangninh-2025")


def uong_bi() -> BroadcastPoint:
    return db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "06811"))


def add_other_conference(app) -> None:
    with app.app_context():
        db.session.add(Conference(
            slug="khac", title="Hội nghị khác",
            first_day=date(2025, 7, 1), last_day=date(2025, 7, 1),
        ))
        db.session.commit()


def test_first_visit_offers_setup_and_creates_the_first_admin(app, client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/setup"
    token = csrf_token(client, "/setup")
    response = client.post("/setup", data={
        "display_name": "Quản trị", "email": "Admin@Example.org",
        "password": "mot-mat-khau-dai", "confirm": "mot-mat-khau-dai", "csrf_token": token,
    })
    assert response.status_code == 302
    assert response.headers["Location"] == "/manage/"
    with app.app_context():
        admin = db.session.scalar(select(User))
        assert (admin.email, admin.role, admin.display_name) == (
            "admin@example.org", Role.ADMIN, "Quản trị",
        )
    # Setup is gone once an account exists, and the public site opens.
    assert client.get("/setup").status_code == 404
    assert client.get("/").status_code == 200


def test_two_first_administrators_sent_at_once_are_not_a_server_error(app, client,
                                                                      monkeypatch):
    """Both forms were sent before either committed: the second finds the first's login
    (it was a 500)."""
    from confmgr.accounts import services

    form = {"display_name": "Quản trị", "email": "admin@example.org",
            "password": "mot-mat-khau-dai", "confirm": "mot-mat-khau-dai"}
    second = app.test_client()
    second_token = csrf_token(second, "/setup")
    assert client.post("/setup", data={**form, "csrf_token": csrf_token(client, "/setup")}
                       ).status_code == 302
    monkeypatch.setattr(services, "any_user_exists", lambda: False)  # checked before that
    page = second.post("/setup", data={**form, "csrf_token": second_token})
    assert page.status_code == 200
    assert field_errors(page.get_data(as_text=True), "email") == [
        "Đã có tài khoản với email admin@example.org."]


def test_two_first_administrators_of_different_emails_at_once_make_one(app, monkeypatch):
    """Each setup found no user, then made its administrator: two administrators, each
    told they were the first. Now the second waits for the first and is sent to sign in."""
    import threading

    from confmgr.accounts import services
    from tests.helpers import flashes, run_at_once

    made = threading.Barrier(2)
    create_user = services.create_user

    def checked_then_wait(*args):
        try:
            made.wait(timeout=1)
        except threading.BrokenBarrierError:
            pass  # the other setup waits for this one to commit, as it should
        return create_user(*args)

    monkeypatch.setattr(services, "create_user", checked_then_wait)
    browsers = [app.test_client() for _ in range(2)]
    tokens = [csrf_token(browser, "/setup") for browser in browsers]
    answers = {}

    def set_up(number: int):
        def send() -> None:
            answers[number] = browsers[number].post("/setup", data={
                "display_name": f"Quản trị {number}", "email": f"admin{number}@example.org",
                "password": "mot-mat-khau-dai", "confirm": "mot-mat-khau-dai",
                "csrf_token": tokens[number]})
        return send

    run_at_once(set_up(0), set_up(1))
    assert sorted(answer.headers["Location"] for answer in answers.values()) == [
        "/login", "/manage/"]
    refused = next(n for n, answer in answers.items() if answer.headers["Location"] == "/login")
    assert flashes(browsers[refused].get("/login").get_data(as_text=True)) == [
        "Tài khoản quản trị đầu tiên vừa được người khác tạo; hãy đăng nhập."]
    with app.app_context():
        assert db.session.scalars(select(User.email)).all() == [
            f"admin{1 - refused}@example.org"]


def test_setup_refuses_a_short_password(app, client):
    token = csrf_token(client, "/setup")
    response = client.post("/setup", data={
        "display_name": "A", "email": "a@example.org",
        "password": "short", "confirm": "short", "csrf_token": token,
    })
    assert response.status_code == 200
    assert "Mật khẩu phải có ít nhất 10 ký tự." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User)) is None


def test_setup_without_csrf_token_is_refused(app, client):
    response = client.post("/setup", data={
        "display_name": "A", "email": "a@example.org",
        "password": "mot-mat-khau-dai", "confirm": "mot-mat-khau-dai",
    })
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(User)) is None


def test_login_and_logout(client, demo):
    response = login(client, *ORGANISER)
    assert response.status_code == 302
    assert response.headers["Location"] == "/manage/"
    page = client.get("/manage/").get_data(as_text=True)
    assert "Ban Tổ chức hội nghị" in page
    with demo.app_context():
        logins = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "user.login"))
        assert [entry.details for entry in logins] == [{}]

    assert client.get("/logout").status_code == 405  # a link cannot log anyone out
    assert client.post("/logout").status_code == 400  # nor a form without the token
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/manage/")})
    assert response.status_code == 302
    assert client.get("/manage/").status_code == 302  # back to the login page


def test_bad_password_is_refused_with_a_message(client, demo):
    response = login(client, ORGANISER[0], "wrong-password")
    assert response.status_code == 200
    assert "Email hoặc mật khẩu không đúng." in response.get_data(as_text=True)
    assert client.get("/manage/").headers["Location"].startswith("/login")
    with demo.app_context():
        failed = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "user.login_failed")
        )
        assert failed.details == {"email": "organiser@example.org"}
        assert failed.user_id is None


def test_a_password_typed_as_the_login_is_not_kept_in_the_log(client, demo):
    """Every administrator reads the log: a password typed into the login field is named
    there by a fingerprint only, the same for the same text, while a login an account holds
    or that reads as an address is kept as typed."""
    with demo.app_context():
        create_coordinator("hn-point-7", "Điểm cầu 7",
                           [db.session.scalars(select(BroadcastPoint)).first()])
        db.session.commit()
    for typed in ("MatKhau@2025", "matkhau@2025 ", "Khac-hẳn", "HN-Point-7", "ai@example.org"):
        assert "Email hoặc mật khẩu không đúng." in login(client, typed, "sai").get_data(
            as_text=True)
    with demo.app_context():
        logged = [entry.details for entry in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "user.login_failed")
            .order_by(AuditEntry.id))]
    assert [sorted(details) for details in logged] == [
        ["login_withheld"], ["login_withheld"], ["login_withheld"], ["email"], ["email"]]
    assert logged[0] == logged[1] != logged[2]
    assert [len(details["login_withheld"]) for details in logged[:3]] == [10, 10, 10]
    assert logged[3:] == [{"email": "hn-point-7"}, {"email": "ai@example.org"}]
    assert "matkhau" not in repr(logged).lower() and "hẳn" not in repr(logged)


def test_unknown_email_gets_the_same_message(client, demo):
    response = login(client, "nobody@example.org", "whatever-password")
    assert "Email hoặc mật khẩu không đúng." in response.get_data(as_text=True)


def test_login_ignores_email_case(client, demo):
    assert login(client, "Organiser@Example.ORG", ORGANISER[1]).status_code == 302


def test_inactive_account_cannot_log_in(client, demo):
    with demo.app_context():
        user = db.session.scalar(select(User).where(User.email == ORGANISER[0]))
        user.active = False
        db.session.commit()
    response = login(client, *ORGANISER)
    assert response.status_code == 200
    assert "Email hoặc mật khẩu không đúng." in response.get_data(as_text=True)


def test_login_never_redirects_off_site(client, demo):
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example/",
                   "/\t\\evil.example/", "/\t/evil.example/", "/\n\\x", "/\r\nX-A: b"):
        response = client.post(
            "/login", query_string={"next": target},
            data={"email": ORGANISER[0], "password": ORGANISER[1],
                  "csrf_token": csrf_token(client)},  # a new one after each sign-out
        )
        assert response.headers["Location"] == "/manage/", target
        client.post("/logout", data={"csrf_token": csrf_token(client, "/manage/")})
    response = client.post(
        "/login?next=/c/tap-huan-cap-xa-2025/",
        data={"email": ORGANISER[0], "password": ORGANISER[1], "csrf_token": csrf_token(client)},
    )
    assert response.headers["Location"] == "/c/tap-huan-cap-xa-2025/"
    # Already signed in (another tab did), the sign-in link still leads where it meant to,
    # and no further off the site.
    wanted = f"/manage/c/{SLUG}/points/06811"
    assert client.get("/login", query_string={"next": wanted}).headers["Location"] == wanted
    assert client.get("/login", query_string={"next": "//evil.example/"}
                      ).headers["Location"] == "/manage/"


def test_organiser_sees_only_granted_conferences(client, demo):
    add_other_conference(demo)
    login(client, *ORGANISER)
    page = client.get("/manage/").get_data(as_text=True)
    assert "Hội nghị toàn quốc tập huấn" in page
    assert "Hội nghị khác" not in page
    assert client.get(f"/manage/c/{SLUG}/").status_code == 200
    assert client.get("/manage/c/khac/").status_code == 403


def test_admin_sees_every_conference(client, demo):
    add_other_conference(demo)
    login(client, "admin@example.org", "demo-admin-2025")
    page = client.get("/manage/").get_data(as_text=True)
    assert "Hội nghị toàn quốc tập huấn" in page and "Hội nghị khác" in page
    assert client.get("/manage/c/khac/").status_code == 200


def test_coordinator_sees_their_point_and_those_below_only(client, demo):
    login(client, *COORDINATOR)
    page = client.get("/manage/").get_data(as_text=True)
    for name in ("Điểm cầu tỉnh Quảng Ninh", "Điểm cầu Uông Bí", "Điểm cầu phường Hạ Long"):
        assert name in page
    assert "Điểm cầu Thành phố Hà Nội" not in page
    assert client.get(f"/manage/c/{SLUG}/points/22").status_code == 200
    uong_bi = client.get(f"/manage/c/{SLUG}/points/06811")
    assert uong_bi.status_code == 200
    assert "Mai Vũ Tuấn" in uong_bi.get_data(as_text=True)
    assert client.get(f"/manage/c/{SLUG}/points/01").status_code == 403  # Hà Nội
    assert client.get(f"/manage/c/{SLUG}/points/00004").status_code == 403  # Ba Đình
    assert client.get(f"/manage/c/{SLUG}/points/TW").status_code == 403  # the main venue
    assert client.get(f"/manage/c/{SLUG}/").status_code == 403  # the organisers' page


def test_anonymous_visitors_are_sent_to_login(client, demo):
    response = client.get(f"/manage/c/{SLUG}/points/22")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_create_user_command(runner):
    result = runner.invoke(args=[
        "create-user", "--email", "Boss@Example.org", "--name", "Boss",
        "--role", "admin", "--password", "mot-mat-khau-dai",
    ])
    assert result.exit_code == 0, result.output
    assert "Created admin boss@example.org" in result.output
    again = runner.invoke(args=[
        "create-user", "--email", "boss@example.org", "--name", "Boss",
        "--role", "admin", "--password", "mot-mat-khau-dai",
    ])
    assert again.exit_code == 1
    assert again.output == "Error: An account with the email boss@example.org already exists.\n"


@pytest.mark.parametrize(("email", "password", "error"), [
    ("a@example.org", "short", "The password must have at least 10 characters."),
    ("a@example.org", "1234567890123", "The password cannot be digits only."),
    ("không-có-a-còng", "mot-mat-khau-dai", "Invalid email address: không-có-a-còng."),
    ("co dau cach@example.org", "mot-mat-khau-dai",
     "Invalid email address: co dau cach@example.org."),
    # "@" alone, or with nothing on one side, is no address (it made an account named "@").
    ("@", "mot-mat-khau-dai", "Invalid email address: @."),
    ("admin@", "mot-mat-khau-dai", "Invalid email address: admin@."),
])
def test_create_user_command_speaks_english_only(runner, app, email, password, error):
    """The command line speaks English, as click's own words around it do."""
    result = runner.invoke(args=["create-user", "--email", email, "--name", "A",
                                 "--role", "admin", "--password", password])
    assert (result.exit_code, result.output) == (1, f"Error: {error}\n")
    with app.app_context():
        assert db.session.scalar(select(User)) is None


def test_create_user_refuses_a_short_password(ctx):
    with pytest.raises(AccountError) as refused:
        create_user("a@example.org", "short", "A", Role.ADMIN)
    assert str(refused.value) == "Mật khẩu phải có ít nhất 10 ký tự."


# ---------------------------------------------------------------- logins chosen for others


LONG_LOGIN = "a" * 400 + "@example.org"  # 412 characters


@pytest.mark.parametrize(("login", "error"), [
    ("   ", "Cần nhập tên đăng nhập."),
    (LONG_LOGIN, "Tên đăng nhập dài tối đa 254 ký tự."),
    ("dieu phoi@example.org", "Tên đăng nhập không được chứa dấu cách hay ký tự điều khiển."),
    ("dieu\tphoi@example.org", "Tên đăng nhập không được chứa dấu cách hay ký tự điều khiển."),
    ("dieu\x07phoi", "Tên đăng nhập không được chứa dấu cách hay ký tự điều khiển."),
    ("dieu\u200bphoi", "Tên đăng nhập không được chứa dấu cách hay ký tự điều khiển."),
    ("dieu\u00a0phoi", "Tên đăng nhập không được chứa dấu cách hay ký tự điều khiển."),
])
def test_coordinator_and_presenter_logins_must_be_usable(demo, login, error):
    from confmgr.accounts.coordinators import create_coordinator
    from confmgr.accounts.presenters import give_account

    with demo.app_context():
        users = db.session.scalar(select(func.count()).select_from(User))
        presenter = db.session.scalar(
            select(Presenter).where(Presenter.user_id.is_(None)).order_by(Presenter.id))
        with pytest.raises(AccountError) as refused:
            create_coordinator(login, "Điều phối", [uong_bi()])
        assert str(refused.value) == error
        with pytest.raises(AccountError) as refused:
            give_account(presenter, login)
        assert str(refused.value) == error
        assert db.session.scalar(select(func.count()).select_from(User)) == users


def test_a_login_of_254_characters_is_accepted_and_signs_in(client, demo):
    from confmgr.accounts.coordinators import create_coordinator

    login_name = "a" * 242 + "@example.org"
    with demo.app_context():
        _user, password = create_coordinator(login_name.upper(), "Điều phối", [uong_bi()])
        db.session.commit()
    assert len(login_name) == 254
    assert login(client, login_name, password).status_code == 302


def test_a_taken_login_is_refused_in_vietnamese(demo):
    from confmgr.accounts.coordinators import create_coordinator
    from confmgr.accounts.presenters import give_account

    with demo.app_context():
        with pytest.raises(AccountError) as refused:
            create_coordinator(" QuangNinh@Example.org ", "Điều phối", [uong_bi()])
        assert str(refused.value) == "Tên đăng nhập quangninh@example.org đã có người dùng."
        presenter = db.session.scalar(select(Presenter).where(Presenter.user_id.is_not(None)))
        with pytest.raises(AccountError) as refused:
            give_account(presenter, "moi@example.org")
        assert str(refused.value) == "Báo cáo viên này đã có tài khoản."


def test_a_coordinator_of_no_point_is_refused(demo):
    from confmgr.accounts.coordinators import create_coordinator

    with demo.app_context():
        with pytest.raises(AccountError) as refused:
            create_coordinator("moi@example.org", "Điều phối", [])
        assert str(refused.value) == "Hãy nhập ít nhất một mã điểm cầu."
        assert db.session.scalar(select(User).where(User.email == "moi@example.org")) is None


def test_signing_out_ends_the_sign_in_for_every_copy_of_its_cookies(app, client, demo):
    """A shared computer: whoever copied the cookies before the coordinator signed out gets
    nothing from them afterwards; the coordinator's other browser stays signed in."""
    token = csrf_token(client, "/login")
    client.post("/login", data={"email": COORDINATOR[0], "password": COORDINATOR[1],
                                "remember": "y", "csrf_token": token})
    copied = {name: client.get_cookie(name).value for name in ("session", "remember_token")}
    phone = app.test_client()
    logged_in(phone, COORDINATOR)
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(SignIn)) == 2

    def opens(cookies: dict[str, str]) -> bool:
        other = app.test_client()
        for name, value in cookies.items():
            other.set_cookie(name, value)
        return other.get("/account/password").status_code == 200

    assert opens(copied) and opens({"remember_token": copied["remember_token"]})
    assert client.post("/logout", data={"csrf_token": csrf_token(client, "/manage/")}
                       ).status_code == 302
    assert not opens({"session": copied["session"]})
    assert not opens({"remember_token": copied["remember_token"]})
    assert phone.get("/account/password").status_code == 200
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(SignIn)) == 1


def test_a_cookie_from_before_sign_ins_were_kept_signs_in_again(demo):
    with demo.app_context():
        user = db.session.scalar(select(User).where(User.email == ORGANISER[0]))
        assert signed_in_user(f"{user.id}:{user.session_stamp}") is None
        assert signed_in_user(f"{user.id}:{user.session_stamp}:") is None
        assert signed_in_user(f"{user.id}:{user.session_stamp}:made-up-key") is None


def test_a_lock_or_a_reset_ends_every_sign_in_of_the_account(app, client, demo):
    logged_in(client, COORDINATOR)
    admin = logged_in(app.test_client(), ADMIN)
    with demo.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == COORDINATOR[0]))
    admin.post(f"/admin/users/{user_id}/reset-password",
               data={"csrf_token": csrf_token(admin, "/admin/users")})
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(SignIn).where(
            SignIn.user_id == user_id)) == 0
    assert client.get("/account/password").status_code == 302


def test_a_login_typed_decomposed_is_the_same_login(client, demo):
    """Vietnamese keyboards type "ễ" composed on one device and decomposed on another: one
    login either way, and no second account that looks the same."""
    import unicodedata

    composed = "nguyễn.thu@hoi-nghi.vn"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    with demo.app_context():
        create_user(composed, "mật-khẩu-đủ-dài-2025", "Nguyễn Thu", Role.ORGANISER)
        db.session.commit()
        with pytest.raises(AccountError):
            create_user(decomposed, "mật-khẩu-đủ-dài-2025", "Nguyễn Thu", Role.ORGANISER)
    assert login(client, decomposed, "mật-khẩu-đủ-dài-2025").status_code == 302


def test_the_csrf_token_changes_when_someone_signs_in(client, demo):
    """On a shared computer in a commune hall, the next person to sign in must not hold a
    token the one before could have read."""
    before = csrf_token(client, "/login")
    logged_in(client, ADMIN)
    first = csrf_token(client, "/manage/")
    assert first != before
    client.post("/logout", data={"csrf_token": first})
    logged_in(client, ORGANISER)
    assert csrf_token(client, "/manage/") not in (before, first)


def test_a_password_typed_in_decomposed_letters_is_the_same_password(client, demo):
    """Some keyboards send "ậ" as a, ̣, ̂: the same password, refused (and counted towards
    the lock) when it was compared as typed."""
    import unicodedata

    password = "mật-khẩu-đủ-dài-2025"
    with demo.app_context():
        create_user("thu@hoi-nghi.vn", password, "Nguyễn Thu", Role.ORGANISER)
        db.session.commit()
    assert login(client, "thu@hoi-nghi.vn", unicodedata.normalize("NFD", password)
                 ).status_code == 302


def test_a_new_password_remembers_only_a_sign_in_that_asked(app, demo):
    """A shared PC kept the remember-me cookie of a coordinator whose sign-in was ended
    since; the organiser who signed in there without «Ghi nhớ» and changed their password
    was remembered on it."""
    from tests.helpers import COORDINATOR, ORGANISER, post_form

    hall = app.test_client()
    hall.post("/login", data={"email": COORDINATOR[0], "password": COORDINATOR[1],
                              "remember": "y", "csrf_token": csrf_token(hall, "/login")})
    with demo.app_context():
        coordinator_id = db.session.scalar(select(User.id).where(User.email == COORDINATOR[0]))
    post_form(logged_in(app.test_client(), ADMIN),
              f"/admin/users/{coordinator_id}/reset-password", {})
    hall.delete_cookie("session")  # the browser closed; a stale remember-me cookie stays
    assert hall.get_cookie("remember_token") is not None
    assert login(hall, *ORGANISER).status_code == 302  # «Ghi nhớ» not ticked
    assert post_form(hall, "/account/password", {
        "current_password": ORGANISER[1], "password": "mot-mat-khau-moi-dai",
        "confirm": "mot-mat-khau-moi-dai"}).status_code == 302
    hall.delete_cookie("session")
    assert hall.get("/manage/").status_code == 302  # signed out with the browser

    # Signed in with «Ghi nhớ», the same change keeps it remembered.
    kept = app.test_client()
    kept.post("/login", data={"email": ORGANISER[0], "password": "mot-mat-khau-moi-dai",
                              "remember": "y", "csrf_token": csrf_token(kept, "/login")})
    assert post_form(kept, "/account/password", {
        "current_password": "mot-mat-khau-moi-dai", "password": "mot-mat-khau-thu-ba",
        "confirm": "mot-mat-khau-thu-ba"}).status_code == 302
    kept.delete_cookie("session")
    assert kept.get("/manage/").status_code == 200
