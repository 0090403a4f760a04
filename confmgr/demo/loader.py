"""Loading the demo conference. Times are plausible: the report gives none."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from confmgr.accounts.models import User
from confmgr.accounts.services import create_user, find_user
from confmgr.attendance.checkin import rebuild_counts
from confmgr.attendance.models import NO_CATEGORY, Attendance, AttendanceChange
from confmgr.audit.services import record
from confmgr.conferences.editing import assign_presenters
from confmgr.conferences.models import AgendaSession, Conference, Presenter, Room, Topic
from confmgr.conferences.publishing import publish
from confmgr.db import db
from confmgr.demo.names import random_full_name, random_mobile
from confmgr.enums import (
    AttendanceStatus,
    CheckInMethod,
    PointLevel,
    Role,
    SessionKind,
)
from confmgr.points.models import BroadcastPoint
from confmgr.points.services import refresh_registered_counts
from confmgr.questions import services as questions
from confmgr.roster.models import Category, CategoryRequirement, Participant

SLUG = "tap-huan-cap-xa-2025"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY_1 = date(2025, 6, 14)
DAY_2 = date(2025, 6, 15)
ACADEMY = "Học viện Chính trị quốc gia Hồ Chí Minh"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str
    name: str
    role: Role


ADMIN = DemoAccount("admin@example.org", "demo-admin-2025", "Quản trị hệ thống", Role.ADMIN)
ORGANISER = DemoAccount(
    "organiser@example.org", "demo-organiser-2025", "Ban Tổ chức hội nghị", Role.ORGANISER
)
COORDINATOR = DemoAccount(
    "quangninh@example.org", "demo-quangninh-2025", "Điều phối điểm cầu Quảng Ninh",
    Role.COORDINATOR,
)
PRESENTER = DemoAccount(
    "baocaovien@example.org", "demo-baocaovien-2025", "Lãnh đạo Ban Tổ chức Trung ương",
    Role.PRESENTER,
)
DEMO_ACCOUNTS = (ADMIN, ORGANISER, COORDINATOR, PRESENTER)
#: The presenter entry the presenter account speaks for.
PRESENTER_KEY = "btctw"

CONFERENCE = {
    "slug": SLUG,
    "title": (
        "Hội nghị toàn quốc tập huấn chuyên môn, nghiệp vụ liên quan đến công tác tổ chức "
        "xây dựng Đảng, quản lý nhà nước, tổ chức và hoạt động của MTTQ, đoàn thể chính trị "
        "ở cấp xã (mới)"
    ),
    "organising_unit": ACADEMY,
    "description": (
        "Học viện Chính trị quốc gia Hồ Chí Minh phối hợp với Đảng ủy Chính phủ, Đảng ủy MTTQ, "
        "các đoàn thể Trung ương và các ban, bộ, ngành, đoàn thể Trung ương tổ chức, theo hình "
        "thức trực tiếp kết hợp trực tuyến đến các địa phương trong toàn quốc. Đại biểu tham gia "
        "nghiêm túc, đầy đủ, trách nhiệm, đúng thành phần; kịp thời phản hồi những khó khăn, "
        "vướng mắc để được các báo cáo viên trao đổi, hướng dẫn."
    ),
    "timezone": "Asia/Ho_Chi_Minh",
    "first_day": DAY_1,
    "last_day": DAY_2,
}

#: key -> (name, position, unit)
PRESENTERS = {
    "thang": (
        "Nguyễn Xuân Thắng",
        "Ủy viên Bộ Chính trị, Giám đốc Học viện Chính trị quốc gia Hồ Chí Minh, "
        "Chủ tịch Hội đồng Lý luận Trung ương",
        ACADEMY,
    ),
    "chinh": ("Phạm Minh Chính", "Ủy viên Bộ Chính trị, Thủ tướng Chính phủ", "Chính phủ"),
    "btctw": ("Lãnh đạo Ban Tổ chức Trung ương", "Báo cáo viên", "Ban Tổ chức Trung ương"),
    "ubkttw": ("Lãnh đạo Ủy ban Kiểm tra Trung ương", "Báo cáo viên", "Ủy ban Kiểm tra Trung ương"),
    "mttq": (
        "Lãnh đạo Ủy ban Trung ương MTTQ Việt Nam", "Báo cáo viên",
        "Ủy ban Trung ương Mặt trận Tổ quốc Việt Nam",
    ),
    "bnv": ("Lãnh đạo Bộ Nội vụ", "Báo cáo viên", "Bộ Nội vụ"),
    "tw": (
        "Lãnh đạo các ban, bộ, ngành, đoàn thể Trung ương", "Báo cáo viên",
        "Các ban, bộ, ngành, đoàn thể Trung ương",
    ),
}

#: number -> (title, summary)
TOPICS = {
    "1": (
        "Công tác tổ chức xây dựng Đảng; tổ chức cơ sở Đảng, bộ máy và hoạt động cấp ủy "
        "cấp xã (mới)",
        "Tổ chức cơ sở Đảng, bộ máy và hoạt động của cấp ủy ở cấp xã sau sắp xếp.",
    ),
    "2": (
        "Một số nội dung sửa đổi, bổ sung mới, quan trọng trong quy định, hướng dẫn thi hành "
        "Điều lệ Đảng",
        "Những nội dung mới, quan trọng trong quy định và hướng dẫn thi hành Điều lệ Đảng.",
    ),
    "3": (
        "Những điểm mới cơ bản trong công tác kiểm tra, giám sát của Đảng",
        "Điểm mới trong công tác kiểm tra, giám sát và kỷ luật của Đảng.",
    ),
    "4": (
        "Tổ chức và hoạt động của MTTQ và các đoàn thể chính trị ở cấp xã (mới)",
        "Tổ chức bộ máy và phương thức hoạt động của Mặt trận và các đoàn thể ở cấp xã.",
    ),
    "5": (
        "Chức năng, nhiệm vụ, quyền hạn và những vấn đề chung về phân cấp, phân quyền và "
        "phân định thẩm quyền cho chính quyền địa phương 02 cấp",
        "Phân cấp, phân quyền và phân định thẩm quyền giữa chính quyền cấp tỉnh và cấp xã.",
    ),
    "6": (
        "Chức năng, nhiệm vụ, phương thức hoạt động của một số cơ quan, đơn vị ở cấp xã (mới)",
        "Quán triệt chức năng, nhiệm vụ và phương thức hoạt động của các cơ quan, đơn vị.",
    ),
    "7": (
        "Hướng dẫn một số lĩnh vực công tác cụ thể ở cấp xã (mới)",
        "Hướng dẫn nghiệp vụ trong một số lĩnh vực công tác cụ thể.",
    ),
}

#: (day, start, end, kind, title, topic number, presenter keys)
SESSIONS = (
    (DAY_1, "07:30", "08:00", SessionKind.OTHER,
     "Đón tiếp đại biểu, kiểm tra đường truyền các điểm cầu", None, ()),
    (DAY_1, "08:00", "08:30", SessionKind.OPENING, "Phát biểu khai mạc hội nghị", None, ("thang",)),
    (DAY_1, "08:30", "09:15", SessionKind.DIRECTIVE,
     "Phát biểu chỉ đạo của Thủ tướng Chính phủ", None, ("chinh",)),
    (DAY_1, "09:15", "10:15", SessionKind.TOPIC, TOPICS["1"][0], "1", ("btctw",)),
    (DAY_1, "10:15", "10:30", SessionKind.BREAK, "Giải lao", None, ()),
    (DAY_1, "10:30", "11:30", SessionKind.TOPIC, TOPICS["2"][0], "2", ("btctw",)),
    (DAY_1, "13:30", "14:30", SessionKind.TOPIC, TOPICS["3"][0], "3", ("ubkttw",)),
    (DAY_1, "14:30", "15:30", SessionKind.TOPIC, TOPICS["4"][0], "4", ("mttq",)),
    (DAY_1, "15:30", "15:45", SessionKind.BREAK, "Giải lao", None, ()),
    (DAY_1, "15:45", "16:45", SessionKind.TOPIC, TOPICS["5"][0], "5", ("bnv",)),
    (DAY_1, "16:45", "17:30", SessionKind.DISCUSSION,
     "Trao đổi, giải đáp khó khăn, vướng mắc từ các điểm cầu", None, ()),
    (DAY_2, "08:00", "09:30", SessionKind.TOPIC, TOPICS["6"][0], "6", ("tw",)),
    (DAY_2, "09:30", "09:45", SessionKind.BREAK, "Giải lao", None, ()),
    (DAY_2, "09:45", "11:15", SessionKind.TOPIC, TOPICS["7"][0], "7", ("tw",)),
    (DAY_2, "13:30", "15:30", SessionKind.DISCUSSION,
     "Thảo luận, trao đổi, giải đáp vướng mắc tại các điểm cầu", None, ()),
    (DAY_2, "15:30", "16:00", SessionKind.CLOSING, "Bế mạc hội nghị", None, ("thang",)),
)

#: name -> protocol rank
CATEGORIES = {
    "Lãnh đạo Trung ương": 10,
    "Bí thư, Phó Bí thư cấp ủy": 20,
    "Lãnh đạo HĐND, UBND": 30,
    "Lãnh đạo Ủy ban MTTQ và các đoàn thể chính trị - xã hội": 40,
    "Lãnh đạo các phòng, ban chuyên môn": 50,
    "Cán bộ, công chức": 60,
}


@dataclass(frozen=True)
class DemoPoint:
    code: str
    name: str
    level: PointLevel
    parent: str | None
    admin_unit_code: str | None
    province_code: str | None  # None: outside every province (the main venue)
    address: str
    chair_name: str = ""
    chair_position: str = ""
    delegates: int = 25


POINTS = (
    DemoPoint("TW", "Điểm cầu Trung ương – Học viện Chính trị quốc gia Hồ Chí Minh",
              PointLevel.MAIN, None, None, None,
              "135 Nguyễn Phong Sắc, phường Nghĩa Đô, Thành phố Hà Nội",
              "Nguyễn Xuân Thắng", PRESENTERS["thang"][1], delegates=40),
    DemoPoint("01", "Điểm cầu Thành phố Hà Nội", PointLevel.PROVINCE, "TW", "01", "01",
              "Trụ sở Thành ủy Hà Nội", chair_position="Phó Bí thư Thành ủy"),
    DemoPoint("22", "Điểm cầu tỉnh Quảng Ninh", PointLevel.PROVINCE, "TW", "22", "22",
              "Trụ sở Tỉnh ủy Quảng Ninh, phường Hạ Long",
              "Vũ Đại Thắng", "Ủy viên Trung ương Đảng, Bí thư Tỉnh ủy, Trưởng đoàn ĐBQH tỉnh",
              delegates=30),
    DemoPoint("31", "Điểm cầu Thành phố Hải Phòng", PointLevel.PROVINCE, "TW", "31", "31",
              "Trụ sở Thành ủy Hải Phòng", chair_position="Phó Bí thư Thành ủy"),
    DemoPoint("40", "Điểm cầu tỉnh Nghệ An", PointLevel.PROVINCE, "TW", "40", "40",
              "Trụ sở Tỉnh ủy Nghệ An", chair_position="Phó Bí thư Tỉnh ủy"),
    DemoPoint("79", "Điểm cầu Thành phố Hồ Chí Minh", PointLevel.PROVINCE, "TW", "79", "79",
              "Trụ sở Thành ủy Thành phố Hồ Chí Minh", chair_position="Phó Bí thư Thành ủy"),
    DemoPoint("06811", "Điểm cầu Uông Bí", PointLevel.COMMUNE, "22", "06811", "22",
              "Trụ sở Đảng ủy – HĐND – UBND phường Uông Bí, tỉnh Quảng Ninh",
              "Mai Vũ Tuấn", "Tỉnh ủy viên, Bí thư Thành ủy Uông Bí", delegates=35),
    DemoPoint("06688", "Điểm cầu phường Hạ Long", PointLevel.COMMUNE, "22", "06688", "22",
              "Trụ sở Đảng ủy – HĐND – UBND phường Hạ Long, tỉnh Quảng Ninh",
              chair_position="Bí thư Đảng ủy phường"),
    DemoPoint("06793", "Điểm cầu phường Cẩm Phả", PointLevel.COMMUNE, "22", "06793", "22",
              "Trụ sở Đảng ủy – HĐND – UBND phường Cẩm Phả, tỉnh Quảng Ninh",
              chair_position="Bí thư Đảng ủy phường"),
    DemoPoint("00004", "Điểm cầu phường Ba Đình", PointLevel.COMMUNE, "01", "00004", "01",
              "Trụ sở Đảng ủy – HĐND – UBND phường Ba Đình, Thành phố Hà Nội",
              chair_position="Bí thư Đảng ủy phường"),
    DemoPoint("00070", "Điểm cầu phường Hoàn Kiếm", PointLevel.COMMUNE, "01", "00070", "01",
              "Trụ sở Đảng ủy – HĐND – UBND phường Hoàn Kiếm, Thành phố Hà Nội",
              chair_position="Bí thư Đảng ủy phường"),
)

#: What every provincial and commune point must send: (category, level, how many).
REQUIREMENTS = (
    ("Bí thư, Phó Bí thư cấp ủy", PointLevel.PROVINCE, 1),
    ("Bí thư, Phó Bí thư cấp ủy", PointLevel.COMMUNE, 1),
    ("Lãnh đạo HĐND, UBND", PointLevel.PROVINCE, 2),
    ("Lãnh đạo HĐND, UBND", PointLevel.COMMUNE, 2),
)

#: The leaders every local point sends first: (category, position).
LOCAL_LEADERS = (
    ("Bí thư, Phó Bí thư cấp ủy", "Bí thư cấp ủy"),
    ("Bí thư, Phó Bí thư cấp ủy", "Phó Bí thư Thường trực cấp ủy"),
    ("Lãnh đạo HĐND, UBND", "Chủ tịch HĐND"),
    ("Lãnh đạo HĐND, UBND", "Chủ tịch UBND"),
    ("Lãnh đạo Ủy ban MTTQ và các đoàn thể chính trị - xã hội", "Chủ tịch Ủy ban MTTQ"),
    ("Lãnh đạo Ủy ban MTTQ và các đoàn thể chính trị - xã hội", "Chủ tịch Hội Liên hiệp Phụ nữ"),
    ("Lãnh đạo Ủy ban MTTQ và các đoàn thể chính trị - xã hội", "Chủ tịch Hội Nông dân"),
    ("Lãnh đạo Ủy ban MTTQ và các đoàn thể chính trị - xã hội", "Bí thư Đoàn Thanh niên"),
    ("Lãnh đạo các phòng, ban chuyên môn", "Chánh Văn phòng"),
    ("Lãnh đạo các phòng, ban chuyên môn", "Trưởng phòng Văn hóa – Xã hội"),
)
STAFF_POSITIONS = ("Chuyên viên", "Công chức Văn phòng", "Công chức Tư pháp – Hộ tịch",
                   "Công chức Địa chính – Xây dựng", "Chuyên viên Ban Xây dựng Đảng")

#: Sessions of day 1 for which the demo holds check-ins.
CHECKED_IN_SESSIONS = 4


def load_demo() -> bool:
    """Load the demo conference and accounts; return False, changing nothing, if present."""
    if db.session.scalar(select(Conference.id).where(Conference.slug == SLUG)) is not None:
        return False
    conference = Conference(**CONFERENCE)
    db.session.add(conference)
    db.session.flush()

    sessions = _add_agenda(conference)
    points = _add_points(conference)
    categories = {
        name: Category(conference_id=conference.id, name=name, rank=rank)
        for name, rank in CATEGORIES.items()
    }
    db.session.add_all(categories.values())
    db.session.flush()
    db.session.add_all(
        CategoryRequirement(category_id=categories[name].id, level=level, min_count=count)
        for name, level, count in REQUIREMENTS
    )
    participants = _add_participants(conference, points, categories)
    refresh_registered_counts(conference.id)

    users = _ensure_accounts()
    users[ORGANISER.email].conferences.append(conference)
    users[COORDINATOR.email].points.append(points["22"])
    _add_check_ins(conference, sessions, participants, points, users[COORDINATOR.email])
    _add_questions(conference, points, users)

    record("demo.load", target=conference, conference_id=conference.id)
    publish(conference, users[ORGANISER.email], "Chương trình chính thức của hội nghị.")
    db.session.commit()
    return True


def _local(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), TZ).astimezone(timezone.utc)


def _add_agenda(conference: Conference) -> list[AgendaSession]:
    room = Room(conference_id=conference.id, name=f"Hội trường chính, {ACADEMY}")
    topics = {
        number: Topic(conference_id=conference.id, number=number, title=title, summary=summary)
        for number, (title, summary) in TOPICS.items()
    }
    presenters = {
        key: Presenter(conference_id=conference.id, name=name, position=position, unit=unit)
        for key, (name, position, unit) in PRESENTERS.items()
    }
    db.session.add_all([room, *topics.values(), *presenters.values()])
    db.session.flush()
    sessions = []
    for day, start, end, kind, title, topic, presenter_keys in SESSIONS:
        session = AgendaSession(
            conference_id=conference.id,
            starts_at=_local(day, start),
            ends_at=_local(day, end),
            kind=kind,
            title=title,
            room_id=room.id,
            topic_id=topics[topic].id if topic else None,
        )
        db.session.add(session)
        assign_presenters(session, [presenters[key] for key in presenter_keys])
        sessions.append(session)
    return sessions


def _add_points(conference: Conference) -> dict[str, BroadcastPoint]:
    rng = random.Random(f"{SLUG}/points")
    points: dict[str, BroadcastPoint] = {}
    for spec in POINTS:
        point = BroadcastPoint(
            conference_id=conference.id,
            code=spec.code,
            name=spec.name,
            level=spec.level,
            parent_id=points[spec.parent].id if spec.parent else None,
            admin_unit_code=spec.admin_unit_code,
            province_code=spec.province_code,
            address=spec.address,
            host_unit=ACADEMY if spec.level == PointLevel.MAIN else "",
            chair_name=spec.chair_name,
            chair_position=spec.chair_position,
            technical_officer_name=random_full_name(rng),
            technical_officer_phone=random_mobile(rng),
            expected_delegates=spec.delegates,
        )
        db.session.add(point)
        db.session.flush()  # children need the parent's id
        points[spec.code] = point
    return points


def _add_participants(
    conference: Conference, points: dict[str, BroadcastPoint], categories: dict[str, Category]
) -> dict[str, list[Participant]]:
    by_point: dict[str, list[Participant]] = {}
    for spec in POINTS:
        rng = random.Random(f"{SLUG}/participants/{spec.code}")
        unit = spec.name.removeprefix("Điểm cầu ").strip()
        people = []
        for index in range(spec.delegates):
            if spec.level == PointLevel.MAIN:
                category, position = "Lãnh đạo Trung ương", "Đại biểu Trung ương"
            elif index < len(LOCAL_LEADERS):
                category, position = LOCAL_LEADERS[index]
            else:
                category, position = "Cán bộ, công chức", rng.choice(STAFF_POSITIONS)
            people.append(
                Participant(
                    conference_id=conference.id,
                    point_id=points[spec.code].id,
                    category_id=categories[category].id,
                    full_name=random_full_name(rng),
                    position=position,
                    unit=unit,
                    phone=random_mobile(rng),
                )
            )
        by_point[spec.code] = people
        db.session.add_all(people)
    db.session.flush()
    return by_point


def _ensure_accounts() -> dict[str, User]:
    users = {}
    for account in DEMO_ACCOUNTS:
        user = find_user(account.email) or create_user(
            account.email, account.password, account.name, account.role
        )
        users[account.email] = user
    return users


#: (point code, topic number or None, asker, question); questions of one group are merged
#: into its first.
QUESTION_GROUPS = (
    (("06811", "1", "Trần Văn Hùng, Bí thư chi bộ khu 3",
      "Sau sắp xếp, đảng bộ xã có hơn 60 chi bộ trực thuộc; việc phân công cấp ủy viên phụ "
      "trách chi bộ thực hiện như thế nào cho phù hợp?"),
     ("06688", "1", "",
      "Đề nghị hướng dẫn cách phân công cấp ủy viên phụ trách chi bộ khi số chi bộ trực thuộc "
      "đảng bộ xã tăng nhiều sau sắp xếp."),
     ("00004", "1", "",
      "Số chi bộ trực thuộc tăng gấp đôi sau hợp nhất, cấp ủy viên phụ trách chi bộ được "
      "phân công ra sao?")),
    (("00070", "1", "",
      "Việc bố trí bí thư chi bộ đồng thời là trưởng thôn, tổ trưởng tổ dân phố có bắt buộc "
      "không?"),),
    (("06793", "2", "Nguyễn Thị Lan, Phó Bí thư Đảng ủy",
      "Thời hạn chuyển sinh hoạt đảng khi đảng viên chuyển công tác sang xã mới được tính "
      "như thế nào?"),),
    (("31", "2", "",
      "Đảng viên đi làm ăn xa trên 12 tháng có được miễn sinh hoạt đảng không, thủ tục ra "
      "sao?"),),
    (("40", "3", "",
      "Ủy ban kiểm tra đảng ủy xã mới có bao nhiêu thành viên, có thành viên chuyên trách "
      "không?"),),
    (("79", None, "",
      "Đề nghị Ban Tổ chức gửi tài liệu các chuyên đề bằng bản điện tử trước hội nghị để "
      "các điểm cầu in sao."),),
)
#: The answer the first group's question carries, published in the demo's digest.
DEMO_ANSWER = (
    "Ban thường vụ đảng ủy xã phân công mỗi cấp ủy viên phụ trách một số chi bộ theo địa "
    "bàn, bảo đảm chi bộ nào cũng có cấp ủy viên phụ trách; bảng phân công được thông báo "
    "đến từng chi bộ và rà soát lại sau mỗi lần kiện toàn cấp ủy."
)


def _add_questions(conference: Conference, points: dict[str, BroadcastPoint],
                   users: dict[str, User]) -> None:
    """A few questions from the points: one merged from three, answered and published,
    one assigned to the presenter who has the demo's presenter account."""
    topics = {t.number: t.id for t in db.session.scalars(
        select(Topic).where(Topic.conference_id == conference.id))}
    presenter = db.session.scalar(select(Presenter).where(
        Presenter.conference_id == conference.id, Presenter.name == PRESENTERS[PRESENTER_KEY][0]))
    presenter.user_id = users[PRESENTER.email].id
    firsts = []
    for group in QUESTION_GROUPS:
        raised = []
        for code, topic, asker, body in group:
            name, _comma, position = asker.partition(", ")
            raised += questions.raise_questions(
                conference, points[code], [(0, body)],
                topic_id=topics[topic] if topic else None,
                asker=questions.Asker(name, position))
        if raised[1:]:
            questions.merge(raised[0], raised[1:], publishes=True)
        firsts.append(raised[0])
    questions.answer(firsts[0], DEMO_ANSWER, user_id=users[PRESENTER.email].id)
    questions.assign([firsts[0], firsts[2]], presenter)
    questions.publish([firsts[0]])


def _add_check_ins(
    conference: Conference,
    sessions: list[AgendaSession],
    participants: dict[str, list[Participant]],
    points: dict[str, BroadcastPoint],
    coordinator: User,
) -> None:
    rng = random.Random(f"{SLUG}/attendance")
    quang_ninh = {code for code, point in points.items() if point.province_code == "22"}
    attended = [s for s in sessions if s.kind != SessionKind.BREAK][1:CHECKED_IN_SESSIONS + 1]
    rows = []
    for session in attended:
        for code, people in participants.items():
            for person in people:
                roll = rng.random()
                status = (
                    AttendanceStatus.PRESENT if roll < 0.88
                    else AttendanceStatus.LATE if roll < 0.92
                    else AttendanceStatus.EXCUSED if roll < 0.97
                    else AttendanceStatus.ABSENT
                )
                rows.append({
                    "conference_id": conference.id, "participant_id": person.id,
                    "session_id": session.id, "point_id": person.point_id,
                    "category_ref": person.category_id or NO_CATEGORY, "status": status,
                    "recorded_at": session.starts_at, "method": CheckInMethod.MANUAL,
                    "recorded_by_id": coordinator.id if code in quang_ninh else None,
                    "note": "",
                })
    # In bulk, then counted once: the same rows and totals check-ins one by one would leave.
    db.session.execute(insert(Attendance.__table__), rows)
    db.session.execute(insert(AttendanceChange.__table__), [
        {"conference_id": r["conference_id"], "session_id": r["session_id"],
         "point_id": r["point_id"], "participant_id": r["participant_id"],
         "category_ref": r["category_ref"], "old_status": None, "new_status": r["status"],
         "method": r["method"], "changed_by_id": r["recorded_by_id"],
         "changed_at": r["recorded_at"]} for r in rows])
    rebuild_counts(conference.id)
