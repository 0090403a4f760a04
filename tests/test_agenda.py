"""Building and publishing an agenda: checks, slips, cancellations, versions and permissions."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import func, select

from confmgr.accounts.models import User
from confmgr.audit.models import AuditEntry
from confmgr.conferences import editing, publishing
from confmgr.conferences.models import AgendaSession, Conference, Presenter, Room, Topic
from confmgr.conferences.scheduling import Slot, check_slot
from confmgr.db import db
from confmgr.demo.loader import SLUG
from confmgr.enums import SessionKind, SessionStatus, Visibility
from tests.conftest import csrf_token
from tests.helpers import (
    COORDINATOR,
    ORGANISER,
    count_queries,
    field_errors,
    flashes,
    logged_in,
    post_form,
    race,
    run_at_once,
    sent_by_form,
)

EDITOR = f"/manage/c/{SLUG}/agenda"
NEW_SESSION = f"/manage/c/{SLUG}/sessions/new"
HCM = timezone(timedelta(hours=7))


def ids(app) -> dict:
    """Ids of demo objects the tests refer to."""
    with app.app_context():
        sessions = db.session.scalars(select(AgendaSession).order_by(AgendaSession.starts_at)).all()
        return {
            "sessions": [s.id for s in sessions],
            "room": db.session.scalar(select(Room.id)),
            "thang": db.session.scalar(select(Presenter.id).where(Presenter.name == "Nguyễn Xuân Thắng")),
            "topic_1": db.session.scalar(select(Topic.id).where(Topic.number == "1")),
        }


def session_form(**overrides) -> dict:
    data = {"day": "2025-06-14", "start": "17:30", "end": "18:00", "kind": "other",
            "title": "Phiên bổ sung", "topic": "", "room": "", "description": ""}
    data.update(overrides)
    return data


def local_times(app, session_id: int) -> tuple[str, str]:
    with app.app_context():
        s = db.session.get(AgendaSession, session_id)
        return s.local_start().strftime("%d/%m %H:%M"), s.local_end().strftime("%H:%M")


# ---------------------------------------------------------------- checks, on the field at fault


def test_session_outside_the_conference_days(client, demo):
    logged_in(client, ORGANISER)
    page = post_form(client, NEW_SESSION, session_form(day="2025-06-16")).get_data(as_text=True)
    # 16/06 is not offered by the form at all, so the choice itself is refused.
    assert field_errors(page, "day") == ["Lựa chọn không hợp lệ."]
    with demo.app_context():
        conference = db.session.scalar(select(Conference))
        late = Slot(datetime(2025, 6, 15, 23, 30, tzinfo=HCM), datetime(2025, 6, 16, 0, 30, tzinfo=HCM))
        assert [(p.field, p.message) for p in check_slot(conference, late)] == [
            ("day", "Phiên phải nằm trong các ngày của hội nghị (14/06/2025 – 15/06/2025).")
        ]


def test_end_must_come_after_start(client, demo):
    logged_in(client, ORGANISER)
    page = post_form(client, NEW_SESSION, session_form(start="18:00", end="17:00")).get_data(as_text=True)
    assert field_errors(page, "end") == ["Giờ kết thúc phải sau giờ bắt đầu."]
    assert field_errors(page, "start") == []


def test_two_sessions_in_one_room_at_once(client, demo):
    known = ids(demo)
    logged_in(client, ORGANISER)
    page = post_form(client, NEW_SESSION, session_form(
        start="08:15", end="08:45", room=known["room"],
    )).get_data(as_text=True)
    assert field_errors(page, "room") == [
        "Phòng này đã có phiên «Phát biểu khai mạc hội nghị» từ 08:00 đến 08:30."
    ]
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(AgendaSession)) == 16


def test_touching_sessions_do_not_clash(client, demo):
    known = ids(demo)
    logged_in(client, ORGANISER)
    response = post_form(client, NEW_SESSION, session_form(
        start="17:30", end="18:00", room=known["room"],  # the discussion ends at 17:30
    ))
    assert response.status_code == 302


def test_a_presenter_in_two_places_at_once(client, demo):
    known = ids(demo)
    logged_in(client, ORGANISER)
    page = post_form(client, NEW_SESSION, session_form(
        start="08:10", end="08:20", presenters=[known["thang"]],
    )).get_data(as_text=True)
    assert field_errors(page, "presenters") == [
        "Nguyễn Xuân Thắng đã được xếp trình bày «Phát biểu khai mạc hội nghị» từ 08:00 đến 08:30."
    ]


def test_duplicate_topic_numbers(client, demo):
    logged_in(client, ORGANISER)
    page = post_form(client, f"/manage/c/{SLUG}/topics/new", {
        "number": "3", "title": "Trùng số", "summary": "",
    }).get_data(as_text=True)
    assert field_errors(page, "number") == ["Số chuyên đề 3 đã có."]


def another_organiser_saves_first(demo, table, row: dict) -> None:
    """Just before this request writes, ``row`` is committed beside it, past the checks,
    so only the database's constraint sees the clash. (Organisers' saves hold the
    conference, so two at once are checked one after the other; on SQLite that hold is
    the database's write lock, which this commit would wait for.)"""
    from sqlalchemy import event, insert
    from sqlalchemy.orm import Session

    def commit_theirs(session, flush_context, instances):
        with db.engine.begin() as connection:
            conference_id = connection.scalar(select(Conference.id).where(Conference.slug == SLUG))
            connection.execute(insert(table), {"conference_id": conference_id, **row})

    event.listen(Session, "before_flush", commit_theirs, once=True)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("form, table, theirs, field, message", [
    ("topics/new", Topic, {"number": "9", "title": "Của người kia", "summary": ""},
     "number", "Số chuyên đề 9 đã có."),
    ("rooms", Room, {"name": "Phòng 9"}, "name", "Đã có phòng tên này."),
])
def test_a_number_or_room_the_constraint_finds_taken_is_told_on_its_field(
        client, demo, form, table, theirs, field, message):
    logged_in(client, ORGANISER)
    with demo.app_context():
        another_organiser_saves_first(demo, table, theirs)
    response = post_form(client, f"/manage/c/{SLUG}/{form}",
                         {"number": "9", "title": "Của tôi", "summary": "", "name": "Phòng 9"})
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), field) == [message]
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(table).where(
            (Topic.number == "9") if table is Topic else (Room.name == "Phòng 9"))) == 1


@pytest.mark.parametrize("save, first, other, message", [
    (editing.save_topic, ("9a", "Một", ""), ("9A", "Hai", ""), "Số chuyên đề 9a đã có."),
    (editing.save_room, ("Phòng họp số 9",), ("PHÒNG HỌP SỐ 9",), "Đã có phòng tên này."),
    (editing.save_presenter, ("Nguyễn Thị Hoà", "Giảng viên", "Học viện"),
     ("Nguyễn Thị Hòa", "giảng viên", "Học viện"),
     "Đã có báo cáo viên Nguyễn Thị Hòa cùng chức vụ và đơn vị."),
])
def test_one_number_room_or_presenter_written_two_ways_at_once_is_saved_once(
        demo, save, first, other, message):
    """Two organisers save the same topic number, room or presenter, written differently
    ("9a" and "9A"; the presenter's tone in the other accepted place) at the same moment:
    each checked before the other wrote, and the database, keeping case and letters, saw
    two. Now the second is checked after the first and refused."""
    with demo.app_context():
        conference_id = db.session.scalar(select(Conference.id).where(Conference.slug == SLUG))
        table = {editing.save_topic: Topic, editing.save_room: Room,
                 editing.save_presenter: Presenter}[save]
        before = db.session.scalar(select(func.count()).select_from(table))

    def saving(values):
        return lambda: save(db.session.get(Conference, conference_id), None, *values)

    errors = race(demo, saving(first), f"SELECT {table.__tablename__}.", saving(other))
    assert list(errors) == ["other"]
    assert [p.message for p in errors["other"].problems] == [message]
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(table)) == before + 1


def test_two_organisers_booking_one_room_at_once_get_one_session(demo, monkeypatch):
    """Each save checks the room free, then waits (up to 1 s) for the other to have
    checked too: unless the first save holds the agenda until it commits, both book it."""
    import threading

    checked = threading.Barrier(2)
    check_slot_itself = editing.check_slot

    def check_then_wait(conference, slot):
        problems = check_slot_itself(conference, slot)
        try:
            checked.wait(timeout=1)
        except threading.BrokenBarrierError:
            pass  # the other save waits for this one to commit, as it should
        return problems

    monkeypatch.setattr(editing, "check_slot", check_then_wait)
    with demo.app_context():
        conference_id = db.session.scalar(select(Conference.id).where(Conference.slug == SLUG))
        room_id = db.session.scalar(select(Room.id))
    outcomes, errors = [], []

    def save(title: str) -> None:
        try:
            with demo.app_context():
                try:
                    editing.save_session(db.session.get(Conference, conference_id), None,
                                         editing.SessionFields(
                        day=date(2025, 6, 15), start=time(19), end=time(20),
                        kind=SessionKind.OTHER, title=title, room_id=room_id))
                    db.session.commit()
                    outcomes.append("saved")
                except editing.RuleBroken as broken:
                    db.session.rollback()
                    outcomes.append(broken.problems[0].field)
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=save, args=(title,)) for title in ("Tổ 1", "Tổ 2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(outcomes) == ["room", "saved"]
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(AgendaSession).where(
            AgendaSession.title.in_(["Tổ 1", "Tổ 2"]))) == 1


def test_a_clash_no_rule_foresees_is_said_and_nothing_is_written(demo):
    from flask import get_flashed_messages

    from confmgr.web import commit_or_show

    with demo.test_request_context():
        conference_id = db.session.scalar(select(Conference.id).where(Conference.slug == SLUG))
        taken = db.session.scalar(select(Room.name))
        assert commit_or_show(None, lambda: db.session.add(
            Room(conference_id=conference_id, name=taken))) == (False, None)
        assert get_flashed_messages() == [
            "Người khác vừa thay đổi cùng dữ liệu này; hãy xem lại rồi thử lại."]
        assert db.session.scalar(select(func.count()).select_from(Room)) == 1


def test_sessions_at_once_without_rooms_to_tell_them_apart_are_a_warning(client, demo):
    logged_in(client, ORGANISER)
    assert post_form(client, f"/manage/c/{SLUG}/rooms", {"name": "Phòng 2"}).status_code == 302
    with demo.app_context():
        second_room = db.session.scalar(select(Room.id).where(Room.name == "Phòng 2"))
    # Side by side with the opening speech, in a room of its own: nothing to say.
    response = post_form(client, NEW_SESSION, session_form(
        start="08:10", end="08:20", title="Tổ 2", room=second_room), follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == ["Đã lưu phiên «Tổ 2»."]
    # Without a room, it may be the same session typed at a wrong time.
    response = post_form(client, NEW_SESSION, session_form(
        start="08:10", end="08:20", title="Tổ 3"), follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == [
        "Đã lưu phiên «Tổ 3».",
        "Cùng giờ với phiên «Phát biểu khai mạc hội nghị» (08:00–08:30) mà một trong hai phiên "
        "chưa có phòng. Nếu hai phiên diễn ra song song, hãy chọn phòng cho từng phiên; nếu "
        "không, hãy sửa giờ."]
    # In a room of its own beside the one without: the one without is named.
    assert post_form(client, f"/manage/c/{SLUG}/rooms", {"name": "Phòng 3"}).status_code == 302
    with demo.app_context():
        third_room = db.session.scalar(select(Room.id).where(Room.name == "Phòng 3"))
    response = post_form(client, NEW_SESSION, session_form(
        start="08:12", end="08:18", title="Tổ 4", room=third_room), follow_redirects=True)
    assert flashes(response.get_data(as_text=True))[1:] == [
        "Cùng giờ với phiên «Tổ 3» (08:10–08:20) mà một trong hai phiên chưa có phòng. Nếu "
        "hai phiên diễn ra song song, hãy chọn phòng cho từng phiên; nếu không, hãy sửa giờ."]


def test_organisers_put_a_sessions_presenters_in_order(client, demo):
    with demo.app_context():
        conference = db.session.scalar(select(Conference))
        trio = [editing.save_presenter(conference, None, name, "", "Ban Tổ chức")
                for name in ("Lê Văn A", "Trần Thị B", "Phạm Văn C")]
        db.session.commit()
        a, b, c = (p.id for p in trio)
    logged_in(client, ORGANISER)
    response = post_form(client, NEW_SESSION, session_form(presenters=[a, b, c]))
    session_id = int(re.search(r"#s(\d+)$", response.headers["Location"]).group(1))
    edit = f"/manage/c/{SLUG}/sessions/{session_id}/edit"

    def order() -> list[str]:
        page = client.get(edit).get_data(as_text=True)
        listed = page[page.index('<ol class="list-group list-group-numbered presenter-order">'):]
        return re.findall(r'<span class="me-auto">([^<,]+)', listed[:listed.index("</ol>")])

    assert order() == ["Lê Văn A", "Trần Thị B", "Phạm Văn C"]
    moved = post_form(client, f"/manage/c/{SLUG}/sessions/{session_id}/presenters/{c}/up", {})
    assert moved.headers["Location"] == f"{edit}#presenter-order"
    assert order() == ["Lê Văn A", "Phạm Văn C", "Trần Thị B"]
    post_form(client, f"/manage/c/{SLUG}/sessions/{session_id}/presenters/{a}/down", {})
    post_form(client, f"/manage/c/{SLUG}/sessions/{session_id}/presenters/{b}/down", {})  # last
    assert order() == ["Phạm Văn C", "Lê Văn A", "Trần Thị B"]
    # Saving the form again, which sends its choices by name, keeps that order.
    post_form(client, edit, session_form(presenters=[a, b, c]))
    assert order() == ["Phạm Văn C", "Lê Văn A", "Trần Thị B"]
    with demo.app_context():
        entries = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "session.update").order_by(AuditEntry.id)).all()
        assert [e.details for e in entries] == [
            {"presenter_ids": [[a, b, c], [a, c, b]]},
            {"presenter_ids": [[a, c, b], [c, a, b]]}, {}]  # the form saved unchanged
    thang = ids(demo)["thang"]
    response = post_form(client, f"/manage/c/{SLUG}/sessions/{session_id}/presenters/{thang}/up",
                         {}, follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == ["Báo cáo viên này không có trong phiên."]


def test_a_thousand_problems_flash_twenty_and_how_many_more(demo):
    """Flash messages travel in the session cookie, which a browser drops whole past 4 KB:
    a file refused on a thousand rows said nothing at all."""
    from flask import get_flashed_messages

    from confmgr.conferences.scheduling import Problem
    from confmgr.web import commit_or_flash

    def refuse():
        raise editing.RuleBroken([Problem("", f"Dòng {n}: thiếu họ tên.")
                                  for n in range(2, 1002)])

    with demo.test_request_context():
        assert commit_or_flash(refuse) == (False, None)
        said = get_flashed_messages()
    assert said == [f"Dòng {n}: thiếu họ tên." for n in range(2, 22)] + [
        "Còn 980 lỗi nữa không liệt kê."]


def test_a_topic_scheduled_twice_is_a_warning_not_a_refusal(client, demo):
    known = ids(demo)
    logged_in(client, ORGANISER)
    response = post_form(client, NEW_SESSION, session_form(
        kind="topic", title="Chuyên đề 1 (buổi chiều)", topic=known["topic_1"],
    ), follow_redirects=True)
    messages = flashes(response.get_data(as_text=True))
    assert "Đã lưu phiên «Chuyên đề 1 (buổi chiều)»." in messages
    assert (
        "Chuyên đề này đã được xếp ở phiên «Công tác tổ chức xây dựng Đảng; tổ chức cơ sở Đảng, "
        "bộ máy và hoạt động cấp ủy cấp xã (mới)»." in messages
    )
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(AgendaSession)) == 17


def test_editing_a_session_keeps_it_out_of_its_own_way(client, demo):
    known = ids(demo)
    opening = known["sessions"][1]
    logged_in(client, ORGANISER)
    response = post_form(client, f"/manage/c/{SLUG}/sessions/{opening}/edit", session_form(
        start="08:00", end="08:35", kind="opening", title="Khai mạc", room=known["room"],
        presenters=[known["thang"]],
    ))
    # 08:30-08:35 now overlaps the directive speech in the same room.
    page = response.get_data(as_text=True)
    assert field_errors(page, "room") == [
        "Phòng này đã có phiên «Phát biểu chỉ đạo của Thủ tướng Chính phủ» từ 08:30 đến 09:15."
    ]
    response = post_form(client, f"/manage/c/{SLUG}/sessions/{opening}/edit", session_form(
        start="08:00", end="08:30", kind="opening", title="Khai mạc hội nghị",
        room=known["room"], presenters=[known["thang"]],
    ))
    assert response.status_code == 302
    assert local_times(demo, opening) == ("14/06 08:00", "08:30")


def test_a_presenter_picked_twice_is_one_presenter(client, demo):
    known = ids(demo)
    logged_in(client, ORGANISER)
    response = post_form(client, f"/manage/c/{SLUG}/sessions/new", session_form(
        presenters=[known["thang"], known["thang"]]))
    assert response.status_code == 302
    with demo.app_context():
        added = db.session.scalar(select(AgendaSession).where(
            AgendaSession.title == "Phiên bổ sung"))
        assert [p.id for p in added.presenters] == [known["thang"]]


# ---------------------------------------------------------------- slips


def test_shift_a_session_and_every_later_one_that_day(client, demo):
    known = ids(demo)
    sessions = known["sessions"]
    logged_in(client, ORGANISER)
    before = [local_times(demo, i) for i in sessions]
    topic_3 = sessions[6]  # 13:30
    response = post_form(client, f"/manage/c/{SLUG}/sessions/{topic_3}/shift",
                         {"minutes": "20", "scope": "following"})
    assert response.status_code == 302
    after = [local_times(demo, i) for i in sessions]
    assert after[:6] == before[:6]  # the morning stays
    assert after[6:11] == [
        ("14/06 13:50", "14:50"), ("14/06 14:50", "15:50"), ("14/06 15:50", "16:05"),
        ("14/06 16:05", "17:05"), ("14/06 17:05", "17:50"),
    ]
    assert after[11:] == before[11:]  # day 2 stays


def test_a_shift_of_no_minutes_or_none_typed_says_which(client, demo):
    sessions = ids(demo)["sessions"]
    logged_in(client, ORGANISER)
    before = [local_times(demo, i) for i in sessions]
    for typed, message in (("0", "Nhập số phút khác 0."), ("", "Chưa điền mục này.")):
        page = post_form(client, f"/manage/c/{SLUG}/sessions/{sessions[6]}/shift",
                         {"minutes": typed, "scope": "following"}).get_data(as_text=True)
        assert field_errors(page, "minutes") == [message]
    assert [local_times(demo, i) for i in sessions] == before


def test_shift_is_all_or_nothing(client, demo):
    sessions = ids(demo)["sessions"]
    logged_in(client, ORGANISER)
    before = [local_times(demo, i) for i in sessions]
    # +10 hours pushes the last day's afternoon past the conference's end: nothing may move.
    page = post_form(client, f"/manage/c/{SLUG}/sessions/{sessions[14]}/shift",
                     {"minutes": "600", "scope": "following"}).get_data(as_text=True)
    assert field_errors(page, "minutes") == [
        f"«{title}»: Phiên phải nằm trong các ngày của hội nghị (14/06/2025 – 15/06/2025)."
        for title in ("Thảo luận, trao đổi, giải đáp vướng mắc tại các điểm cầu",
                      "Bế mạc hội nghị")
    ]
    assert [local_times(demo, i) for i in sessions] == before


def test_shift_one_session_into_another_is_refused(client, demo):
    sessions = ids(demo)["sessions"]
    logged_in(client, ORGANISER)
    page = post_form(client, f"/manage/c/{SLUG}/sessions/{sessions[3]}/shift",
                     {"minutes": "-30", "scope": "only"}).get_data(as_text=True)
    assert field_errors(page, "minutes") == [
        "«Công tác tổ chức xây dựng Đảng; tổ chức cơ sở Đảng, bộ máy và hoạt động cấp ủy cấp xã "
        "(mới)»: Phòng này đã có phiên «Phát biểu chỉ đạo của Thủ tướng Chính phủ» từ 08:30 "
        "đến 09:15."
    ]
    assert local_times(demo, sessions[3]) == ("14/06 09:15", "10:15")


def test_a_shift_keeps_each_session_on_its_day(client, demo):
    """Past midnight, forward or back, a slip would put a session among another day's
    sessions unannounced: refused, and nothing moves."""
    sessions = ids(demo)["sessions"]
    logged_in(client, ORGANISER)
    before = [local_times(demo, i) for i in sessions]
    # 16:45–17:30 on the 14th + 450 minutes would be 00:15–01:00 on the 15th.
    page = post_form(client, f"/manage/c/{SLUG}/sessions/{sessions[10]}/shift",
                     {"minutes": "450", "scope": "following"}).get_data(as_text=True)
    assert field_errors(page, "minutes") == [
        "«Trao đổi, giải đáp khó khăn, vướng mắc từ các điểm cầu»: Dời giờ không đưa phiên "
        "sang ngày khác; hãy sửa ngày giờ của phiên."]
    # The first session of the 15th − 600 minutes would start on the 14th.
    page = post_form(client, f"/manage/c/{SLUG}/sessions/{sessions[11]}/shift",
                     {"minutes": "-600", "scope": "only"}).get_data(as_text=True)
    assert [error.split("»: ")[1] for error in field_errors(page, "minutes")] == [
        "Dời giờ không đưa phiên sang ngày khác; hãy sửa ngày giờ của phiên."]
    assert [local_times(demo, i) for i in sessions] == before


def test_a_session_ends_on_the_day_it_starts(client, demo):
    """Past midnight the editor could never save the session again, nor the import read
    our own feed back: the rule is check_slot's, so the editor, shifts and the import
    share it."""
    sessions = ids(demo)["sessions"]
    logged_in(client, ORGANISER)
    # 16:45 + 400 minutes is 23:25, and it would end at 00:10 on the 15th.
    page = post_form(client, f"/manage/c/{SLUG}/sessions/{sessions[10]}/shift",
                     {"minutes": "400", "scope": "only"}).get_data(as_text=True)
    assert field_errors(page, "minutes") == [
        "«Trao đổi, giải đáp khó khăn, vướng mắc từ các điểm cầu»: Phiên phải kết thúc trong "
        "ngày bắt đầu (trước 24 giờ)."
    ]
    assert local_times(demo, sessions[10]) == ("14/06 16:45", "17:30")
    # Up to the last minute of the day is fine.
    assert post_form(client, f"/manage/c/{SLUG}/sessions/{sessions[10]}/shift",
                     {"minutes": "389", "scope": "only"}).status_code == 302
    assert local_times(demo, sessions[10]) == ("14/06 23:14", "23:59")
    with demo.app_context():
        conference = db.session.scalar(select(Conference))
        for end in (datetime(2025, 6, 15, 0, 10, tzinfo=HCM),
                    datetime(2025, 6, 15, 0, 0, tzinfo=HCM)):  # as the form and import
            late = Slot(datetime(2025, 6, 14, 23, 25, tzinfo=HCM), end)
            assert [(p.field, p.message) for p in check_slot(conference, late)
                    if p.blocking] == [
                ("end", "Phiên phải kết thúc trong ngày bắt đầu (trước 24 giờ).")
            ]


# ---------------------------------------------------------------- cancel, don't delete


def test_published_session_cannot_be_deleted_only_cancelled(client, demo):
    sessions = ids(demo)["sessions"]
    logged_in(client, ORGANISER)
    url = f"/manage/c/{SLUG}/sessions/{sessions[4]}"
    token = csrf_token(client, EDITOR)
    page = client.post(f"{url}/delete", data={"csrf_token": token}, follow_redirects=True)
    assert ("Phiên này đã được công bố nên không xóa được; hãy hủy phiên để lịch của đại biểu "
            "được cập nhật.") in flashes(page.get_data(as_text=True))
    client.post(f"{url}/cancel", data={"csrf_token": token})
    client.post(f"{url}/cancel", data={"csrf_token": token})  # a second click: no change
    with demo.app_context():
        assert db.session.get(AgendaSession, sessions[4]).status == SessionStatus.CANCELLED
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "session.cancel")) == 1
        publishing.publish(db.session.scalar(select(Conference)), None, "Hủy giải lao")
        db.session.commit()
    public = client.get(f"/c/{SLUG}/").get_data(as_text=True)
    assert f'<tr id="s{sessions[4]}" class="session kind-break cancelled">' in public


def test_a_cancelled_session_stays_editable_once_its_slot_is_given_away(client, demo):
    known = ids(demo)
    opening = known["sessions"][1]
    logged_in(client, ORGANISER)
    token = csrf_token(client, EDITOR)
    client.post(f"/manage/c/{SLUG}/sessions/{opening}/cancel", data={"csrf_token": token})
    # Its room and presenter now go to a replacement at the same time…
    assert post_form(client, NEW_SESSION, session_form(
        start="08:00", end="08:30", kind="opening", title="Khai mạc (thay thế)",
        room=known["room"], presenters=[known["thang"]])).status_code == 302
    # …and the cancelled one can still be corrected, its own times still checked.
    edit = f"/manage/c/{SLUG}/sessions/{opening}/edit"
    assert post_form(client, edit, session_form(
        start="08:00", end="08:30", kind="opening", title="Khai mạc (đã hủy)",
        room=known["room"], presenters=[known["thang"]])).status_code == 302
    page = post_form(client, edit, session_form(
        start="09:00", end="08:30", kind="opening", title="Khai mạc (sai giờ)",
        room=known["room"])).get_data(as_text=True)
    assert field_errors(page, "end") == ["Giờ kết thúc phải sau giờ bắt đầu."]
    with demo.app_context():
        assert db.session.get(AgendaSession, opening).title == "Khai mạc (đã hủy)"
    # Reinstating it now clashes: the page says which session could not come back.
    response = client.post(f"/manage/c/{SLUG}/sessions/{opening}/reinstate",
                           data={"csrf_token": token}, follow_redirects=True)
    said = flashes(response.get_data(as_text=True))
    assert said[0].startswith("Không khôi phục được phiên «Khai mạc (đã hủy)»: ")
    assert "«Khai mạc (thay thế)» từ 08:00 đến 08:30" in said[0]
    with demo.app_context():
        assert db.session.get(AgendaSession, opening).status == SessionStatus.CANCELLED


def test_unpublished_session_can_be_deleted(client, demo):
    logged_in(client, ORGANISER)
    post_form(client, NEW_SESSION, session_form(title="Sẽ xóa"))
    with demo.app_context():
        new_id = db.session.scalar(select(AgendaSession.id).where(AgendaSession.title == "Sẽ xóa"))
    response = client.post(f"/manage/c/{SLUG}/sessions/{new_id}/delete",
                           data={"csrf_token": csrf_token(client, EDITOR)})
    assert response.status_code == 302
    with demo.app_context():
        assert db.session.get(AgendaSession, new_id) is None
        deleted = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "session.delete"))
        assert deleted.details == {"title": "Sẽ xóa"}


# ---------------------------------------------------------------- versions and the changelog


def make_version_2(app) -> dict:
    """Move, retitle, cancel and add, then publish version 2."""
    with app.app_context():
        conference = db.session.scalar(select(Conference))
        sessions = db.session.scalars(select(AgendaSession).order_by(AgendaSession.starts_at)).all()
        sessions[6].starts_at += timedelta(minutes=30)   # topic 3: 13:30 -> 14:00
        sessions[6].ends_at += timedelta(minutes=30)
        sessions[7].starts_at += timedelta(minutes=30)   # topic 4 follows
        sessions[7].ends_at += timedelta(minutes=30)
        sessions[13].title = "Hướng dẫn nghiệp vụ ở cấp xã (mới)"
        editing.cancel_session(sessions[12])
        editing.save_session(conference, None, editing.SessionFields(
            day=date(2025, 6, 15), start=time(16, 0), end=time(16, 30),
            kind=SessionKind.OTHER, title="Chụp ảnh lưu niệm",
        ))
        publishing.publish(conference, None, "Điều chỉnh chiều ngày 14/6")
        db.session.commit()
        return {"topic_3": sessions[6].uid, "retitled": sessions[13].uid}


def test_changelog_diff_between_two_versions(demo):
    make_version_2(demo)
    with demo.app_context():
        conference = db.session.scalar(select(Conference))
        v2, v1 = publishing.versions(conference)
        changes = publishing.diff_snapshots(v1.snapshot, v2.snapshot)
        room = "Hội trường chính, Học viện Chính trị quốc gia Hồ Chí Minh"
        zone = "Asia/Ho_Chi_Minh"
        assert [(c.kind, c.title, c.old, c.new) for c in changes] == [
            ("moved", TOPIC_3, {"starts_at": "2025-06-14T06:30:00+00:00",
                                "ends_at": "2025-06-14T07:30:00+00:00", "room": room,
                                "zone": zone},
             {"starts_at": "2025-06-14T07:00:00+00:00",
              "ends_at": "2025-06-14T08:00:00+00:00", "room": room, "zone": zone}),
            ("moved", TOPIC_4, {"starts_at": "2025-06-14T07:30:00+00:00",
                                "ends_at": "2025-06-14T08:30:00+00:00", "room": room,
                                "zone": zone},
             {"starts_at": "2025-06-14T08:00:00+00:00",
              "ends_at": "2025-06-14T09:00:00+00:00", "room": room, "zone": zone}),
            ("cancelled", "Giải lao", {}, {}),
            ("retitled", "Hướng dẫn nghiệp vụ ở cấp xã (mới)",
             {"title": "Hướng dẫn một số lĩnh vực công tác cụ thể ở cấp xã (mới)"},
             {"title": "Hướng dẫn nghiệp vụ ở cấp xã (mới)"}),
            ("added", "Chụp ảnh lưu niệm", {}, {"starts_at": "2025-06-15T09:00:00+00:00",
                                                  "ends_at": "2025-06-15T09:30:00+00:00",
                                                  "room": None, "zone": zone,
                                                  "cancelled": False}),
        ]


TOPIC_3 = "Những điểm mới cơ bản trong công tác kiểm tra, giám sát của Đảng"
TOPIC_4 = "Tổ chức và hoạt động của MTTQ và các đoàn thể chính trị ở cấp xã (mới)"


def test_changelog_page_and_atom_feed(client, demo):
    make_version_2(demo)
    page = client.get(f"/c/{SLUG}/changelog").get_data(as_text=True)
    assert "Phiên bản 2" in page and "Điều chỉnh chiều ngày 14/6" in page
    assert f"Đổi giờ/phòng:</strong> {TOPIC_3}" in page
    words = " ".join(page.split())
    assert (f"<strong>Đổi giờ/phòng:</strong> {TOPIC_3} — 13:30–14:30 14/06/2025 → "
            "14:00–15:00 14/06/2025") in words
    assert "<strong>Thêm:</strong> Chụp ảnh lưu niệm — 16:00–16:30 15/06/2025" in words
    assert "Công bố lần đầu: 16 phiên." in page

    agenda = client.get(f"/c/{SLUG}/").get_data(as_text=True)
    assert (f'<link rel="alternate" type="application/atom+xml" title="Thay đổi chương trình" '
            f'href="/c/{SLUG}/changelog.atom">') in agenda

    response = client.get(f"/c/{SLUG}/changelog.atom")
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    atom = "{http://www.w3.org/2005/Atom}"
    feed = ET.fromstring(response.data)
    entries = feed.findall(f"{atom}entry")
    assert [e.findtext(f"{atom}title") for e in entries] == ["Phiên bản 2", "Phiên bản 1"]
    content = " ".join(entries[0].findtext(f"{atom}content").split())
    assert "<p>Điều chỉnh chiều ngày 14/6</p>" in content
    assert "<strong>Hủy:</strong> Giải lao </li>" in content
    assert ("<strong>Đổi tên:</strong> Hướng dẫn nghiệp vụ ở cấp xã (mới) — «Hướng dẫn một số "
            "lĩnh vực công tác cụ thể ở cấp xã (mới)» → «Hướng dẫn nghiệp vụ ở cấp xã (mới)» "
            "</li>") in content
    # Same room before and after: only the times are told.
    assert (f"<strong>Đổi giờ/phòng:</strong> {TOPIC_3} — 13:30–14:30 14/06/2025 → "
            "14:00–15:00 14/06/2025 </li>") in content


def test_a_session_only_made_longer_shows_its_new_end(client, demo):
    with demo.app_context():
        topic = db.session.scalar(select(AgendaSession).where(AgendaSession.title == TOPIC_3))
        topic.ends_at += timedelta(minutes=30)
        publishing.publish(topic.conference, None, "Kéo dài chuyên đề")
        db.session.commit()
    page = " ".join(client.get(f"/c/{SLUG}/changelog").get_data(as_text=True).split())
    assert (f"<strong>Đổi giờ/phòng:</strong> {TOPIC_3} — 13:30–14:30 14/06/2025 → "
            "13:30–15:00 14/06/2025") in page


def test_unpublished_edits_never_reach_public_pages(client, demo):
    known = ids(demo)
    logged_in(client, ORGANISER)
    post_form(client, f"/manage/c/{SLUG}/sessions/{known['sessions'][1]}/edit", session_form(
        start="08:00", end="08:30", kind="opening", title="Khai mạc (bản nháp)",
        room=known["room"], presenters=[known["thang"]],
    ))
    post_form(client, f"/manage/c/{SLUG}/edit", {
        "title": "Tên nháp", "slug": SLUG, "organising_unit": "Đơn vị nháp", "description": "",
        "timezone": "Asia/Ho_Chi_Minh", "first_day": "2025-06-14", "last_day": "2025-06-15",
        "checkin_opens_minutes": "60", "checkin_closes_minutes": "120",
    })
    for url in (f"/c/{SLUG}/", f"/c/{SLUG}/print", f"/c/{SLUG}/agenda.ics",
                f"/c/{SLUG}/changelog", f"/c/{SLUG}/changelog.atom"):
        body = client.get(url).get_data(as_text=True)
        assert "bản nháp" not in body and "Tên nháp" not in body, url
    assert "Khai mạc (bản nháp)" in client.get(EDITOR).get_data(as_text=True)
    assert "2 thay đổi chưa công bố" in client.get(EDITOR).get_data(as_text=True)

    response = post_form(client, f"/manage/c/{SLUG}/publish", {"comment": "Đổi tên"})
    assert response.status_code == 302
    public = client.get(f"/c/{SLUG}/").get_data(as_text=True)
    assert "Khai mạc (bản nháp)" in public and "Tên nháp" in public
    assert "Phiên bản 2" in public


def test_a_new_time_zone_keeps_every_session_at_its_local_times(client, demo):
    """The agenda says "8:00 on the 14th": in Tokyo's zone it still says so, which is two
    hours earlier in UTC, and the organiser is told to publish again."""
    with demo.app_context():
        before = {s.id: (s.starts_at, s.ends_at) for s in db.session.scalars(
            select(AgendaSession))}
    logged_in(client, ORGANISER)
    page = post_form(client, f"/manage/c/{SLUG}/edit", {
        "title": "Hội nghị", "slug": SLUG, "organising_unit": "", "description": "",
        "timezone": "Asia/Tokyo", "first_day": "2025-06-14", "last_day": "2025-06-15",
        "checkin_opens_minutes": "60", "checkin_closes_minutes": "120",
    }, follow_redirects=True).get_data(as_text=True)
    assert flashes(page) == [
        "Đã lưu.",
        f"Múi giờ mới: {len(before)} phiên giữ nguyên giờ địa phương, nên đổi thời điểm; "
        "hãy công bố lại để lịch của đại biểu cập nhật."]
    with demo.app_context():
        after = {s.id: (s.starts_at, s.ends_at) for s in db.session.scalars(
            select(AgendaSession))}
        entry = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "conference.update")).one()
        assert entry.details["sessions_moved"] == len(before)
        assert entry.details["timezone"] == ["Asia/Ho_Chi_Minh", "Asia/Tokyo"]
    assert after == {id_: (start - timedelta(hours=2), end - timedelta(hours=2))
                     for id_, (start, end) in before.items()}
    editor = client.get(EDITOR).get_data(as_text=True)
    # Every session moved, and the conference itself changed.
    assert re.search(r"(\d+) thay đổi chưa công bố", editor).group(1) == str(len(before) + 1)
    # Saving again in the same zone moves nothing.
    page = post_form(client, f"/manage/c/{SLUG}/edit", {
        "title": "Hội nghị", "slug": SLUG, "organising_unit": "", "description": "",
        "timezone": "Asia/Tokyo", "first_day": "2025-06-14", "last_day": "2025-06-15",
        "checkin_opens_minutes": "60", "checkin_closes_minutes": "120",
    }, follow_redirects=True).get_data(as_text=True)
    assert flashes(page) == ["Đã lưu."]
    with demo.app_context():
        assert {s.id: (s.starts_at, s.ends_at) for s in db.session.scalars(
            select(AgendaSession))} == after


def conference_form(**overrides) -> dict:
    data = {"title": "Hội nghị", "slug": SLUG, "organising_unit": "", "description": "",
            "timezone": "Asia/Ho_Chi_Minh", "first_day": "2025-06-14", "last_day": "2025-06-15",
            "checkin_opens_minutes": "60", "checkin_closes_minutes": "120"}
    data.update(overrides)
    return data

def test_the_changelog_draws_each_version_in_its_own_time_zone(client, demo):
    """After a move to Tokyo's zone every session keeps its local times: the changelog
    shows 13:30 before and after, each side named by its zone, not the old instant drawn
    in the new zone (11:30 → 13:30)."""
    logged_in(client, ORGANISER)
    post_form(client, f"/manage/c/{SLUG}/edit", conference_form(timezone="Asia/Tokyo"))
    assert post_form(client, f"/manage/c/{SLUG}/publish", {"comment": ""}).status_code == 302
    words = " ".join(client.get(f"/c/{SLUG}/changelog").get_data(as_text=True).split())
    assert (f"<strong>Đổi giờ/phòng:</strong> {TOPIC_3} — 13:30–14:30 14/06/2025 "
            "(Asia/Ho_Chi_Minh) → 13:30–14:30 14/06/2025 (Asia/Tokyo)") in words


def test_a_session_cancelled_before_readers_saw_it_is_announced_cancelled(client, demo):
    with demo.app_context():
        conference = db.session.scalar(select(Conference))
        added, _ = editing.save_session(conference, None, editing.SessionFields(
            day=date(2025, 6, 15), start=time(16, 0), end=time(16, 30),
            kind=SessionKind.OTHER, title="Chụp ảnh lưu niệm"))
        editing.cancel_session(added)
        publishing.publish(conference, None, "")
        db.session.commit()
        v2, v1 = publishing.versions(conference)
        assert [(c.kind, c.title, c.new["cancelled"]) for c in publishing.diff_snapshots(
            v1.snapshot, v2.snapshot)] == [("added", "Chụp ảnh lưu niệm", True)]
    words = " ".join(client.get(f"/c/{SLUG}/changelog").get_data(as_text=True).split())
    assert ("<strong>Thêm:</strong> Chụp ảnh lưu niệm — 16:00–16:30 15/06/2025 — đã hủy"
            in words)


def test_a_time_the_clocks_skip_is_named_not_a_server_error(client, demo):
    """In Cairo the clocks go from 00:00 to 01:00 on 25/04/2025: 00:30 never happens. It
    was stored as the instant of 01:30, which made 00:30–01:30 an empty session that broke
    the database's own check (a 500), and 00:30–01:45 a quarter of an hour."""
    logged_in(client, ORGANISER)
    assert post_form(client, f"/manage/c/{SLUG}/edit", conference_form(
        timezone="Africa/Cairo", first_day="2025-04-25")).status_code == 302
    skipped = ("Không có giờ 00:30 ngày 25/04/2025 theo múi giờ Africa/Cairo: đồng hồ nhảy "
               "qua giờ đó (giờ mùa hè).")
    for end in ("01:30", "01:45"):
        response = post_form(client, NEW_SESSION, session_form(day="2025-04-25", start="00:30",
                                                                end=end))
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert (field_errors(page, "start"), field_errors(page, "end")) == ([skipped], [])
    # The hours that happen are taken as ever.
    response = post_form(client, NEW_SESSION, session_form(day="2025-04-25", start="01:15",
                                                            end="02:00"))
    assert response.status_code == 302
    with demo.app_context():
        added = db.session.scalar(select(AgendaSession).where(
            AgendaSession.title == "Phiên bổ sung"))
        assert added.ends_at - added.starts_at == timedelta(minutes=45)


def test_new_conference_days_may_not_leave_sessions_out(client, demo):
    """Sessions outside the days would be on no page and could not be saved again;
    cancelled ones count too, as they stay in the published agenda."""
    sessions = ids(demo)["sessions"]
    logged_in(client, ORGANISER)
    token = csrf_token(client, EDITOR)
    client.post(f"/manage/c/{SLUG}/sessions/{sessions[11]}/cancel", data={"csrf_token": token})
    edit = f"/manage/c/{SLUG}/edit"
    page = post_form(client, edit, conference_form(first_day="2025-06-15")).get_data(as_text=True)
    assert field_errors(page, "first_day") == [
        "11 phiên nằm trước ngày này, sớm nhất là «Đón tiếp đại biểu, kiểm tra đường truyền các "
        "điểm cầu» (14/06/2025); hãy dời các phiên đó vào các ngày của hội nghị trước."
    ]
    assert field_errors(page, "last_day") == []
    page = post_form(client, edit, conference_form(last_day="2025-06-14")).get_data(as_text=True)
    assert field_errors(page, "last_day") == [
        "5 phiên nằm sau ngày này, sớm nhất là «Chức năng, nhiệm vụ, phương thức hoạt động của "
        "một số cơ quan, đơn vị ở cấp xã (mới)» (15/06/2025); hãy dời các phiên đó vào các "
        "ngày của hội nghị trước."
    ]
    # Moving the whole conference a week later leaves every session behind.
    page = post_form(client, edit, conference_form(
        first_day="2025-06-21", last_day="2025-06-22")).get_data(as_text=True)
    assert [field_errors(page, name) for name in ("first_day", "last_day")] == [[
        "16 phiên nằm trước ngày này, sớm nhất là «Đón tiếp đại biểu, kiểm tra đường truyền các "
        "điểm cầu» (14/06/2025); hãy dời các phiên đó vào các ngày của hội nghị trước."], []]
    with demo.app_context():
        conference = db.session.scalar(select(Conference))
        assert (conference.first_day, conference.last_day) == (date(2025, 6, 14), date(2025, 6, 15))
    # Days that still hold every session are saved, in a new zone too.
    response = post_form(client, edit, conference_form(
        first_day="2025-06-13", last_day="2025-06-15", timezone="Asia/Tokyo"))
    assert response.status_code == 302
    with demo.app_context():
        assert db.session.scalar(select(Conference)).first_day == date(2025, 6, 13)


def test_publishing_nothing_new_is_refused(client, demo):
    logged_in(client, ORGANISER)
    page = post_form(client, f"/manage/c/{SLUG}/publish", {"comment": ""},
                     follow_redirects=True).get_data(as_text=True)
    assert "Không có thay đổi nào so với phiên bản đã công bố." in flashes(page)
    with demo.app_context():
        assert len(publishing.versions(db.session.scalar(select(Conference)))) == 1


def test_printable_agenda(client, demo):
    page = client.get(f"/c/{SLUG}/print").get_data(as_text=True)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in page
    assert "HỌC VIỆN CHÍNH TRỊ QUỐC GIA HỒ CHÍ MINH" in page
    assert "<h1>CHƯƠNG TRÌNH</h1>" in page
    assert "<h2>THỨ BẢY, 14/06/2025</h2>" in page
    assert '<td class="col-time">08:00 – 08:30</td>' in page
    assert "css/print.css" in page


# ---------------------------------------------------------------- creating a conference


def test_organiser_creates_a_conference_and_manages_it(client, demo):
    logged_in(client, ORGANISER)
    form = {"title": "Tập huấn 2026", "slug": "tap-huan-2026", "organising_unit": "Ban Tổ chức",
            "description": "", "timezone": "Asia/Ho_Chi_Minh",
            "first_day": "2026-03-02", "last_day": "2026-03-03",
            "checkin_opens_minutes": "60", "checkin_closes_minutes": "120"}
    page = post_form(client, "/manage/conferences/new", {**form, "slug": "Tập Huấn"}).get_data(as_text=True)
    assert field_errors(page, "slug") == [
        "Chỉ dùng chữ thường không dấu, chữ số và dấu gạch ngang, ví dụ tap-huan-2025."
    ]
    page = post_form(client, "/manage/conferences/new", {**form, "slug": SLUG}).get_data(as_text=True)
    assert field_errors(page, "slug") == ["Địa chỉ này đã được dùng."]
    page = post_form(client, "/manage/conferences/new", {**form, "timezone": "GMT+7"}).get_data(as_text=True)
    assert field_errors(page, "timezone") == ["Múi giờ không hợp lệ: hãy dùng tên IANA."]
    # Typing slips far from now are refused, never a server error or a page of centuries.
    page = post_form(client, "/manage/conferences/new", {
        **form, "last_day": "9999-12-31", "registration_opens": "0001-01-01T00:00"}
    ).get_data(as_text=True)
    assert field_errors(page, "last_day") == ["Năm phải từ 2000 đến 2100."]
    assert field_errors(page, "registration_opens") == ["Năm phải từ 2000 đến 2100."]
    page = post_form(client, "/manage/conferences/new", {**form, "last_day": "2026-05-01"}
                     ).get_data(as_text=True)
    assert field_errors(page, "last_day") == ["Một hội nghị kéo dài tối đa 60 ngày."]
    response = post_form(client, "/manage/conferences/new", form)
    assert response.headers["Location"] == "/manage/c/tap-huan-2026/agenda"
    assert client.get("/manage/c/tap-huan-2026/agenda").status_code == 200
    assert client.get("/c/tap-huan-2026/").status_code == 200  # its organiser sees the draft
    client.post("/logout", data={"csrf_token": csrf_token(client, "/manage/")})
    assert client.get("/c/tap-huan-2026/").status_code == 404  # nobody else does


# ---------------------------------------------------------------- permissions and trail

EDIT_PAGES = [EDITOR, NEW_SESSION, f"/manage/c/{SLUG}/topics", f"/manage/c/{SLUG}/presenters",
              f"/manage/c/{SLUG}/rooms", f"/manage/c/{SLUG}/publish", f"/manage/c/{SLUG}/edit"]


@pytest.mark.parametrize("url", EDIT_PAGES)
def test_coordinators_cannot_edit_the_agenda(client, demo, url):
    logged_in(client, COORDINATOR)
    assert client.get(url).status_code == 403


def test_coordinator_cannot_post_changes(client, demo):
    sessions = ids(demo)["sessions"]
    logged_in(client, COORDINATOR)
    token = csrf_token(client, "/manage/")
    assert client.post(f"/manage/c/{SLUG}/sessions/{sessions[4]}/cancel",
                       data={"csrf_token": token}).status_code == 403
    assert client.post(f"/manage/c/{SLUG}/publish", data={"csrf_token": token}).status_code == 403
    assert client.get("/manage/conferences/new").status_code == 403


def test_organiser_of_another_conference_is_refused(client, demo):
    with demo.app_context():
        other = User(email="other@example.org", display_name="Khác", role="organiser")
        other.set_password("mot-mat-khau-dai")
        db.session.add(other)
        db.session.commit()
    logged_in(client, ("other@example.org", "mot-mat-khau-dai"))
    for url in EDIT_PAGES:
        assert client.get(url).status_code == 403, url


def test_ids_from_another_conference_are_not_reachable(client, demo):
    with demo.app_context():
        other = Conference(slug="khac", title="Khác", first_day=date(2025, 7, 1),
                           last_day=date(2025, 7, 1))
        db.session.add(other)
        db.session.flush()
        organiser = db.session.scalar(select(User).where(User.email == ORGANISER[0]))
        organiser.conferences.append(other)
        db.session.commit()
    sessions = ids(demo)["sessions"]
    logged_in(client, ORGANISER)
    assert client.get(f"/manage/c/khac/sessions/{sessions[0]}/edit").status_code == 404


def test_anonymous_visitors_are_sent_to_login(client, demo):
    response = client.get(EDITOR)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_every_change_goes_to_the_audit_log(client, demo):
    known = ids(demo)
    logged_in(client, ORGANISER)
    post_form(client, f"/manage/c/{SLUG}/sessions/{known['sessions'][4]}/edit", session_form(
        start="10:15", end="10:30", kind="break", title="Giải lao, trà", room=known["room"],
    ))
    post_form(client, f"/manage/c/{SLUG}/presenters/new", {"name": "Trần Văn Bình",
                                                          "position": "Vụ trưởng", "unit": ""})
    post_form(client, f"/manage/c/{SLUG}/publish", {"comment": "v2"})
    with demo.app_context():
        organiser_id = db.session.scalar(select(User.id).where(User.email == ORGANISER[0]))
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.user_id == organiser_id,
                                     AuditEntry.action != "user.login")
            .order_by(AuditEntry.id)
        ).all()
        assert [(e.action, e.details) for e in entries] == [
            ("session.update", {"title": ["Giải lao", "Giải lao, trà"]}),
            ("presenter.create", {"name": "Trần Văn Bình", "position": "Vụ trưởng",
                                  "unit": ""}),
            ("agenda.publish", {"number": 2, "comment": "v2"}),
        ]


# ---------------------------------------------------------------- no N+1 queries


def add_sessions(app, count: int) -> None:
    with app.app_context():
        conference = Conference(slug="lon", title="Hội nghị lớn", first_day=date(2025, 9, 1),
                                last_day=date(2025, 9, 5))
        db.session.add(conference)
        db.session.flush()
        rooms = [Room(conference_id=conference.id, name=f"Phòng {i}") for i in range(4)]
        presenters = [Presenter(conference_id=conference.id, name=f"BCV {i}") for i in range(8)]
        topics = [Topic(conference_id=conference.id, number=str(i), title=f"CĐ {i}")
                  for i in range(count)]
        db.session.add_all(rooms + presenters + topics)
        db.session.flush()
        for i in range(count):
            day, slot = divmod(i, count // 5 or 1)
            start = datetime(2025, 9, 1 + min(day, 4), 7, 0, tzinfo=HCM) + timedelta(minutes=10 * slot)
            session = AgendaSession(
                conference_id=conference.id, kind=SessionKind.TOPIC, title=f"Phiên {i}",
                starts_at=start, ends_at=start + timedelta(minutes=10),
                room_id=rooms[i % 4].id, topic_id=topics[i].id,
            )
            session.presenters = [presenters[i % 8]]
            db.session.add(session)
        db.session.flush()
        organiser = db.session.scalar(select(User).where(User.email == ORGANISER[0]))
        organiser.conferences.append(conference)
        publishing.publish(conference, None, "")
        db.session.commit()


@pytest.mark.parametrize("count", [10, 200])
def test_pages_use_a_bounded_number_of_queries(client, demo, count):
    add_sessions(demo, count)
    logged_in(client, ORGANISER)
    # The public page: user, conference, latest version, and the sessions this user chose.
    budgets = {"/c/lon/": 4, "/c/lon/agenda.ics": 2, "/c/lon/print": 3,
               "/manage/c/lon/agenda": 8}
    for url, budget in budgets.items():
        client.get(url)  # warm the per-process caches
        with count_queries(demo) as statements:
            assert client.get(url).status_code == 200
        assert len(statements) <= budget, (url, len(statements), statements)


# ---------------------------------------------------------------- topic materials


def topic_1_url(app) -> str:
    return f"/manage/c/{SLUG}/topics/{ids(app)['topic_1']}"


def test_materials_as_links_and_files_published_with_the_agenda(client, demo):
    from io import BytesIO

    logged_in(client, ORGANISER)
    base = topic_1_url(demo)
    page_url = f"{base}/edit"
    response = post_form(client, f"{base}/materials/link", {
        "title": "Nghị định 150", "url": "https://vbpl.example.vn/nd-150",
    }, follow_redirects=True)
    assert "Đã thêm tài liệu." in flashes(response.get_data(as_text=True))
    pdf = b"%PDF-1.4 tai lieu chuyen de 1"
    response = client.post(f"{base}/materials/file", data={
        "title": "Bài giảng chuyên đề 1", "csrf_token": csrf_token(client, page_url),
        "file": (BytesIO(pdf), "Bài giảng CĐ1.pdf"),
    }, content_type="multipart/form-data")
    assert response.status_code == 302
    with demo.app_context():
        from confmgr.conferences.models import TopicMaterial

        stored = db.session.scalars(select(TopicMaterial).order_by(TopicMaterial.id)).all()
        assert [(m.title, m.url, m.original_name, m.content_type, m.size) for m in stored] == [
            ("Nghị định 150", "https://vbpl.example.vn/nd-150", "", "", 0),
            ("Bài giảng chuyên đề 1", "", "Bài giảng CĐ1.pdf", "application/pdf", len(pdf)),
        ]
        file_id = stored[1].id
        assert stored[1].stored_name.endswith(".pdf") and "Bài" not in stored[1].stored_name

    material_url = f"/c/{SLUG}/materials/{file_id}"
    draft = client.get(material_url)
    assert draft.data == pdf  # the organiser sees it before publication, and no cache keeps it
    assert set(draft.headers["Cache-Control"].split(", ")) == {"private", "no-store"}
    client.post("/logout", data={"csrf_token": csrf_token(client, "/manage/")})
    assert client.get(material_url).status_code == 404  # the public does not, yet
    assert "Nghị định 150" not in client.get(f"/c/{SLUG}/").get_data(as_text=True)

    with demo.app_context():
        publishing.publish(db.session.scalar(select(Conference)), None, "Tài liệu")
        db.session.commit()
    public = client.get(f"/c/{SLUG}/").get_data(as_text=True)
    assert '<a href="https://vbpl.example.vn/nd-150" rel="noopener noreferrer">Nghị định 150</a>' in public
    assert f'<a href="{material_url}">Bài giảng chuyên đề 1</a>' in public
    download = client.get(material_url)
    assert download.data == pdf
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert set(download.headers["Cache-Control"].split(", ")) == {"public", "max-age=3600"}
    with demo.app_context():
        db.session.scalar(select(Conference)).visibility = Visibility.RESTRICTED
        db.session.commit()
    logged_in(client, ORGANISER)
    restricted = client.get(material_url).headers["Cache-Control"]
    assert set(restricted.split(", ")) == {"private", "no-store"}
    # Restored from a backup without the uploads folder: the file is not found (404), no
    # server error.
    with demo.app_context():
        from confmgr.conferences import materials

        materials.file_path(db.session.get(TopicMaterial, file_id)).unlink()
    assert client.get(material_url).status_code == 404


def test_each_label_of_a_topics_page_names_one_field(client, demo):
    """The topic's form and both material forms had a field with id "title": the labels
    «Tên tài liệu» focused the topic's title, and a screen reader named it so."""
    logged_in(client, ORGANISER)
    page = client.get(f"{topic_1_url(demo)}/edit").get_data(as_text=True)
    targets = re.findall(r'<label[^>]* for="([^"]+)"', page)
    assert {"title", "link-title", "link-url", "file-title", "file-file"} <= set(targets)
    assert {target: len(re.findall(rf'\bid="{re.escape(target)}"', page))
            for target in targets} == {target: 1 for target in targets}


def test_material_bad_input(client, demo):
    from io import BytesIO

    logged_in(client, ORGANISER)
    base = topic_1_url(demo)
    page = post_form(client, f"{base}/materials/link", {
        "title": "Lạ", "url": "javascript:alert(1)",
    }).get_data(as_text=True)
    assert field_errors(page, "url") != []
    page = client.post(f"{base}/materials/file", data={
        "title": "Chương trình", "csrf_token": csrf_token(client, f"{base}/edit"),
        "file": (BytesIO(b"MZ..."), "setup.exe"),
    }, content_type="multipart/form-data").get_data(as_text=True)
    assert field_errors(page, "file") == [
        "Loại tệp .exe không được nhận. Nhận: .doc, .docx, .jpeg, .jpg, .odp, .ods, .odt, "
        ".pdf, .png, .ppt, .pptx, .txt, .xls, .xlsx."
    ]
    with demo.app_context():
        from confmgr.conferences.models import TopicMaterial

        assert db.session.scalar(select(func.count()).select_from(TopicMaterial)) == 0


def test_a_file_named_with_its_windows_folders_keeps_its_own_name(demo):
    from io import BytesIO

    from werkzeug.datastructures import FileStorage

    from confmgr.conferences import materials

    with demo.app_context():
        topic = db.session.scalar(select(Topic).where(Topic.number == "1"))
        added = materials.add_file(topic, "Bài giảng", FileStorage(
            BytesIO(b"%PDF-1.4"), filename="C:\\Users\\An\\Bài giảng.pdf"))
        assert added.original_name == "Bài giảng.pdf"
        db.session.rollback()
        materials.file_path(added).unlink()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_material_whose_row_is_not_written_leaves_no_file(demo, database_url, tmp_path):
    """An upload whose row could not be written (here the database busy past its timeout,
    answered 503) kept its file in the upload folder, named by no row: never served, and
    never removed."""
    from io import BytesIO

    from confmgr.conferences import materials
    from confmgr.conferences.models import TopicMaterial
    from tests.conftest import make_app
    from tests.test_failures import hold_write_lock, sqlite_path

    busy = make_app(database_url, tmp_path / "busy", SQLITE_BUSY_TIMEOUT_MS=200)
    try:
        client = busy.test_client()
        logged_in(client, ORGANISER)
        base = topic_1_url(busy)
        token = csrf_token(client, f"{base}/edit")
        holder = hold_write_lock(sqlite_path(database_url))
        try:
            response = client.post(f"{base}/materials/file", data={
                "title": "Slide", "csrf_token": token,
                "file": (BytesIO(b"slides"), "slide.pptx"),
            }, content_type="multipart/form-data")
        finally:
            holder.rollback()
            holder.close()
        assert response.status_code == 503
        with busy.app_context():
            assert list(materials.upload_folder().iterdir()) == []
            assert db.session.scalar(select(func.count()).select_from(TopicMaterial)) == 0
    finally:
        with busy.app_context():
            db.engine.dispose()


def test_a_material_whose_commit_fails_leaves_no_file(demo):
    """The file was saved before the commit, and a commit that failed left it behind."""
    from io import BytesIO

    from sqlalchemy.exc import IntegrityError
    from werkzeug.datastructures import FileStorage

    from confmgr.conferences import materials

    with demo.app_context():
        topic = db.session.scalar(select(Topic).where(Topic.number == "1"))
        added = materials.add_file(topic, "Bài giảng", FileStorage(
            BytesIO(b"%PDF-1.4"), filename="Bài giảng.pdf"))
        assert materials.file_path(added).exists()
        db.session.add(Room(conference_id=topic.conference_id, name=None))  # NOT NULL
        with pytest.raises(IntegrityError):
            materials.commit_file(added)
        db.session.rollback()
        assert list(materials.upload_folder().iterdir()) == []


def test_rooms_and_presenters_typed_another_way_are_the_ones_there(client, demo):
    """A name pasted from Word (decomposed letters, a doubled or no-break space) made a
    second room or presenter that looked the same, which the clash checks, knowing them
    by id, let be booked twice at once. Rooms are listed in Vietnamese order."""
    import unicodedata

    logged_in(client, ORGANISER)
    rooms = f"/manage/c/{SLUG}/rooms"
    for name in ("Phòng Tây", "Phòng Đông", "Phòng Dịu"):
        assert post_form(client, rooms, {"name": name}).status_code == 302
    for typed in (unicodedata.normalize("NFD", "Phòng Đông"), "Phòng  Đông",
                  "Phòng\u00a0Đông "):
        page = post_form(client, rooms, {"name": typed}).get_data(as_text=True)
        assert field_errors(page, "name") == ["Đã có phòng tên này."], typed
    listed = re.findall(r"<li[^>]*>(Phòng [^<]*)</li>", client.get(rooms).get_data(as_text=True))
    assert listed == ["Phòng Dịu", "Phòng Đông", "Phòng Tây"]

    new = f"/manage/c/{SLUG}/presenters/new"
    assert post_form(client, new, {"name": "Trần Văn Bình", "position": "Vụ trưởng",
                                   "unit": "Ban Tổ chức"}).status_code == 302
    page = post_form(client, new, {"name": unicodedata.normalize("NFD", "TRẦN VĂN  BÌNH"),
                                   "position": "vụ trưởng", "unit": "Ban Tổ chức"}
                     ).get_data(as_text=True)
    assert field_errors(page, "name") == [
        "Đã có báo cáo viên TRẦN VĂN BÌNH cùng chức vụ và đơn vị."]
    # A namesake of another position is someone else.
    assert post_form(client, new, {"name": "Trần Văn Bình", "position": "Chuyên viên",
                                   "unit": "Ban Tổ chức"}).status_code == 302


def test_removed_material_stays_downloadable_while_the_published_version_offers_it(client, demo):
    from io import BytesIO

    logged_in(client, ORGANISER)
    base = topic_1_url(demo)
    client.post(f"{base}/materials/file", data={
        "title": "Slide", "csrf_token": csrf_token(client, f"{base}/edit"),
        "file": (BytesIO(b"slides"), "slide.pptx"),
    }, content_type="multipart/form-data")
    with demo.app_context():
        from confmgr.conferences.models import TopicMaterial

        material_id = db.session.scalar(select(TopicMaterial.id))
        publishing.publish(db.session.scalar(select(Conference)), None, "")
        db.session.commit()
    client.post(f"/manage/c/{SLUG}/materials/{material_id}/remove",
                data={"csrf_token": csrf_token(client, f"{base}/edit")})
    with demo.app_context():
        removed_at = db.session.get(TopicMaterial, material_id).removed_at
    # Removed twice (a stale page): when it was removed stays, and one entry in the log.
    client.post(f"/manage/c/{SLUG}/materials/{material_id}/remove",
                data={"csrf_token": csrf_token(client, f"{base}/edit")})
    with demo.app_context():
        assert db.session.get(TopicMaterial, material_id).removed_at == removed_at
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "material.remove")) == 1
    client.post("/logout", data={"csrf_token": csrf_token(client, "/manage/")})
    assert client.get(f"/c/{SLUG}/materials/{material_id}").data == b"slides"
    with demo.app_context():
        publishing.publish(db.session.scalar(select(Conference)), None, "Gỡ slide")
        db.session.commit()
    assert client.get(f"/c/{SLUG}/materials/{material_id}").status_code == 404


def test_text_pasted_with_control_characters_never_breaks_the_atom_feed(client, demo):
    """Word's soft line break (\\v) in a title or a publish comment: XML cannot carry it."""
    known = ids(demo)
    logged_in(client, ORGANISER)
    post_form(client, f"/manage/c/{SLUG}/sessions/{known['sessions'][1]}/edit", session_form(
        start="08:00", end="08:30", kind="opening", title="Khai\x0bmạc\thội nghị",
        room=known["room"], presenters=[known["thang"]],
        description="Dòng một\x0bDòng hai\r\nDòng ba\x07"))
    with demo.app_context():
        session = db.session.get(AgendaSession, known["sessions"][1])
        assert (session.title, session.description) == ("Khai mạc hội nghị",
                                                         "Dòng một\nDòng hai\nDòng ba")
    response = post_form(client, f"/manage/c/{SLUG}/publish", {"comment": "Đổi\x0btên\x1b"})
    assert response.status_code in (200, 302)
    atom = "{http://www.w3.org/2005/Atom}"
    feed = ET.fromstring(client.get(f"/c/{SLUG}/changelog.atom").data)
    content = feed.find(f"{atom}entry").findtext(f"{atom}content")
    assert "<p>Đổi\ntên</p>" in content and "Khai mạc hội nghị" in content


def test_organiser_pages_show_a_number_saved_with_the_words_bare(client, demo):
    """Topics saved before numbers were stored bare still hold "Chuyên đề 1": the topic
    list, the topic's form and the session form's choices show "1"."""
    with demo.app_context():
        legacy = db.session.scalar(select(Topic).where(Topic.number == "1"))
        legacy.number = "Chuyên đề 1"
        db.session.commit()
        topic_id, title = legacy.id, legacy.title
    logged_in(client, ORGANISER)
    listing = client.get(f"/manage/c/{SLUG}/topics").get_data(as_text=True)
    assert f"<tr><td>1</td><td>{title}" in listing
    form = client.get(f"/manage/c/{SLUG}/topics/{topic_id}/edit").get_data(as_text=True)
    assert '<h1 class="h4">Chuyên đề 1</h1>' in form
    choices = client.get(NEW_SESSION).get_data(as_text=True)
    assert f'<option value="{topic_id}">1. {title}</option>' in choices
    assert "Chuyên đề 1." not in choices


def test_presenters_are_listed_in_vietnamese_order_everywhere_they_are_chosen(client, demo):
    """By code point "Đ" and "Ư" would come after "V"; Vietnamese puts Đ after D and Ư
    after U."""
    names = ["Vũ Minh", "Ưng Hoà", "Đặng Hà", "Uông Bình", "Dương Lan"]
    with demo.app_context():
        conference = db.session.scalar(select(Conference).where(Conference.slug == SLUG))
        demo_names = [p.name for p in db.session.scalars(select(Presenter).where(
            Presenter.conference_id == conference.id))]
        db.session.add_all(Presenter(conference_id=conference.id, name=name) for name in names)
        db.session.commit()
    wanted = ["Dương Lan", "Đặng Hà", "Uông Bình", "Ưng Hoà", "Vũ Minh"]
    logged_in(client, ORGANISER)
    listed = re.findall(r"<tr><td>([^<]+)</td>",
                        client.get(f"/manage/c/{SLUG}/presenters").get_data(as_text=True))
    assert [name for name in listed if name not in demo_names] == wanted
    triage = client.get(f"/manage/c/{SLUG}/questions").get_data(as_text=True)
    select_block = triage.split('name="presenter"')[1].split("</select>")[0]
    offered = re.findall(r'<option value="\d+">([^<]+)</option>', select_block)
    assert [name for name in offered if name not in demo_names] == wanted


def test_a_published_conference_keeps_its_address(client, demo):
    """Every calendar subscribed and every link sent holds the address (and frab's event
    ids are made of it): once published it cannot change; before, it may."""
    logged_in(client, ORGANISER)
    page = post_form(client, f"/manage/c/{SLUG}/edit",
                     conference_form(slug="tap-huan-moi")).get_data(as_text=True)
    assert field_errors(page, "slug") == [
        "Hội nghị đã công bố nên không đổi được địa chỉ: các lịch đã đăng ký và các liên kết "
        "đã gửi đều theo địa chỉ này."]
    assert client.get(f"/c/{SLUG}/agenda.ics").status_code == 200
    assert post_form(client, f"/manage/c/{SLUG}/edit", conference_form()).status_code == 302
    created = post_form(client, "/manage/conferences/new", conference_form(slug="nhap-2026"))
    assert created.status_code == 302
    renamed = post_form(client, "/manage/c/nhap-2026/edit", conference_form(slug="nhap-2027"))
    assert renamed.status_code == 302
    assert client.get("/manage/c/nhap-2027/edit").status_code == 200


def test_presenters_are_listed_in_the_order_picked(client, demo):
    """The form sends the presenters picked in its order; the agenda, the feed and the
    editor list them so, whichever was created first."""
    from icalendar import Calendar

    with demo.app_context():
        conference = db.session.scalar(select(Conference).where(Conference.slug == SLUG))
        vu = Presenter(conference_id=conference.id, name="Vũ Minh")  # created first
        db.session.add(vu)
        db.session.flush()
        duong = Presenter(conference_id=conference.id, name="Dương Lan")
        db.session.add(duong)
        db.session.commit()
        picked = [duong.id, vu.id]
    logged_in(client, ORGANISER)
    form = {"day": "2025-06-14", "start": "17:30", "end": "18:00", "kind": "other",
            "title": "Phiên hai người", "topic": "", "room": "", "description": ""}
    response = post_form(client, NEW_SESSION, {**form, "presenters": picked})
    assert response.status_code == 302
    with demo.app_context():
        session_id = db.session.scalar(select(AgendaSession.id).where(
            AgendaSession.title == "Phiên hai người"))
        publishing.publish(db.session.scalar(select(Conference).where(Conference.slug == SLUG)),
                           None, "")
        db.session.commit()
        assert [p.name for p in db.session.get(AgendaSession, session_id).presenters] == [
            "Dương Lan", "Vũ Minh"]
    event = next(e for e in Calendar.from_ical(client.get(f"/c/{SLUG}/agenda.ics").data).events
                 if str(e["SUMMARY"]) == "Phiên hai người")
    assert str(event["DESCRIPTION"]).startswith("Dương Lan\n\nVũ Minh\n\n")
    # Saved again as a browser sends the list (in its own order, by name): the order
    # stays. Taken off and picked again, a presenter goes last.
    edit = f"/manage/c/{SLUG}/sessions/{session_id}/edit"

    def order() -> list[str]:
        with demo.app_context():
            return [p.name for p in db.session.get(AgendaSession, session_id).presenters]

    assert post_form(client, edit, {**form, "presenters": picked[::-1]}).status_code == 302
    assert order() == ["Dương Lan", "Vũ Minh"]
    assert post_form(client, edit, {**form, "presenters": picked[1:]}).status_code == 302
    assert post_form(client, edit, {**form, "presenters": picked}).status_code == 302
    assert order() == ["Vũ Minh", "Dương Lan"]


# ---------------------------------------------------------------- changes meeting other changes


def two_day_conference(app) -> int:
    with app.app_context():
        conference = Conference(slug="hai-ngay", title="Hội nghị hai ngày",
                                timezone="Asia/Ho_Chi_Minh",
                                first_day=date(2025, 7, 1), last_day=date(2025, 7, 2))
        db.session.add(conference)
        db.session.commit()
        return conference.id


def conference_fields(**changes) -> editing.ConferenceFields:
    return editing.ConferenceFields(**{
        "slug": "hai-ngay", "title": "Hội nghị hai ngày", "organising_unit": "",
        "description": "", "timezone": "Asia/Ho_Chi_Minh", "first_day": date(2025, 7, 1),
        "last_day": date(2025, 7, 2), **changes})


DAY_TWO_AT_EIGHT = editing.SessionFields(day=date(2025, 7, 2), start=time(8), end=time(9),
                                         kind=SessionKind.OTHER, title="Phiên ngày 2")


def test_days_cut_while_a_session_is_saved_on_the_day_cut_leave_no_session_outside(
        app, monkeypatch):
    """One organiser drops day 2 while another saves a session on it; each checks, then
    waits (up to 1 s) for the other to have checked too. Both passed and committed: the
    session was left outside the conference's days, where no page shows it."""
    import threading

    conference_id = two_day_conference(app)
    checked = threading.Barrier(2)

    def then_wait(check):
        def checked_and_waited(*args):
            found = check(*args)
            try:
                checked.wait(timeout=1)
            except threading.BrokenBarrierError:
                pass  # the other waits for this one to commit, as it should
            return found
        return checked_and_waited

    monkeypatch.setattr(editing, "_sessions_left_out", then_wait(editing._sessions_left_out))
    monkeypatch.setattr(editing, "check_slot", then_wait(editing.check_slot))
    outcomes = []

    def run(name, action):
        def in_a_request() -> None:
            with app.app_context():
                try:
                    action(db.session.get(Conference, conference_id))
                    db.session.commit()
                    outcomes.append(name)
                except editing.RuleBroken as broken:
                    db.session.rollback()
                    outcomes.append([problem.message for problem in broken.problems])
                db.session.remove()
        return in_a_request

    run_at_once(
        run("days cut", lambda conference: editing.update_conference(
            conference, conference_fields(last_day=date(2025, 7, 1)))),
        run("session saved", lambda conference: editing.save_session(
            conference, None, DAY_TWO_AT_EIGHT)))
    assert len(outcomes) == 2 and sum(isinstance(o, str) for o in outcomes) == 1
    with app.app_context():
        conference = db.session.get(Conference, conference_id)
        sessions = db.session.scalars(select(AgendaSession).where(
            AgendaSession.conference_id == conference_id)).all()
        if "days cut" in outcomes:
            assert (conference.last_day, sessions) == (date(2025, 7, 1), [])
        else:
            assert conference.last_day == date(2025, 7, 2)
            assert [s.local_start().strftime("%d/%m %H:%M") for s in sessions] == ["02/07 08:00"]


@pytest.mark.parametrize("change, outcome", [
    ({"last_day": date(2025, 7, 1)}, "refused"),
    ({"timezone": "Asia/Tokyo"}, "02/07 08:00 Asia/Tokyo"),
])
def test_a_session_saved_after_the_days_or_zone_changed_meanwhile_follows_them(
        app, change, outcome):
    """The request saving a session had read the conference before another organiser's
    change of days or time zone committed: the session went on a day the conference no
    longer had, or at 08:00 of the old zone (10:00 as the agenda then showed it)."""
    conference_id = two_day_conference(app)
    with app.app_context():  # the request saving the session
        conference = db.session.get(Conference, conference_id)
        assert conference.last_day == date(2025, 7, 2)
        with app.app_context():  # another organiser's, meanwhile
            editing.update_conference(db.session.get(Conference, conference_id),
                                      conference_fields(**change))
            db.session.commit()
        try:
            session, _warnings = editing.save_session(conference, None, DAY_TWO_AT_EIGHT)
            db.session.commit()
            saved = f"{session.local_start().strftime('%d/%m %H:%M')} {conference.timezone}"
        except editing.RuleBroken:
            db.session.rollback()
            saved = "refused"
    assert saved == outcome


def test_a_session_published_while_its_deletion_was_asked_is_kept(app):
    """The delete request had read the session before its first publication committed: it
    was deleted all the same, and version 1 named a session no calendar would hear was
    gone. A published session is cancelled, never deleted."""
    conference_id = two_day_conference(app)
    with app.app_context():
        session, _warnings = editing.save_session(db.session.get(Conference, conference_id),
                                                  None, DAY_TWO_AT_EIGHT)
        db.session.commit()
        session_id = session.id
    with app.app_context():  # the delete request
        session = db.session.get(AgendaSession, session_id)
        assert session.first_published_at is None
        with app.app_context():  # the publication, meanwhile
            publishing.publish(db.session.get(Conference, conference_id), None)
            db.session.commit()
        with pytest.raises(editing.RuleBroken) as refused:
            editing.delete_session(session)
        db.session.rollback()
    assert [problem.message for problem in refused.value.problems] == [
        "Phiên này đã được công bố nên không xóa được; hãy hủy phiên để lịch của đại biểu "
        "được cập nhật."]
    with app.app_context():
        assert db.session.get(AgendaSession, session_id) is not None


def test_a_publication_meanwhile_is_told_and_the_page_shows_the_agenda_as_it_is(
        client, demo):
    """Two organisers on the publish page, both listing the same changes against version
    1: the second to press is told the other published version 2, and is shown what is
    left to publish, nothing here, rather than publishing what they did not review."""
    with demo.app_context():
        session = db.session.scalar(select(AgendaSession).order_by(AgendaSession.id))
        session.title = "Tiêu đề mới"
        db.session.commit()
    first, second = (logged_in(demo.test_client(), ORGANISER) for _ in range(2))
    pages = [c.get(f"/manage/c/{SLUG}/publish").get_data(as_text=True) for c in (first, second)]
    assert all('name="seen_version" type="hidden" value="1"' in page for page in pages)
    as_shown = {"comment": "", "seen_version": "1"}  # what both pages carry
    assert flashes(post_form(first, f"/manage/c/{SLUG}/publish", as_shown,
                             follow_redirects=True).get_data(as_text=True)) == [
        "Đã công bố phiên bản 2."]
    page = post_form(second, f"/manage/c/{SLUG}/publish", as_shown).get_data(as_text=True)
    assert flashes(page) == [
        "Người khác vừa công bố phiên bản 2; hãy xem lại các thay đổi rồi công bố lại."]
    assert "Không có thay đổi nào so với phiên bản đã công bố." in page
    with demo.app_context():
        assert publishing.latest_version(
            db.session.scalar(select(Conference).where(Conference.slug == SLUG))).number == 2


def test_an_edit_after_the_publish_page_opened_is_not_published_unseen(client, demo):
    """An organiser reads the changes on the publish page; another then renames a
    session; the first presses publish. The rename went out in version 2 though nobody
    had reviewed it: now the first is told, and shown the list with it."""
    with demo.app_context():
        session = db.session.scalar(select(AgendaSession).order_by(AgendaSession.id))
        session_id, session.title = session.id, "Tiêu đề đã xem"
        db.session.commit()
    logged_in(client, ORGANISER)
    url = f"/manage/c/{SLUG}/publish"
    as_shown = sent_by_form(client.get(url).get_data(as_text=True))
    with demo.app_context():  # the other organiser's edit
        db.session.get(AgendaSession, session_id).title = "Tiêu đề chưa ai xem"
        db.session.commit()
    page = post_form(client, url, as_shown).get_data(as_text=True)
    assert flashes(page) == ["Chương trình vừa được sửa sau khi trang này mở ra; hãy xem lại "
                             "các thay đổi rồi công bố lại."]
    assert "Tiêu đề chưa ai xem" in page
    with demo.app_context():
        conference = db.session.scalar(select(Conference).where(Conference.slug == SLUG))
        assert publishing.latest_version(conference).number == 1
    # The page shown now carries the draft it lists: publishing it goes through.
    assert flashes(post_form(client, url, sent_by_form(page), follow_redirects=True)
                   .get_data(as_text=True)) == ["Đã công bố phiên bản 2."]
    with demo.app_context():
        assert [s["title"] for s in publishing.snapshot_of(publishing.latest_version(
            db.session.scalar(select(Conference).where(Conference.slug == SLUG))))["sessions"]
            if s["id"] == session_id] == ["Tiêu đề chưa ai xem"]


def test_an_edit_saved_meanwhile_is_told_not_overwritten(client, demo):
    """Two organisers open one session's form; one renames it and saves; the other adds a
    description and saves: the rename was silently undone by the title the second page
    still held. Now the second is told, and nothing of theirs is written."""
    with demo.app_context():
        session = db.session.scalar(select(AgendaSession).order_by(AgendaSession.id))
        session_id, title = session.id, session.title
    url = f"/manage/c/{SLUG}/sessions/{session_id}/edit"
    first, second = (logged_in(demo.test_client(), ORGANISER) for _ in range(2))
    pages = [sent_by_form(c.get(url).get_data(as_text=True)) for c in (first, second)]
    assert pages[0]["seen"] == pages[1]["seen"] != ""
    renamed = {**pages[0], "title": "Tên mới của phiên"}
    assert post_form(first, url, renamed).status_code == 302
    described = {**pages[1], "description": "Mô tả thêm"}
    page = post_form(second, url, described).get_data(as_text=True)
    assert flashes(page) == ["Người khác vừa sửa phiên này sau khi bạn mở trang; hãy mở lại "
                             "trang để xem thay đổi đó rồi sửa lại."]
    with demo.app_context():
        saved = db.session.get(AgendaSession, session_id)
        assert (saved.title, saved.description) == ("Tên mới của phiên", session.description)
    # Opened again, the page shows the rename and saves the description over it.
    again = {**sent_by_form(second.get(url).get_data(as_text=True)), "description": "Mô tả thêm"}
    assert again["title"] == "Tên mới của phiên" != title
    assert post_form(second, url, again).status_code == 302
    with demo.app_context():
        saved = db.session.get(AgendaSession, session_id)
        assert (saved.title, saved.description) == ("Tên mới của phiên", "Mô tả thêm")


def new_empty_conference(client, year: int) -> None:
    """An organiser's new conference "tap-huan-<year>", with no session and never published."""
    logged_in(client, ORGANISER)
    form = {"title": f"Tập huấn {year}", "slug": f"tap-huan-{year}", "organising_unit": "",
            "description": "", "timezone": "Asia/Ho_Chi_Minh", "first_day": f"{year}-03-02",
            "last_day": f"{year}-03-03", "checkin_opens_minutes": "60",
            "checkin_closes_minutes": "120", "visibility": "public"}
    assert post_form(client, "/manage/conferences/new", form).status_code == 302


def test_a_conference_never_published_and_without_sessions_may_be_published(client, demo):
    """Its publish page said both "never published" and "no change since the published
    version", and offered no button, while a publication was allowed and made version 1
    (which lets people find the conference and subscribe before its sessions come)."""
    new_empty_conference(client, 2026)
    page = client.get("/manage/c/tap-huan-2026/publish").get_data(as_text=True)
    assert "Chương trình chưa được công bố lần nào." in page
    assert ("Chương trình chưa có phiên nào: công bố bây giờ cho mọi người thấy hội nghị và "
            "đăng ký lịch của nó, các phiên sẽ đến với những lần công bố sau.") in page
    assert "Không có thay đổi nào" not in page and "Công bố phiên bản 1</button>" in page
    assert flashes(post_form(client, "/manage/c/tap-huan-2026/publish",
                             {"comment": "", "seen_version": "0"}, follow_redirects=True)
                   .get_data(as_text=True)) == ["Đã công bố phiên bản 1."]
    page = client.get("/manage/c/tap-huan-2026/publish").get_data(as_text=True)
    assert "Không có thay đổi nào so với phiên bản đã công bố." in page
    assert "<button" not in page.split("<h1")[-1]


def test_a_publish_form_naming_a_version_that_never_was_is_no_server_error(client, demo):
    """A version number past the latest (a forged form) was read as someone else's
    publication, of a version that did not exist: a 500 on a conference never published."""
    new_empty_conference(client, 2027)
    assert flashes(post_form(client, "/manage/c/tap-huan-2027/publish",
                             {"comment": "", "seen_version": "3"}, follow_redirects=True)
                   .get_data(as_text=True)) == ["Đã công bố phiên bản 1."]


def test_a_presenter_is_offered_the_agenda_only_once_published(client, demo):
    """Before the first publication a presenter's home linked to the agenda page, which
    answers them 404."""
    from confmgr.conferences.models import AgendaVersion
    from confmgr.demo.loader import PRESENTER

    logged_in(client, (PRESENTER.email, PRESENTER.password))
    agenda = f'href="/c/{SLUG}/"'
    assert agenda in client.get("/manage/").get_data(as_text=True)
    assert client.get(f"/c/{SLUG}/").status_code == 200
    with demo.app_context():
        for version in db.session.scalars(select(AgendaVersion)):
            db.session.delete(version)
        db.session.commit()
    assert client.get(f"/c/{SLUG}/").status_code == 404
    home = client.get("/manage/").get_data(as_text=True)
    assert agenda not in home and "Câu hỏi cần trả lời" in home
