"""Every provincial and commune point of a national conference, from the official list.

The list (confmgr/data/vn_admin_units_2025.csv) holds the 34 provinces and 3,321 communes
in force from 1 July 2025 with their official codes, which become the points' codes.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy import insert, select

from confmgr.audit.services import record
from confmgr.conferences.editing import hold_conference
from confmgr.conferences.models import Conference
from confmgr.db import db, utcnow
from confmgr.enums import ConnectionTestStatus, PointLevel
from confmgr.points.models import BroadcastPoint, point_search_text

ADMIN_UNITS_CSV = Path(__file__).resolve().parent.parent / "data" / "vn_admin_units_2025.csv"


@dataclass(frozen=True)
class Commune:
    code: str
    name: str
    kind: str  # xã, phường, đặc khu
    province_code: str


@dataclass(frozen=True)
class Province:
    code: str
    name: str
    communes: tuple[Commune, ...]


@cache
def provinces() -> dict[str, Province]:
    """The official provinces by code, each with its communes, in the list's order."""
    names: dict[str, str] = {}
    communes: dict[str, list[Commune]] = {}
    with ADMIN_UNITS_CSV.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            code = row["province_code"]
            names.setdefault(code, row["province_name"])
            communes.setdefault(code, []).append(
                Commune(row["commune_code"], row["commune_name"], row["commune_type"], code)
            )
    return {code: Province(code, names[code], tuple(communes[code])) for code in names}


@cache
def communes_by_code() -> dict[str, Commune]:
    return {c.code: c for p in provinces().values() for c in p.communes}


@dataclass(frozen=True)
class Created:
    provinces: int
    communes: int
    #: Provinces left out, with their communes: a point of another kind has their code.
    blocked: tuple[str, ...] = ()


def create_official_points(
    conference: Conference, *, communes_of: list[str] | None = None, all_communes: bool = False
) -> Created:
    """Add every province point, plus the communes of ``communes_of`` (or of every province).

    Codes already present are left as they are, so running it again adds only what is
    missing; so are units a point of another code already stands for (an organiser's own
    "QN-HALAM" for the commune 06676). Provinces hang under the conference's main venue
    when it has one; communes under their province's point. Core bulk inserts keep the
    national list under two seconds.
    """
    official = provinces()
    unknown = sorted(set(communes_of or ()) - set(official))
    if unknown:
        raise ValueError(f"unknown province codes: {', '.join(unknown)}")
    # Once each, in the order asked: a province sent twice would insert its communes twice.
    wanted = list(official) if all_communes else list(dict.fromkeys(communes_of or ()))
    # Two clicks at once: the second waits, then finds the first's points and adds none.
    hold_conference(conference)

    points = db.session.execute(
        select(BroadcastPoint.code, BroadcastPoint.level, BroadcastPoint.admin_unit_code)
        .where(BroadcastPoint.conference_id == conference.id)).all()
    codes = {point.code for point in points}
    standing_for = {(point.level, point.admin_unit_code) for point in points}

    def missing(code: str, level: PointLevel) -> bool:
        return code not in codes and (level, code) not in standing_for

    main_id = db.session.scalar(
        select(BroadcastPoint.id)
        .where(BroadcastPoint.conference_id == conference.id,
               BroadcastPoint.level == PointLevel.MAIN)
        .order_by(BroadcastPoint.id).limit(1)
    )
    now = utcnow()
    province_rows = [
        _row(conference.id, p.code, p.name, PointLevel.PROVINCE, main_id, p.code, p.code, now)
        for p in official.values() if missing(p.code, PointLevel.PROVINCE)
    ]
    if province_rows:
        db.session.execute(insert(BroadcastPoint.__table__), province_rows)

    # A province's point: the one of its code, or else a province point standing for it.
    province_ids = dict(db.session.execute(
        select(BroadcastPoint.admin_unit_code, BroadcastPoint.id).where(
            BroadcastPoint.conference_id == conference.id,
            BroadcastPoint.level == PointLevel.PROVINCE,
            BroadcastPoint.admin_unit_code.in_(list(official)),
        ).order_by(BroadcastPoint.id.desc())
    ).all())
    province_ids.update(db.session.execute(
        select(BroadcastPoint.code, BroadcastPoint.id).where(
            BroadcastPoint.conference_id == conference.id,
            BroadcastPoint.level == PointLevel.PROVINCE,
            BroadcastPoint.code.in_(list(official)),
        )
    ).all())
    # A point of another kind with a province's code ("22", a ministry's) stands for no
    # province: its communes are not hung under it, and the organiser is told.
    blocked = tuple(official[code].name for code in official if code not in province_ids)
    commune_rows = [
        _row(conference.id, c.code, c.name, PointLevel.COMMUNE, province_ids[code], c.code,
             code, now)
        for code in wanted if code in province_ids for c in official[code].communes
        if missing(c.code, PointLevel.COMMUNE)
    ]
    if commune_rows:
        db.session.execute(insert(BroadcastPoint.__table__), commune_rows)
    created = Created(len(province_rows), len(commune_rows), blocked)
    record("points.create_official", target=conference, conference_id=conference.id,
           provinces=created.provinces, communes=created.communes)
    return created


def _row(conference_id, code, name, level, parent_id, unit_code, province_code, now) -> dict:
    return {
        "conference_id": conference_id, "code": code, "name": name, "level": level,
        "parent_id": parent_id, "admin_unit_code": unit_code, "province_code": province_code,
        "search_text": point_search_text(name, code), "created_at": now,
        "connection_test_status": ConnectionTestStatus.NOT_TESTED,
    }
