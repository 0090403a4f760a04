"""Questions from the points (vướng mắc): raising, merging, triage, answers and the digest."""
from __future__ import annotations

import io
import re
import unicodedata
from html import unescape

import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import func, select

from confmgr.accounts.coordinators import create_coordinator
from confmgr.accounts.permissions import questions_in_reach
from confmgr.accounts.services import find_user
from confmgr.audit.models import AuditEntry
from confmgr.conferences import publishing
from confmgr.conferences.editing import RuleBroken
from confmgr.conferences.models import AgendaVersion, Conference, Topic
from confmgr.db import db
from confmgr.demo.loader import DEMO_ANSWER, PRESENTER, SLUG
from confmgr.enums import QuestionStatus
from confmgr.points.models import BroadcastPoint
from confmgr.questions import listing, services
from confmgr.questions.models import MAX_ANSWER_LENGTH, Question
from tests.conftest import csrf_token
from tests.helpers import (
    COORDINATOR,
    ORGANISER,
    as_published_before_topic_ids,
    count_queries,
    field_errors,
    flashes,
    logged_in,
    ministry_point,
    post_form,
    race,
)

PRESENTER_ACCOUNT = (PRESENTER.email, PRESENTER.password)
HANOI_COORDINATOR = ("hanoi@example.org", None)
TRIAGE = f"/manage/c/{SLUG}/questions"
FIRST = "Sau sắp xếp, đảng bộ xã có hơn 60 chi bộ trực thuộc"


def conference() -> Conference:
    return db.session.scalar(select(Conference).where(Conference.slug == SLUG))


def point(code: str) -> BroadcastPoint:
    return db.session.scalar(select(BroadcastPoint).where(
        BroadcastPoint.conference_id == conference().id, BroadcastPoint.code == code))


def topic(number: str) -> Topic:
    return db.session.scalar(select(Topic).where(Topic.conference_id == conference().id,
                                                 Topic.number == number))


def topic_id(app, number: str) -> int:
    with app.app_context():
        return topic(number).id


def question(start: str) -> Question:
    return db.session.scalar(select(Question).where(Question.body.startswith(start)))


def question_id(app, start: str) -> int:
    with app.app_context():
        return question(start).id


def raise_one(code: str, body: str, topic_number: str | None = None) -> Question:
    (raised,) = services.raise_questions(
        conference(), point(code), [(0, body)],
        topic_id=topic(topic_number).id if topic_number else None)
    return raised


def hanoi_coordinator(app) -> tuple[str, str]:
    """A second coordinator, of the Hà Nội point and those below it."""
    with app.app_context():
        user, password = create_coordinator("hanoi@example.org", "Hà Nội", [point("01")])
        db.session.commit()
        return user.email, password


# ---------------------------------------------------------------- raising


def test_a_pasted_list_becomes_one_question_per_line_without_its_numbering():
    assert services.split_pasted(
        "1. Câu thứ nhất?\n\n2) Câu  thứ hai?\n- Câu ba\n• Câu bốn\nb) Câu năm\n   \n"
        "2024 là năm nào?") == [
        (1, "Câu thứ nhất?"), (3, "Câu thứ hai?"), (4, "Câu ba"), (5, "Câu bốn"),
        (6, "Câu năm"), (8, "2024 là năm nào?")]
    # Dates, ranges and thousands begin a question; they are no numbering.
    # A range typed with spaces, as Word often leaves it, lost its first number.
    assert services.split_pasted(
        "1/7/2025 sáp nhập xã thế nào?\n2-3 chi bộ ghép ra sao?\n1.000 đảng viên?\n"
        "4. 5 năm?\n3 - 5 đảng viên thì lập chi bộ thế nào?\n1- Câu hai?") == [
        (1, "1/7/2025 sáp nhập xã thế nào?"), (2, "2-3 chi bộ ghép ra sao?"),
        (3, "1.000 đảng viên?"), (4, "5 năm?"),
        (5, "3 - 5 đảng viên thì lập chi bộ thế nào?"), (6, "Câu hai?")]
    # The other ways Vietnamese lists number their lines.
    assert services.split_pasted(
        "a. Câu a?\nb/ Câu b?\n(1) Câu c?\n(đ) Câu d?\nIV. Câu e?\nCâu 1: Câu f?\n"
        "Câu hỏi 2. Câu g?\n1.1. Câu h?\n2.3 Câu i?\nCâu 3 nói gì?\nA.Nguyễn?") == [
        (1, "Câu a?"), (2, "Câu b?"), (3, "Câu c?"), (4, "Câu d?"), (5, "Câu e?"),
        (6, "Câu f?"), (7, "Câu g?"), (8, "Câu h?"), (9, "Câu i?"), (10, "Câu 3 nói gì?"),
        (11, "A.Nguyễn?")]
    # An initial begins a sentence; lettering numbers a list only where lines share it.
    assert services.split_pasted(
        "1. Câu một?\nC. Mác và Ph. Ăngghen nói gì về chi bộ?\nV. I. Lênin viết gì?") == [
        (1, "Câu một?"), (2, "C. Mác và Ph. Ăngghen nói gì về chi bộ?"),
        (3, "V. I. Lênin viết gì?")]
    assert services.split_pasted("a. Câu a?\n\nb. Câu b?") == [(1, "Câu a?"), (3, "Câu b?")]


def test_a_list_with_one_bad_line_is_refused_whole_naming_the_line(demo, ctx):
    before = db.session.scalar(select(func.count()).select_from(Question))
    lines = services.split_pasted("1. Câu hỏi đầu tiên?\n2. " + "x" * 2001 + "\n3. Câu ba?")
    with pytest.raises(RuleBroken) as refused:
        services.raise_questions(conference(), point("06811"), lines, topic_id=None)
    assert [p.message for p in refused.value.problems] == [
        "Dòng 2: Câu hỏi dài 2001 ký tự; tối đa 2000 ký tự."]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Question)) == before


def test_empty_text_and_a_foreign_topic_are_refused(demo, ctx):
    with pytest.raises(RuleBroken) as refused:
        services.raise_questions(conference(), point("06811"), [(0, "   ")], topic_id=None)
    assert [p.message for p in refused.value.problems] == ["Hãy nhập nội dung câu hỏi."]
    other = Conference(slug="khac", title="Khác", first_day=conference().first_day,
                       last_day=conference().last_day)
    db.session.add(other)
    db.session.flush()
    foreign = Topic(conference_id=other.id, number="1", title="Chuyên đề khác")
    db.session.add(foreign)
    db.session.flush()
    with pytest.raises(RuleBroken) as refused:
        services.raise_questions(conference(), point("06811"), [(0, "Hỏi?")],
                                 topic_id=foreign.id)
    assert [p.message for p in refused.value.problems] == [
        "Chuyên đề không thuộc hội nghị này."]


def test_a_coordinator_raises_one_question_and_a_pasted_list(client, demo):
    logged_in(client, COORDINATOR)
    url = f"/manage/c/{SLUG}/points/06811/questions"
    with demo.app_context():
        topic_id = topic("3").id
    response = post_form(client, url, {
        "topic": str(topic_id), "body": "Thành viên ủy ban kiểm tra có phải là cấp ủy viên?",
        "asker_name": "Lê Văn Nam", "asker_position": "Chủ nhiệm UBKT"})
    assert response.status_code == 302
    response = post_form(client, url, {"topic": "", "as_list": "y",
                                       "body": "1. Câu hỏi chung một?\n2. Câu hỏi chung hai?"},
                         follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Đã gửi 2 câu hỏi." in flashes(page)
    with demo.app_context():
        mine = db.session.execute(
            select(Question.body, Question.topic_id, Question.asker_name, Question.status)
            .where(Question.point_id == point("06811").id).order_by(Question.id)).all()
    assert mine[1:] == [
        ("Thành viên ủy ban kiểm tra có phải là cấp ủy viên?", topic_id, "Lê Văn Nam",
         QuestionStatus.NEW),
        ("Câu hỏi chung một?", None, "", QuestionStatus.NEW),
        ("Câu hỏi chung hai?", None, "", QuestionStatus.NEW)]
    assert "Câu hỏi chung hai?" in page
    # The same list sent again (a double tap, a resend on a slow link) raises nothing more;
    # a list with one question more raises that one.
    response = post_form(client, url, {"topic": "", "as_list": "y",
                                       "body": "1. Câu hỏi chung một?\n2. Câu hỏi chung hai?"},
                         follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == [
        "Điểm cầu vừa gửi đúng những câu hỏi này; không gửi lại."]
    # A line pasted twice in one list is one question (it counted twice as sent).
    response = post_form(client, url, {"topic": "", "as_list": "y", "body": (
        "1. Câu hỏi chung một?\n2. Câu hỏi chung ba?\n3. Câu hỏi chung ba?")},
        follow_redirects=True)
    assert "Đã gửi 1 câu hỏi." in flashes(response.get_data(as_text=True))
    with demo.app_context():
        assert db.session.scalars(select(Question.body).where(
            Question.point_id == point("06811").id).order_by(Question.id)).all()[1:] == [
            "Thành viên ủy ban kiểm tra có phải là cấp ủy viên?", "Câu hỏi chung một?",
            "Câu hỏi chung hai?", "Câu hỏi chung ba?"]


def test_the_form_shows_what_is_wrong_and_saves_nothing(client, demo):
    logged_in(client, COORDINATOR)
    url = f"/manage/c/{SLUG}/points/06811/questions"
    page = post_form(client, url, {"topic": "", "body": ""}).get_data(as_text=True)
    assert field_errors(page, "body") == ["Hãy nhập nội dung câu hỏi."]
    page = post_form(client, url, {"topic": "", "as_list": "y",
                                   "body": "Một?\n\n" + "y" * 2500}).get_data(as_text=True)
    assert field_errors(page, "body") == ["Dòng 3: Câu hỏi dài 2500 ký tự; tối đa 2000 ký tự."]
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(Question).where(
            Question.point_id == point("06811").id)) == 1


def test_raising_without_a_csrf_token_is_refused(client, demo):
    logged_in(client, COORDINATOR)
    response = client.post(f"/manage/c/{SLUG}/points/06811/questions",
                           data={"topic": "", "body": "Hỏi?"})
    assert response.status_code == 400


# ---------------------------------------------------------------- merging


def test_the_demo_merges_three_points_questions_into_one(demo, ctx):
    first = question(FIRST)
    group = listing.group(first)
    assert [q.point.code for q in group] == ["06811", "06688", "00004"]
    assert first.points_count == 3 and first.merged_into_id is None
    assert {q.merged_into_id for q in group[1:]} == {first.id}
    assert first.status == QuestionStatus.PUBLISHED and first.answer == DEMO_ANSWER


def test_merging_a_group_moves_its_duplicates_and_keeps_every_point(demo, ctx):
    first = question(FIRST)
    services.unpublish(first)
    other = raise_one("79", "Cấp ủy viên phụ trách chi bộ được phân công thế nào?", "1")
    same_point = raise_one("06811", "Nhắc lại: phân công cấp ủy viên phụ trách chi bộ?", "1")
    services.merge(other, [same_point], publishes=True)
    assert other.points_count == 2
    merged = services.merge(other, [first], publishes=True)
    assert merged == [first]
    rows = listing.group(other)
    assert sorted(q.point.code for q in rows) == ["00004", "06688", "06811", "06811", "79"]
    assert {q.merged_into_id for q in rows if q.id != other.id} == {other.id}
    assert other.points_count == 4  # Uông Bí asked twice: four points
    # The answer written before the merge passes on; nothing written is lost.
    assert other.answer == DEMO_ANSWER and other.status == QuestionStatus.ANSWERED


def test_a_published_question_is_not_merged_away(demo, ctx):
    first = question(FIRST)
    other = raise_one("79", "Phân công cấp ủy viên?", "1")
    with pytest.raises(RuleBroken) as refused:
        services.merge(other, [first], publishes=True)
    assert [p.message for p in refused.value.problems] == [
        f"Câu hỏi #{first.id} đã công bố; hãy hủy công bố trước khi gộp."]


def test_splitting_a_duplicate_off_restores_both_counts(demo, ctx):
    first = question(FIRST)
    hanoi = question("Số chi bộ trực thuộc tăng gấp đôi")
    services.split(hanoi, publishes=True)
    assert hanoi.merged_into_id is None and hanoi.status == QuestionStatus.NEW
    assert (first.points_count, hanoi.points_count) == (2, 1)
    assert [q.point.code for q in listing.group(first)] == ["06811", "06688"]


def test_splitting_takes_back_the_answer_the_merge_passed_on(demo, ctx):
    """A merge gives the duplicate's answer to a target without one; split off again, the
    target kept an answer written for another question, and could be published with it.
    An answer written for the target since stays."""
    target = raise_one("79", "Hỏi về tài liệu điện tử?")
    duplicate = raise_one("40", "Xin tài liệu điện tử trước hội nghị?")
    services.answer(duplicate, "Gửi qua thư điện tử.", user_id=None)
    services.merge(target, [duplicate], publishes=True)
    assert (target.answer, target.status) == ("Gửi qua thư điện tử.", QuestionStatus.ANSWERED)
    services.split(duplicate, publishes=True)
    assert (target.answer, target.status) == ("", QuestionStatus.NEW)
    assert (duplicate.answer, duplicate.status) == ("Gửi qua thư điện tử.",
                                                    QuestionStatus.ANSWERED)
    services.merge(target, [duplicate], publishes=True)
    services.answer(target, "Gửi qua thư điện tử và đăng trên trang.", user_id=None)
    services.split(duplicate, publishes=True)
    assert (target.answer, target.status) == ("Gửi qua thư điện tử và đăng trên trang.",
                                              QuestionStatus.ANSWERED)


def test_a_duplicates_own_answer_shows_under_the_answered_question_it_joined(client, demo):
    """The target had an answer of its own, so the duplicate's stays on the duplicate: the
    target's page shows it, to be folded into the answer given to all."""
    with demo.app_context():
        target = raise_one("79", "Hỏi về tài liệu điện tử?")
        duplicate = raise_one("40", "Xin tài liệu điện tử trước hội nghị?")
        same = raise_one("06811", "Tài liệu điện tử gửi khi nào?")
        services.answer(target, "Gửi qua thư điện tử.", user_id=None)
        services.answer(duplicate, "Đăng trên trang hội nghị\ntừ ngày 10/6.", user_id=None)
        services.answer(same, "Gửi qua thư điện tử.", user_id=None)
        services.merge(target, [duplicate, same], publishes=True)
        db.session.commit()
        target_id = target.id
    logged_in(client, ORGANISER)
    page = client.get(f"{TRIAGE}/{target_id}").get_data(as_text=True)
    assert re.findall(r'<div class="duplicate-answer">(.*?)</div>', page, re.S) == [
        '<strong>Câu trả lời đã viết cho câu này:</strong> <span class="white-space-pre">'
        "Đăng trên trang hội nghị\ntừ ngày 10/6.</span>"]


def test_an_organiser_merges_ticked_questions_into_the_oldest(client, demo):
    with demo.app_context():
        a = raise_one("79", "Hỏi về tài liệu điện tử?").id
        b = raise_one("40", "Xin tài liệu điện tử trước hội nghị?").id
        db.session.commit()
    general = question_id(demo, "Đề nghị Ban Tổ chức gửi tài liệu")
    logged_in(client, ORGANISER)
    response = post_form(client, f"{TRIAGE}/bulk", {"action": "merge", "ids": [b, a, general]},
                         follow_redirects=True)
    assert f"Đã gộp 2 câu hỏi vào câu hỏi #{general}." in flashes(response.get_data(as_text=True))
    with demo.app_context():
        standing = db.session.get(Question, general)
        assert standing.points_count == 2  # Hồ Chí Minh asked twice, Nghệ An once
        assert {db.session.get(Question, i).merged_into_id for i in (a, b)} == {general}


# ---------------------------------------------------------------- triage and search


def triage_ids(query: listing.TriageQuery, reach=None) -> list[int]:
    page = listing.triage(conference(), reach if reach is not None else questions_in_reach(
        find_user(ORGANISER[0]), conference()), query)
    return [q.id for q in page.items]


def test_search_ignores_diacritics_and_case(demo, ctx):
    first = question(FIRST).id
    assert triage_ids(listing.TriageQuery(text="phan cong CAP UY vien")) == [first]
    assert triage_ids(listing.TriageQuery(text="PHÂN CÔNG cấp ủy")) == [first]
    assert triage_ids(listing.TriageQuery(text="đang vien di lam an xa")) == [
        question("Đảng viên đi làm ăn xa").id]
    assert triage_ids(listing.TriageQuery(text="kiem tra giam sat khong co")) == []
    # A duplicate is found through the question it was merged into, never on its own.
    assert triage_ids(listing.TriageQuery(text="tang gap doi")) == []
    # LIKE wildcards are searched for, not obeyed; a search of no word finds nothing.
    assert triage_ids(listing.TriageQuery(text="%")) == []
    assert triage_ids(listing.TriageQuery(text="cap_uy")) == []


def test_filters_by_topic_status_and_the_provinces_that_asked(demo, ctx):
    ids = {start: question(start).id for start in (
        FIRST, "Việc bố trí bí thư", "Thời hạn chuyển", "Đảng viên đi làm", "Ủy ban kiểm tra",
        "Đề nghị Ban Tổ chức")}
    assert triage_ids(listing.TriageQuery(topic=str(topic("1").id), sort="old")) == [
        ids[FIRST], ids["Việc bố trí bí thư"]]
    assert triage_ids(listing.TriageQuery(topic="general")) == [ids["Đề nghị Ban Tổ chức"]]
    assert triage_ids(listing.TriageQuery(status="assigned")) == [ids["Thời hạn chuyển"]]
    # Hà Nội asked the first question through its merged duplicate from Ba Đình.
    assert triage_ids(listing.TriageQuery(province="01", sort="old")) == [
        ids[FIRST], ids["Việc bố trí bí thư"]]
    assert triage_ids(listing.TriageQuery(sort="most"))[0] == ids[FIRST]


def test_the_queue_counts_waiting_and_all_questions_per_topic(demo, ctx):
    lines = listing.queue(conference(), questions_in_reach(find_user(ORGANISER[0]),
                                                           conference()), as_published=False)
    assert [(line.label[:2], line.waiting, line.total) for line in lines] == [
        ("1.", 1, 2), ("2.", 2, 2), ("3.", 1, 1), ("", 1, 1)]


def test_the_triage_page_lists_standing_questions_with_their_point_counts(client, demo):
    logged_in(client, ORGANISER)
    page = client.get(f"{TRIAGE}?q=phan+cong").get_data(as_text=True)
    first = question_id(demo, FIRST)
    # Punctuation typed with a word does not have to stand beside it in the question.
    punctuated = client.get(f"{TRIAGE}?q=%22ph%C3%A2n+c%C3%B4ng,%22").get_data(as_text=True)
    assert '<p class="small text-body-secondary mb-2 triage-total">1 câu hỏi</p>' in punctuated
    assert f'<tr id="q{first}">' in punctuated
    assert '<p class="small text-body-secondary mb-2 triage-total">1 câu hỏi</p>' in page
    assert f'<tr id="q{first}">' in page
    assert '<td class="text-end">3</td>' in page
    assert "status-published" in page
    assert "words-cut" not in page
    # Eleven words: the search looks for the first ten, and says so.
    long = client.get(TRIAGE, query_string={
        "q": "phân công một hai ba bốn năm sáu bảy tám chín"}).get_data(as_text=True)
    assert ('<p class="small text-warning-emphasis mb-2 words-cut">Chỉ tìm theo 10 từ đầu tiên.'
            '</p>') in long
    ten = client.get(TRIAGE, query_string={
        "q": "phân công một hai ba bốn năm sáu bảy tám"}).get_data(as_text=True)
    assert "words-cut" not in ten


def test_similar_questions_are_offered_for_merging(demo, ctx):
    fresh = raise_one("79", "Phân công cấp ủy viên phụ trách chi bộ ở xã mới thế nào?", "1")
    other = raise_one("40", "Chi bộ thôn có cần cấp ủy viên phụ trách chi bộ không?", "1")
    raise_one("31", "Hỏi về tài liệu?", None)
    reach = questions_in_reach(find_user(ORGANISER[0]), conference())
    assert [q.id for q in listing.similar(fresh, reach)] == [other.id]


def test_a_long_questions_reworded_duplicate_is_offered_both_ways(demo, ctx):
    """The pairs the two share are none of the long question's longest."""
    long = raise_one("79", "Trường hợp thuyên chuyển công tác giữa nhiệm kỳ, nhưng chưa kiện "
                     "toàn được nhân sự thường trực, thì việc phân công cấp ủy viên phụ trách "
                     "chi bộ điều chỉnh thế nào?", "1")
    short = raise_one("40", "Việc phân công cấp ủy viên phụ trách chi bộ ở xã mới ra sao?", "1")
    reach = questions_in_reach(find_user(ORGANISER[0]), conference())
    assert [q.id for q in listing.similar(long, reach)] == [short.id]
    assert [q.id for q in listing.similar(short, reach)] == [long.id]


# ---------------------------------------------------------------- who sees what


def test_a_coordinator_sees_only_their_points_questions_until_published(client, demo):
    email, password = hanoi_coordinator(demo)
    logged_in(client, (email, password))
    assert client.get(f"/manage/c/{SLUG}/points/06811/questions").status_code == 403
    assert client.get(f"/manage/c/{SLUG}/points/22/questions").status_code == 403
    assert post_form(client, f"/manage/c/{SLUG}/points/06811/questions",
                     {"topic": "", "body": "Hỏi hộ?"}).status_code == 403
    assert client.get(TRIAGE).status_code == 403
    assert client.get(f"{TRIAGE}/{question_id(demo, 'Thời hạn chuyển')}").status_code == 403
    own = client.get(f"/manage/c/{SLUG}/points/01/questions").get_data(as_text=True)
    # Hà Nội's points below it: Ba Đình's merged duplicate (answered through the published
    # question) and Hoàn Kiếm's; none of Quảng Ninh's.
    page = client.get(f"/manage/c/{SLUG}/points/00004/questions").get_data(as_text=True)
    assert "Số chi bộ trực thuộc tăng gấp đôi" in page and DEMO_ANSWER in page
    assert "Thời hạn chuyển sinh hoạt đảng" not in own + page
    digest = client.get(f"/c/{SLUG}/questions").get_data(as_text=True)
    assert FIRST in digest and "Thời hạn chuyển sinh hoạt đảng" not in digest


def test_an_answer_reaches_the_asking_points_only_when_published(client, demo):
    with demo.app_context():
        services.answer(question("Thời hạn chuyển"), "Trong 30 ngày.", user_id=None)
        db.session.commit()
    logged_in(client, COORDINATOR)
    url = f"/manage/c/{SLUG}/points/06793/questions"
    assert "Trong 30 ngày." not in client.get(url).get_data(as_text=True)
    with demo.app_context():
        services.publish([question("Thời hạn chuyển")])
        db.session.commit()
    assert "Trong 30 ngày." in client.get(url).get_data(as_text=True)


def test_a_presenter_triages_only_their_topics_and_what_is_assigned(client, demo):
    logged_in(client, PRESENTER_ACCOUNT)
    page = client.get(TRIAGE).get_data(as_text=True)
    # Topics 1 and 2 are the presenter's; Nghệ An's topic 3 and the general one are not.
    assert "Việc bố trí bí thư chi bộ" in page and "Đảng viên đi làm ăn xa" in page
    assert "Ủy ban kiểm tra đảng ủy xã mới" not in page
    assert "Đề nghị Ban Tổ chức gửi tài liệu" not in page
    outside = question_id(demo, "Ủy ban kiểm tra")
    assert client.get(f"{TRIAGE}/{outside}").status_code == 404
    # Not saved: the writer is given their text back, and nothing of the question.
    refused = post_form(client, f"{TRIAGE}/{outside}/answer", {"answer": "x"})
    assert refused.status_code == 409 and "question-body" not in refused.get_data(as_text=True)
    with demo.app_context():
        assert db.session.get(Question, outside).answer == ""
    # Assigned to them, a question of another topic comes into reach.
    with demo.app_context():
        presenter = db.session.get(Question, question("Thời hạn chuyển").id).assignee
        services.assign([question("Ủy ban kiểm tra")], presenter)
        db.session.commit()
    assert client.get(f"{TRIAGE}/{outside}").status_code == 200
    response = post_form(client, f"{TRIAGE}/{outside}/answer", {"answer": "Ba thành viên."})
    assert response.status_code == 302
    with demo.app_context():
        answered = db.session.get(Question, outside)
        assert (answered.answer, answered.status) == ("Ba thành viên.", QuestionStatus.ANSWERED)
    # Publishing, assigning, re-wording and the counts stay with the organisers.
    assert post_form(client, f"{TRIAGE}/{outside}/publish", {}).status_code == 403
    assert post_form(client, f"{TRIAGE}/{outside}/assign", {"presenter": ""}).status_code == 403
    assert post_form(client, f"{TRIAGE}/{outside}/edit", {"body": "x"}).status_code == 403
    assert post_form(client, f"{TRIAGE}/bulk", {"action": "publish",
                                                "ids": [outside]}).status_code == 403
    assert client.get(f"{TRIAGE}/counts").status_code == 403
    assert client.get(f"/manage/c/{SLUG}/").status_code == 403


@pytest.mark.parametrize(("account", "asked_once"), [
    (ORGANISER, "SELECT conference_organisers.conference_id"),  # manages_conference
    (PRESENTER_ACCOUNT, "WHERE presenters.user_id"),  # presenter_ids
])
def test_a_triage_page_asks_who_may_triage_once(client, demo, account, asked_once):
    """The triage scope is worked out once per request and passed along."""
    logged_in(client, account)
    client.get(TRIAGE)  # the process's first request asks once whether any user exists
    for url in (TRIAGE, f"{TRIAGE}/{question_id(demo, 'Thời hạn chuyển')}"):
        with count_queries(demo) as statements:
            assert client.get(url).status_code == 200
        assert sum(asked_once in statement for statement in statements) == 1, url


def test_strangers_and_other_roles_are_kept_out(client, demo):
    assert client.get(TRIAGE).status_code == 302  # to the login page
    assert client.get(f"/manage/c/{SLUG}/points/06811/questions").status_code == 302
    logged_in(client, COORDINATOR)
    assert post_form(client, f"{TRIAGE}/bulk", {"action": "merge", "ids": [1]}).status_code == 403


# ---------------------------------------------------------------- answering and publishing


def test_publishing_needs_an_answer_and_is_all_or_nothing(client, demo):
    answered = question_id(demo, "Việc bố trí bí thư")
    unanswered = question_id(demo, "Đảng viên đi làm")
    with demo.app_context():
        services.answer(db.session.get(Question, answered), "Không bắt buộc.", user_id=None)
        db.session.commit()
    logged_in(client, ORGANISER)
    response = post_form(client, f"{TRIAGE}/bulk",
                         {"action": "publish", "ids": [answered, unanswered]},
                         follow_redirects=True)
    assert f"Câu hỏi #{unanswered} chưa có câu trả lời." in flashes(
        response.get_data(as_text=True))
    with demo.app_context():
        assert db.session.get(Question, answered).status == QuestionStatus.ANSWERED
    post_form(client, f"{TRIAGE}/bulk", {"action": "publish", "ids": [answered]})
    with demo.app_context():
        assert db.session.get(Question, answered).status == QuestionStatus.PUBLISHED


def test_an_empty_or_overlong_answer_is_refused_on_its_field(client, demo):
    target = question_id(demo, "Việc bố trí bí thư")
    logged_in(client, PRESENTER_ACCOUNT)
    page = post_form(client, f"{TRIAGE}/{target}/answer", {"answer": "  "}).get_data(as_text=True)
    assert field_errors(page, "answer") == ["Hãy nhập nội dung trả lời."]
    page = post_form(client, f"{TRIAGE}/{target}/answer",
                     {"answer": "z" * 20001}).get_data(as_text=True)
    assert field_errors(page, "answer") == ["Câu trả lời dài 20001 ký tự; tối đa 20000 ký tự."]


def test_an_answer_saved_meanwhile_is_not_overwritten_unseen(client, demo):
    """The presenter and an organiser both had the empty answer box open: the second to
    save replaced the first's answer without either knowing. Now the second is shown the
    first's answer, their own text kept in the box, and saving again replaces it."""
    target = question_id(demo, "Việc bố trí bí thư")
    organiser = logged_in(demo.test_client(), ORGANISER)
    page = organiser.get(f"{TRIAGE}/{target}").get_data(as_text=True)
    assert '<input id="shown" name="shown" type="hidden" value="">' in page
    logged_in(client, PRESENTER_ACCOUNT)
    assert post_form(client, f"{TRIAGE}/{target}/answer",
                     {"answer": "Trả lời của báo cáo viên.", "shown": ""}).status_code == 302
    sent = {"answer": "Trả lời của Ban Tổ chức.", "shown": ""}
    page = post_form(organiser, f"{TRIAGE}/{target}/answer", sent).get_data(as_text=True)
    assert flashes(page) == ["Người khác vừa lưu một câu trả lời cho câu hỏi này; nội dung bạn "
                             "viết được giữ trong ô: hãy xem lại rồi lưu."]
    assert ">Trả lời của báo cáo viên.</span>" in page  # the answer saved meanwhile
    assert "Trả lời của Ban Tổ chức.</textarea>" in page  # the text sent, kept
    assert '<input id="shown" name="shown" type="hidden" value="Trả lời của báo cáo viên.">' in page
    with demo.app_context():
        assert db.session.get(Question, target).answer == "Trả lời của báo cáo viên."
    # Saved again, once seen: it replaces the other. The same text sent twice is no clash.
    again = {"answer": "Trả lời của Ban Tổ chức.", "shown": "Trả lời của báo cáo viên."}
    assert post_form(organiser, f"{TRIAGE}/{target}/answer", again).status_code == 302
    assert post_form(client, f"{TRIAGE}/{target}/answer", sent).status_code == 302
    with demo.app_context():
        assert db.session.get(Question, target).answer == "Trả lời của Ban Tổ chức."


def test_an_answer_written_while_its_question_was_merged_is_kept_on_the_one_it_joined(
        client, demo):
    """The organiser merged the question while its presenter wrote the answer: the page
    that came back was the merged one's, whose form only refused again."""
    logged_in(client, ORGANISER)
    with demo.app_context():
        target = raise_one("06811", "Thủ tục chuyển sinh hoạt đảng khi sáp nhập xã thế nào?")
        duplicate = raise_one("06688", "Chuyển sinh hoạt đảng khi sáp nhập xã làm thế nào?")
        services.merge(target, [duplicate], publishes=True)
        db.session.commit()
        target_id, duplicate_id = target.id, duplicate.id
    page = post_form(client, f"{TRIAGE}/{duplicate_id}/answer",
                     {"answer": "Theo Hướng dẫn số 12."}).get_data(as_text=True)
    assert flashes(page) == [
        f"Câu hỏi #{duplicate_id} vừa được gộp vào câu hỏi #{target_id} dưới đây; nội dung "
        "bạn viết được giữ trong ô: hãy xem lại rồi lưu."]
    assert f'action="/manage/c/{SLUG}/questions/{target_id}/answer"' in page
    assert re.search(r'name="answer" rows="6">\s*Theo Hướng dẫn số 12\.</textarea>', page)
    with demo.app_context():
        assert db.session.get(Question, target_id).answer == ""
    # The same for an organiser's rewording.
    page = post_form(client, f"{TRIAGE}/{duplicate_id}/edit", {
        "body": "Chuyển sinh hoạt đảng khi sáp nhập xã?", "topic": ""}).get_data(as_text=True)
    assert f'action="/manage/c/{SLUG}/questions/{target_id}/edit"' in page
    assert re.search(r'name="body"[^>]*>\s*Chuyển sinh hoạt đảng khi sáp nhập xã\?</textarea>',
                     page)


def test_an_organiser_rewords_assigns_and_unpublishes(client, demo):
    first = question_id(demo, FIRST)
    logged_in(client, ORGANISER)
    with demo.app_context():
        topic_two = topic("2").id
        presenter = question("Thời hạn chuyển").assignee_id
        first_body, first_topic = question(FIRST).body, question(FIRST).topic_id
    post_form(client, f"{TRIAGE}/{first}/unpublish", {})
    post_form(client, f"{TRIAGE}/{first}/edit", {
        "body": "Phân công cấp ủy viên phụ trách chi bộ khi số chi bộ tăng?",
        "topic": str(topic_two)})
    post_form(client, f"{TRIAGE}/{first}/assign", {"presenter": str(presenter)})
    with demo.app_context():
        edited = db.session.get(Question, first)
        assert (edited.body, edited.topic_id, edited.assignee_id, edited.status) == (
            "Phân công cấp ủy viên phụ trách chi bộ khi số chi bộ tăng?", topic_two, presenter,
            QuestionStatus.ANSWERED)
        assert edited.search_text == "phan cong cap uy vien phu trach chi bo khi so chi bo tang?"
    # The log keeps the wording as it was; saving the form unchanged logs nothing.
    post_form(client, f"{TRIAGE}/{first}/edit", {
        "body": "Phân công cấp ủy viên phụ trách chi bộ khi số chi bộ tăng?",
        "topic": str(topic_two)})
    with demo.app_context():
        from confmgr.audit.models import AuditEntry
        edits = db.session.scalars(select(AuditEntry.details).where(
            AuditEntry.action == "question.edit")).all()
    assert edits == [{"body": [first_body, "Phân công cấp ủy viên phụ trách chi bộ khi số chi "
                                            "bộ tăng?"],
                      "topic_id": [first_topic, topic_two]}]


# ---------------------------------------------------------------- the digest and counts


def test_the_digest_lists_published_answers_by_topic(client, demo):
    with demo.app_context():
        services.answer(question("Đề nghị Ban Tổ chức"), "Tài liệu đã đăng trên trang hội nghị.",
                        user_id=None)
        services.publish([question("Đề nghị Ban Tổ chức")])
        db.session.commit()
    page = client.get(f"/c/{SLUG}/questions").get_data(as_text=True)
    assert page.index("1. Công tác tổ chức xây dựng Đảng") < page.index(FIRST) < page.index(
        "Câu hỏi chung</h2>") < page.index("Đề nghị Ban Tổ chức gửi tài liệu")
    assert "(3 điểm cầu cùng hỏi)" in page
    assert "<strong>Trả lời (Lãnh đạo Ban Tổ chức Trung ương):</strong>" in page
    assert "Việc bố trí bí thư" not in page  # never published
    only_general = client.get(f"/c/{SLUG}/questions?topic=general").get_data(as_text=True)
    assert FIRST not in only_general and "Đề nghị Ban Tổ chức gửi tài liệu" in only_general
    # A topic without published answers says so of itself, not of the whole digest.
    third = client.get(f"/c/{SLUG}/questions?topic={topic_id(demo, '3')}").get_data(
        as_text=True)
    assert "Chuyên đề này chưa có câu trả lời nào được công bố." in third
    printable = client.get(f"/c/{SLUG}/questions/print").get_data(as_text=True)
    assert FIRST in printable and 'name="topic"' not in printable


ARTICLE = re.compile(r'<article class="qa-item mb-3" id="q(\d+)">\s*<p class="mb-1"><strong>'
                     r'Câu hỏi (\d+)</strong>')


def test_the_digest_comes_in_pages_that_go_on_numbering_each_topic(client, demo, monkeypatch):
    monkeypatch.setattr(listing, "DIGEST_PER_PAGE", 3)
    with demo.app_context():
        asked = [*services.raise_questions(
            conference(), point("40"), [(n, f"Câu hỏi thử số {n}?") for n in range(1, 6)],
            topic_id=topic("1").id), raise_one("31", "Câu hỏi chung thử?")]
        for question_asked in asked:
            services.answer(question_asked, "Đã trả lời.", user_id=None)
        services.publish(asked)
        db.session.commit()
        whole = listing.digest(conference(), whole=True)
        expected = [(question_shown.id, number) for section in whole.items
                    for number, question_shown in enumerate(section.questions, start=1)]
        first_topic = listing.topic_label(whole.items[0].topic)
    assert len(expected) == whole.total == 7 and whole.pages == 1
    pages = [client.get(f"/c/{SLUG}/questions?page={number}").get_data(as_text=True)
             for number in (1, 2, 3)]
    shown = [(int(q), int(n)) for page in pages for q, n in ARTICLE.findall(page)]
    assert shown == expected
    # The first topic's six questions run over onto page 2, named again there and counted on.
    assert [ARTICLE.findall(page)[0][1] for page in pages] == ["1", "4", "1"]
    assert first_topic in pages[1] and "Câu hỏi chung</h2>" in pages[2]
    assert f'href="/c/{SLUG}/questions?page=2"' in pages[0]
    # The printable digest holds them all, without pages.
    printable = client.get(f"/c/{SLUG}/questions/print").get_data(as_text=True)
    assert len(ARTICLE.findall(printable)) == 7 and "pagination" not in printable


def test_an_answer_taken_off_the_digest_and_put_back_keeps_its_number(client, demo):
    """The digest numbers questions by when they were first published: a correction that
    takes one off and puts it back leaves «Câu hỏi 2» the same question for every point."""
    with demo.app_context():
        second = question("Việc bố trí bí thư")
        services.answer(second, "Theo quy định hiện hành.", user_id=None)
        services.publish([second])
        db.session.commit()

    def numbered() -> list[tuple[int, int]]:
        return [(int(n), int(q)) for q, n in ARTICLE.findall(
            client.get(f"/c/{SLUG}/questions").get_data(as_text=True))]

    before = numbered()
    with demo.app_context():
        first = question(FIRST)
        published = first.published_at
        services.unpublish(first)
        services.answer(first, "Câu trả lời đã sửa.", user_id=None)
        services.publish([first])
        db.session.commit()
        assert question(FIRST).published_at == published
    assert numbered() == before


def test_assigning_many_needs_a_presenter_and_a_published_answer_keeps_its_own(client, demo):
    """"—" in the bulk form took every ticked question back, saying it assigned them; on
    one question it takes it back and says so. A published answer stays credited to its
    presenter until it is taken off the digest."""
    assigned, published = question_id(demo, "Thời hạn chuyển"), question_id(demo, FIRST)
    logged_in(client, ORGANISER)
    response = post_form(client, f"{TRIAGE}/bulk", {"action": "assign", "ids": [assigned],
                                                     "presenter": ""}, follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == [
        "Hãy chọn báo cáo viên để giao các câu hỏi đã chọn."]
    with demo.app_context():
        assert db.session.get(Question, assigned).status == QuestionStatus.ASSIGNED
    response = post_form(client, f"{TRIAGE}/{assigned}/assign", {"presenter": ""},
                         follow_redirects=True)
    assert "Đã thôi giao câu hỏi." in flashes(response.get_data(as_text=True))
    with demo.app_context():
        taken = db.session.get(Question, assigned)
        assert (taken.assignee_id, taken.status) == (None, QuestionStatus.NEW)
    response = post_form(client, f"{TRIAGE}/{published}/assign", {"presenter": ""},
                         follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == [
        f"Câu hỏi #{published} đã công bố với câu trả lời của báo cáo viên đang được giao; "
        "hãy thôi công bố trước khi giao lại."]
    with demo.app_context():
        assert db.session.get(Question, published).assignee_id is not None
    # A presenter the form did not offer (another conference's, or removed since): said so,
    # nothing changed, rather than a bare 400.
    told = "Báo cáo viên này không có trong hội nghị; hãy tải lại trang và chọn lại."
    for url, form in ((f"{TRIAGE}/bulk", {"action": "assign", "ids": [assigned]}),
                      (f"{TRIAGE}/{assigned}/assign", {})):
        response = post_form(client, url, {**form, "presenter": "987654"},
                             follow_redirects=True)
        assert flashes(response.get_data(as_text=True)) == [told], url
    with demo.app_context():
        assert db.session.get(Question, assigned).assignee_id is None


def test_the_digest_shows_nothing_of_the_draft_agenda(client, demo):
    """A topic being prepared and a title being edited stay unseen until published; the
    filter offers the topics that have answers."""
    with demo.app_context():
        services.answer(question("Đề nghị Ban Tổ chức"), "Đã đăng.", user_id=None)
        services.publish([question("Đề nghị Ban Tổ chức")])
        db.session.add(Topic(conference_id=conference().id, number="9", title="Chuyên đề mật"))
        conference().title = "Tên đang sửa"
        db.session.commit()
        answered = [(t.id, t.number) for t in listing.answered_topics(conference())]
    assert [number for _id, number in answered] == ["1"]
    page = client.get(f"/c/{SLUG}/questions").get_data(as_text=True)
    assert "Chuyên đề mật" not in page and "Tên đang sửa" not in page
    assert re.findall(r'<option value="(\w+)"', page) == [str(answered[0][0]), "general"]
    assert "← Hội nghị toàn quốc tập huấn" in page
    printable = client.get(f"/c/{SLUG}/questions/print").get_data(as_text=True)
    assert "Tên đang sửa" not in printable
    index = client.get("/").get_data(as_text=True)
    assert "Tên đang sửa" not in index and f'href="/c/{SLUG}/"' in index


def test_the_digest_names_who_answered_only_as_the_published_agenda_does(client, demo):
    """A presenter renamed, or added, in the draft is not public until the agenda is
    published: the answer stays, the name waits."""
    from confmgr.conferences.models import Presenter

    answerer = "Lãnh đạo Ban Tổ chức Trung ương"
    with demo.app_context():
        db.session.scalar(select(Presenter).where(Presenter.name == answerer)).name = (
            "Tên báo cáo viên đang sửa")
        draft_only = Presenter(conference_id=conference().id, name="Báo cáo viên chưa công bố")
        db.session.add(draft_only)
        raised = raise_one("79", "Câu hỏi giao cho người mới?", None)
        services.assign([raised], draft_only)
        services.answer(raised, "Trả lời của người mới.", user_id=None)
        services.publish([raised])
        db.session.commit()

    def shown() -> list[tuple[str, str]]:
        """(answer heading, answer) on the page, and (answerer, answer) in the workbook."""
        page = client.get(f"/c/{SLUG}/questions/print").get_data(as_text=True)
        rows = CalamineWorkbook.from_filelike(io.BytesIO(
            client.get(f"/c/{SLUG}/questions.xlsx").data)).get_sheet_by_index(0).to_python()
        return (re.findall(r'<strong>(Trả lời[^<]*):</strong> <span class="white-space-pre">'
                           r'([^<]*)</span>', page),
                [(row[4], row[3]) for row in rows[1:]])

    assert shown() == ([("Trả lời", DEMO_ANSWER), ("Trả lời", "Trả lời của người mới.")],
                       [("", DEMO_ANSWER), ("", "Trả lời của người mới.")])
    with demo.app_context():
        publishing.publish(conference(), None)
        db.session.commit()
    # Published now: the new name; the presenter on no session is still on no public page.
    assert shown() == ([("Trả lời (Tên báo cáo viên đang sửa)", DEMO_ANSWER),
                        ("Trả lời", "Trả lời của người mới.")],
                       [("Tên báo cáo viên đang sửa", DEMO_ANSWER),
                        ("", "Trả lời của người mới.")])


def test_no_digest_before_the_agenda_is_published(client, demo):
    with demo.app_context():
        draft = Conference(slug="nhap", title="Hội nghị nháp", first_day=conference().first_day,
                           last_day=conference().last_day)
        db.session.add(draft)
        db.session.commit()
    assert client.get("/c/nhap/questions").status_code == 404
    assert client.get("/c/nhap/questions.xlsx").status_code == 404


def test_the_digest_workbook_holds_exact_rows_and_defuses_formulas(client, demo):
    with demo.app_context():
        raised = raise_one("79", "=HYPERLINK(\"http://x\")", None)
        services.answer(raised, "+1 không phải công thức", user_id=None)
        services.publish([raised])
        db.session.commit()
    response = client.get(f"/c/{SLUG}/questions.xlsx")
    assert response.status_code == 200
    rows = CalamineWorkbook.from_filelike(io.BytesIO(response.data)).get_sheet_by_index(
        0).to_python()
    assert rows[0] == ["Chuyên đề", "STT", "Câu hỏi", "Trả lời", "Báo cáo viên",
                       "Số điểm cầu hỏi", "Công bố lúc"]
    assert [row[:6] for row in rows[1:]] == [
        [f"1. {demo_topic_title(demo, '1')}", 1, question_body(demo, FIRST), DEMO_ANSWER,
         "Lãnh đạo Ban Tổ chức Trung ương", 3],
        # Text cells, shown as typed and never run (test_uploads checks every export).
        ["Câu hỏi chung", 1, "=HYPERLINK(\"http://x\")", "+1 không phải công thức", "", 1]]


def test_an_answer_keeps_no_control_character_and_every_download_opens(client, demo):
    """Word's soft line break (a vertical tab) and stray control characters in a pasted
    answer: openpyxl cannot write them, and the public workbook failed for everyone."""
    first = question_id(demo, FIRST)
    logged_in(client, ORGANISER)
    post_form(client, f"{TRIAGE}/{first}/answer",
              {"answer": "Dòng một\x0bdòng hai\x1b, hết."})
    with demo.app_context():
        assert db.session.get(Question, first).answer == "Dòng một\ndòng hai, hết."
    response = client.get(f"/c/{SLUG}/questions.xlsx")
    assert response.status_code == 200
    rows = CalamineWorkbook.from_filelike(io.BytesIO(response.data)).get_sheet_by_index(
        0).to_python()
    assert rows[1][3] == "Dòng một\ndòng hai, hết."


def audit_count(app, action: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == action))


def test_an_answer_pasted_decomposed_is_stored_composed_and_saved_again_changes_nothing(
        client, demo):
    """Text from Word or a PDF may come decomposed (NFD): each accent a character of its own,
    which made a long answer count a third more letters than it has."""
    first = question_id(demo, FIRST)
    composed = "Cấp ủy   phân công\n\n\n\nrõ người, rõ việc.  "
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    logged_in(client, ORGANISER)
    post_form(client, f"{TRIAGE}/{first}/answer", {"answer": decomposed})
    with demo.app_context():
        saved = db.session.get(Question, first)
        assert (saved.answer, saved.status) == ("Cấp ủy phân công\n\nrõ người, rõ việc.",
                                                QuestionStatus.PUBLISHED)
        entries = audit_count(demo, "question.answer")
    # The same answer pasted again, in either form, is no change: nothing is logged.
    for text in (decomposed, composed):
        post_form(client, f"{TRIAGE}/{first}/answer", {"answer": text})
    assert audit_count(demo, "question.answer") == entries
    longest = "ế" * MAX_ANSWER_LENGTH
    response = post_form(client, f"{TRIAGE}/{first}/answer",
                         {"answer": unicodedata.normalize("NFD", longest)})
    assert response.status_code == 302
    with demo.app_context():
        assert db.session.get(Question, first).answer == longest


def test_a_question_typed_on_its_own_keeps_its_lines(client, demo):
    logged_in(client, COORDINATOR)
    typed = "Xin hướng dẫn thêm:\r\n  a)  chi bộ ghép;\r\n\r\n\r\nb) đảng viên  tạm vắng.\r\n"
    post_form(client, f"/manage/c/{SLUG}/points/22/questions", {"body": typed})
    with demo.app_context():
        raised = question("Xin hướng dẫn thêm")
        assert raised.body == "Xin hướng dẫn thêm:\na) chi bộ ghép;\n\nb) đảng viên tạm vắng."
        assert raised.search_text == "xin huong dan them: a) chi bo ghep; b) dang vien tam vang."
        raised_id = raised.id
    organiser = logged_in(demo.test_client(), ORGANISER)
    page = organiser.get(f"{TRIAGE}/{raised_id}").get_data(as_text=True)
    assert ('<blockquote class="border-start border-3 ps-3 mb-3 white-space-pre question-body">'
            "Xin hướng dẫn thêm:\na) chi bộ ghép;\n\nb) đảng viên tạm vắng.</blockquote>") in page


def test_a_presenter_saving_an_unchanged_answer_is_told_nothing_was_withdrawn(client, demo):
    first = question_id(demo, FIRST)
    logged_in(client, PRESENTER_ACCOUNT)
    page = post_form(client, f"{TRIAGE}/{first}/answer", {"answer": DEMO_ANSWER},
                     follow_redirects=True).get_data(as_text=True)
    assert flashes(page) == ["Đã lưu câu trả lời."]
    with demo.app_context():
        assert db.session.get(Question, first).status == QuestionStatus.PUBLISHED
    page = post_form(client, f"{TRIAGE}/{first}/answer", {"answer": DEMO_ANSWER + " Thêm."},
                     follow_redirects=True).get_data(as_text=True)
    assert flashes(page) == ["Đã lưu câu trả lời; câu hỏi được rút khỏi trang hỏi đáp chờ "
                             "Ban Tổ chức công bố lại."]
    with demo.app_context():
        assert db.session.get(Question, first).status == QuestionStatus.ANSWERED


def demo_topic_title(app, number: str) -> str:
    with app.app_context():
        return topic(number).title


def question_body(app, start: str) -> str:
    with app.app_context():
        return question(start).body


def test_counts_by_topic_and_province(client, demo):
    with demo.app_context():
        counts = listing.counts(conference())
        numbers = [(line.topic.number if line.topic else None, line.raised, line.standing,
                    line.answered, line.published) for line in counts.topics]
        provinces = [(code, total, {(k and db.session.get(Topic, k).number): v
                                    for k, v in by_topic.items()})
                     for code, _name, total, by_topic in counts.provinces]
    assert numbers == [("1", 4, 2, 1, 1), ("2", 2, 2, 0, 0), ("3", 1, 1, 0, 0),
                       (None, 1, 1, 0, 0)]
    assert provinces[:2] == [("22", 3, {"1": 2, "2": 1}), ("01", 2, {"1": 2})]
    # Equal counts in Vietnamese order: Thành phố Hải Phòng, … Hồ Chí Minh, Tỉnh Nghệ An.
    assert provinces[2:] == [("31", 1, {"2": 1}), ("79", 1, {None: 1}), ("40", 1, {"3": 1})]
    logged_in(client, ORGANISER)
    page = client.get(f"{TRIAGE}/counts").get_data(as_text=True)
    assert "<td>Tỉnh Quảng Ninh</td><td class=\"text-end\">3</td>" in page


def test_questions_from_points_outside_every_province_are_filtered_and_counted(client, demo):
    """A ministry's point is in no province: its questions are found with province=none
    and counted on a line of that name, as in the attendance reports."""
    with demo.app_context():
        ministry_point([])
        asked = raise_one("BYT", "Bộ có hướng dẫn riêng cho trạm y tế xã không?", "2").id
        db.session.commit()
        assert triage_ids(listing.TriageQuery(province="none")) == [asked]
        lines = [(code, name, total) for code, name, total, _by_topic
                 in listing.counts(conference()).provinces if not code]
    assert lines == [("", "", 1)]
    logged_in(client, ORGANISER)
    page = client.get(f"{TRIAGE}?province=none").get_data(as_text=True)
    assert '<option value="none" selected>Không thuộc tỉnh, thành phố nào</option>' in page
    assert "Bộ có hướng dẫn riêng cho trạm y tế xã không?" in page
    counts = client.get(f"{TRIAGE}/counts").get_data(as_text=True)
    assert '<td>Không thuộc tỉnh, thành phố nào</td><td class="text-end">1</td>' in counts


def test_a_presenter_account_is_handed_out_once_and_signs_in(client, demo, app):
    logged_in(client, ORGANISER)
    with demo.app_context():
        from confmgr.conferences.models import Presenter
        presenter = db.session.scalar(select(Presenter).where(
            Presenter.name == "Lãnh đạo Ủy ban Kiểm tra Trung ương"))
        presenter_id = presenter.id
    page = post_form(client, f"/manage/c/{SLUG}/presenters/{presenter_id}/account",
                     {"login": "UBKT@Example.org"}).get_data(as_text=True)
    password = re.search(r'<strong class="password">(\w+)</strong>', page).group(1)
    assert '<strong class="login">ubkt@example.org</strong>' in page
    other = app.test_client()
    logged_in(other, ("ubkt@example.org", password))
    triage_page = other.get(TRIAGE).get_data(as_text=True)
    assert "Ủy ban kiểm tra đảng ủy xã mới" in triage_page  # topic 3 is theirs
    assert "Việc bố trí bí thư" not in triage_page
    again = post_form(client, f"/manage/c/{SLUG}/presenters/{presenter_id}/account",
                      {"login": "x@example.org"}, follow_redirects=True)
    assert flashes(again.get_data(as_text=True)) == ["Báo cáo viên này đã có tài khoản."]
    locked = '<span class="badge text-bg-secondary account-locked">Đã khóa</span>'
    assert locked not in client.get(f"/manage/c/{SLUG}/presenters").get_data(as_text=True)
    with demo.app_context():
        from confmgr.accounts.models import User

        db.session.scalar(select(User).where(User.email == "ubkt@example.org")).active = False
        db.session.commit()
    listed = client.get(f"/manage/c/{SLUG}/presenters").get_data(as_text=True)
    assert f'<span class="font-monospace small">ubkt@example.org</span> {locked}' in listed


def test_a_presenter_login_refused_says_why(client, demo):
    logged_in(client, ORGANISER)
    with demo.app_context():
        from confmgr.conferences.models import Presenter
        presenter_id = db.session.scalar(select(Presenter.id).where(
            Presenter.name == "Lãnh đạo Ủy ban Kiểm tra Trung ương"))
    for login, said in [("organiser@example.org",
                         "Tên đăng nhập organiser@example.org đã có người dùng."),
                        ("ubkt kiem tra", "Tên đăng nhập không được chứa dấu cách hay ký tự "
                                          "điều khiển.")]:
        page = post_form(client, f"/manage/c/{SLUG}/presenters/{presenter_id}/account",
                         {"login": login}, follow_redirects=True)
        assert flashes(page.get_data(as_text=True)) == [said]


# ---------------------------------------------------------------- reach through merges


def merged_pair(app) -> tuple[int, int, int]:
    """X: Nghệ An's topic-3 question (not the demo presenter's); D: a topic-1 question
    merged into X; T: a topic-1 question of theirs. Returns their ids."""
    with app.app_context():
        x = question("Ủy ban kiểm tra")
        d = raise_one("79", "Kiểm tra chi bộ thôn có phải lập đoàn không?", "1")
        services.merge(x, [d], publishes=True)
        t = question("Việc bố trí bí thư")
        db.session.commit()
        return x.id, d.id, t.id


def test_a_presenter_cannot_reach_a_question_through_its_duplicate(client, demo):
    x, d, t = merged_pair(demo)
    logged_in(client, PRESENTER_ACCOUNT)
    assert client.get(f"{TRIAGE}/{d}").status_code == 404
    assert post_form(client, f"{TRIAGE}/{d}/split", {}).status_code == 404
    response = post_form(client, f"{TRIAGE}/{t}/merge", {"ids": [d]}, follow_redirects=True)
    assert "Không thay đổi gì" in " ".join(flashes(response.get_data(as_text=True)))
    response = post_form(client, f"{TRIAGE}/bulk", {"action": "merge", "ids": [d, t]},
                         follow_redirects=True)
    assert "Không thay đổi gì" in " ".join(flashes(response.get_data(as_text=True)))
    with demo.app_context():
        assert db.session.get(Question, t).merged_into_id is None
        assert db.session.get(Question, x).points_count == 2
        assert db.session.get(Question, d).merged_into_id == x


def test_an_answer_to_a_question_merged_out_of_its_presenters_reach_comes_back(client, demo):
    """The presenter was writing when the organisers merged their question into another
    topic's: the answer is not saved anywhere, but its text comes back to them, and
    nothing is said of the question it joined."""
    x, d, _t = merged_pair(demo)
    logged_in(client, PRESENTER_ACCOUNT)
    response = post_form(client, f"{TRIAGE}/{d}/answer", {"answer": "Theo Quy định số 22."})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert unescape(re.search(r'<div class="alert alert-warning" role="alert">(.*?)</div>',
                              page).group(1)) == (
        f"Câu hỏi #{d} vừa được Ban Tổ chức gộp vào một câu hỏi không thuộc phạm vi của bạn, "
        "nên câu trả lời chưa được lưu. Nội dung bạn viết ở dưới: hãy chép lại nếu cần và "
        "báo Ban Tổ chức.")
    assert re.search(r'<textarea[^>]*readonly>\s*Theo Quy định số 22\.</textarea>', page)
    assert f"#{x}" not in page
    with demo.app_context():
        assert db.session.get(Question, x).answer == ""
        assert db.session.get(Question, d).answer == ""
    # An empty answer is not found as before; an answer to a question out of reach comes
    # back, and one to no question at all is not found.
    assert post_form(client, f"{TRIAGE}/{d}/answer", {"answer": " "}).status_code == 404
    assert post_form(client, f"{TRIAGE}/{x}/answer", {"answer": "Có."}).status_code == 409
    assert post_form(client, f"{TRIAGE}/999999/answer", {"answer": "Có."}).status_code == 404


EXISTING = "Câu trả lời Ban Tổ chức đã viết cho câu hỏi gốc."


def test_the_joined_question_page_shows_the_answer_it_already_holds(client, demo):
    """A presenter was writing an answer to D when the organisers merged D into T, which
    had an answer: the page that came back put the presenter's text in T's box ("look it
    over, then save") and showed T's own answer nowhere, to be replaced unseen."""
    with demo.app_context():
        target = raise_one("06811", "Thủ tục chuyển sinh hoạt đảng khi sáp nhập xã thế nào?", "1")
        duplicate = raise_one("06688", "Chuyển sinh hoạt đảng khi sáp nhập xã làm thế nào?", "1")
        services.answer(target, EXISTING, user_id=None)
        services.merge(target, [duplicate], publishes=True)
        db.session.commit()
        target_id, duplicate_id = target.id, duplicate.id
    logged_in(client, PRESENTER_ACCOUNT)
    page = post_form(client, f"{TRIAGE}/{duplicate_id}/answer",
                     {"answer": "Theo Hướng dẫn số 12."}).get_data(as_text=True)
    assert f'action="/manage/c/{SLUG}/questions/{target_id}/answer"' in page
    assert re.search(r'name="answer" rows="6">\s*Theo Hướng dẫn số 12\.</textarea>', page)
    assert re.findall(r'<div class="alert alert-secondary held-answer">(.*?)</div>', page) == [
        "<strong>Câu trả lời câu hỏi này đang có (lưu sẽ thay bằng nội dung trong ô):</strong> "
        f'<span class="white-space-pre">{EXISTING}</span>']


def test_an_answer_to_a_question_refiled_out_of_reach_comes_back(client, demo):
    """The presenter opened a question of their topic 1; an organiser filed it under topic
    3 meanwhile: the text they wrote was lost into a 404. Nothing is said of where it went."""
    refiled = question_id(demo, "Việc bố trí bí thư")
    logged_in(client, PRESENTER_ACCOUNT)
    assert client.get(f"{TRIAGE}/{refiled}").status_code == 200
    with demo.app_context():
        q = db.session.get(Question, refiled)
        services.edit(q, q.body, topic("3").id)
        db.session.commit()
    response = post_form(client, f"{TRIAGE}/{refiled}/answer",
                         {"answer": "Không bắt buộc, tùy tình hình địa phương."})
    assert response.status_code == 409
    page = unescape(response.get_data(as_text=True))
    assert re.search(r'<textarea[^>]*readonly>\s*Không bắt buộc, tùy tình hình địa phương\.'
                     r'</textarea>', page)
    assert (f"Câu hỏi #{refiled} không thuộc phạm vi của bạn (Ban Tổ chức có thể vừa chuyển "
            "câu hỏi đi), nên câu trả lời chưa được lưu.") in page
    assert "Việc bố trí bí thư" not in page


def test_an_answer_to_a_question_taken_back_from_its_presenter_comes_back(client, demo):
    """The same when the organisers took back a question of another topic they had given
    the presenter."""
    with demo.app_context():
        assigned = question("Ủy ban kiểm tra")  # topic 3: in reach only by assignment
        presenter = question("Thời hạn chuyển").assignee
        services.assign([assigned], presenter)
        db.session.commit()
        assigned_id = assigned.id
    logged_in(client, PRESENTER_ACCOUNT)
    assert client.get(f"{TRIAGE}/{assigned_id}").status_code == 200
    with demo.app_context():
        services.assign([db.session.get(Question, assigned_id)], None)
        db.session.commit()
    response = post_form(client, f"{TRIAGE}/{assigned_id}/answer",
                         {"answer": "Ba đến năm thành viên."})
    assert response.status_code == 409
    assert "Ba đến năm thành viên." in response.get_data(as_text=True)


def test_a_presenter_splits_a_duplicate_of_their_own_question(client, demo):
    with demo.app_context():
        mine = question("Việc bố trí bí thư")
        elsewhere = raise_one("40", "Bí thư chi bộ kiêm trưởng thôn có phải bầu lại?", "3")
        services.merge(mine, [elsewhere], publishes=True)
        db.session.commit()
        mine_id, elsewhere_id = mine.id, elsewhere.id
    logged_in(client, PRESENTER_ACCOUNT)
    assert client.get(f"{TRIAGE}/{elsewhere_id}").headers["Location"].endswith(
        f"/questions/{mine_id}#q{elsewhere_id}")
    assert post_form(client, f"{TRIAGE}/{elsewhere_id}/split", {}).status_code == 302
    with demo.app_context():
        assert db.session.get(Question, elsewhere_id).merged_into_id is None
        assert db.session.get(Question, mine_id).points_count == 1


def test_a_presenters_correction_takes_a_published_answer_back_for_review(client, demo):
    first = question_id(demo, FIRST)
    logged_in(client, PRESENTER_ACCOUNT)
    response = post_form(client, f"{TRIAGE}/{first}/answer", {"answer": "Bản sửa."},
                         follow_redirects=True)
    assert ("Đã lưu câu trả lời; câu hỏi được rút khỏi trang hỏi đáp chờ Ban Tổ chức công bố "
            "lại." in flashes(response.get_data(as_text=True)))
    with demo.app_context():
        corrected = db.session.get(Question, first)
        # It keeps when it was first published: its number, once it is back.
        assert (corrected.answer, corrected.status) == ("Bản sửa.", QuestionStatus.ANSWERED)
        assert corrected.published_at is not None
    assert "Bản sửa." not in client.get(f"/c/{SLUG}/questions").get_data(as_text=True)


def test_an_organisers_correction_stays_published(client, demo):
    first = question_id(demo, FIRST)
    logged_in(client, ORGANISER)
    post_form(client, f"{TRIAGE}/{first}/answer", {"answer": "Bản sửa của Ban Tổ chức."})
    assert "Bản sửa của Ban Tổ chức." in client.get(f"/c/{SLUG}/questions").get_data(
        as_text=True)


def test_merging_keeps_the_target_presenter(demo, ctx):
    assigned = question("Thời hạn chuyển")
    fresh = raise_one("40", "Chuyển sinh hoạt đảng trong bao lâu?", "2")
    services.merge(fresh, [assigned], publishes=True)
    assert fresh.assignee_id is None and fresh.status == QuestionStatus.NEW


def test_a_bulk_action_with_one_unusable_question_changes_nothing(client, demo):
    answered = question_id(demo, "Việc bố trí bí thư")
    x, d, _t = merged_pair(demo)
    with demo.app_context():
        services.answer(db.session.get(Question, answered), "Có.", user_id=None)
        db.session.commit()
    logged_in(client, ORGANISER)
    response = post_form(client, f"{TRIAGE}/bulk", {"action": "publish", "ids": [answered, d]},
                         follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == [
        f"Không thay đổi gì: câu hỏi #{d} vừa được gộp hoặc không thuộc phạm vi của bạn. "
        "Hãy tải lại trang và chọn lại."]
    with demo.app_context():
        assert db.session.get(Question, answered).status == QuestionStatus.ANSWERED
    # Merging from a question's page names the ticked one that cannot be merged as well.
    response = post_form(client, f"{TRIAGE}/{answered}/merge", {"ids": [d, 999_999]},
                         follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == [
        f"Không thay đổi gì: câu hỏi #{d}, #999999 vừa được gộp hoặc không thuộc phạm vi "
        "của bạn. Hãy tải lại trang và chọn lại."]
    assert post_form(client, f"{TRIAGE}/bulk", {"action": "shred", "ids": [answered]}
                     ).status_code == 400


def test_odd_numbers_in_addresses_are_refused_or_ignored_never_a_server_error(client, demo):
    logged_in(client, ORGANISER)
    assert client.get(f"/c/{SLUG}/questions?topic=²").status_code == 200
    assert client.get(f"{TRIAGE}?topic=²&page=²").status_code == 200
    assert client.get(f"{TRIAGE}?page={'9' * 30}").status_code == 200
    assert post_form(client, f"{TRIAGE}/bulk", {"action": "merge", "ids": ["²"]}
                     ).status_code == 400
    assert post_form(client, f"{TRIAGE}/bulk", {"action": "merge", "ids": ["9" * 30]}
                     ).status_code == 400
    assert client.get(f"/manage/c/{SLUG}/points/06811/attendance?page=²").status_code == 200
    # As an unknown session is.
    assert client.get(f"/manage/c/{SLUG}/points/06811/attendance?session=²").status_code == 404
    assert client.get(f"/c/{SLUG}/agenda.ics?alarm=²").status_code == 400


def test_the_digest_reads_its_presenters_in_one_query(client, demo, app):
    from tests.helpers import count_queries

    with demo.app_context():
        from confmgr.conferences.models import Presenter
        presenters = db.session.scalars(select(Presenter).order_by(Presenter.id)).all()[:3]
        for index, presenter in enumerate(presenters):
            raised = raise_one("79", f"Câu hỏi số {index}?", None)
            services.assign([raised], presenter)
            services.answer(raised, "Trả lời.", user_id=None)
            services.publish([raised])
        names = [presenter.name for presenter in presenters]
        db.session.commit()
    with count_queries(app) as statements:
        page = client.get(f"/c/{SLUG}/questions").get_data(as_text=True)
    assert all(name in page for name in names)
    assert sum(1 for s in statements if "FROM presenters" in s) == 1


# ---------------------------------------------------------------- topics as published


def draft_topics(app) -> dict[str, int]:
    """Renumber and rename topic 1 and add topic 9, without publishing; their ids."""
    with app.app_context():
        first = topic("1")
        first.number, first.title = "10", "Tên chuyên đề đang sửa"
        ninth = Topic(conference_id=conference().id, number="9", title="Chuyên đề chưa công bố")
        db.session.add(ninth)
        db.session.commit()
        return {"1": first.id, "9": ninth.id}


def options(page: str, name: str = "topic") -> list[tuple[str, str]]:
    select_tag = re.search(rf'<select[^>]*name="{name}".*?</select>', page, re.S).group(0)
    return re.findall(r'<option[^>]*value="(\w*)"[^>]*>([^<]*)</option>', select_tag)


def test_the_digest_names_topics_as_the_published_agenda_does(client, demo):
    """Web, print and XLSX take topic numbers and titles from the latest version."""
    published_title = demo_topic_title(demo, "1")
    ids = draft_topics(demo)
    page = client.get(f"/c/{SLUG}/questions").get_data(as_text=True)
    assert f'<h2 class="h5">1. {published_title}</h2>' in page
    assert options(page) == [("", "Mọi chuyên đề"), (str(ids["1"]), f"1. {published_title}"),
                             ("general", "Câu hỏi chung")]
    printable = client.get(f"/c/{SLUG}/questions/print").get_data(as_text=True)
    assert f'<h2 class="h5">1. {published_title}</h2>' in printable
    for shown in (page, printable):
        assert "Tên chuyên đề đang sửa" not in shown and "10. " not in shown
    rows = CalamineWorkbook.from_filelike(io.BytesIO(
        client.get(f"/c/{SLUG}/questions.xlsx").data)).get_sheet_by_index(0).to_python()
    assert [row[0] for row in rows] == ["Chuyên đề", f"1. {published_title}"]


def test_a_coordinator_asks_only_about_published_topics(client, demo):
    published_title = demo_topic_title(demo, "1")
    ids = draft_topics(demo)
    logged_in(client, COORDINATOR)
    url = f"/manage/c/{SLUG}/points/22/questions"
    page = client.get(url).get_data(as_text=True)
    with demo.app_context():
        expected = [("", "Câu hỏi chung (không theo chuyên đề)")] + [
            (str(t.id), f"{t.number}. {t.title}") for t in listing.published_topics(conference())]
    assert options(page) == expected
    assert expected[1] == (str(ids["1"]), f"1. {published_title}")
    assert [label.split(".")[0] for _value, label in expected[1:]] == [
        "1", "2", "3", "4", "5", "6", "7"]
    assert "no-published-topics" not in page
    # The question list names a topic as published too.
    assert published_title in page and "Tên chuyên đề đang sửa" not in page
    refused = post_form(client, url, {"topic": str(ids["9"]), "body": "Hỏi về chuyên đề 9?"})
    assert field_errors(refused.get_data(as_text=True), "topic") == [
        "Chuyên đề này không có trong chương trình đã công bố; hãy chọn lại."]
    # The form has not expired: the topic alone is at fault.
    assert flashes(refused.get_data(as_text=True)) == []
    with demo.app_context():
        assert question("Hỏi về chuyên đề 9") is None


def test_before_any_publication_only_general_questions_can_be_raised(client, demo):
    with demo.app_context():
        db.session.execute(AgendaVersion.__table__.delete())
        db.session.commit()
        assert listing.published_topics(conference()) == []
    logged_in(client, COORDINATOR)
    page = client.get(f"/manage/c/{SLUG}/points/22/questions").get_data(as_text=True)
    assert options(page) == [("", "Câu hỏi chung (không theo chuyên đề)")]
    assert ("Chương trình đã công bố chưa có chuyên đề nào: câu hỏi được gửi là câu hỏi chung."
            in page)


def test_a_question_filed_under_a_draft_topic_keeps_it_and_reads_as_general(client, demo):
    """An organiser's form keeps a question's unpublished topic rather than re-filing it
    unasked; the public digest, knowing no such topic, tells it with the general ones."""
    ids = draft_topics(demo)
    first = question_id(demo, FIRST)
    with demo.app_context():
        services.edit(db.session.get(Question, first), question_body(demo, FIRST), ids["9"])
        db.session.commit()
    logged_in(client, ORGANISER)
    page = client.get(f"{TRIAGE}/{first}").get_data(as_text=True)
    assert options(page)[-1] == (str(ids["9"]), "9. Chuyên đề chưa công bố")
    assert f'<option selected value="{ids["9"]}">' in page or \
        f'<option value="{ids["9"]}" selected>' in page
    digest_page = client.get(f"/c/{SLUG}/questions").get_data(as_text=True)
    assert "Chuyên đề chưa công bố" not in digest_page
    assert digest_page.index("Câu hỏi chung</h2>") < digest_page.index(FIRST)
    assert FIRST in client.get(f"/c/{SLUG}/questions?topic=general").get_data(as_text=True)
    assert FIRST not in client.get(f"/c/{SLUG}/questions?topic={ids['9']}").get_data(as_text=True)


def test_a_version_published_before_topics_had_ids_names_them_by_number(demo, ctx):
    as_published_before_topic_ids()
    assert [(t.id, t.number) for t in listing.published_topics(conference())] == [
        (topic(n).id, n) for n in ("1", "2", "3", "4", "5", "6", "7")]
    # Reading the older form is no change to publish.
    assert publishing.pending_changes(conference()) == []


# ---------------------------------------------------------------- numbers saved with the words


def store_number_with_the_words(app, number: str) -> tuple[int, str]:
    """Topic ``number`` as rows saved before numbers were stored bare hold it: "Chuyên đề 1".
    Its id and title."""
    with app.app_context():
        legacy = topic(number)
        legacy.number = f"Chuyên đề {number}"
        db.session.commit()
        return legacy.id, legacy.title


def test_a_number_saved_with_the_words_shows_bare_on_every_questions_page(client, demo):
    topic_id, title = store_number_with_the_words(demo, "1")
    first = question_id(demo, FIRST)
    logged_in(client, ORGANISER)

    triage = client.get(f"{TRIAGE}?topic={topic_id}").get_data(as_text=True)
    queue = re.findall(r'data-topic="\w+">\s*<a[^>]*>([^<]*)</a>', triage)
    assert queue[0] == f"1. {title}"
    row = re.search(rf'<tr id="q{first}">.*?</tr>', triage, re.S).group(0)
    assert re.findall(r'<td class="small">([^<]*)</td>', row) == [
        str(first), "1", "Điểm cầu Uông Bí"]

    detail = client.get(f"{TRIAGE}/{first}").get_data(as_text=True)
    assert f'<p class="small text-body-secondary">1. {title}\n' in detail
    assert options(detail)[1] == (str(topic_id), f"1. {title}")

    counts = client.get(f"{TRIAGE}/counts").get_data(as_text=True)
    assert f"<tr><td>1. {title}</td>" in counts
    assert f'<th class="text-end" title="{title}">1</th>' in counts

    for page in (triage, detail, counts):
        assert "Chuyên đề 1" not in page


def test_a_version_published_before_topic_ids_finds_a_topic_saved_with_the_words(demo, ctx):
    as_published_before_topic_ids()
    topic_id, title = store_number_with_the_words(demo, "1")
    published = listing.published_topics(conference())
    assert [(t.id, t.number) for t in published][0] == (topic_id, "1")
    assert listing.topic_label(published[0]) == listing.topic_label(topic("Chuyên đề 1")) == (
        f"1. {title}")


def test_provinces_with_as_many_questions_come_in_vietnamese_order(demo, ctx):
    """"Đ" comes after "D", not after every unmarked letter: Tỉnh Đồng Nai before Tỉnh Gia
    Lai."""
    from confmgr.enums import PointLevel
    from confmgr.points.models import BroadcastPoint

    central = db.session.scalar(select(BroadcastPoint).where(
        BroadcastPoint.conference_id == conference().id, BroadcastPoint.code == "TW"))
    for code in ("52", "75"):  # Tỉnh Gia Lai, Tỉnh Đồng Nai
        point = BroadcastPoint(conference_id=conference().id, code=code,
                               name=f"Điểm cầu {code}", level=PointLevel.PROVINCE,
                               parent_id=central.id, province_code=code)
        db.session.add(point)
        db.session.flush()
        services.raise_questions(conference(), point, [(0, "Câu hỏi thử?")], topic_id=None)
    db.session.flush()
    names = [name for _code, name, total, _t in listing.counts(conference()).provinces
             if total == 1]
    assert names == ["Thành phố Hải Phòng", "Thành phố Hồ Chí Minh", "Tỉnh Đồng Nai",
                     "Tỉnh Gia Lai", "Tỉnh Nghệ An"]


def test_a_bulk_action_goes_back_only_to_a_triage_page_of_this_site(client, demo):
    """The filtered triage page it came from; a line break (which no header may carry),
    another site or another page leads to the plain triage page instead."""
    logged_in(client, ORGANISER)
    for back, landing in ((f"{TRIAGE}?q=a", f"{TRIAGE}?q=a"),
                          (f"{TRIAGE}?q=a\r\nX-Injected: 1", TRIAGE),
                          (f"//evil.example{TRIAGE}", TRIAGE),
                          (f"/manage/c/{SLUG}/points", TRIAGE)):
        response = post_form(client, f"{TRIAGE}/bulk", {"action": "merge", "back": back})
        assert (response.status_code, response.headers["Location"]) == (302, landing), back
        assert "X-Injected" not in response.headers


def test_a_triage_page_past_the_last_leads_back(client, demo):
    """An old link to page 9 of a list that fits on one page: no questions, and a link to
    the page that has them."""
    logged_in(client, ORGANISER)
    page = client.get(TRIAGE, query_string={"page": "9"}).get_data(as_text=True)
    assert "Không có câu hỏi nào phù hợp." in page
    assert re.findall(r'<a class="page-link" href="([^"]*)">(\d+)</a>', page) == [
        (TRIAGE, "1")]
    assert '<a class="page-link"' not in client.get(TRIAGE).get_data(as_text=True)


# ---------------------------------------------------------------- merges and answers at once

#: Questions of the demo, by how they begin: 00070's (the presenter's first topic, new),
#: 06793's (the presenter's second topic, assigned) and point 31's (new).
BISHOP, TERM, AWAY = "Việc bố trí bí thư", "Thời hạn chuyển", "Đảng viên đi làm"


def test_a_presenter_merges_nothing_into_a_published_question(client, demo):
    """Merged into a published question, a point reads its answer at once and the digest
    counts one more point: an organiser's decision. A presenter could do it by ticking
    the published question as the oldest, or at its address (its page offers no merge)."""
    first, other = question_id(demo, FIRST), question_id(demo, BISHOP)
    logged_in(client, PRESENTER_ACCOUNT)
    refused = f"Câu hỏi #{first} đã công bố: chỉ ban tổ chức gộp thêm câu hỏi vào được."
    for url, data in ((f"{TRIAGE}/bulk", {"action": "merge", "ids": [other, first]}),
                      (f"{TRIAGE}/{first}/merge", {"ids": [other]})):
        response = post_form(client, url, data, follow_redirects=True)
        assert refused in flashes(response.get_data(as_text=True))
        with demo.app_context():
            assert db.session.get(Question, other).merged_into_id is None
            assert db.session.get(Question, first).points_count == 3
    # An organiser may.
    organiser = logged_in(demo.test_client(), ORGANISER)
    post_form(organiser, f"{TRIAGE}/{first}/merge", {"ids": [other]})
    with demo.app_context():
        assert db.session.get(Question, other).merged_into_id == first
        assert db.session.get(Question, first).points_count == 4


def test_a_presenter_splits_nothing_off_a_published_question(client, demo):
    """Split off a published question, a point stops reading its answer and the digest
    counts one point less: an organiser's decision, as merging into it is."""
    first = question_id(demo, FIRST)
    with demo.app_context():
        duplicate = db.session.scalar(select(Question.id).where(Question.merged_into_id == first)
                                      .order_by(Question.id))
    logged_in(client, PRESENTER_ACCOUNT)
    response = post_form(client, f"{TRIAGE}/{duplicate}/split", {}, follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == [
        f"Câu hỏi #{first} đã công bố: chỉ ban tổ chức tách câu hỏi ra được."]
    with demo.app_context():
        assert db.session.get(Question, duplicate).merged_into_id == first
        assert db.session.get(Question, first).points_count == 3
    organiser = logged_in(demo.test_client(), ORGANISER)
    post_form(organiser, f"{TRIAGE}/{duplicate}/split", {})
    with demo.app_context():
        assert db.session.get(Question, duplicate).merged_into_id is None
        assert db.session.get(Question, first).points_count == 2


def _shown_answer(page: str) -> str:
    """The answer form's hidden ``shown`` as a browser sends it: line breaks as CRLF."""
    value = re.search(r'<input id="shown" name="shown" type="hidden" value="([^"]*)">',
                      page).group(1)
    return unescape(value).replace("\n", "\r\n")


def test_an_answer_of_several_lines_is_corrected_without_a_false_clash(client, demo):
    """The hidden copy of the answer the page showed lost its line breaks, so every
    correction of an answer of several lines was taken for someone else's, again and
    again."""
    target = question_id(demo, BISHOP)
    with demo.app_context():
        services.answer(db.session.get(Question, target), "Dòng một.\nDòng hai.",
                        user_id=None)
        db.session.commit()
    logged_in(client, PRESENTER_ACCOUNT)
    page = client.get(f"{TRIAGE}/{target}").get_data(as_text=True)
    response = post_form(client, f"{TRIAGE}/{target}/answer",
                         {"answer": "Dòng một.\r\nDòng hai, sửa lại.",
                          "shown": _shown_answer(page)})
    assert response.status_code == 302
    with demo.app_context():
        assert db.session.get(Question, target).answer == "Dòng một.\nDòng hai, sửa lại."


def test_publishing_from_a_questions_page_publishes_the_answer_it_showed(client, demo):
    """The organiser read answer A and pressed publish after the presenter saved B: B
    would have gone to every point unread. Refused; read again, it is published."""
    target = question_id(demo, BISHOP)
    with demo.app_context():
        services.answer(db.session.get(Question, target), "Câu trả lời A.", user_id=None)
        db.session.commit()
    organiser = logged_in(demo.test_client(), ORGANISER)
    page = organiser.get(f"{TRIAGE}/{target}").get_data(as_text=True)
    publish_form = page[page.index(f"{TRIAGE}/{target}/publish"):]
    shown = unescape(re.search(r'name="shown" value="([^"]*)"', publish_form).group(1))
    assert shown == "Câu trả lời A."
    logged_in(client, PRESENTER_ACCOUNT)
    assert post_form(client, f"{TRIAGE}/{target}/answer",
                     {"answer": "Câu trả lời B.", "shown": "Câu trả lời A."}).status_code == 302
    response = post_form(organiser, f"{TRIAGE}/{target}/publish", {"shown": shown},
                         follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == [
        f"Câu trả lời của câu hỏi #{target} vừa được sửa; hãy đọc lại rồi công bố."]
    with demo.app_context():
        assert db.session.get(Question, target).status == QuestionStatus.ANSWERED
    post_form(organiser, f"{TRIAGE}/{target}/publish", {"shown": "Câu trả lời B.\r\n"})
    with demo.app_context():
        published = db.session.get(Question, target)
        assert (published.status, published.answer) == (QuestionStatus.PUBLISHED,
                                                        "Câu trả lời B.")


def test_an_answer_refused_as_out_of_reach_shows_a_presenter_no_organisers_tabs(client, demo):
    outside = question_id(demo, "Ủy ban kiểm tra")
    logged_in(client, PRESENTER_ACCOUNT)
    response = post_form(client, f"{TRIAGE}/{outside}/answer", {"answer": "Trả lời."})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Trả lời." in page
    assert f"/manage/c/{SLUG}/points" not in page


def test_the_english_digest_marks_the_vietnamese_questions_and_answers(client, demo):
    client.post("/language", data={"lang": "en", "next": "/",
                                   "csrf_token": csrf_token(client)})
    page = client.get(f"/c/{SLUG}/questions").get_data(as_text=True)
    article = page[page.index('class="qa-item'):]
    article = article[:article.index("</article>")]
    assert article.count('class="white-space-pre" lang="vi"') == 2


def standing_read(statement: str) -> bool:
    """A merge's read of the ticked questions that still stand (views._standing)."""
    return ("FROM questions" in statement and "merged_into_id IS NULL" in statement
            and " IN (" in statement)


def test_merges_at_once_leave_no_question_merged_into_a_merged_one(demo):
    """One organiser merges C into B while another merges B into A. SQLite ignores FOR
    UPDATE, so the second read B as standing too, and C ended merged into B, itself merged
    into A: in no group, its point never reading A's answer. Now the second waits for the
    first and C follows B into A."""
    a, b, c = (question_id(demo, start) for start in (BISHOP, TERM, AWAY))
    one, two = (logged_in(demo.test_client(), ORGANISER) for _ in range(2))
    errors = race(demo, lambda: post_form(one, f"{TRIAGE}/{b}/merge", {"ids": [c]}),
                  standing_read,
                  lambda: post_form(two, f"{TRIAGE}/{a}/merge", {"ids": [b]}))
    assert errors == {}
    with demo.app_context():
        assert {q: db.session.get(Question, q).merged_into_id for q in (a, b, c)} == {
            a: None, b: a, c: a}


def test_opposite_merges_at_once_are_refused_not_a_server_error(demo):
    """B into A while another organiser merges A into B: the second wrote A merged into
    itself, which the database refuses, and the organiser got a server error. Now it
    waits for the first and is told A was merged meanwhile."""
    a, b = question_id(demo, BISHOP), question_id(demo, TERM)
    one, two = (logged_in(demo.test_client(), ORGANISER) for _ in range(2))
    answers = {}
    errors = race(demo, lambda: post_form(one, f"{TRIAGE}/{a}/merge", {"ids": [b]}),
                  standing_read, lambda: answers.setdefault("other", post_form(
                      two, f"{TRIAGE}/{b}/merge", {"ids": [a]}, follow_redirects=True)))
    assert errors == {}
    assert answers["other"].status_code == 200
    assert any("vừa được gộp" in message for message in flashes(
        answers["other"].get_data(as_text=True)))
    with demo.app_context():
        assert (db.session.get(Question, a).merged_into_id,
                db.session.get(Question, b).merged_into_id) == (None, a)


def test_two_answers_saved_at_once_do_not_overwrite_each_other_unseen(demo):
    """Two organisers save an answer to the same unanswered question at the same moment:
    the second replaced the first, which it never saw. Now the second waits for the
    first and is shown its answer beside its own text: nothing is lost."""
    q = question_id(demo, TERM)
    one, two = (logged_in(demo.test_client(), ORGANISER) for _ in range(2))
    pages = {}

    def question_read(statement: str) -> bool:  # views._question, after the reach checks
        return (statement.startswith("SELECT questions.id, questions.conference_id")
                and "merged_into_id IS NOT NULL" not in statement)

    errors = race(demo, lambda: pages.setdefault("first", post_form(
        one, f"{TRIAGE}/{q}/answer", {"answer": "Trong 30 ngày.", "shown": ""})),
        question_read, lambda: pages.setdefault("other", post_form(
            two, f"{TRIAGE}/{q}/answer", {"answer": "Trong 60 ngày.", "shown": ""})))
    assert errors == {}
    assert {side: page.status_code for side, page in pages.items()} == {
        "first": 302, "other": 200}
    shown = pages["other"].get_data(as_text=True)
    assert "Trong 30 ngày." in shown and "Trong 60 ngày." in shown
    with demo.app_context():
        assert db.session.get(Question, q).answer == "Trong 30 ngày."


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_an_answer_saved_while_a_duplicate_is_split_off_is_kept(demo, database_url):
    """Split off again, a duplicate takes back the answer the merge passed on to its
    target. The split read the target unheld: an answer a presenter saved to it meanwhile
    was written over with nothing."""
    with demo.app_context():
        target = raise_one("79", "Hỏi về tài liệu điện tử?")
        duplicate = raise_one("40", "Xin tài liệu điện tử trước hội nghị?")
        services.answer(duplicate, "Gửi qua thư điện tử.", user_id=None)
        services.merge(target, [duplicate], publishes=True)
        db.session.commit()
        target_id, duplicate_id = target.id, duplicate.id
    organiser = logged_in(demo.test_client(), ORGANISER)

    def target_read(statement: str) -> bool:  # the split's load of the question merged into
        return (statement.startswith("SELECT questions.id, questions.conference_id")
                and "pk_1" in statement)

    def answered_meanwhile():
        services.answer(db.session.get(Question, target_id, with_for_update=True),
                        "Gửi qua thư điện tử và đăng trên trang.", user_id=None)

    errors = race(demo, lambda: post_form(organiser, f"{TRIAGE}/{duplicate_id}/split", {}),
                  target_read, answered_meanwhile)
    assert errors == {}
    with demo.app_context():
        kept = db.session.get(Question, target_id)
        assert (kept.answer, kept.status) == ("Gửi qua thư điện tử và đăng trên trang.",
                                              QuestionStatus.ANSWERED)
        assert db.session.get(Question, duplicate_id).merged_into_id is None


def test_a_presenter_reads_topics_as_published_not_as_the_draft_renames_them(client, demo):
    """A topic renamed in the draft showed its new title on the presenter's question pages
    before the points, the public agenda or the API's readers saw it."""
    with demo.app_context():
        topic_id = topic("1").id
        asked = db.session.scalar(select(Question.id).where(
            Question.topic_id == topic_id, Question.merged_into_id.is_(None),
            Question.status != QuestionStatus.PUBLISHED).order_by(Question.id))
        published = listing.topic_label(next(t for t in listing.published_topics(conference())
                                             if t.id == topic_id))
        topic("1").title = "Tên mới trong bản nháp"
        db.session.commit()
    queue_label = re.compile(r'data-topic="%d">\s*<a [^>]*>([^<]+)</a>' % topic_id)
    detail_label = re.compile(r'<p class="small text-body-secondary">([^<\n]+)')
    logged_in(client, PRESENTER_ACCOUNT)
    assert queue_label.search(client.get(TRIAGE).get_data(as_text=True)).group(1) == published
    assert detail_label.search(client.get(f"{TRIAGE}/{asked}").get_data(as_text=True)).group(
        1).strip() == published
    organiser = logged_in(demo.test_client(), ORGANISER)
    assert queue_label.search(organiser.get(TRIAGE).get_data(as_text=True)).group(1) == (
        "1. Tên mới trong bản nháp")


def test_a_rewording_saved_over_anothers_unseen_is_held_back(client, demo):
    """Two organisers reword the same question: the second replaced the first's wording,
    which they never saw. Now it is shown to them beside their own, which the box keeps."""
    target = question_id(demo, BISHOP)
    with demo.app_context():
        before = db.session.get(Question, target).body
    one, two = (logged_in(demo.test_client(), ORGANISER) for _ in range(2))
    page = two.get(f"{TRIAGE}/{target}").get_data(as_text=True)
    shown = unescape(re.search(
        r'<input id="shown_body" name="shown_body" type="hidden" value="([^"]*)">', page).group(1))
    assert shown == before
    assert post_form(one, f"{TRIAGE}/{target}/edit", {
        "body": "Bố trí bí thư chi bộ thế nào?", "topic": "", "shown_body": before}
    ).status_code == 302
    response = post_form(two, f"{TRIAGE}/{target}/edit", {
        "body": "Việc bố trí bí thư chi bộ?", "topic": "", "shown_body": shown})
    page = response.get_data(as_text=True)
    assert flashes(page) == ["Người khác vừa sửa câu hỏi này; nội dung bạn viết được giữ trong "
                             "ô: hãy xem lại rồi lưu."]
    assert re.search(r'held-body"><strong>[^<]+</strong> <span class="white-space-pre">'
                     r'([^<]+)</span>', page).group(1) == "Bố trí bí thư chi bộ thế nào?"
    assert "Việc bố trí bí thư chi bộ?</textarea>" in page
    # Seen, it is saved.
    assert post_form(two, f"{TRIAGE}/{target}/edit", {
        "body": "Việc bố trí bí thư chi bộ?", "topic": "",
        "shown_body": "Bố trí bí thư chi bộ thế nào?"}).status_code == 302
    with demo.app_context():
        assert db.session.get(Question, target).body == "Việc bố trí bí thư chi bộ?"
