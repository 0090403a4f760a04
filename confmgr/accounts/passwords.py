"""The rules for a password a person chooses: setup, the shell, changing one's own."""
from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

from flask_babel import gettext as _

from confmgr.text import fold

MIN_LENGTH = 10
COMMON_PASSWORDS = Path(__file__).resolve().parent.parent / "data" / "common_passwords.txt"

_NOT_LETTERS_OR_DIGITS = re.compile(r"[\W_]+")


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _bare(text: str) -> str:
    """Lower case, without diacritics, spaces or punctuation: "Trần Văn A" -> "tranvana"."""
    return _NOT_LETTERS_OR_DIGITS.sub("", fold(text))


def password_problems(password: str, *, login: str = "", display_name: str = "") -> list[str]:
    """What is wrong with ``password`` for the account ``login`` named ``display_name``,
    in the interface language; empty when it may be used."""
    problems = []
    password = unicodedata.normalize("NFC", password)  # letters counted as stored
    if len(password) < MIN_LENGTH:
        problems.append(_("Mật khẩu phải có ít nhất %(min)d ký tự.", min=MIN_LENGTH))
    if password.isdigit():
        problems.append(_("Mật khẩu không được chỉ gồm chữ số."))
    if not password.strip():
        # The sign-in form strips spaces from the ends: it could never be typed there.
        problems.append(_("Mật khẩu không được chỉ gồm dấu cách."))
    bare = _bare(password)
    local_part = login.partition("@")[0]
    own = {_bare(text) for text in (login, local_part, display_name)} - {""}
    if bare in own:
        problems.append(_("Mật khẩu không được trùng với email, tên đăng nhập hay họ tên."))
    common = common_passwords()
    if password.lower() in common or fold(password) in common:
        problems.append(_("Mật khẩu này quá phổ biến, dễ bị đoán ra; hãy chọn mật khẩu khác."))
    return problems
