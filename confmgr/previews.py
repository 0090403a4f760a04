"""Uploads kept between a preview and its confirmation.

A file that passed its checks is kept as JSON under a random token in
``instance/imports/<kind>/`` until its owner confirms. Each kind of import has a folder of
its own, so a token of one never opens another's file; the owner written with it (user,
point, conference, session) must be the one confirming. Previews left unconfirmed expire
after ``MAX_AGE`` and are swept away when the next preview of their kind is kept.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _

from confmgr.conferences.editing import RuleBroken
from confmgr.conferences.scheduling import Problem
from confmgr.db import utcnow

TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,40}$")
#: Confirmed later than this, a preview could apply data that changed since it was checked.
MAX_AGE = timedelta(hours=24)


def _path(kind: str, token: str) -> Path:
    folder = Path(current_app.instance_path) / "imports" / kind
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{token}.json"


def sweep(kind: str) -> int:
    """Remove the kind's expired previews; how many."""
    folder = _path(kind, "x").parent
    oldest = time.time() - MAX_AGE.total_seconds()
    removed = 0
    with os.scandir(folder) as entries:
        for entry in entries:
            # .held: claimed by a confirmation whose process died before its commit.
            if entry.name.endswith((".json", ".held")) and entry.stat().st_mtime < oldest:
                Path(entry.path).unlink(missing_ok=True)
                removed += 1
    return removed


def keep(kind: str, owner: dict[str, Any], payload: dict[str, Any]) -> str:
    """Keep a checked upload; return the token that confirms it."""
    sweep(kind)
    token = secrets.token_urlsafe(18)
    kept = {"owner": owner, "created": utcnow().isoformat(), **payload}
    _path(kind, token).write_text(json.dumps(kept, ensure_ascii=False))
    return token


def _gone() -> RuleBroken:
    return RuleBroken([Problem("", _("Không tìm thấy tệp đã xem trước; hãy tải lên lại."))])


def _checked(path: Path, owner: dict[str, Any], not_yours: str) -> dict[str, Any]:
    try:
        kept = json.loads(path.read_text())
    except (OSError, ValueError):
        raise _gone() from None
    if kept.get("owner") != owner:
        raise RuleBroken([Problem("", not_yours)])
    if utcnow() - datetime.fromisoformat(kept["created"]) > MAX_AGE:
        path.unlink(missing_ok=True)
        raise RuleBroken([Problem("", _(
            "Bản xem trước đã quá %(hours)d giờ nên đã hết hạn; hãy tải tệp lên lại.",
            hours=int(MAX_AGE.total_seconds() // 3600)))])
    return kept


def discard(kind: str, token: str) -> None:
    if TOKEN.match(token):
        _path(kind, token).unlink(missing_ok=True)


def claim(kind: str, token: str, owner: dict[str, Any], not_yours: str) -> dict[str, Any]:
    """The kept upload, to confirm it in the current transaction; RuleBroken when it is
    gone or ``owner`` is not the one it names.

    The preview is taken away at once (an atomic rename), so the same file confirmed
    twice at the same moment (a double tap, two tabs) is applied once: the second finds
    it gone. It is removed when the transaction commits and put back if it rolls back
    (a busy database, a broken rule), so the user confirms again rather than uploading.
    """
    from sqlalchemy import event

    from confmgr.db import db

    if not TOKEN.match(token):
        raise _gone()
    path = _path(kind, token)
    held = path.with_name(f"{path.name}.{secrets.token_hex(6)}.held")
    try:
        os.rename(path, held)
    except OSError:
        raise _gone() from None
    try:
        kept = _checked(held, owner, not_yours)
    except RuleBroken:
        if held.exists():  # someone else's preview stays theirs; an expired one is gone
            os.rename(held, path)
        raise

    session = db.session()

    @event.listens_for(session, "after_commit", once=True)
    def _remove(_session) -> None:
        held.unlink(missing_ok=True)

    @event.listens_for(session, "after_rollback", once=True)
    def _put_back(_session) -> None:
        if held.exists():
            os.rename(held, path)

    return kept
