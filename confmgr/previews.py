"""Uploads kept between a preview and its confirmation.

A file that passed its checks is kept as JSON under a random token in
``instance/imports/<kind>/`` until its owner confirms. Each kind of import has a folder of
its own, so a token of one never opens another's file; the owner written with it (user,
point, conference, session) must be the one confirming.
"""
from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _

from confmgr.conferences.editing import RuleBroken
from confmgr.conferences.scheduling import Problem
from confmgr.db import utcnow

TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,40}$")


def _path(kind: str, token: str) -> Path:
    folder = Path(current_app.instance_path) / "imports" / kind
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{token}.json"


def keep(kind: str, owner: dict[str, Any], payload: dict[str, Any]) -> str:
    """Keep a checked upload; return the token that confirms it."""
    token = secrets.token_urlsafe(18)
    kept = {"owner": owner, "created": utcnow().isoformat(), **payload}
    _path(kind, token).write_text(json.dumps(kept, ensure_ascii=False))
    return token


def load(kind: str, token: str, owner: dict[str, Any], not_yours: str) -> dict[str, Any]:
    """The kept upload; RuleBroken when it is gone or ``owner`` is not the one it names."""
    gone = RuleBroken([Problem("", _("Không tìm thấy tệp đã xem trước; hãy tải lên lại."))])
    if not TOKEN.match(token):
        raise gone
    try:
        kept = json.loads(_path(kind, token).read_text())
    except (OSError, ValueError):
        raise gone from None
    if kept.get("owner") != owner:
        raise RuleBroken([Problem("", not_yours)])
    return kept


def discard(kind: str, token: str) -> None:
    if TOKEN.match(token):
        _path(kind, token).unlink(missing_ok=True)
