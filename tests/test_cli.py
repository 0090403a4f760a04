"""The shell commands: English throughout, and one "Error: ..." line for bad input."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from confmgr.accounts.models import User
from confmgr.accounts.services import AccountError, create_user
from confmgr.db import db
from confmgr.enums import Role
from tests.conftest import make_app

PASSWORD = "mot-mat-khau-dai"


def users(app) -> list[tuple[str, str]]:
    with app.app_context():
        found = db.session.execute(select(User.email, User.display_name).order_by(User.id)).all()
        db.session.remove()
    return [tuple(row) for row in found]


def test_create_user_prompts_answers_and_refuses_in_english(app, runner):
    result = runner.invoke(args=["create-user"],
                           input=f"Boss@Example.org\nBà Chủ\n{PASSWORD}\n{PASSWORD}\n")
    assert (result.exit_code, result.output) == (0, (
        "Email: Boss@Example.org\nDisplay name: Bà Chủ\nPassword: \n"
        "Repeat for confirmation: \nCreated admin boss@example.org\n"))
    # The services' messages too, although outside a request the default language is vi.
    refusals = {
        ("boss@example.org", "Boss", PASSWORD):
            "An account with the email boss@example.org already exists.",
        ("a@example.org", "A", "short"): "The password must have at least 10 characters.",
        ("không-có-a-còng", "A", PASSWORD): "Invalid email address: không-có-a-còng.",
        ("a@example.org", "A" * 201, PASSWORD): "The full name is longer than 200 characters.",
        # An address longer than the name's column stood for a blank name, and did not fit.
        ("a" * 210 + "@example.org", " ", PASSWORD): "Enter the full name.",
    }
    for (email, name, password), message in refusals.items():
        result = runner.invoke(args=["create-user", "--email", email, "--name", name,
                                     "--password", password])
        assert (result.exit_code, result.output) == (1, f"Error: {message}\n"), email
    assert users(app) == [("boss@example.org", "Bà Chủ")]


def test_create_user_refuses_a_display_name_longer_than_its_column(ctx):
    with pytest.raises(AccountError) as refused:
        create_user("a@example.org", PASSWORD, "A" * 1000, Role.ADMIN)
    assert str(refused.value) == "Họ và tên dài quá 200 ký tự."
    # 200 characters once the control character is gone, with spaces around.
    user = create_user("b@example.org", PASSWORD, " " + "Ấ" * 199 + "\x01B ", Role.ADMIN)
    db.session.commit()
    assert user.display_name == "Ấ" * 199 + "B"
    assert users(ctx) == [("b@example.org", "Ấ" * 199 + "B")]


def test_create_user_drops_control_characters_from_the_display_name(app, runner):
    result = runner.invoke(args=["create-user", "--email", "a@example.org",
                                 "--name", "Nguyễn\x01 Văn\tA\x7f", "--password", PASSWORD])
    assert (result.exit_code, result.output) == (0, "Created admin a@example.org\n")
    assert users(app) == [("a@example.org", "Nguyễn Văn A")]


def test_bytes_that_are_not_utf8_get_one_line_not_a_traceback(app, runner, tmp_path):
    """A terminal in another encoding passes bytes Python keeps as lone surrogates: they
    could not be hashed or stored, nor a path holding them printed."""
    for option, value in (("--name", "Nguy\udcc3n"), ("--password", PASSWORD + "\udce9")):
        arguments = {"--email": "b@example.org", "--name": "A", "--password": PASSWORD,
                     option: value}
        result = runner.invoke(args=["create-user", *sum(arguments.items(), ())])
        assert (result.exit_code, result.output) == (
            1, f"Error: {option} holds bytes that are not UTF-8: check the terminal's "
               "encoding.\n")
    assert users(app) == []
    target = tmp_path / "sao-l\udcffu"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Backed up ") and "sao-l\ufffdu (" in result.output
    assert target.is_file()


def test_generate_refuses_a_database_url_it_cannot_use(runner):
    """The configuration's own one-line refusals, naming the option given, without the
    password."""
    example = ("postgresql://user:password@host:5432/name or "
               "sqlite:////path/to/file.sqlite3")
    refusals = {
        "notaurl": f"--db is not a database URL: notaurl (write it as {example}).",
        "mysql://u:secret@localhost/x":
            f"--db names the database 'mysql' (mysql://u:***@localhost/x); confmgr runs on "
            f"PostgreSQL or SQLite: {example}.",
        "postgresql://u:secret@localhost:54x2/x":
            "--db has a port that is not a number: postgresql://***@localhost:54x2/x.",
        "postgresql+nodriver://u@localhost/x":
            "--db names the driver 'nodriver', which SQLAlchemy does not know for "
            "postgresql (postgresql+nodriver://u@localhost/x).",
        # Nothing listens on port 1.
        "postgresql://u:secret@127.0.0.1:1/x":
            'Cannot use the database postgresql://u:***@127.0.0.1:1/x: connection failed: '
            'connection to server at "127.0.0.1", port 1 failed: Connection refused',
    }
    for url, message in refusals.items():
        result = runner.invoke(args=["generate", "--db", url])
        assert (result.exit_code, result.output) == (1, f"Error: {message}\n"), url


def test_commands_name_a_database_they_cannot_open(tmp_path):
    missing = tmp_path / "missing" / "confmgr.sqlite3"
    runner = make_app(f"sqlite:///{missing}", tmp_path / "instance").test_cli_runner()
    error = f"Error: Cannot use the database sqlite:///{missing}: unable to open database file\n"
    for args in (["demo"], ["generate"],
                 ["create-user", "--email", "a@example.org", "--name", "A",
                  "--password", PASSWORD]):
        result = runner.invoke(args=args)
        assert (result.exit_code, result.output) == (1, error), args
    assert not missing.parent.exists()
