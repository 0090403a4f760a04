"""Agenda rules: what a session may be, checked the same way by forms, bulk moves and the API.

Each check names the form field at fault, so the message lands where the mistake is.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from flask_babel import gettext as _
from sqlalchemy import select

from confmgr.conferences.models import (
    AgendaSession,
    Conference,
    Presenter,
    Topic,
    session_presenters,
)
from confmgr.db import db
from confmgr.enums import SessionStatus
from confmgr.text import normalise


@dataclass(frozen=True)
class Problem:
    field: str
    message: str
    #: A warning is shown but does not stop the change.
    blocking: bool = True


@dataclass(frozen=True)
class Slot:
    """Where and when a session would be, before it is saved."""

    starts_at: datetime
    ends_at: datetime
    room_id: int | None = None
    topic_id: int | None = None
    presenter_ids: tuple[int, ...] = ()
    #: The session being edited, left out of the conflict search.
    session_id: int | None = None


def local_instant(conference: Conference, day: date, at: time) -> datetime:
    """A wall-clock time on a conference day, as an aware datetime in the conference's zone."""
    return datetime.combine(day, at, conference.tz)


def ends_on_its_day(conference: Conference, starts_at: datetime, ends_at: datetime) -> bool:
    """Whether a session ends on the local day it starts. The editor has one day and two
    times, so a session past midnight could never be saved again; neither the form nor
    the .ics import accepts an end at 00:00 of the next day either."""
    tz = conference.tz
    return ends_at.astimezone(tz).date() == starts_at.astimezone(tz).date()


def _hhmm(conference: Conference, value: datetime) -> str:
    return value.astimezone(conference.tz).strftime("%H:%M")


def skipped_by_clocks(moment: datetime) -> bool:
    """Whether ``moment``'s wall time never happens in its zone: the clocks jump over it
    (02:30 on the day daylight saving starts in Europe)."""
    back = moment.astimezone(timezone.utc).astimezone(moment.tzinfo)
    return back.replace(tzinfo=None) != moment.replace(tzinfo=None)


def skipped_message(moment: datetime, zone: str) -> str:
    """Why ``moment`` (skipped_by_clocks) cannot be a time of the conference."""
    return _("Không có giờ %(time)s ngày %(day)s theo múi giờ %(zone)s: đồng hồ nhảy qua giờ "
             "đó (giờ mùa hè).", time=moment.strftime("%H:%M"),
             day=moment.strftime("%d/%m/%Y"), zone=zone)


def binds_a_cancelled_session(problem: Problem) -> bool:
    """Whether a cancelled session must still keep this rule: it takes no room and keeps
    no presenter busy (its slot may go to another session), but its own day and times must
    still make sense, and happen (not be skipped by the clocks)."""
    return problem.blocking and problem.field in ("day", "start", "end")


def check_slot(conference: Conference, slot: Slot) -> list[Problem]:
    """Every rule a session breaks, in the order of the form's fields."""
    problems: list[Problem] = []
    tz = conference.tz
    first = datetime.combine(conference.first_day, time(0), tz)
    after_last = datetime.combine(conference.last_day + timedelta(days=1), time(0), tz)
    if slot.starts_at < first or slot.starts_at >= after_last or slot.ends_at > after_last:
        first_day, last_day = (d.strftime("%d/%m/%Y") for d in (conference.first_day,
                                                                 conference.last_day))
        problems.append(Problem("day", _(
            "Phiên phải nằm trong các ngày của hội nghị (%(first)s – %(last)s).",
            first=first_day, last=last_day,
        )))
    skipped = [(name, moment) for name, moment in (("start", slot.starts_at),
                                                    ("end", slot.ends_at)) if skipped_by_clocks(moment)]
    for name, moment in skipped:
        problems.append(Problem(name, skipped_message(moment, conference.timezone)))
    if skipped:
        return problems
    # As instants: two wall times of one zone object compare by the wall clock, which
    # daylight saving can put in the other order.
    if slot.ends_at.astimezone(timezone.utc) <= slot.starts_at.astimezone(timezone.utc):
        problems.append(Problem("end", _("Giờ kết thúc phải sau giờ bắt đầu.")))
        return problems  # overlaps mean nothing for an empty or reversed interval
    # Outside the conference's days says it already, more plainly: one reason is enough.
    if not problems and not ends_on_its_day(conference, slot.starts_at, slot.ends_at):
        problems.append(Problem("end", _(
            "Phiên phải kết thúc trong ngày bắt đầu (trước 24 giờ).")))

    overlapping = (
        select(AgendaSession)
        .where(AgendaSession.conference_id == conference.id)
        .where(AgendaSession.status == SessionStatus.CONFIRMED)
        .where(AgendaSession.starts_at < slot.ends_at, AgendaSession.ends_at > slot.starts_at)
        .order_by(AgendaSession.starts_at)
    )
    if slot.session_id is not None:
        overlapping = overlapping.where(AgendaSession.id != slot.session_id)

    if slot.room_id is not None:
        clash = db.session.scalar(overlapping.where(AgendaSession.room_id == slot.room_id).limit(1))
        if clash is not None:
            problems.append(Problem("room", _(
                "Phòng này đã có phiên «%(title)s» từ %(start)s đến %(end)s.",
                title=clash.title, start=_hhmm(conference, clash.starts_at),
                end=_hhmm(conference, clash.ends_at),
            )))

    # Sessions in different rooms may run side by side; without a room to tell them apart,
    # two sessions at once are most often a mistyped time, but may be meant: a warning.
    unplaced = (overlapping if slot.room_id is None
                else overlapping.where(AgendaSession.room_id.is_(None)))
    side_by_side = db.session.scalar(unplaced.limit(1))
    if side_by_side is not None:
        problems.append(Problem("start", _(
            "Cùng giờ với phiên «%(title)s» (%(start)s–%(end)s) mà một trong hai phiên chưa có "
            "phòng. Nếu hai phiên diễn ra song song, hãy chọn phòng cho từng phiên; nếu "
            "không, hãy sửa giờ.", title=side_by_side.title,
            start=_hhmm(conference, side_by_side.starts_at),
            end=_hhmm(conference, side_by_side.ends_at)), blocking=False))

    if slot.presenter_ids:
        rows = db.session.execute(
            overlapping.with_only_columns(
                AgendaSession.title, AgendaSession.starts_at, AgendaSession.ends_at,
                session_presenters.c.presenter_id,
            )
            .join(session_presenters, session_presenters.c.session_id == AgendaSession.id)
            .where(session_presenters.c.presenter_id.in_(slot.presenter_ids))
            .limit(1)
        ).first()
        if rows is not None:
            presenter = db.session.get(Presenter, rows.presenter_id)
            problems.append(Problem("presenters", _(
                "%(name)s đã được xếp trình bày «%(title)s» từ %(start)s đến %(end)s.",
                name=presenter.name, title=rows.title,
                start=_hhmm(conference, rows.starts_at), end=_hhmm(conference, rows.ends_at),
            )))

    if slot.topic_id is not None:
        twice = select(AgendaSession.title).where(
            AgendaSession.topic_id == slot.topic_id,
            AgendaSession.status == SessionStatus.CONFIRMED,
        )
        if slot.session_id is not None:
            twice = twice.where(AgendaSession.id != slot.session_id)
        other = db.session.scalar(twice.limit(1))
        if other is not None:
            problems.append(Problem("topic", _(
                "Chuyên đề này đã được xếp ở phiên «%(title)s».", title=other
            ), blocking=False))
    return problems


#: The words people write in front of a topic's number ("Chuyên đề", "Chuyên đề số", "CĐ"),
#: matched on the text without diacritics, then spaces, dots or colons. The word must end
#: there: "CD-1" and "Cđa" are numbers of their own.
_NUMBER_PREFIX = re.compile(
    r"(?:chuyen\s*de(?:\s*so)?|cd)(?=[\s.:0-9]|$)[\s.:]*", re.IGNORECASE
)
#: Zeros before a number's first digit that is not the last digit of the run ("03a", not "0").
_LEADING_ZEROS = re.compile(r"^0+(?=[0-9])")


def _base_letters(text: str) -> str:
    """``text`` without diacritics, one character for each of its characters (NFC), so a
    match's position holds in ``text`` too."""
    return "".join("d" if c in "đĐ" else unicodedata.normalize("NFD", c)[0] for c in text)


def in_number_order(topics: Iterable[Topic]) -> list[Topic]:
    """Topics as people count them: 1, 2, … 10, 10a, not 1, 10, 10a, 2."""
    def key(topic: Topic):
        parts = re.split(r"(\d+)", bare_topic_number(topic.number).casefold())
        # isdecimal: "²" and "①" are digits to isdigit, which int() cannot read.
        return [(0, int(part), "") if part.isdecimal() else (1, 0, part) for part in parts
                if part], topic.id
    return sorted(topics, key=key)


def bare_topic_number(number: str) -> str:
    """A topic's number as stored and shown after the word "Chuyên đề": "Chuyên đề 3a",
    "CĐ. 3a" and "chuyen de so: 3a" are all "3a".

    Pages and calendars write "Chuyên đề" (or "Topic") themselves. Rows saved before this
    rule may still carry the words: show stored numbers through here.
    """
    number = normalise(number)
    prefix = _NUMBER_PREFIX.match(_base_letters(number))
    number = number[prefix.end():].strip() if prefix else number
    # "03", "3." and "3:" are topic 3, as a list typed in Word writes it.
    return _LEADING_ZEROS.sub("", number.rstrip(".:;,-–— "))


def topic_number_key(number: str) -> str:
    """What two numbers must share to be the same number: "3a", "3A" and "Chuyên đề 3a"."""
    return bare_topic_number(number).casefold()


#: As long as a topic's number may be, counted as stored (NFC can lengthen what is typed).
TOPIC_NUMBER_LIMIT = 20


def check_topic_number(conference: Conference, number: str, topic_id: int | None) -> list[Problem]:
    key = topic_number_key(number)
    if not key:
        return [Problem("number", _(
            "Hãy ghi số của chuyên đề, ví dụ 3 hoặc 3a; chữ «Chuyên đề» được thêm tự động."
        ))]
    if len(bare_topic_number(number)) > TOPIC_NUMBER_LIMIT:
        return [Problem("number", _("Dài quá %(limit)d ký tự.", limit=TOPIC_NUMBER_LIMIT))]
    # A conference has tens of topics, and stored numbers may differ in case or carry the
    # words: compare them here rather than in SQL.
    query = select(Topic.number).where(Topic.conference_id == conference.id)
    if topic_id is not None:
        query = query.where(Topic.id != topic_id)
    clash = next((other for other in db.session.scalars(query)
                  if topic_number_key(other) == key), None)
    if clash is not None:
        return [Problem("number", _("Số chuyên đề %(number)s đã có.",
                                    number=bare_topic_number(clash)))]
    return []


def slot_of(session: AgendaSession) -> Slot:
    return Slot(
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        room_id=session.room_id,
        topic_id=session.topic_id,
        presenter_ids=tuple(p.id for p in session.presenters),
        session_id=session.id,
    )
