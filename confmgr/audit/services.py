"""Writing to the audit trail, in the same transaction as the change it records."""
from __future__ import annotations

from typing import Any

from flask_login import current_user
from sqlalchemy import insert

from confmgr.audit.models import AuditEntry
from confmgr.db import db, utcnow


def record(
    action: str,
    *,
    target: Any = None,
    conference_id: int | None = None,
    point_id: int | None = None,
    user_id: int | None = None,
    **details: Any,
) -> AuditEntry:
    """Add an audit entry to the current transaction; the caller commits both."""
    if user_id is None:
        user_id = acting_user_id()
    if target is not None and getattr(target, "id", 0) is None:
        db.session.flush()  # a new object gets its id, so the entry can name it
    entry = AuditEntry(
        action=action,
        user_id=user_id,
        conference_id=conference_id,
        point_id=point_id,
        target_type=type(target).__name__ if target is not None else "",
        target_id=getattr(target, "id", None),
        details=details,
    )
    db.session.add(entry)
    return entry


def record_each(action: str, targets: list[tuple[type, int, int | None, int | None, dict]],
                *, user_id: int | None = None) -> None:
    """``record`` for a change made to many at once (a list sent back edited), in one
    statement: ``targets`` are (class, id, conference id, point id, details)."""
    if user_id is None:
        user_id = acting_user_id()
    if targets:
        now = utcnow()
        db.session.execute(insert(AuditEntry), [
            {"action": action, "at": now, "user_id": user_id, "conference_id": conference_id,
             "point_id": point_id, "target_type": kind.__name__, "target_id": target_id,
             "details": details}
            for kind, target_id, conference_id, point_id, details in targets])


def acting_user_id() -> int | None:
    try:
        return current_user.id if current_user.is_authenticated else None
    except (AttributeError, RuntimeError):  # outside a request, e.g. a CLI command
        return None
