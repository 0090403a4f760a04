"""What organisers, coordinators and visitors do, done in a real browser against the real app."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from confmgr.accounts.models import User
from confmgr.attendance.models import Attendance, AttendanceChange, SessionPointCount
from confmgr.conferences import publishing
from confmgr.conferences.models import AgendaSession, AgendaVersion, Conference
from confmgr.db import db
from confmgr.demo import loader
from confmgr.enums import AttendanceStatus, CheckInMethod, RegistrationStatus, SessionKind
from confmgr.points.models import BroadcastPoint
from confmgr.roster.models import Category, Participant

expect = pytest.importorskip("playwright.sync_api", reason="Playwright not installed").expect
# The browser sees the same pages on either database, which the rest of the suite covers
# on both; one run keeps CI within its time.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
# Pages come from a local server, but a busy two-core CI machine can be slow to render.
expect.set_options(timeout=10_000)

SLUG = loader.SLUG
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
#: Every session of the published demo agenda as the public page and the feeds title it.
DEMO_TITLES = [f"Chuyên đề {topic}: {title}" if topic else title
               for _day, _start, _end, _kind, title, topic, _who in loader.SESSIONS]


def local_text(instant: datetime) -> str:
    """An instant as the pages print it: "HH:MM dd/mm/yyyy" in the conference's zone."""
    return f"{instant.astimezone(ZONE):%H:%M %d/%m/%Y}"


def log_in(page, email: str, password: str) -> None:
    page.goto("/")
    page.get_by_role("link", name="Đăng nhập").click()
    page.get_by_label("Email hoặc tên đăng nhập", exact=True).fill(email)
    page.get_by_label("Mật khẩu", exact=True).fill(password)
    page.get_by_role("button", name="Đăng nhập", exact=True).click()
    page.wait_for_url("**/manage/")


# ---------------------------------------------------------------- 0. a conference from nothing


def test_organiser_creates_a_conference_and_publishes_its_agenda(page, screenshot, demo):
    log_in(page, "organiser@example.org", "demo-organiser-2025")
    page.get_by_role("link", name="+ Tạo hội nghị").click()
    page.get_by_label("Tên hội nghị").fill("Hội nghị tập huấn công tác văn thư năm 2026")
    page.get_by_label("Địa chỉ rút gọn").fill("van-thu-2026")
    page.get_by_label("Ngày bắt đầu").fill("2026-12-10")
    page.get_by_label("Ngày kết thúc").fill("2026-12-10")
    screenshot("01-conference-form")
    page.get_by_role("button", name="Lưu", exact=True).click()
    page.wait_for_url("**/manage/c/van-thu-2026/agenda")
    expect(page.get_by_role("status")).to_have_text("Đã tạo hội nghị.")

    page.get_by_role("link", name="+ Thêm phiên").first.click()
    page.get_by_label("Ngày", exact=True).select_option(label="10/12/2026")
    page.get_by_label("Bắt đầu").fill("08:00")
    page.get_by_label("Kết thúc").fill("08:30")
    page.get_by_label("Loại phiên").select_option(label="Khai mạc")
    page.get_by_label("Tiêu đề").fill("Khai mạc hội nghị")
    page.get_by_role("button", name="Lưu", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Đã lưu phiên «Khai mạc hội nghị».")

    page.get_by_role("link", name="1 thay đổi chưa công bố").click()
    page.get_by_label("Ghi chú thay đổi").fill("Chương trình đầu tiên.")
    page.get_by_role("button", name="Công bố phiên bản 1").click()
    expect(page.get_by_role("status")).to_have_text("Đã công bố phiên bản 1.")
    screenshot("02-published")

    page.goto("/c/van-thu-2026/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Hội nghị tập huấn công tác văn thư năm 2026")
    expect(page.locator(".session-title")).to_have_text(["Khai mạc hội nghị"])
    screenshot("03-public-agenda")
    with demo.app_context():
        conference = db.session.scalar(select(Conference).where(
            Conference.slug == "van-thu-2026"))
        session = db.session.scalar(select(AgendaSession).where(
            AgendaSession.conference_id == conference.id))
        assert (session.starts_at, session.ends_at) == (
            datetime(2026, 12, 10, 1, 0, tzinfo=timezone.utc),
            datetime(2026, 12, 10, 1, 30, tzinfo=timezone.utc))


# ---------------------------------------------------------------- 1. an organiser publishes

NEW_TOPIC = "Chuyển đổi số trong hoạt động của chính quyền cấp xã (mới)"
NEW_PRESENTER = ("Lãnh đạo Bộ Khoa học và Công nghệ", "Báo cáo viên", "Bộ Khoa học và Công nghệ")
ROOM = f"Hội trường chính, {loader.ACADEMY}"
COMMENT = "Bổ sung chuyên đề 8 về chuyển đổi số vào sáng ngày thứ hai."


def test_organiser_adds_a_session_and_publishes_it(page, screenshot, demo):
    log_in(page, loader.ORGANISER.email, loader.ORGANISER.password)
    expect(page.get_by_role("heading", name="Xin chào, Ban Tổ chức hội nghị")).to_be_visible()
    page.get_by_role("link", name="Mở hội nghị").click()
    page.get_by_role("link", name="Soạn chương trình").click()
    page.wait_for_url(f"**/manage/c/{SLUG}/agenda")
    expect(page.get_by_text("Phiên bản 1 đã công bố", exact=True)).to_be_visible()
    screenshot("01-editor")

    # A new topic, then a new presenter, each through its own form.
    page.get_by_role("link", name="Chuyên đề", exact=True).click()
    page.get_by_role("link", name="+ Thêm chuyên đề").click()
    page.get_by_label("Số chuyên đề").fill("8")
    page.get_by_label("Tên chuyên đề").fill(NEW_TOPIC)
    page.get_by_label("Tóm tắt").fill("Ứng dụng công nghệ số trong điều hành ở cấp xã.")
    page.get_by_role("button", name="Lưu", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Đã lưu chuyên đề.")
    expect(page.get_by_role("heading", name="Chuyên đề 8")).to_be_visible()

    page.get_by_role("link", name="Báo cáo viên", exact=True).click()
    page.get_by_role("link", name="+ Thêm báo cáo viên").click()
    name, position, unit = NEW_PRESENTER
    page.get_by_label("Họ và tên").fill(name)
    page.get_by_label("Chức vụ").fill(position)
    page.get_by_label("Đơn vị").fill(unit)
    page.get_by_role("button", name="Lưu", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Đã lưu báo cáo viên.")
    expect(page.get_by_role("cell", name=name, exact=True)).to_be_visible()

    # The session: late morning of the second day, between topic 7 and the discussion.
    page.get_by_role("link", name="Chương trình", exact=True).click()
    page.get_by_role("link", name="+ Thêm phiên").first.click()
    page.get_by_label("Ngày", exact=True).select_option(label="15/06/2025")
    page.get_by_label("Bắt đầu").fill("11:15")
    page.get_by_label("Kết thúc").fill("12:00")
    page.get_by_label("Loại phiên").select_option(label="Chuyên đề")
    page.get_by_label("Tiêu đề").fill(NEW_TOPIC)
    page.get_by_label("Chuyên đề", exact=True).select_option(label=f"8. {NEW_TOPIC}")
    page.get_by_label("Phòng").select_option(label=ROOM)
    page.get_by_label("Báo cáo viên").select_option(label=f"{name} — {position}")
    screenshot("02-session-form")
    page.get_by_role("button", name="Lưu", exact=True).click()
    page.wait_for_url(re.compile(rf"/manage/c/{SLUG}/agenda#s\d+$"))
    expect(page.get_by_role("status")).to_have_text(f"Đã lưu phiên «{NEW_TOPIC}».")

    # Publish with a comment; the page lists the one change first.
    page.get_by_role("link", name="1 thay đổi chưa công bố").click()
    expect(page.get_by_role("listitem").filter(has_text="Thêm:")).to_have_text(
        f"Thêm: {NEW_TOPIC} — 11:15–12:00 15/06/2025 ({ROOM})")
    page.get_by_label("Ghi chú thay đổi").fill(COMMENT)
    screenshot("03-publish")
    page.get_by_role("button", name="Công bố phiên bản 2").click()
    page.wait_for_url(f"**/manage/c/{SLUG}/agenda")
    expect(page.get_by_role("status")).to_have_text("Đã công bố phiên bản 2.")

    page.get_by_role("link", name="Trang công khai").click()
    page.wait_for_url(f"**/c/{SLUG}/")
    with demo.app_context():
        published_at = db.session.scalar(
            select(AgendaVersion.published_at).join(Conference)
            .where(Conference.slug == SLUG, AgendaVersion.number == 2))
    expect(page.get_by_text(re.compile(r"^Phiên bản \d+, công bố lúc"))).to_have_text(
        f"Phiên bản 2, công bố lúc {local_text(published_at)}")
    day_two = page.locator("section").filter(
        has=page.get_by_role("heading", name="Chủ nhật, 15/06/2025"))
    expect(day_two.locator(".session-title")).to_have_text([
        "Chuyên đề 6: " + loader.TOPICS["6"][0],
        "Giải lao",
        "Chuyên đề 7: " + loader.TOPICS["7"][0],
        f"Chuyên đề 8: {NEW_TOPIC}",
        "Thảo luận, trao đổi, giải đáp vướng mắc tại các điểm cầu",
        "Bế mạc hội nghị",
    ])
    row = day_two.get_by_role("row").filter(has_text="Chuyên đề 8:")
    expect(row.get_by_role("cell").first).to_have_text("11:15 – 12:00")
    expect(row.get_by_role("listitem")).to_have_text([f"{name}, {position}"])
    expect(row.get_by_text(ROOM, exact=True)).to_be_visible()
    row.scroll_into_view_if_needed()
    screenshot("04-public-agenda")

    # The comment goes out with the version, on the public list of changes.
    page.get_by_role("link", name="Các thay đổi").click()
    release = page.locator("section").filter(
        has=page.get_by_role("heading", name=re.compile(r"^Phiên bản 2 ")))
    expect(release.get_by_role("heading")).to_have_text(f"Phiên bản 2 {local_text(published_at)}")
    expect(release.get_by_text(COMMENT, exact=True)).to_be_visible()
    expect(release.get_by_role("listitem")).to_have_text(
        [f"Thêm: {NEW_TOPIC} — 11:15–12:00 15/06/2025 ({ROOM})"])
    screenshot("05-changelog")


# ---------------------------------------------------------------- 2. a coordinator checks in

POINT = "06811"
IMPORTED = [
    # (name, position, category, phone)
    ("Tạ Quang Khải", "Phó Chủ tịch UBND", "Lãnh đạo HĐND, UBND", "0912000111"),
    ("Lương Thị Diệp", "Chuyên viên", "Cán bộ, công chức", "0987000222"),
]
UNIT = "Phường Uông Bí"


@pytest.fixture
def closing_session_now(demo):
    """The demo's closing session moved to have started ten minutes ago: check-in is open.

    The demo agenda lies in June 2025, when every check-in window has long closed.
    """
    with demo.app_context():
        session = db.session.scalar(
            select(AgendaSession).where(AgendaSession.title == "Bế mạc hội nghị"))
        now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
        session.starts_at, session.ends_at = now - timedelta(minutes=10), now + timedelta(minutes=20)
        # As if published: check-in follows the times delegates were given.
        session.published_starts_at, session.published_ends_at = session.starts_at, session.ends_at
        moved = session.id, session.starts_at, session.ends_at
        db.session.commit()
    return moved


def write_delegates_file(path, headings: list[str]) -> None:
    """The two new delegates under the headings of the app's own template."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headings)
    for number, (name, position, category, phone) in enumerate(IMPORTED, start=1):
        values = {"STT": number, "Họ và tên": name, "Chức vụ": position, "Đơn vị": UNIT,
                  "Thành phần": category, "Điện thoại": phone}
        sheet.append([values.get(heading) for heading in headings])
    book.save(path)


def test_coordinator_imports_delegates_and_checks_them_in(
        page, screenshot, demo, closing_session_now, tmp_path):
    session_id, starts_at, ends_at = closing_session_now
    log_in(page, loader.COORDINATOR.email, loader.COORDINATOR.password)
    page.get_by_role("link", name="Điểm cầu tỉnh Quảng Ninh").click()
    page.get_by_role("link", name="Điểm cầu Uông Bí").click()
    page.wait_for_url(f"**/points/{POINT}")
    page.get_by_role("link", name="Quản lý danh sách").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Danh sách đại biểu (35/35)")
    page.get_by_role("link", name="Nhập từ Excel/CSV").click()

    # The file follows the template the page offers.
    template = page.request.get(
        page.get_by_role("link", name="Tải tệp mẫu (.xlsx)").get_attribute("href"))
    assert template.status == 200
    template_path = tmp_path / "mau.xlsx"
    template_path.write_bytes(template.body())
    headings = [cell.value for cell in next(openpyxl.load_workbook(template_path).active.rows)]
    assert headings == ["STT", "Họ và tên", "Chức vụ", "Đơn vị", "Thành phần", "Điện thoại",
                        "Email", "Ghi chú"]
    upload = tmp_path / "dai-bieu-uong-bi.xlsx"
    write_delegates_file(upload, headings)

    page.get_by_label("Tệp .xlsx hoặc .csv").set_input_files(upload)
    page.get_by_role("button", name="Xem trước").click()
    confirm = page.get_by_role("button", name="Xác nhận nhập 2 đại biểu")
    expect(confirm).to_be_visible()
    preview = page.locator("table.preview")
    expect(preview.get_by_role("row")).to_have_count(3)
    for number, (name, position, category, phone) in enumerate(IMPORTED, start=2):
        expect(preview.get_by_role("row").nth(number - 1).get_by_role("cell")).to_have_text(
            [str(number), name, "", position, UNIT, category, phone, ""])
    screenshot("01-preview")
    confirm.click()
    page.wait_for_url(f"**/points/{POINT}/delegates")
    expect(page.get_by_role("status")).to_have_text("Đã nhập 2 đại biểu.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Danh sách đại biểu (37/35)")
    for name, position, category, phone in IMPORTED:
        row = page.get_by_role("row").filter(has=page.get_by_role("link", name=name))
        expect(row.get_by_role("cell")).to_have_text(
            [re.compile(r"^\d+$"), name, position, UNIT, category, phone, ""])
    screenshot("02-delegates")

    # The sheet opens on the session whose check-in is open now.
    page.get_by_role("link", name="Điểm cầu Uông Bí").click()
    page.get_by_role("link", name="Điểm danh", exact=True).click()
    page.wait_for_url(f"**/points/{POINT}/attendance")
    expect(page.get_by_label("Phiên", exact=True)).to_have_value(str(session_id))
    opens, closes = starts_at - timedelta(minutes=60), ends_at + timedelta(minutes=120)
    expect(page.get_by_text(re.compile("^Mở điểm danh từ"))).to_have_text(
        f"Mở điểm danh từ {local_text(opens)} đến {local_text(closes)}.")
    counts = page.locator("#sheet-counts")
    expect(counts).to_have_text(
        re.compile(r"^\s*Có mặt: 0\s+Đến muộn: 0\s+Có phép: 0\s+Vắng: 0\s+/ 37 đăng ký\s*$"))
    screenshot("03-sheet")

    for tapped, (name, *_rest) in enumerate(IMPORTED, start=1):
        present = page.get_by_role("group", name=name).get_by_role("button", name="Có mặt", exact=True)
        expect(present).to_have_attribute("aria-pressed", "false")
        present.click()
        expect(present).to_have_attribute("aria-pressed", "true")
        expect(page.get_by_text(f"Có mặt: {tapped}", exact=True)).to_be_visible()
    expect(counts).to_have_text(
        re.compile(r"^\s*Có mặt: 2\s+Đến muộn: 0\s+Có phép: 0\s+Vắng: 0\s+/ 37 đăng ký\s*$"))
    screenshot("04-checked-in")

    with demo.app_context():
        point = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == POINT))
        coordinator = db.session.scalar(select(User).where(User.email == loader.COORDINATOR.email))
        assert db.session.execute(
            select(Participant.full_name, Participant.position, Participant.unit, Category.name,
                   Participant.phone, Participant.status)
            .join(Category, Category.id == Participant.category_id)
            .where(Participant.point_id == point.id,
                   Participant.full_name.in_([p[0] for p in IMPORTED]))
            .order_by(Participant.phone)
        ).all() == [(name, position, UNIT, category, phone, RegistrationStatus.REGISTERED)
                    for name, position, category, phone in IMPORTED]
        assert db.session.execute(
            select(Participant.full_name, Attendance.point_id, Attendance.status,
                   Attendance.method, Attendance.recorded_by_id)
            .join(Participant, Participant.id == Attendance.participant_id)
            .where(Attendance.session_id == session_id)
            .order_by(Participant.phone)
        ).all() == [(name, point.id, AttendanceStatus.PRESENT, CheckInMethod.MANUAL,
                     coordinator.id) for name, *_rest in IMPORTED]
        assert db.session.execute(
            select(AttendanceChange.old_status, AttendanceChange.new_status,
                   AttendanceChange.method, AttendanceChange.changed_by_id)
            .where(AttendanceChange.session_id == session_id)
        ).all() == [(None, AttendanceStatus.PRESENT, CheckInMethod.MANUAL, coordinator.id)] * 2
        count = db.session.get(SessionPointCount, (session_id, point.id))
        assert (count.present, count.late, count.excused, count.absent, count.headcount) == (
            2, 0, 0, 0, 0)
        assert point.registered_count == 37


# ---------------------------------------------------------------- 3. a visitor subscribes


def test_visitor_subscribes_to_the_published_agenda(page, screenshot):
    page.goto("/")
    page.get_by_role("link", name=re.compile("^Hội nghị toàn quốc tập huấn")).click()
    page.wait_for_url(f"**/c/{SLUG}/")
    expect(page.get_by_role("link", name="Đăng nhập")).to_be_visible()  # nobody signed in
    expect(page.locator(".session-title")).to_have_text(DEMO_TITLES)

    subscribe = page.get_by_role("link", name="Đăng ký lịch hội nghị")
    webcal = subscribe.get_attribute("href")
    page.get_by_text("Thêm vào lịch của bạn").click()
    expect(page.get_by_role("link", name="Đăng ký (iPhone, Mac, Thunderbird)")).to_have_attribute(
        "href", webcal)
    screenshot("01-subscribe-links")
    scheme, rest = page.url.split("://", 1)
    assert webcal == f"webcal://{rest}agenda.ics"

    feed = page.request.get(webcal.replace("webcal://", f"{scheme}://", 1))
    assert feed.status == 200
    assert feed.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(feed.body())
    events = sorted(calendar.walk("VEVENT"), key=lambda event: event.decoded("DTSTART"))
    assert len(events) == len(loader.SESSIONS) == 16
    assert [str(event["SUMMARY"]) for event in events] == DEMO_TITLES

    schedule = page.request.get(page.get_by_role("link", name="frab XML").get_attribute("href"))
    assert schedule.status == 200
    assert schedule.headers["content-type"] == "application/xml; charset=utf-8"
    root = ElementTree.fromstring(schedule.body())
    assert root.tag == "schedule"
    assert [event.findtext("title") for event in root.iter("event")] == DEMO_TITLES


# ---------------------------------------------------------------- 4. the language switch


def test_language_switch_turns_the_pages_english(page, screenshot):
    page.goto(f"/c/{SLUG}/")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "vi")
    expect(page.get_by_role("link", name="Đăng ký lịch hội nghị")).to_be_visible()
    expect(page.get_by_role("heading", name="Thứ Bảy, 14/06/2025")).to_be_visible()

    page.get_by_role("form", name="Ngôn ngữ").get_by_role("button", name="EN").click()
    expect(html).to_have_attribute("lang", "en")
    assert page.url.endswith(f"/c/{SLUG}/")  # the switch comes back to the same page
    expect(page.get_by_role("link", name="Subscribe to the conference calendar")).to_be_visible()
    expect(page.get_by_role("link", name="Calendar (.ics)", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Print version")).to_be_visible()
    expect(page.get_by_role("heading", name="Saturday, 14/06/2025")).to_be_visible()
    expect(page.get_by_role("heading", name="Sunday, 15/06/2025")).to_be_visible()
    expect(page.get_by_text("Times in UTC+07:00 (Asia/Ho_Chi_Minh)")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    expect(page.get_by_role("link", name="Đăng ký lịch hội nghị")).to_have_count(0)
    screenshot("01-english")

    # The choice stays with the visitor from page to page.
    page.get_by_role("link", name="Conferences", exact=True).click()
    expect(page.get_by_role("heading", name="Published conferences")).to_be_visible()
    page.get_by_role("form", name="Language").get_by_role("button", name="VI").click()
    expect(html).to_have_attribute("lang", "vi")
    expect(page.get_by_role("heading", name="Các hội nghị đã công bố")).to_be_visible()
    screenshot("02-vietnamese-again")


# ---------------------------------------------------------------- asking before what lasts


def test_cancelling_a_session_asks_first_and_a_no_changes_nothing(page, demo):
    with demo.app_context():
        session = db.session.scalar(select(AgendaSession).join(Conference).where(
            Conference.slug == SLUG, AgendaSession.title == "Giải lao").order_by(AgendaSession.id))
        session_id, title = session.id, session.title
    log_in(page, "organiser@example.org", "demo-organiser-2025")
    page.goto(f"/manage/c/{SLUG}/sessions/{session_id}/edit")
    asked: list[str] = []

    def answer(dialog, accept: bool) -> None:
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, False))
    page.get_by_role("button", name="Hủy phiên").click()
    expect(page.get_by_role("button", name="Hủy phiên")).to_be_visible()
    assert page.url.endswith(f"/sessions/{session_id}/edit")
    with demo.app_context():
        assert db.session.get(AgendaSession, session_id).is_cancelled is False

    page.once("dialog", lambda dialog: answer(dialog, True))
    page.get_by_role("button", name="Hủy phiên").click()
    page.wait_for_url(f"**/manage/c/{SLUG}/agenda")
    with demo.app_context():
        assert db.session.get(AgendaSession, session_id).is_cancelled is True
    assert asked == [f"Hủy phiên «{title}»? Phiên vẫn ở trong chương trình, ghi là đã hủy."] * 2


def slowed(monkeypatch, owner, name: str) -> None:
    """``owner.name`` answers a second later: a slow link, as the browser sees it."""
    import time

    itself = getattr(owner, name)

    def slowly(*args, **kwargs):
        time.sleep(1)
        return itself(*args, **kwargs)

    monkeypatch.setattr(owner, name, slowly)


def click_twice(page, words: str, gap_ms: int = 300) -> None:
    """Both clicks on the page the form is on: the second while the first's answer is due."""
    page.evaluate("""([words, gap]) => {
        const button = [...document.querySelectorAll("form button")].find(
            (b) => b.textContent.trim() === words);
        button.click();
        setTimeout(() => button.click(), gap);
    }""", [words, gap_ms])


def test_a_second_click_while_the_first_is_answered_hands_out_one_password(
        page, demo, monkeypatch):
    """The password is shown once: a second click while the first was on its way sent
    the form again, and the browser showed that answer ("already taken") instead of the
    first one's password."""
    from confmgr.accounts import coordinators

    slowed(monkeypatch, coordinators, "create_coordinator")
    log_in(page, "organiser@example.org", "demo-organiser-2025")
    page.goto(f"/manage/c/{SLUG}/coordinators")
    page.get_by_label("Họ và tên").fill("Phạm Thị Hoa")
    page.get_by_label("Email hoặc tên đăng nhập").fill("hoa.nghean@example.org")
    page.get_by_label("Mã các điểm cầu").fill("40")
    sent = []
    page.on("request", lambda request: sent.append(request.method))
    click_twice(page, "Tạo tài khoản")
    expect(page.locator(".handed-out .password")).to_be_visible()
    password = page.locator(".handed-out .password").inner_text()
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(User).where(
            User.email == "hoa.nghean@example.org")) == 1
    assert sent.count("POST") == 1
    page.context.clear_cookies()
    log_in(page, "hoa.nghean@example.org", password)


def test_a_second_click_on_change_password_still_says_it_changed(page, demo, monkeypatch):
    """A second click while the first was answered: the first changed the password and
    ended every other session, the second came with the old one and landed on the sign-in
    page, never saying the password had changed."""
    from confmgr.accounts import services

    slowed(monkeypatch, services, "change_password")
    log_in(page, loader.ORGANISER.email, loader.ORGANISER.password)
    page.goto("/account/password")
    page.get_by_label("Mật khẩu hiện tại").fill(loader.ORGANISER.password)
    page.get_by_label("Mật khẩu mới", exact=True).fill("Rat-kho-doan-2026!")
    page.get_by_label(re.compile("^Nhập lại")).fill("Rat-kho-doan-2026!")
    sent = []
    page.on("request", lambda request: sent.append(request.method))
    click_twice(page, "Đổi mật khẩu")
    expect(page.get_by_role("status")).to_have_text("Đã đổi mật khẩu.")
    assert "/login" not in page.url
    assert sent.count("POST") == 1


def test_a_second_click_on_publish_does_not_say_someone_else_published(
        page, demo, monkeypatch):
    """A second click while the first was answered: the first published version 2, the
    second was told "Người khác vừa công bố phiên bản 2", as if someone else had."""
    with demo.app_context():
        session = db.session.scalars(select(AgendaSession).order_by(AgendaSession.starts_at)
                                     ).first()
        session.title = session.title + " (sửa)"
        db.session.commit()
    slowed(monkeypatch, publishing, "publish")
    log_in(page, loader.ORGANISER.email, loader.ORGANISER.password)
    page.goto(f"/manage/c/{SLUG}/publish")
    sent = []
    page.on("request", lambda request: sent.append(request.method))
    click_twice(page, "Công bố phiên bản 2")
    expect(page.get_by_role("status")).to_have_text("Đã công bố phiên bản 2.")
    assert sent.count("POST") == 1
    with demo.app_context():
        assert db.session.scalar(select(func.max(AgendaVersion.number))) == 2


# ---------------------------------------------------------------- a tap on a weak link


def test_a_tap_that_does_not_get_through_says_so_and_marks_its_row(
        page, demo, closing_session_now, request):
    from tests.e2e.conftest import BROWSER_ERRORS

    session_id, _starts_at, _ends_at = closing_session_now
    with demo.app_context():
        point_id = db.session.scalar(select(BroadcastPoint.id).where(
            BroadcastPoint.code == POINT))
        first, second = db.session.scalars(select(Participant.full_name).where(
            Participant.point_id == point_id).order_by(Participant.id).limit(2)).all()
    log_in(page, loader.COORDINATOR.email, loader.COORDINATOR.password)
    page.goto(f"/manage/c/{SLUG}/points/{POINT}/attendance")
    messages = page.locator("#sheet-messages")
    tap = f"**/points/{POINT}/attendance/{session_id}"

    def present(name: str):
        return page.get_by_role("group", name=name).get_by_role("button", name="Có mặt",
                                                                 exact=True)

    def row(name: str):
        return page.get_by_role("row").filter(has=page.get_by_role("group", name=name))

    def fail_with(failure):
        # Playwright calls a route's handler with the route and its request.
        return lambda route, _request: (route.abort() if failure == "abort"
                                        else route.fulfill(status=failure, body="no"))

    answers = {
        "abort": f"Lần bấm cho {first} chưa được gửi: không kết nối được máy chủ. Kiểm tra "
                 "mạng rồi bấm lại.",
        500: f"Máy chủ gặp lỗi: lần bấm cho {first} có thể chưa được ghi. Hãy bấm lại sau ít "
             "phút.",
        # The database was busy (errors.py answers 503): seconds, not minutes.
        503: f"Máy chủ đang bận: lần bấm cho {first} chưa được ghi. Hãy bấm lại sau vài giây.",
        # Answered by something else than the site: a Wi-Fi's sign-in page.
        200: f"Lần bấm cho {first} nhận về một trang không phải của hệ thống (mạng Wi-Fi có "
             "thể đang đòi đăng nhập): có thể chưa được ghi. Hãy kiểm tra mạng rồi bấm lại.",
        400: f"Máy chủ không nhận lần bấm cho {first} (có thể phiên đăng nhập đã hết). Hãy tải "
             "lại trang rồi bấm lại.",
    }
    for failure, message in answers.items():
        page.route(tap, fail_with(failure))
        present(first).click()
        expect(messages.get_by_role("alert")).to_have_text(message)
        expect(row(first)).to_have_class(re.compile(r"\btable-warning\b"))
        expect(present(first)).to_have_attribute("aria-pressed", "false")
        page.unroute(tap)
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(Attendance).where(
            Attendance.session_id == session_id)) == 0

    # Another delegate's tap gets through: the message and the failed row's mark stay.
    present(second).click()
    expect(present(second)).to_have_attribute("aria-pressed", "true")
    expect(messages.get_by_role("alert")).to_have_text(answers[400])
    expect(row(first)).to_have_class(re.compile(r"\btable-warning\b"))
    # Tapped again, it is recorded, and its message and mark go.
    present(first).click()
    expect(present(first)).to_have_attribute("aria-pressed", "true")
    expect(row(first)).not_to_have_class(re.compile(r"\btable-warning\b"))
    expect(messages).to_be_empty()
    with demo.app_context():
        assert sorted(db.session.scalars(select(Participant.full_name).join(
            Attendance, Attendance.participant_id == Participant.id).where(
            Attendance.session_id == session_id))) == sorted([first, second])

    # What Chromium and htmx logged for the failures, and nothing else.
    page.evaluate("0")
    errors = request.node.stash[BROWSER_ERRORS]
    where = f"console.error on {page.url}: "
    tapped = f"/manage/c/{SLUG}/points/{POINT}/attendance/{session_id}"
    assert sorted(error.removeprefix(where) for error in errors) == sorted([
        "htmx:afterRequest, [object HTMLFormElement]",
        "htmx:sendError, [object HTMLFormElement]",
        "Failed to load resource: net::ERR_FAILED",
        "Failed to load resource: the server responded with a status of 500 "
        "(Internal Server Error)",
        f"Response Status Error Code 500 from {tapped}, [object HTMLFormElement]",
        "Failed to load resource: the server responded with a status of 503 "
        "(Service Unavailable)",
        f"Response Status Error Code 503 from {tapped}, [object HTMLFormElement]",
        "Failed to load resource: the server responded with a status of 400 (Bad Request)",
        f"Response Status Error Code 400 from {tapped}, [object HTMLFormElement]",
    ])
    errors.clear()


def test_taps_made_while_one_is_on_its_way_are_all_sent_in_order(page, demo, closing_session_now):
    """On a slow link the coordinator goes down the list faster than the answers come:
    every tap is sent, one after the other, none dropped for the latest."""
    session_id, _starts_at, _ends_at = closing_session_now
    with demo.app_context():
        point_id = db.session.scalar(select(BroadcastPoint.id).where(
            BroadcastPoint.code == POINT))
        names = db.session.scalars(select(Participant.full_name).where(
            Participant.point_id == point_id).order_by(Participant.id).limit(4)).all()
    log_in(page, loader.COORDINATOR.email, loader.COORDINATOR.password)
    page.goto(f"/manage/c/{SLUG}/points/{POINT}/attendance")
    tap = f"**/points/{POINT}/attendance/{session_id}"
    held = []

    def hold_the_first(route, _request) -> None:
        # The first tap's request waits until the others have been made.
        held.append(route) if not held else route.continue_()

    page.route(tap, hold_the_first)

    def present(name: str):
        return page.get_by_role("group", name=name).get_by_role("button", name="Có mặt",
                                                                 exact=True)

    present(names[0]).click()
    for _attempt in range(200):
        if held:
            break
        page.wait_for_timeout(25)
    for name in names[1:]:
        present(name).click()
    expect(present(names[0])).to_have_attribute("aria-pressed", "false")
    held[0].continue_()
    for name in names:
        expect(present(name)).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#sheet-counts")).to_contain_text("Có mặt: 4")
    with demo.app_context():
        # Recorded in the order they were tapped.
        assert db.session.scalars(select(Participant.full_name).join(
            AttendanceChange, AttendanceChange.participant_id == Participant.id).where(
            AttendanceChange.session_id == session_id).order_by(AttendanceChange.id)).all() == names



def test_two_taps_on_one_delegate_before_the_first_answer_both_count(
        page, demo, closing_session_now):
    """The first answer replaces the delegate's row, buttons and all, before the second tap
    goes: it goes all the same, and the delegate ends as last tapped."""
    session_id, _starts_at, _ends_at = closing_session_now
    with demo.app_context():
        point_id = db.session.scalar(select(BroadcastPoint.id).where(
            BroadcastPoint.code == POINT))
        person_id, name = db.session.execute(select(Participant.id, Participant.full_name).where(
            Participant.point_id == point_id).order_by(Participant.id).limit(1)).one()
    tap, held = on_the_sheet_first_tap_held(page, session_id)
    group = page.get_by_role("group", name=name)
    group.get_by_role("button", name="Có mặt", exact=True).click()
    for _attempt in range(200):
        if held:
            break
        page.wait_for_timeout(25)
    group.get_by_role("button", name="Muộn", exact=True).click()
    held[0].continue_()
    expect(group.get_by_role("button", name="Muộn", exact=True)).to_have_attribute(
        "aria-pressed", "true")
    expect(page.locator("#sheet-counts")).to_contain_text("Đến muộn: 1")
    expect(page.locator("#sheet-messages")).to_be_empty()
    with demo.app_context():
        assert db.session.execute(select(AttendanceChange.old_status,
                                         AttendanceChange.new_status).where(
            AttendanceChange.session_id == session_id,
            AttendanceChange.participant_id == person_id).order_by(AttendanceChange.id)
        ).all() == [(None, AttendanceStatus.PRESENT),
                    (AttendanceStatus.PRESENT, AttendanceStatus.LATE)]


def test_badges_print_eight_to_an_a4_page(page, demo):
    """Uông Bí's 35 delegates on five pages: four rows of two 70 mm cards each."""
    with demo.app_context():
        point_id = db.session.scalar(select(BroadcastPoint.id).where(
            BroadcastPoint.code == "06811"))
        registered = db.session.scalar(select(func.count()).select_from(Participant).where(
            Participant.point_id == point_id))
    assert registered == 35
    log_in(page, loader.ORGANISER.email, loader.ORGANISER.password)
    page.goto(f"/manage/c/{SLUG}/points/06811/badges")
    expect(page.locator(".badge-card")).to_have_count(35)
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 5


def uong_bi_names(demo, limit: int) -> list[str]:
    with demo.app_context():
        point_id = db.session.scalar(select(BroadcastPoint.id).where(
            BroadcastPoint.code == POINT))
        return db.session.scalars(select(Participant.full_name).where(
            Participant.point_id == point_id).order_by(Participant.id).limit(limit)).all()


def sheet_button(page, name: str, word: str = "Có mặt"):
    return page.get_by_role("group", name=name).get_by_role("button", name=word, exact=True)


def test_a_failed_taps_row_stays_marked_when_a_search_brings_it_back(
        page, demo, closing_session_now, request):
    """The coordinator searches for the delegate whose tap failed, to tap again: the rows
    come back from the server, the mark with them, until a tap of them gets through."""
    from tests.e2e.conftest import BROWSER_ERRORS

    first = uong_bi_names(demo, 1)[0]
    log_in(page, loader.COORDINATOR.email, loader.COORDINATOR.password)
    page.goto(f"/manage/c/{SLUG}/points/{POINT}/attendance")
    tap = f"**/points/{POINT}/attendance/{closing_session_now[0]}"
    page.route(tap, lambda route, _request: route.abort())
    sheet_button(page, first).click()
    row = page.get_by_role("row").filter(has=page.get_by_role("group", name=first))
    expect(row).to_have_class(re.compile(r"\btable-warning\b"))
    page.unroute(tap)
    request.node.stash[BROWSER_ERRORS].clear()  # the abort's own, as in the test above
    words = first.split()[-2:]  # searched by the end of the name, without its marks
    with page.expect_response(lambda r: "q=" in r.url):
        page.get_by_role("searchbox").fill(" ".join(words))
    expect(page.locator("#sheet-rows [role=group]")).not_to_have_count(35)
    # htmx lends the new rows the old ones' attributes until it settles: look after that.
    expect(page.locator("#sheet-rows")).not_to_have_class(re.compile(r"htmx-settling"))
    page.wait_for_function("!document.querySelector('.htmx-settling')")
    expect(row).to_have_class(re.compile(r"\btable-warning\b"))
    sheet_button(page, first).click()
    expect(sheet_button(page, first)).to_have_attribute("aria-pressed", "true")
    expect(row).not_to_have_class(re.compile(r"\btable-warning\b"))


def test_a_taps_answer_after_a_search_hid_its_row_updates_the_counts_quietly(
        page, demo, closing_session_now):
    """On a slow link the coordinator types the next name before the tap's answer comes:
    the counts take the answer, the row that has no place on the page is left out (htmx
    would log an error for it), and the tap is recorded."""
    first = uong_bi_names(demo, 1)[0]
    log_in(page, loader.COORDINATOR.email, loader.COORDINATOR.password)
    page.goto(f"/manage/c/{SLUG}/points/{POINT}/attendance")
    held = []
    page.route(f"**/points/{POINT}/attendance/{closing_session_now[0]}",
               lambda route, _request: held.append(route))
    sheet_button(page, first).click()
    page.wait_for_function("() => true")
    for _ in range(200):
        if held:
            break
        page.wait_for_timeout(25)
    page.get_by_role("searchbox").fill("mai kim")
    expect(page.locator("#sheet-rows [role=group]")).to_have_count(1)
    held[0].continue_()
    expect(page.locator("#sheet-counts")).to_contain_text("Có mặt: 1")
    with demo.app_context():
        assert db.session.scalars(select(Participant.full_name).join(
            Attendance, Attendance.participant_id == Participant.id).where(
            Attendance.session_id == closing_session_now[0])).all() == [first]


def answer_the_first_tap_late(page, session_id: int) -> list:
    """The first tap reaches the server, which records it; its answer waits, as (route,
    response) in the list returned, until the test fulfils it. Later taps go through."""
    held = []

    def handler(route, _request) -> None:
        if held:
            route.continue_()
        else:
            held.append((route, route.fetch()))

    page.route(f"**/points/{POINT}/attendance/{session_id}", handler)
    return held


def on_the_sheet_first_tap_held(page, session_id: int) -> tuple[str, list]:
    """The coordinator on the point's sheet, the first tap's request held in the list
    returned (with the address it is routed by) until the test lets it go or aborts it;
    later taps go through."""
    log_in(page, loader.COORDINATOR.email, loader.COORDINATOR.password)
    page.goto(f"/manage/c/{SLUG}/points/{POINT}/attendance")
    tap = f"**/points/{POINT}/attendance/{session_id}"
    held = []
    page.route(tap, lambda route, _request: held.append(route) if not held
               else route.continue_())
    return tap, held


def two_taps_first_held(page, demo, session_id: int,
                        word: str = "Có mặt") -> tuple[str, list, str, str]:
    """On the point's sheet, two delegates tapped (``word``), the first's request held
    (on_the_sheet_first_tap_held), the second queued behind it: the route, the held
    request and the two names."""
    first, second = uong_bi_names(demo, 2)
    tap, held = on_the_sheet_first_tap_held(page, session_id)
    sheet_button(page, first, word).click()
    until_held(page, held)
    sheet_button(page, second, word).click()
    return tap, held, first, second


def until_held(page, held: list) -> None:
    for _attempt in range(200):
        if held:
            break
        page.wait_for_timeout(25)


def recorded_statuses(demo, session_id: int) -> dict[str, AttendanceStatus]:
    with demo.app_context():
        return dict(db.session.execute(select(Participant.full_name, Attendance.status).join(
            Attendance, Attendance.participant_id == Participant.id).where(
            Attendance.session_id == session_id)).all())


def test_a_search_answered_after_a_tap_does_not_show_the_tap_undone(
        page, demo, closing_session_now):
    """On a slow link the coordinator types a name and, before the results come, taps a
    delegate still in sight: the results, read before the tap was recorded, showed the
    delegate unrecorded again, though recorded and counted."""
    session_id = closing_session_now[0]
    first = uong_bi_names(demo, 1)[0]
    log_in(page, loader.COORDINATOR.email, loader.COORDINATOR.password)
    page.goto(f"/manage/c/{SLUG}/points/{POINT}/attendance")
    rows = page.locator("#sheet-rows tr[id]")
    shown_before = rows.count()
    held = []
    # Made by the server at once, delivered after the tap's answer.
    page.route("**/attendance?*q=*", lambda route, _request: held.append(
        (route, route.fetch())))
    page.get_by_role("searchbox").fill(first.split()[-1])  # the given name finds them
    until_held(page, held)
    sheet_button(page, first).click()
    expect(sheet_button(page, first)).to_have_attribute("aria-pressed", "true")
    assert recorded_statuses(demo, session_id) == {first: AttendanceStatus.PRESENT}
    route, response = held[0]
    route.fulfill(response=response)
    expect(rows).not_to_have_count(shown_before)  # the search's rows are in
    expect(sheet_button(page, first)).to_have_attribute("aria-pressed", "true")


def test_a_row_put_back_over_a_search_keeps_no_mark_its_tap_has_lost(
        page, demo, closing_session_now, request):
    """A tap that did not get through, then a search, then the same tap again that does:
    the row put back over the search's carried the "not sent" mark it had had, and
    htmx's classes of a swap, for good."""
    from tests.e2e.conftest import BROWSER_ERRORS

    first = uong_bi_names(demo, 1)[0]
    log_in(page, loader.COORDINATOR.email, loader.COORDINATOR.password)
    page.goto(f"/manage/c/{SLUG}/points/{POINT}/attendance")
    rows = page.locator("#sheet-rows tr[id]")
    shown_before = rows.count()
    row = page.get_by_role("row").filter(has=page.get_by_role("group", name=first))
    tap = f"**/points/{POINT}/attendance/{closing_session_now[0]}"
    page.route(tap, lambda route, _request: route.abort())
    sheet_button(page, first).click()
    expect(row).to_have_class(re.compile(r"\btable-warning\b"))
    page.unroute(tap)
    request.node.stash[BROWSER_ERRORS].clear()  # the abort's own
    held = []
    page.route("**/attendance?*q=*", lambda route, _request: held.append(
        (route, route.fetch())))
    page.get_by_role("searchbox").fill(first.split()[-1])
    until_held(page, held)
    sheet_button(page, first).click()
    expect(sheet_button(page, first)).to_have_attribute("aria-pressed", "true")
    route, response = held[0]
    route.fulfill(response=response)
    expect(rows).not_to_have_count(shown_before)
    expect(sheet_button(page, first)).to_have_attribute("aria-pressed", "true")
    expect(row).not_to_have_class(re.compile(r"\btable-warning\b|\bhtmx-"))


def recorded_count(demo, session_id: int) -> int:
    with demo.app_context():
        return db.session.scalar(select(func.count()).select_from(Attendance).where(
            Attendance.session_id == session_id))


def test_enter_in_the_search_box_keeps_the_taps_still_to_be_sent(
        page, demo, closing_session_now):
    """On a slow link the coordinator taps three delegates, types the next name and
    presses Enter (a phone's Search key): the search form reloaded the page, and the two
    taps waiting behind the first were never sent, without a word. Now htmx searches, and
    leaving the page while taps wait asks first."""
    session_id = closing_session_now[0]
    first, second, third = uong_bi_names(demo, 3)
    log_in(page, loader.COORDINATOR.email, loader.COORDINATOR.password)
    sheet_url = f"/manage/c/{SLUG}/points/{POINT}/attendance"
    page.goto(sheet_url)
    held = answer_the_first_tap_late(page, session_id)
    sheet_button(page, first).click()
    until_held(page, held)
    sheet_button(page, second).click()
    sheet_button(page, third).click()
    box = page.get_by_role("searchbox")
    box.fill("mai kim")
    box.press("Enter")
    expect(page.locator("#sheet-rows [role=group]")).to_have_count(1)
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.get_by_role("link", name="Điểm cầu Uông Bí", exact=True).click()
    for _attempt in range(200):
        if asked:
            break
        page.wait_for_timeout(25)
    assert asked == ["beforeunload"]
    assert page.url.endswith(sheet_url)

    route, response = held[0]
    route.fulfill(response=response)
    expect(page.locator("#sheet-counts")).to_contain_text("Có mặt: 3")
    assert recorded_statuses(demo, session_id) == {
        name: AttendanceStatus.PRESENT for name in (first, second, third)}
    # Nothing left to send: the page is left without a question.
    page.get_by_role("link", name="Điểm cầu Uông Bí", exact=True).click()
    page.wait_for_url(f"**/points/{POINT}")
    assert asked == ["beforeunload"]


def test_all_present_waits_for_the_taps_made_before_it(page, demo, closing_session_now):
    """The coordinator marks two delegates absent on a slow link, then "all present": the
    page was posted at once, the second "absent" was never sent, and that delegate was
    recorded present."""
    session_id = closing_session_now[0]
    first, second = uong_bi_names(demo, 2)
    log_in(page, loader.COORDINATOR.email, loader.COORDINATOR.password)
    page.goto(f"/manage/c/{SLUG}/points/{POINT}/attendance")
    held = answer_the_first_tap_late(page, session_id)
    sent = []
    page.on("request", lambda request: sent.append(request.url))
    sheet_button(page, first, "Vắng").click()
    until_held(page, held)
    sheet_button(page, second, "Vắng").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Tất cả chưa điểm danh: có mặt").click()
    page.wait_for_timeout(300)
    assert not [url for url in sent if url.endswith("/all-present")]

    route, response = held[0]
    route.fulfill(response=response)
    expect(page.get_by_role("status")).to_have_text(
        "Đã ghi có mặt cho 33 đại biểu chưa điểm danh phiên «Bế mạc hội nghị».")
    statuses = recorded_statuses(demo, session_id)
    assert (statuses[first], statuses[second]) == (AttendanceStatus.ABSENT,
                                                   AttendanceStatus.ABSENT)
    assert recorded_count(demo, session_id) == 35


def test_all_present_does_not_go_when_a_tap_before_it_does_not_get_through(
        page, demo, closing_session_now, request):
    """The delegate whose "absent" was lost would have been recorded present: "all
    present" says why it did not go, and goes when pressed again after that tap."""
    from tests.e2e.conftest import BROWSER_ERRORS

    session_id = closing_session_now[0]
    tap, held, first, second = two_taps_first_held(page, demo, session_id, "Vắng")
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Tất cả chưa điểm danh: có mặt").click()
    held[0].abort()
    expect(page.locator("#sheet-messages").get_by_role("alert")).to_have_text([
        f"Lần bấm cho {first} chưa được gửi: không kết nối được máy chủ. Kiểm tra mạng rồi "
        "bấm lại.",
        "Chưa ghi có mặt cho các đại biểu còn lại: lần bấm nêu ở trên có thể chưa được "
        "ghi. Hãy bấm lại lần đó rồi bấm lại nút này."])
    expect(sheet_button(page, second, "Vắng")).to_have_attribute("aria-pressed", "true")
    assert recorded_statuses(demo, session_id) == {second: AttendanceStatus.ABSENT}
    page.unroute(tap)
    request.node.stash[BROWSER_ERRORS].clear()  # the abort's own

    sheet_button(page, first, "Vắng").click()
    expect(sheet_button(page, first, "Vắng")).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="Tất cả chưa điểm danh: có mặt").click()
    expect(page.get_by_role("status")).to_have_text(
        "Đã ghi có mặt cho 33 đại biểu chưa điểm danh phiên «Bế mạc hội nghị».")


def test_a_second_all_present_while_the_first_is_answered_is_neither_asked_nor_sent(
        page, demo, closing_session_now, monkeypatch):
    """Nothing happening on a slow link, the coordinator pressed "all present" again and
    said yes again: the first marked the point's 35 delegates, and the page shown said
    "Đã ghi có mặt cho 0 đại biểu chưa điểm danh."."""
    from confmgr.attendance import checkin

    slowed(monkeypatch, checkin, "mark_all_present")
    log_in(page, loader.COORDINATOR.email, loader.COORDINATOR.password)
    page.goto(f"/manage/c/{SLUG}/points/{POINT}/attendance")
    asked, sent = [], []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.on("request", lambda request: sent.append(request.url))
    click_twice(page, "Tất cả chưa điểm danh: có mặt", gap_ms=500)
    expect(page.get_by_role("status")).to_have_text(
        "Đã ghi có mặt cho 35 đại biểu chưa điểm danh phiên «Bế mạc hội nghị».")
    assert asked == ["Ghi có mặt cho mọi đại biểu chưa được điểm danh phiên «Bế mạc hội nghị»?"]
    assert len([url for url in sent if url.endswith("/all-present")]) == 1
    assert recorded_count(demo, closing_session_now[0]) == 35


def test_a_failed_taps_message_stays_until_that_delegate_is_tapped_through(
        page, demo, closing_session_now, request):
    """The answer to the tap queued behind a failed one wiped the failure's message a few
    milliseconds after it was put up: the coordinator never read which tap was lost. The
    row says so to a screen reader too, not by its colour alone."""
    from tests.e2e.conftest import BROWSER_ERRORS

    session_id = closing_session_now[0]
    tap, held, first, second = two_taps_first_held(page, demo, session_id)
    held[0].abort()
    expect(sheet_button(page, second)).to_have_attribute("aria-pressed", "true")
    alerts = page.locator("#sheet-messages").get_by_role("alert")
    expect(alerts).to_have_text([
        f"Lần bấm cho {first} chưa được gửi: không kết nối được máy chủ. Kiểm tra mạng rồi "
        "bấm lại."])
    row = page.get_by_role("row").filter(has=page.get_by_role("group", name=first))
    expect(row.locator(".visually-hidden")).to_have_text("Lần bấm cuối có thể chưa được ghi.")
    assert recorded_statuses(demo, session_id) == {second: AttendanceStatus.PRESENT}
    page.unroute(tap)
    request.node.stash[BROWSER_ERRORS].clear()  # the abort's own

    sheet_button(page, first).click()
    expect(sheet_button(page, first)).to_have_attribute("aria-pressed", "true")
    expect(alerts).to_have_count(0)
    expect(row.locator(".visually-hidden")).to_have_count(0)


def test_on_a_phone_taps_that_did_not_get_through_leave_the_list_in_reach(
        browser, live_url, demo, closing_session_now):
    """A link gone for a while on a phone: each lost tap put up its message above the
    list, where it stays in sight; seven covered the whole screen, and no delegate could
    be tapped any more. And the button tapped stayed filled, "hovered" as a phone keeps
    it, so that a lost tap looked recorded."""
    session_id = closing_session_now[0]
    names = uong_bi_names(demo, 9)
    context = browser.new_context(base_url=live_url, locale="vi-VN", is_mobile=True,
                                  has_touch=True, viewport={"width": 360, "height": 640})
    context.set_default_timeout(10_000)
    try:
        phone = context.new_page()
        phone.goto("/login")
        phone.get_by_label("Email hoặc tên đăng nhập", exact=True).fill(
            loader.COORDINATOR.email)
        phone.get_by_label("Mật khẩu", exact=True).fill(loader.COORDINATOR.password)
        phone.get_by_role("button", name="Đăng nhập", exact=True).click()
        phone.wait_for_url("**/manage/")
        phone.goto(f"/manage/c/{SLUG}/points/{POINT}/attendance")
        phone.route(f"**/points/{POINT}/attendance/{session_id}",
                    lambda route, _request: route.abort())
        alerts = phone.locator("#sheet-messages").get_by_role("alert")
        for count, name in enumerate(names[:7], start=1):
            sheet_button(phone, name, "Vắng").tap()  # waits until nothing covers it
            expect(alerts).to_have_count(count)
        box = phone.locator("#sheet-messages").bounding_box()
        assert box["height"] <= 0.3 * 640 + 1, box
        sheet_button(phone, names[7], "Vắng").tap()
        expect(alerts).to_have_count(8)
        # The lost tap's button looks as one never tapped does, not as one pressed (seen
        # once its colour has faded in, or the answer would be a matter of timing).
        looks = "button => getComputedStyle(button).backgroundColor"
        lost = sheet_button(phone, names[7], "Vắng")
        lost.evaluate("button => Promise.all(button.getAnimations().map(a => a.finished))")
        expect(lost).to_have_attribute("aria-pressed", "false")
        assert lost.evaluate(looks) == sheet_button(phone, names[8], "Vắng").evaluate(looks)
    finally:
        context.close()


def test_a_queued_taps_refusal_stays_until_that_delegate_is_tapped_through(
        page, demo, closing_session_now):
    """The first tap is on its way when the delegate is withdrawn, a second waits behind
    it: the first's refusal was put up, then wiped a few milliseconds later by the
    second's answer, and the coordinator never read that it had not been recorded."""
    from confmgr.roster import services as roster_services

    session_id = closing_session_now[0]
    _tap, held, first, second = two_taps_first_held(page, demo, session_id)
    with demo.app_context():
        roster_services.withdraw(db.session.scalar(select(Participant).where(
            Participant.full_name == first)), organiser=True)
        db.session.commit()
    held[0].continue_()
    expect(sheet_button(page, second)).to_have_attribute("aria-pressed", "true")
    alerts = page.locator("#sheet-messages").get_by_role("alert")
    expect(alerts).to_have_text([f"{first} đã rút tên khỏi hội nghị."])
    page.wait_for_timeout(300)  # the second's answer has long been put in
    expect(alerts).to_have_text([f"{first} đã rút tên khỏi hội nghị."])
    assert recorded_statuses(demo, session_id) == {second: AttendanceStatus.PRESENT}


def test_a_tap_for_a_delegate_moved_away_meanwhile_names_them_and_takes_their_row_off(
        page, demo, closing_session_now):
    """The organiser moved the delegate to another point while the sheet was open: the
    answer named nobody, and the row stayed, its buttons as before, though the counts had
    dropped it."""
    from confmgr.roster import services as roster_services

    session_id = closing_session_now[0]
    moved = uong_bi_names(demo, 1)[0]
    log_in(page, loader.COORDINATOR.email, loader.COORDINATOR.password)
    page.goto(f"/manage/c/{SLUG}/points/{POINT}/attendance")
    expect(page.get_by_role("group", name=moved)).to_have_count(1)
    with demo.app_context():
        roster_services.move(
            db.session.scalar(select(Participant).where(Participant.full_name == moved)),
            db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "06688")))
        db.session.commit()
    sheet_button(page, moved).click()
    expect(page.locator("#sheet-messages").get_by_role("alert")).to_have_text(
        [f"{moved}: Không có đại biểu này ở điểm cầu này."])
    expect(page.get_by_role("group", name=moved)).to_have_count(0)
    assert recorded_statuses(demo, session_id) == {}


def test_a_search_that_does_not_get_through_says_so(page, demo, closing_session_now, request):
    """On a weak link the coordinator typed a name: the search failed, the whole list
    stayed, and nothing said the search had not happened."""
    from tests.e2e.conftest import BROWSER_ERRORS

    log_in(page, loader.COORDINATOR.email, loader.COORDINATOR.password)
    page.goto(f"/manage/c/{SLUG}/points/{POINT}/attendance")
    searched = "**/attendance?*q=*"
    rows = page.locator("#sheet-rows [role=group]")
    alerts = page.locator("#sheet-messages").get_by_role("alert")
    page.route(searched, lambda route, _request: route.abort())
    page.get_by_role("searchbox").fill("mai kim")
    expect(alerts).to_have_text(["Chưa tìm được: không kết nối được máy chủ. Kiểm tra mạng "
                                 "rồi tìm lại."])
    expect(rows).to_have_count(35)
    page.unroute(searched)
    page.route(searched, lambda route, _request: route.fulfill(status=500, body="no"))
    page.get_by_role("searchbox").fill("mai ki")
    expect(alerts).to_have_text(["Máy chủ không trả được kết quả tìm. Hãy tải lại trang rồi "
                                 "tìm lại."])
    page.unroute(searched)
    # One that hangs gives up, and says so (its 15 s cut short here), and the searches
    # typed after it, which htmx holds back until it ends, then go.
    assert page.get_by_role("searchbox").get_attribute("hx-request") == '{"timeout": 15000}'
    page.get_by_role("searchbox").evaluate(
        """box => box.setAttribute("hx-request", '{"timeout": 1000}')""")
    page.route(searched, lambda route, _request: None)  # never answered
    page.get_by_role("searchbox").fill("mai k")
    expect(alerts).to_have_text(["Chưa có kết quả tìm sau 15 giây: mạng có thể đang chậm. "
                                 "Hãy tìm lại."])
    page.unroute(searched)
    request.node.stash[BROWSER_ERRORS].clear()  # the failures' own

    page.get_by_role("searchbox").fill("mai kim")
    expect(rows).to_have_count(1)
    expect(alerts).to_have_count(0)


def test_keyboard_focus_stays_in_place_after_a_tap_and_a_live_refresh(
        page, demo, closing_session_now):
    """A keyboard or a screen reader keeps its place when htmx replaces what held it: the
    tapped button, and the province link through the dashboard's refresh."""
    first = uong_bi_names(demo, 1)[0]
    log_in(page, loader.COORDINATOR.email, loader.COORDINATOR.password)
    page.goto(f"/manage/c/{SLUG}/points/{POINT}/attendance")
    sheet_button(page, first).focus()
    page.keyboard.press("Enter")
    expect(sheet_button(page, first)).to_have_attribute("aria-pressed", "true")
    expect(sheet_button(page, first)).to_be_focused()
    page.context.clear_cookies()

    page.clock.install()
    log_in(page, loader.ORGANISER.email, loader.ORGANISER.password)
    page.goto(f"/manage/c/{SLUG}/attendance")
    link = page.locator("#attendance-live .report-provinces").get_by_role(
        "link", name="Tỉnh Quảng Ninh")
    link.focus()
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
        page.clock.run_for(16_000)
    expect(link).to_be_focused()


def test_a_live_refresh_that_does_not_get_through_says_so_until_one_does(
        page, demo, request):
    """The dashboard's figures stayed as they were when a refresh failed, still looking
    current: a note says they may be out of date, until a refresh gets through."""
    from tests.e2e.conftest import BROWSER_ERRORS

    page.clock.install()
    log_in(page, loader.ORGANISER.email, loader.ORGANISER.password)
    page.goto(f"/manage/c/{SLUG}/attendance")
    note = page.locator("#live-failed")
    expect(note).to_be_empty()
    refresh = f"**/manage/c/{SLUG}/attendance"
    page.route(refresh, lambda route, request: route.abort()
               if request.headers.get("hx-request") else route.continue_())
    with page.expect_event("requestfailed"):
        page.clock.run_for(16_000)
    expect(note).to_have_text("Lần cập nhật gần nhất không thành công: số liệu dưới đây có "
                              "thể đã cũ. Trang sẽ tự thử lại.")
    page.unroute(refresh)
    request.node.stash[BROWSER_ERRORS].clear()  # the abort's own
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
        page.clock.run_for(16_000)
    expect(note).to_be_empty()


def test_a_live_dashboard_whose_session_became_a_break_says_so_and_stops_asking(page, demo):
    """Republished as a break, the session left the report: every refresh was refused
    (404), for as long as the page stayed open, under a note promising to try again."""
    from confmgr.conferences import publishing

    with demo.app_context():
        session_id = db.session.scalar(select(AgendaSession.id).where(
            AgendaSession.title == "Bế mạc hội nghị"))
    page.clock.install()
    log_in(page, loader.ORGANISER.email, loader.ORGANISER.password)
    page.goto(f"/manage/c/{SLUG}/attendance?session={session_id}")
    with demo.app_context():
        session = db.session.get(AgendaSession, session_id)
        session.kind = SessionKind.BREAK
        publishing.publish(session.conference, None, "")
        db.session.commit()
    answered = []
    page.on("response", lambda response: answered.append(response.status)
            if response.request.headers.get("hx-request") else None)
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
        page.clock.run_for(16_000)
    expect(page.locator("#attendance-live .alert-warning")).to_contain_text(
        "Phiên đang xem không còn trong chương trình đã công bố để điểm danh")
    page.clock.run_for(61_000)
    assert answered == [286]
    expect(page.locator("#live-failed")).to_be_empty()


def test_a_typo_in_a_headcount_is_named_not_saved_as_zero(page, demo, closing_session_now):
    """What is typed reaches the server as typed: "5e" is refused with its category named,
    and the field keeps it to be corrected."""
    with demo.app_context():
        db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "06688")
                          ).headcount_only = True
        db.session.commit()
    log_in(page, loader.COORDINATOR.email, loader.COORDINATOR.password)
    page.goto(f"/manage/c/{SLUG}/points/06688/attendance")
    box = page.get_by_label("Thành phần khác", exact=True)
    box.fill("5e")
    page.get_by_role("button", name="Ghi số lượng").click()
    expect(page.locator(".alert-danger")).to_have_text(
        "Thành phần khác: hãy nhập một số nguyên không âm.")
    expect(page.get_by_label("Thành phần khác", exact=True)).to_have_value("5e")
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(SessionPointCount).where(
            SessionPointCount.session_id == closing_session_now[0],
            SessionPointCount.headcount > 0)) == 0


def test_printable_pages_are_laid_out_at_a_phones_width(browser, live_url):
    """A phone lays a page out at its own width only when the page says so (a viewport
    tag); otherwise at 980 px, shrunk to a third. Coordinators open these pages on phones."""
    context = browser.new_context(base_url=live_url, locale="vi-VN", is_mobile=True,
                                  viewport={"width": 390, "height": 844})
    try:
        phone = context.new_page()
        assert phone.goto(f"/c/{SLUG}/print").status == 200
        assert phone.evaluate("window.innerWidth") == 390
        # The menu is folded on a phone: sign in on the page itself.
        phone.goto("/login")
        phone.get_by_label("Email hoặc tên đăng nhập", exact=True).fill(loader.ORGANISER.email)
        phone.get_by_label("Mật khẩu", exact=True).fill(loader.ORGANISER.password)
        phone.get_by_role("button", name="Đăng nhập", exact=True).click()
        phone.wait_for_url("**/manage/")
        for path in (f"/manage/c/{SLUG}/points/06811/badges",
                     f"/manage/c/{SLUG}/points/06811/delegates/print",
                     f"/manage/c/{SLUG}/attendance/print"):
            assert phone.goto(path).status == 200
            assert (path, phone.evaluate("window.innerWidth")) == (path, 390)
    finally:
        context.close()


def test_without_javascript_the_menus_are_in_reach(browser, live_url):
    """Bootstrap's scripts open the folded menu of a phone and the account menu: without
    them (scripts off, or not loaded yet on a slow link) the language switch, the sign-in
    link and the account's pages were out of reach."""
    context = browser.new_context(base_url=live_url, locale="vi-VN", is_mobile=True,
                                  java_script_enabled=False,
                                  viewport={"width": 390, "height": 844})
    try:
        phone = context.new_page()
        phone.goto(f"/c/{SLUG}/")
        assert phone.get_by_role("button", name="EN").is_visible()
        assert phone.get_by_role("link", name="Đăng nhập").is_visible()
        assert phone.evaluate("document.documentElement.scrollWidth") == 390
        phone.get_by_role("link", name="Đăng nhập").click()
        phone.get_by_label("Email hoặc tên đăng nhập", exact=True).fill(loader.ORGANISER.email)
        phone.get_by_label("Mật khẩu", exact=True).fill(loader.ORGANISER.password)
        phone.get_by_role("button", name="Đăng nhập", exact=True).click()
        for name in ("Đổi mật khẩu", "Token API", "Quản lý"):
            assert phone.get_by_role("link", name=name).is_visible(), name
        assert phone.get_by_role("button", name="Đăng xuất").is_visible()
        assert phone.evaluate("document.documentElement.scrollWidth") == 390
    finally:
        context.close()


def test_a_long_word_in_a_title_wraps_on_a_phone(browser, live_url, demo):
    """A link pasted into a session's title made the agenda 822 px wide on a 390 px
    phone: the whole page scrolled sideways."""
    with demo.app_context():
        session = db.session.scalars(select(AgendaSession).order_by(AgendaSession.starts_at)
                                     ).first()
        session.title = ("Tài liệu: https://hocvienchinhtri.edu.vn/tai_lieu/"
                         "huong_dan_thi_hanh_dieu_le_dang_ban_chinh_thuc_2025.pdf")
        publishing.publish(session.conference, None, "")
        db.session.commit()
    context = browser.new_context(base_url=live_url, locale="vi-VN", is_mobile=True,
                                  viewport={"width": 390, "height": 844})
    try:
        phone = context.new_page()
        phone.goto(f"/c/{SLUG}/")
        assert phone.evaluate("document.documentElement.scrollWidth") == 390
    finally:
        context.close()


def test_page_arrows_are_named_for_a_screen_reader(page, demo):
    """The national delegate list's page arrows were bare "‹" and "›": a screen reader
    announced a punctuation mark, not the next page."""
    log_in(page, loader.ORGANISER.email, loader.ORGANISER.password)
    page.goto(f"/manage/c/{SLUG}/delegates")
    expect(page.get_by_role("link", name="Trang trước", exact=True)).to_have_count(0)
    page.get_by_role("link", name="Trang sau", exact=True).click()
    expect(page.get_by_text(re.compile(r"^Trang 2/\d+"))).to_be_visible()
    page.get_by_role("link", name="Trang trước", exact=True).click()
    expect(page.get_by_text(re.compile(r"^Trang 1/\d+"))).to_be_visible()
