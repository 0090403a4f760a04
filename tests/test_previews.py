"""Import previews: kept for their owner, expired after a day, swept when the next is kept."""
from __future__ import annotations

import json
import os
import time
from datetime import timedelta

import pytest

from confmgr import previews
from confmgr.conferences.editing import RuleBroken
from confmgr.db import utcnow

OWNER = {"user": 1, "point": 2}


def age(ctx, kind: str, token: str, hours: float) -> None:
    """Make a kept preview ``hours`` old, in its content and on disk."""
    path = previews._path(kind, token)
    kept = json.loads(path.read_text())
    kept["created"] = (utcnow() - timedelta(hours=hours)).isoformat()
    path.write_text(json.dumps(kept))
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def test_a_preview_opens_for_its_owner_only(ctx):
    token = previews.keep("delegates", OWNER, {"rows": [1, 2]})
    with pytest.raises(RuleBroken) as refused:
        previews.claim("delegates", token, {"user": 9, "point": 2}, "không phải của bạn")
    assert [p.message for p in refused.value.problems] == ["không phải của bạn"]
    with pytest.raises(RuleBroken):
        previews.claim("points", token, OWNER, "x")  # another kind's folder
    assert previews.claim("delegates", token, OWNER, "không phải của bạn")["rows"] == [1, 2]


def test_a_preview_older_than_a_day_is_refused_and_removed(ctx):
    token = previews.keep("delegates", OWNER, {"rows": []})
    age(ctx, "delegates", token, 25)
    with pytest.raises(RuleBroken) as expired:
        previews.claim("delegates", token, OWNER, "x")
    assert [p.message for p in expired.value.problems] == [
        "Bản xem trước đã quá 24 giờ nên đã hết hạn; hãy tải tệp lên lại."]
    assert not previews._path("delegates", token).exists()


def test_keeping_a_preview_sweeps_the_expired_ones_of_its_kind(ctx):
    old = previews.keep("delegates", OWNER, {})
    recent = previews.keep("delegates", OWNER, {})
    other_kind = previews.keep("points", OWNER, {})
    age(ctx, "delegates", old, 30)
    age(ctx, "delegates", recent, 2)
    age(ctx, "points", other_kind, 30)
    new = previews.keep("delegates", OWNER, {})
    names = sorted(p.stem for p in previews._path("delegates", "x").parent.glob("*.json"))
    assert names == sorted([recent, new])
    assert previews._path("points", other_kind).exists()  # swept with its own kind only


def test_a_confirmed_import_keeps_its_preview_until_the_commit(demo):
    from sqlalchemy import select

    from confmgr.db import db
    from confmgr.points.models import BroadcastPoint
    from confmgr.roster import importing
    from confmgr.spreadsheets import read_table

    data = "Họ và tên,Chức vụ\nNguyễn Thị Lụa,Chuyên viên\n".encode()
    with demo.app_context():
        point = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "06811"))
        rows = read_table(data, "ds.csv", importing.COLUMNS, max_rows=importing.MAX_ROWS,
                          max_bytes=importing.MAX_BYTES)
        token = importing.keep_for_confirmation(point, 0, "ds.csv", importing.check_rows(point,
                                                                                        rows))
        assert importing.confirm(point, 0, token, organiser=True) == (1, 0)
        db.session.rollback()  # the write failed: the preview is still there to confirm again
        assert previews._path(importing.KIND, token).exists()
        assert importing.confirm(point, 0, token, organiser=True) == (1, 0)
        db.session.commit()
        assert not previews._path(importing.KIND, token).exists()
