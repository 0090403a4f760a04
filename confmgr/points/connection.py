"""Connection tests (chạy thử): slots the organisers set, and each point's results."""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from confmgr.accounts.models import User
from confmgr.audit.services import record
from confmgr.conferences.editing import YEARS, RuleBroken
from confmgr.conferences.models import Conference
from confmgr.conferences.scheduling import Problem
from confmgr.db import db, utcnow
from confmgr.enums import ConnectionTestStatus
from confmgr.points.models import BroadcastPoint, ConnectionTestResult, ConnectionTestSlot


def add_slot(conference: Conference, starts_at: datetime, ends_at: datetime,
             note: str) -> ConnectionTestSlot:
    if starts_at.year not in YEARS:
        # A typing slip; at the year 1 or 9999 it would not even convert to UTC.
        raise RuleBroken([Problem("day", _("Năm phải từ %(first)d đến %(last)d.",
                                           first=YEARS.start, last=YEARS.stop - 1))])
    if ends_at <= starts_at:
        raise RuleBroken([Problem("end", _("Giờ kết thúc phải sau giờ bắt đầu."))])
    slot = ConnectionTestSlot(conference_id=conference.id, starts_at=starts_at,
                              ends_at=ends_at, note=note.strip())
    db.session.add(slot)
    record("connection_slot.create", target=slot, conference_id=conference.id, note=slot.note)
    return slot


def slots(conference: Conference) -> list[ConnectionTestSlot]:
    return list(db.session.scalars(
        select(ConnectionTestSlot).where(ConnectionTestSlot.conference_id == conference.id)
        .order_by(ConnectionTestSlot.starts_at)
    ))


def record_result(point: BroadcastPoint, status: ConnectionTestStatus, note: str,
                  user: User | None, slot_id: int | None = None) -> ConnectionTestResult:
    """Keep the result in the point's history and make it the point's current status."""
    if status == ConnectionTestStatus.NOT_TESTED:
        raise RuleBroken([Problem("status", _("Hãy chọn Đạt hoặc Không đạt."))])
    if status == ConnectionTestStatus.FAILED and not note.strip():
        raise RuleBroken([Problem("note", _("Hãy ghi lý do không đạt."))])
    if slot_id is not None:
        slot = db.session.get(ConnectionTestSlot, slot_id)
        if slot is None or slot.conference_id != point.conference_id:
            raise RuleBroken([Problem("slot", _("Đợt chạy thử không thuộc hội nghị này."))])
    now = utcnow()
    result = ConnectionTestResult(point_id=point.id, slot_id=slot_id, status=status,
                                  note=note.strip(), tested_at=now,
                                  recorded_by_id=user.id if user else None)
    db.session.add(result)
    point.connection_test_status = status
    point.connection_test_note = note.strip()
    point.connection_tested_at = now
    record("connection_test.record", target=point, conference_id=point.conference_id,
           point_id=point.id, status=status.value, note=note.strip())
    return result


def status_counts(conference: Conference) -> dict[ConnectionTestStatus, int]:
    rows = db.session.execute(
        select(BroadcastPoint.connection_test_status, func.count())
        .where(BroadcastPoint.conference_id == conference.id)
        .group_by(BroadcastPoint.connection_test_status)
    ).all()
    counts = {status: 0 for status in ConnectionTestStatus}
    counts.update(dict(rows))
    return counts


def history(point: BroadcastPoint) -> list[ConnectionTestResult]:
    return list(db.session.scalars(
        select(ConnectionTestResult).where(ConnectionTestResult.point_id == point.id)
        .order_by(ConnectionTestResult.tested_at.desc())
    ))
