"""The API's operations. Each is thin: it checks who may do what and calls the area's rules."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from flask import Response, current_app, g, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import Select, exists, func, select
from werkzeug.exceptions import NotFound

from confmgr.accounts.permissions import (
    can_read_conference,
    can_view_point,
    coordinated_point_ids,
    coordinates_in,
    managed_conferences,
    manages_conference,
    takes_part_in,
)
from confmgr.api import schemas, tokens
from confmgr.api.problems import ApiProblem, FieldError
from confmgr.api.spec import Api, caller, conditional, etag_of, refuse_unless_current
from confmgr.attendance import reports
from confmgr.attendance.batch import Sent, record_batch
from confmgr.attendance.models import Attendance
from confmgr.conferences.editing import RuleBroken
from confmgr.conferences.models import AgendaVersion, Conference
from confmgr.conferences.publishing import (
    PublishedAgenda,
    PublishedConference,
    cached_per_version,
    latest_version_numbers,
    published_agenda,
    read_version,
)
from confmgr.db import db
from confmgr.enums import ConferenceStatus, Role, TokenScope
from confmgr.i18n import N_
from confmgr.points.listing import in_province
from confmgr.points.models import BroadcastPoint
from confmgr.points.services import point_by_code
from confmgr.roster import categories as roster_categories
from confmgr.roster import services as roster
from confmgr.roster.models import Participant


def authenticate(write: bool) -> None:
    """The Bearer token names the user; nothing else (no session cookie) does."""
    challenge = {"WWW-Authenticate": 'Bearer realm="confmgr"'}
    scheme, _space, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiProblem(401, _("Cần token API: gửi tiêu đề Authorization: Bearer <token>."),
                         headers=challenge)
    token = tokens.authenticate(secret.strip())
    if token is None:
        raise ApiProblem(401, _("Token không hợp lệ, đã hết hạn hoặc đã bị thu hồi."),
                         headers=challenge)
    if write and token.scope != TokenScope.WRITE:
        raise ApiProblem(403, _("Token này chỉ được đọc."))
    g.api_user, g.api_token = token.user, token
    # Flask-Login's current_user, so the audit trail names who acted.
    g._login_user = token.user


api = Api("api", __name__, "/api/v1", title="confmgr API", version="1",
          authenticate=authenticate)
bp = api.blueprint


# ---------------------------------------------------------------- helpers


def page_of(items: list, query: schemas.PageQuery, key=lambda item: item.id) -> schemas.Page:
    """A page from ``limit + 1`` rows: the extra row only says whether there is a next."""
    more = len(items) > query.limit
    items = items[:query.limit]
    next_url = None
    if more:
        args = {**request.args.to_dict(), "after": key(items[-1])}
        next_url = request.base_url + "?" + urlencode(args)
    return schemas.Page(items=items, next=next_url)


def paged(statement: Select, query: schemas.PageQuery, id_column) -> list:
    return list(db.session.scalars(
        statement.where(id_column > query.after).order_by(id_column).limit(query.limit + 1)))


def readable_conference(slug: str) -> Conference:
    """The conference, if the caller may read it; otherwise it does not exist for them.

    Until its agenda is first published only those who take part in it know of it, as on
    the public site, whose pages answer 404 until then.
    """
    user = caller()
    conference = db.session.scalar(select(Conference).where(Conference.slug == slug))
    if conference is None or not can_read_conference(user, conference) or (
        conference.status == ConferenceStatus.DRAFT  # set to published by the first publication
        and not takes_part_in(user, conference)
    ):
        raise ApiProblem(404, _("Không có hội nghị «%(slug)s».", slug=slug))
    return conference


def managed(slug: str) -> Conference:
    conference = readable_conference(slug)
    if not manages_conference(caller(), conference):
        raise ApiProblem(403, _("Chỉ ban tổ chức hội nghị được xem mục này."))
    return conference


def agenda_of(conference: Conference) -> PublishedAgenda:
    agenda = published_agenda(conference)
    if agenda is None:
        raise ApiProblem(404, _("Chương trình hội nghị chưa được công bố."))
    return agenda


def point_in_reach(slug: str, code: str) -> tuple[Conference, BroadcastPoint]:
    """The point, if the caller may see it; otherwise it does not exist for them.

    A point outside the caller's reach is answered exactly as a nonexistent one, so that
    asking for codes one by one tells nobody which points exist.
    """
    conference = readable_conference(slug)
    try:
        point = point_by_code(conference.id, code)
    except NotFound:
        point = None
    if point is None or not can_view_point(caller(), point):
        raise ApiProblem(404, _("Không có điểm cầu nào mã «%(code)s».", code=code))
    return conference, point


def attended_session(conference: Conference, session_id: int):
    """One of the conference's sessions that take attendance (not a break), else a 404."""
    for session in reports.attended_sessions(conference):
        if session.id == session_id:
            return session
    raise ApiProblem(404, _("Không có phiên điểm danh này."))


def points_in_reach(conference: Conference) -> Select:
    """The caller's points: all for organisers, a coordinator's own subtree, else none."""
    user = caller()
    query = select(BroadcastPoint).where(BroadcastPoint.conference_id == conference.id)
    if manages_conference(user, conference):
        return query
    if user.role == Role.COORDINATOR and coordinates_in(user, conference):
        return query.where(BroadcastPoint.id.in_(coordinated_point_ids(user, conference.id)))
    raise ApiProblem(403, _("Chỉ ban tổ chức và điều phối viên điểm cầu được xem điểm cầu."))


def rules_broken(broken: RuleBroken) -> ApiProblem:
    return ApiProblem(422, _("Dữ liệu không hợp lệ."), [
        FieldError(detail=p.message, pointer="/" + p.field if p.field else None)
        for p in broken.problems])


def commit_or_problem(action):
    try:
        result = action()
        db.session.commit()
    except RuleBroken as broken:
        db.session.rollback()
        raise rules_broken(broken) from None
    except ApiProblem:
        db.session.rollback()  # nothing of a refused change is kept, nor held
        raise
    return result


# ---------------------------------------------------------------- the document


@api.operation("GET", "/openapi.json", summary=N_("Tài liệu OpenAPI 3.1 của API này"),
               tag=N_("Tài liệu"), response={"type": "object"}, public=True)
def openapi() -> Response:
    response = jsonify(api.document())
    response.vary.add("Accept-Language")  # the document comes in the reader's language
    response.cache_control.public = True
    response.cache_control.max_age = 300
    # The document changes only with a release: a client that holds it is answered 304.
    response.add_etag()
    return conditional(response)


@bp.get("/docs")
def docs():
    """The API's reference, drawn from the same document, with no outside scripts."""
    return render_template("api/docs.html", document=api.document())


# ---------------------------------------------------------------- who is asking


@api.operation("GET", "/me", summary=N_("Người dùng của token"), tag=N_("Tài khoản"),
               response=schemas.Me)
def me():
    user = caller()
    return schemas.Me(id=user.id, email=user.email, display_name=user.display_name,
                      role=user.role, token_scope=g.api_token.scope)


# ---------------------------------------------------------------- conferences and agenda


def conference_out(conference: Conference, shown: Conference | PublishedConference,
                   agenda_version: int | None) -> schemas.ConferenceOut:
    """``shown`` gives what a version publishes (title, unit, zone, days): the live
    conference for its organisers, the latest published version for everyone else."""
    return schemas.ConferenceOut(
        id=conference.id, slug=conference.slug, title=shown.title,
        organising_unit=shown.organising_unit, timezone=shown.timezone,
        first_day=shown.first_day, last_day=shown.last_day,
        status=conference.status, visibility=conference.visibility,
        agenda_version=agenda_version)


def published_agendas(conference_ids: list[int]) -> dict[int, PublishedAgenda]:
    """Each conference's latest published version as published_agenda() reads it (and
    from the same cache), with one query for a whole page; those never published are
    missing."""
    if not conference_ids:
        return {}
    latest = (select(AgendaVersion.conference_id,
                     func.max(AgendaVersion.number).label("number"))
              .where(AgendaVersion.conference_id.in_(conference_ids))
              .group_by(AgendaVersion.conference_id).subquery())
    rows = db.session.execute(
        select(AgendaVersion.id, AgendaVersion.published_at, AgendaVersion.conference_id)
        .join(latest, (AgendaVersion.conference_id == latest.c.conference_id)
              & (AgendaVersion.number == latest.c.number))).all()
    return {row.conference_id: cached_per_version(
        "confmgr.published_agendas", (row.id, row.published_at),
        lambda: read_version(db.session.get(AgendaVersion, row.id))) for row in rows}


@api.operation("GET", "/conferences", summary=N_("Các hội nghị của người dùng"),
               tag=N_("Hội nghị"), response=schemas.Page[schemas.ConferenceOut],
               query=schemas.PageQuery,
               description=N_(
                   "Hội nghị người dùng tổ chức, điều phối điểm cầu hoặc báo cáo. Ban "
                   "tổ chức thấy thông tin đang sửa; người khác thấy thông tin của "
                   "phiên bản đã công bố mới nhất và không thấy hội nghị chưa công bố "
                   "lần nào."))
def conferences(query: schemas.PageQuery):
    user = caller()
    statement = managed_conferences(user).order_by(None)
    # managed_conferences() gives admins and organisers only what they manage, and
    # coordinators and presenters nothing they manage: the role alone decides, with no
    # question per conference.
    live = user.role in (Role.ADMIN, Role.ORGANISER)
    if not live:
        # As on the public pages, a conference never published has nothing to show them.
        statement = statement.where(
            exists().where(AgendaVersion.conference_id == Conference.id))
    page = page_of(paged(statement, query, Conference.id), query)
    ids = [c.id for c in page.items]
    if live:
        numbers = latest_version_numbers(ids)
        page.items = [conference_out(c, c, numbers.get(c.id)) for c in page.items]
    else:
        agendas = published_agendas(ids)
        page.items = [conference_out(c, agendas[c.id].conference, agendas[c.id].number)
                      for c in page.items]
    return page


@api.operation("GET", "/conferences/<slug>", summary=N_("Một hội nghị"), tag=N_("Hội nghị"),
               response=schemas.ConferenceOut,
               description=N_(
                   "Ban tổ chức thấy thông tin đang sửa; người khác thấy thông tin của "
                   "phiên bản đã công bố mới nhất, như trang công khai (404 trước lần "
                   "công bố đầu tiên)."))
def conference(slug: str):
    conference = readable_conference(slug)
    if manages_conference(caller(), conference):
        number = latest_version_numbers([conference.id]).get(conference.id)
        return conference_out(conference, conference, number)
    # An unpublished title or dates stay with the organisers, as on the public pages.
    agenda = agenda_of(conference)
    return conference_out(conference, agenda.conference, agenda.number)


@api.operation("GET", "/conferences/<slug>/sessions", summary=N_("Các phiên đã công bố"),
               tag=N_("Chương trình"), response=schemas.Page[schemas.SessionOut],
               description=N_(
                   "Chương trình đã công bố mới nhất (không phải bản nháp), theo giờ "
                   "bắt đầu."))
def sessions(slug: str):
    agenda = agenda_of(readable_conference(slug))
    return schemas.Page(next=None, items=[schemas.SessionOut(
        id=s.id, uid=s.uid, starts_at=s.starts_at, ends_at=s.ends_at, kind=s.kind,
        title=s.title, description=s.description, status=s.status,
        room=s.room.name if s.room else None,
        topic=schemas.SessionTopic(number=s.topic.number, title=s.topic.title)
        if s.topic else None,
        presenters=[schemas.SessionPresenter(name=p.name, position=p.position, unit=p.unit)
                    for p in s.presenters],
        sequence=s.sequence) for s in agenda.sessions])


@api.operation("GET", "/conferences/<slug>/topics", summary=N_("Các chuyên đề đã công bố"),
               tag=N_("Chương trình"), response=schemas.Page[schemas.TopicOut])
def topics(slug: str):
    agenda = agenda_of(readable_conference(slug))
    found: dict[str, schemas.TopicOut] = {}
    for s in agenda.sessions:
        if s.topic is None:
            continue
        topic = found.setdefault(s.topic.number, schemas.TopicOut(
            number=s.topic.number, title=s.topic.title, summary=s.topic.summary,
            materials=[schemas.MaterialOut(title=m.title, url=m.url or url_for(
                "public.material", slug=slug, material_id=m.id, _external=True))
                for m in s.topic.materials],
            session_ids=[]))
        topic.session_ids.append(s.id)
    return schemas.Page(items=list(found.values()), next=None)


@api.operation("GET", "/conferences/<slug>/presenters", summary=N_("Các báo cáo viên đã công bố"),
               tag=N_("Chương trình"), response=schemas.Page[schemas.PresenterOut])
def presenters(slug: str):
    agenda = agenda_of(readable_conference(slug))
    found: dict[tuple, schemas.PresenterOut] = {}
    for s in agenda.sessions:
        for p in s.presenters:
            presenter = found.setdefault((p.name, p.position, p.unit), schemas.PresenterOut(
                name=p.name, position=p.position, unit=p.unit, session_ids=[]))
            presenter.session_ids.append(s.id)
    return schemas.Page(items=list(found.values()), next=None)


@api.operation("GET", "/conferences/<slug>/categories", summary=N_("Thành phần đại biểu"),
               tag=N_("Đại biểu"), response=schemas.Page[schemas.CategoryOut])
def categories(slug: str):
    conference = readable_conference(slug)
    points_in_reach(conference)  # the same readers as the delegates themselves
    return schemas.Page(next=None, items=[
        schemas.CategoryOut(id=c.id, name=c.name, rank=c.rank)
        for c in roster_categories.categories(conference)])


# ---------------------------------------------------------------- points


def point_out(point: BroadcastPoint, parent_codes: dict[int, str]) -> schemas.PointOut:
    return schemas.PointOut(
        id=point.id, code=point.code, name=point.name, level=point.level,
        parent_code=parent_codes.get(point.parent_id) if point.parent_id else None,
        province_code=point.province_code, admin_unit_code=point.admin_unit_code,
        address=point.address, host_unit=point.host_unit,
        expected_delegates=point.expected_delegates, registered_count=point.registered_count,
        headcount_only=point.headcount_only)


def parent_codes(points: list[BroadcastPoint]) -> dict[int, str]:
    ids = {p.parent_id for p in points if p.parent_id}
    if not ids:
        return {}
    return dict(db.session.execute(
        select(BroadcastPoint.id, BroadcastPoint.code).where(BroadcastPoint.id.in_(ids))).all())


@api.operation("GET", "/conferences/<slug>/points", summary=N_("Các điểm cầu"),
               tag=N_("Điểm cầu"), response=schemas.Page[schemas.PointOut],
               query=schemas.PointQuery,
               description=N_(
                   "Ban tổ chức thấy mọi điểm cầu; điều phối viên thấy điểm cầu mình "
                   "và các điểm cầu dưới."))
def points(slug: str, query: schemas.PointQuery):
    statement = points_in_reach(readable_conference(slug))
    if query.province:
        statement = statement.where(in_province(BroadcastPoint.province_code, query.province))
    if query.level:
        statement = statement.where(BroadcastPoint.level == query.level)
    page = page_of(paged(statement, query, BroadcastPoint.id), query)
    codes = parent_codes(page.items)
    page.items = [point_out(p, codes) for p in page.items]
    return page


@api.operation("GET", "/conferences/<slug>/points/<code>", summary=N_("Một điểm cầu"),
               tag=N_("Điểm cầu"), response=schemas.PointOut)
def point(slug: str, code: str):
    _conference, found = point_in_reach(slug, code)
    return point_out(found, parent_codes([found]))


# ---------------------------------------------------------------- delegates


def participant_out(person: Participant, code: str) -> schemas.ParticipantOut:
    return schemas.ParticipantOut(
        id=person.id, point_code=code, full_name=person.full_name, position=person.position,
        unit=person.unit, category_id=person.category_id, phone=person.phone,
        email=person.email, note=person.note, status=person.status,
        created_at=person.created_at, updated_at=person.updated_at)


@api.operation("GET", "/conferences/<slug>/points/<code>/participants",
               summary=N_("Đại biểu của một điểm cầu"), tag=N_("Đại biểu"),
               response=schemas.Page[schemas.ParticipantOut], query=schemas.ParticipantQuery)
def participants(slug: str, code: str, query: schemas.ParticipantQuery):
    _conference, found = point_in_reach(slug, code)
    statement = select(Participant).where(Participant.point_id == found.id)
    if query.status:
        statement = statement.where(Participant.status == query.status)
    page = page_of(paged(statement, query, Participant.id), query)
    page.items = [participant_out(p, found.code) for p in page.items]
    return page


@api.operation("POST", "/conferences/<slug>/points/<code>/participants",
               summary=N_("Đăng ký một đại biểu"), tag=N_("Đại biểu"),
               response=schemas.ParticipantCreated, body=schemas.ParticipantIn, status=201,
               headers={"Location": N_("Địa chỉ của đại biểu vừa đăng ký.")})
def register(slug: str, code: str, body: schemas.ParticipantIn):
    conference, found = point_in_reach(slug, code)
    sent_id = str(body.client_id) if body.client_id else None
    try:
        person, warnings = commit_or_problem(lambda: roster.register(
            found, roster.PersonFields(**body.model_dump(exclude={"client_id"})),
            organiser=manages_conference(caller(), conference), client_id=sent_id))
        replayed = False
    except roster.SentBefore as sent:
        db.session.rollback()
        person, warnings, replayed = sent.person, [], True
    # A delegate registered again may have been moved since: they are shown where they are.
    created = schemas.ParticipantCreated(
        **participant_out(person, person.point.code).model_dump(), warnings=warnings,
        replayed=replayed)
    location = url_for("api.participant", slug=slug, person_id=person.id, _external=True)
    return created, {"Location": location}


def person_in_reach(slug: str, person_id: int) -> tuple[Participant, BroadcastPoint]:
    conference = readable_conference(slug)
    person = db.session.get(Participant, person_id)
    if person is None or person.conference_id != conference.id:
        raise ApiProblem(404, _("Không có đại biểu này."))
    found = db.session.get(BroadcastPoint, person.point_id)
    if not can_view_point(caller(), found):
        # Another point's delegates are as unknown as nonexistent ones.
        raise ApiProblem(404, _("Không có đại biểu này."))
    return person, found


@api.operation("GET", "/conferences/<slug>/participants/<int:person_id>",
               summary=N_("Một đại biểu"), tag=N_("Đại biểu"), response=schemas.ParticipantOut)
def participant(slug: str, person_id: int):
    person, found = person_in_reach(slug, person_id)
    return participant_out(person, found.code)


@api.operation("PATCH", "/conferences/<slug>/participants/<int:person_id>",
               summary=N_("Sửa thông tin đại biểu"), tag=N_("Đại biểu"),
               response=schemas.ParticipantOut, body=schemas.ParticipantPatch, if_match=True,
               description=N_(
                   "Chỉ các trường được gửi thay đổi; trường không gửi giữ nguyên; "
                   "null xóa giá trị, trừ full_name (đại biểu phải có họ tên)."))
def update_participant(slug: str, person_id: int, body: schemas.ParticipantPatch):
    person, found = person_in_reach(slug, person_id)
    # As in a JSON merge patch, null clears a member: text becomes empty.
    sent = {name: "" if value is None and name != "category_id" else value
            for name, value in body.model_dump(exclude_unset=True).items()}
    conference = db.session.get(Conference, person.conference_id)

    def patch():
        # If-Match is weighed against the delegate as held for the write, not as read
        # above: a change committed in between is then refused, not overwritten.
        roster.hold_for_edit(person, sent.get("full_name"))
        refuse_unless_current(etag_of(participant_out(person, found.code)))
        roster.patch_held(person, sent, organiser=manages_conference(caller(), conference))

    commit_or_problem(patch)
    return participant_out(person, found.code)


@api.operation("POST", "/conferences/<slug>/participants/<int:person_id>/withdraw",
               summary=N_("Rút tên đại biểu"), tag=N_("Đại biểu"), response=schemas.ParticipantOut,
               description=N_(
                   "Rút tên lần nữa không đổi gì."))
def withdraw_participant(slug: str, person_id: int):
    person, found = person_in_reach(slug, person_id)
    conference = db.session.get(Conference, person.conference_id)
    commit_or_problem(lambda: roster.withdraw(
        person, organiser=manages_conference(caller(), conference)))
    return participant_out(person, found.code)


# ---------------------------------------------------------------- attendance


@api.operation("POST", "/conferences/<slug>/checkins", summary=N_("Điểm danh theo lô"),
               tag=N_("Điểm danh"), response=schemas.CheckInResults, body=schemas.CheckInBatch,
               description=N_(
                   "Mỗi lượt điểm danh mang một mã (UUID) do máy gửi tự sinh. Gửi lại "
                   "lượt đã nhận thì không đổi gì và được trả lời như lần đầu "
                   "(``replayed``). Lượt máy ghi (``taken_at``) trước một thay đổi điểm "
                   "cầu đã ghi sau đó thì không đổi gì: thay đổi sau được giữ "
                   "(``superseded``). Cả lô được ghi, hoặc không lượt nào được ghi nếu "
                   "có lỗi; lỗi chỉ rõ lượt nào (``/checkins/<số thứ tự>/…``)."))
def checkins(slug: str, body: schemas.CheckInBatch):
    conference = readable_conference(slug)
    points_in_reach(conference)  # only organisers and coordinators take attendance
    user = caller()
    batch = [Sent(str(c.id), c.participant_id, c.session_id, c.status, c.taken_at)
             for c in body.checkins]
    received = commit_or_problem(lambda: record_batch(
        conference, batch, user_id=user.id, may_record=lambda p: can_view_point(user, p),
        late_by=timedelta(hours=current_app.config["API_LATE_CHECKIN_HOURS"]),
        sent_at=body.sent_at))
    return schemas.CheckInResults(results=[schemas.CheckInResult(
        id=r.client_id, participant_id=r.participant_id, session_id=r.session_id,
        status=r.status, changed=r.changed, replayed=r.replayed, superseded=r.superseded)
        for r in received])


@api.operation("GET", "/conferences/<slug>/points/<code>/attendance",
               summary=N_("Điểm danh một phiên tại một điểm cầu"), tag=N_("Điểm danh"),
               response=schemas.Page[schemas.AttendanceOut], query=schemas.AttendanceQuery)
def attendance(slug: str, code: str, query: schemas.AttendanceQuery):
    conference, found = point_in_reach(slug, code)
    session = attended_session(conference, query.session_id)
    statement = select(Attendance).where(Attendance.point_id == found.id,
                                         Attendance.session_id == session.id)
    page = page_of(paged(statement, query, Attendance.id), query)
    page.items = [schemas.AttendanceOut(
        id=a.id, participant_id=a.participant_id, session_id=a.session_id, status=a.status,
        recorded_at=a.recorded_at) for a in page.items]
    return page


# ---------------------------------------------------------------- reports


def tally_out(tally: reports.Tally) -> schemas.Tally:
    return schemas.Tally(
        registered=tally.registered, expected=tally.expected, present=tally.present,
        late=tally.late, excused=tally.excused, absent=tally.absent,
        headcount=tally.headcount, attended=tally.attended, not_recorded=tally.not_recorded,
        rate=tally.rate)


@api.operation("GET", "/conferences/<slug>/reports/sessions",
               summary=N_("Số liệu dự từng phiên"), tag=N_("Báo cáo"),
               response=schemas.SessionReports, query=schemas.ReportQuery,
               description=N_(
                   "Cả nước, hoặc một tỉnh/thành (``province``). Chỉ ban tổ chức."))
def session_reports(slug: str, query: schemas.ReportQuery):
    conference = managed(slug)
    return schemas.SessionReports(province=query.province, sessions=[
        schemas.SessionReport(session_id=s.id, title=s.attendance_title,
                              starts_at=s.published_starts_at,
                              tally=tally_out(t))
        for s, t in reports.session_totals(conference, query.province)])


@api.operation("GET", "/conferences/<slug>/reports/sessions/<int:session_id>/provinces",
               summary=N_("Số liệu một phiên theo tỉnh/thành"), tag=N_("Báo cáo"),
               response=schemas.ProvinceReports)
def province_reports(slug: str, session_id: int):
    conference = managed(slug)
    session = attended_session(conference, session_id)
    return schemas.ProvinceReports(session_id=session.id, provinces=[
        schemas.ProvinceReport(code=row.code, name=row.name, tally=tally_out(row.tally))
        for row in reports.by_province(conference, session.id)])


@api.operation("GET", "/conferences/<slug>/reports/sessions/<int:session_id>/points",
               summary=N_("Số liệu một phiên theo điểm cầu"), tag=N_("Báo cáo"),
               response=schemas.Page[schemas.PointReport], query=schemas.PointReportQuery,
               description=N_(
                   "Ban tổ chức thấy mọi điểm cầu; điều phối viên thấy các điểm cầu "
                   "mình phụ trách. Theo mã điểm cầu; ``after`` là mã cuối của trang "
                   "trước."))
def point_reports(slug: str, session_id: int, query: schemas.PointReportQuery):
    conference = readable_conference(slug)
    points_statement = points_in_reach(conference)
    session = attended_session(conference, session_id)
    point_ids = None
    if not manages_conference(caller(), conference):
        point_ids = points_statement.with_only_columns(BroadcastPoint.id)
    rows = []
    for row in reports.by_point(conference, session.id, province=query.province,
                                point_ids=point_ids, after=query.after):
        rows.append(schemas.PointReport(code=row.code, name=row.name,
                                        province_code=row.province_code,
                                        headcount_only=row.headcount_only,
                                        tally=tally_out(row.tally)))
        if len(rows) > query.limit:
            break
    return page_of(rows, query, key=lambda row: row.code)
