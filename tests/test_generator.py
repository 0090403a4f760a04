"""The data set generator: the sizes each preset promises, Vietnamese names, attendance and
counters that agree with the rows."""
from __future__ import annotations

from sqlalchemy import func, select

from confmgr.attendance.models import Attendance, SessionPointCount
from confmgr.conferences.models import AgendaSession, AgendaVersion
from confmgr.db import db
from confmgr.demo import names
from confmgr.demo.generator import ATTENDANCE_MIX, PRESETS, Preset, counts, generate
from confmgr.enums import PointLevel
from confmgr.points.models import BroadcastPoint
from confmgr.points.official import provinces
from confmgr.roster.models import Participant


def test_the_small_preset_has_exactly_its_sizes(ctx):
    conference = generate(PRESETS["small"])
    ids = db.session.execute(select(Participant.id)).scalars().all()
    sessions = db.session.execute(select(AgendaSession.id)).scalars().all()
    recorded = sum(1 for p in ids for s in sessions if (p * 7 + s * 13) % 100 < 98)
    assert counts(conference) == {"points": 12, "delegates": 300, "sessions": 8,
                                  "attendance": recorded}
    # One province (the official list's first) and its first eleven communes below it.
    first = next(iter(provinces().values()))
    levels = db.session.execute(select(BroadcastPoint.level, BroadcastPoint.parent_id,
                                       BroadcastPoint.province_code)).all()
    province = db.session.scalar(select(BroadcastPoint.id).where(
        BroadcastPoint.level == PointLevel.PROVINCE))
    assert sorted(set(levels)) == sorted({(PointLevel.PROVINCE, None, first.code),
                                          (PointLevel.COMMUNE, province, first.code)})
    assert db.session.scalar(select(func.count()).select_from(AgendaVersion)) == 1


def test_counters_agree_with_the_attendance_rows(ctx):
    generate(PRESETS["small"])
    truth = dict(db.session.execute(select(Attendance.status, func.count())
                                    .group_by(Attendance.status)).all())
    counted = db.session.execute(select(
        func.sum(SessionPointCount.present), func.sum(SessionPointCount.late),
        func.sum(SessionPointCount.excused), func.sum(SessionPointCount.absent))).one()
    assert tuple(counted) == tuple(truth.get(s, 0) for s in ("present", "late", "excused",
                                                              "absent"))
    total = sum(truth.values())
    # The fixed mix: 85 present, 4 late, 6 excused, 3 absent of every 98 recorded (±1 %).
    assert abs(truth["present"] / total - ATTENDANCE_MIX[0] / 98) < 0.03


def test_delegates_have_vietnamese_names_and_mostly_a_category(ctx):
    generate(PRESETS["small"])
    rows = db.session.execute(select(Participant.full_name, Participant.category_id)).all()
    givens = set(names.GIVEN_NAMES_MALE) | set(names.GIVEN_NAMES_FEMALE)
    for full_name, _category in rows:
        family, _middle, given = full_name.split(" ")
        assert family in names.FAMILY_NAMES and given in givens
    assert sum(1 for _n, category in rows if category is None) == 28  # every eleventh
    assert len({n for n, _c in rows}) > 200  # varied, not one name repeated


def test_village_points_fill_up_beyond_the_official_communes(ctx):
    first = next(iter(provinces().values()))
    communes = len(first.communes)
    conference = generate(Preset("villages", provinces=1, points=communes + 11, delegates=40))
    villages = db.session.execute(
        select(BroadcastPoint.code, BroadcastPoint.name, BroadcastPoint.parent_id)
        .where(BroadcastPoint.level == PointLevel.OTHER).order_by(BroadcastPoint.code)).all()
    assert len(villages) == 10
    assert villages[0].code == "T000001" and villages[0].name.startswith("Điểm cầu thôn 1, ")
    parent = db.session.get(BroadcastPoint, villages[0].parent_id)
    assert parent.level == PointLevel.COMMUNE
    assert counts(conference)["points"] == communes + 11


def test_generating_again_changes_nothing(ctx):
    first = generate(PRESETS["small"])
    before = counts(first)
    assert generate(PRESETS["small"]).id == first.id
    assert counts(first) == before


def test_the_command_generates_and_reports(runner):
    result = runner.invoke(args=["generate", "--preset", "small"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].startswith(
        "gen-small: 12 points, 300 delegates, 8 sessions, ")
