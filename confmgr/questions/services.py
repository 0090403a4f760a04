"""Changing questions: raising, merging, assigning, answering, publishing.

Every function checks its rules, records the change in the audit trail and leaves the
commit to its caller. Only a standing question (merged into none) is assigned, answered or
published; its duplicates follow it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from confmgr.audit.services import record
from confmgr.conferences.editing import RuleBroken, changed_fields
from confmgr.conferences.models import Conference, Presenter, Topic
from confmgr.conferences.scheduling import Problem
from confmgr.db import db, utcnow
from confmgr.enums import QuestionStatus
from confmgr.points.models import BroadcastPoint
from confmgr.questions.models import MAX_ANSWER_LENGTH, MAX_QUESTION_LENGTH, Question
from confmgr.roster.services import hold_point
from confmgr.text import fold, normalise, normalise_lines

#: Most questions accepted from one pasted list.
MAX_PASTED = 100
#: List numbering at the start of a pasted line: "1.", "2)", "3/", "1.1.", "(1)", "a)",
#: "(a)", "b.", "c/", "IV.", "Câu 2:", "-", "•", "+", "*". A number's mark is not followed
#: by a digit (a dash, not even after spaces), and a sub-number's parts have one or two
#: digits: "1/7/2025", "2-3 chi bộ", "3 - 5 đảng viên" and "1.000 đảng viên" begin a
#: question, they do not number it.
_LIST_MARK = re.compile(
    r"^(?:câu(?:\s+hỏi)?\s*\d{1,3}\s*[.:)]"
    r"|\d{1,2}(?:\.\d{1,2})+\.?(?=\s)"
    r"|\d{1,3}\s*[.)/:](?!\d)"
    r"|\d{1,3}\s*-(?!\s*\d)"
    r"|\(\s*(?:\d{1,3}|[a-zđ])\s*\)"
    r"|[a-zđ]\)"
    r"|[-•*+–])\s*", re.IGNORECASE)
#: "a.", "b/", "IV." number a list's lines too, but an initial begins a sentence so ("C.
#: Mác và Ph. Ăngghen…", "V. I. Lênin…"): taken for numbering only in a list where two
#: lines or more begin so, the first with "a." or "I.", as lettered lists start.
_LETTER_MARK = re.compile(r"^([ivx]{1,4}|[a-zđ])[./]\s+", re.IGNORECASE)


@dataclass(frozen=True)
class Asker:
    name: str = ""
    position: str = ""


def split_pasted(text: str) -> list[tuple[int, str]]:
    """The questions of a pasted list: (line number, text) for each non-blank line, its
    numbering or bullet removed."""
    lines = [normalise(line) for line in text.splitlines()]
    letters = [mark.group(1).lower() for line in lines
               if not _LIST_MARK.match(line) and (mark := _LETTER_MARK.match(line))]
    lettered = len(letters) >= 2 and letters[0] in ("a", "i")
    found = []
    for number, line in enumerate(lines, start=1):
        mark = _LIST_MARK.match(line) or (_LETTER_MARK.match(line) if lettered else None)
        line = line[mark.end():] if mark else line
        if line:
            found.append((number, line))
    return found


def _check_body(body: str, where: str = "") -> list[Problem]:
    """Problems of one question's text; ``where`` names its line in a pasted list."""
    prefix = f"{where}: " if where else ""
    if not body:
        return [Problem("body", prefix + _("Hãy nhập nội dung câu hỏi."))]
    if len(body) > MAX_QUESTION_LENGTH:
        return [Problem("body", prefix + _(
            "Câu hỏi dài %(length)d ký tự; tối đa %(limit)d ký tự.",
            length=len(body), limit=MAX_QUESTION_LENGTH))]
    return []


def topic_of(conference: Conference, topic_id: int | None,
             problems: list[Problem]) -> Topic | None:
    """The conference's topic with that id (None for a general question); a topic of
    another conference adds a problem to ``problems``."""
    if topic_id is None:
        return None
    topic = db.session.get(Topic, topic_id)
    if topic is None or topic.conference_id != conference.id:
        problems.append(Problem("topic", _("Chuyên đề không thuộc hội nghị này.")))
        return None
    return topic


#: A question a point sends again within this time, word for word, is the same sending.
RESENT_WITHIN = timedelta(minutes=10)


def raise_questions(conference: Conference, point: BroadcastPoint,
                    numbered: list[tuple[int, str]], *, topic_id: int | None,
                    asker: Asker = Asker(), user_id: int | None = None) -> list[Question]:
    """Questions from a point, all accepted or none: (line number, text) each, as
    ``split_pasted`` gives them; line 0 for a question typed on its own. Returns those
    raised: not the ones the point sent word for word in the last minutes."""
    # A question typed on its own may run over several lines; a pasted list's are one each.
    numbered = [(number, normalise_lines(body)) for number, body in numbered]
    problems = []
    if not numbered or not any(body for _n, body in numbered):
        problems.append(Problem("body", _("Hãy nhập nội dung câu hỏi.")))
    elif len(numbered) > MAX_PASTED:
        problems.append(Problem("body", _(
            "Mỗi lần gửi tối đa %(limit)d câu hỏi; danh sách có %(count)d câu.",
            limit=MAX_PASTED, count=len(numbered))))
    else:
        for number, body in numbered:
            where = _("Dòng %(line)d", line=number) if number else ""
            problems += _check_body(body, where)
    name, position = normalise(asker.name), normalise(asker.position)
    if len(name) > 200:
        problems.append(Problem("asker_name", _("Họ tên người hỏi tối đa 200 ký tự.")))
    if len(position) > 300:
        problems.append(Problem("asker_position", _("Chức vụ người hỏi tối đa 300 ký tự.")))
    topic = topic_of(conference, topic_id, problems)
    if problems:
        raise RuleBroken(problems)
    now = utcnow()
    # The point held until the commit: the same form sent twice (a double tap, a resend on
    # a slow link) finds the first sending's questions and raises none again.
    hold_point(point)
    sent = set(db.session.scalars(select(Question.body).where(
        Question.point_id == point.id, Question.raised_at >= now - RESENT_WITHIN,
        Question.body.in_({body for _number, body in numbered}))))
    raised = []
    for _number, body in numbered:
        if body in sent:  # sent in the last minutes, or already in this list
            continue
        sent.add(body)
        raised.append(Question(conference_id=conference.id, point_id=point.id,
                               topic_id=topic.id if topic else None, body=body,
                               search_text=fold(body), asker_name=name,
                               asker_position=position, raised_by_id=user_id, raised_at=now,
                               status=QuestionStatus.NEW, points_count=1, answer="",
                               updated_at=now))
    if not raised:
        return []
    db.session.add_all(raised)
    db.session.flush()
    record("question.raise", conference_id=conference.id, point_id=point.id,
           questions=[q.id for q in raised])
    return raised


def _count_points(question: Question) -> int:
    return db.session.scalar(select(func.count(Question.point_id.distinct()))
                             .where(question.group()))


def _standing_only(question: Question) -> None:
    if question.merged_into_id is not None:
        raise RuleBroken([Problem("", _(
            "Câu hỏi #%(id)d đã được gộp vào câu hỏi #%(into)d; hãy xử lý câu hỏi đó.",
            id=question.id, into=question.merged_into_id))])


def merge(target: Question, duplicates: list[Question], *, publishes: bool) -> list[Question]:
    """Merge ``duplicates`` into ``target``, all standing questions; returns those merged.

    A duplicate's own duplicates move along, and its answer passes to the target if the
    target has none, so nothing written is lost; who answers stays the target's, which
    organisers assign. A published question is not merged away: its readers would lose
    it from the digest. Only who ``publishes`` (organisers) merges into a published one:
    the points merged in then read its answer, and the digest counts them.
    """
    problems = []
    if target.status == QuestionStatus.PUBLISHED and not publishes:
        problems.append(Problem("", _(
            "Câu hỏi #%(id)d đã công bố: chỉ ban tổ chức gộp thêm câu hỏi vào được.",
            id=target.id)))
    for question in [target, *duplicates]:
        if question.merged_into_id is not None:
            problems.append(Problem("", _(
                "Câu hỏi #%(id)d đã được gộp vào câu hỏi #%(into)d; hãy xử lý câu hỏi đó.",
                id=question.id, into=question.merged_into_id)))
    merged = []
    for question in duplicates:
        if question.id == target.id or question in merged:
            continue
        if question.conference_id != target.conference_id:
            problems.append(Problem("", _("Câu hỏi #%(id)d thuộc hội nghị khác.",
                                          id=question.id)))
        elif question.status == QuestionStatus.PUBLISHED:
            problems.append(Problem("", _(
                "Câu hỏi #%(id)d đã công bố; hãy hủy công bố trước khi gộp.", id=question.id)))
        else:
            merged.append(question)
    if problems:
        raise RuleBroken(problems)
    if not merged:
        raise RuleBroken([Problem("", _("Hãy chọn ít nhất một câu hỏi khác để gộp."))])
    for question in merged:
        db.session.execute(update(Question).where(Question.merged_into_id == question.id)
                           .values(merged_into_id=target.id))
        question.merged_into_id = target.id
        if not target.answer and question.answer:
            target.answer, target.answered_by_id = question.answer, question.answered_by_id
            target.answered_at = question.answered_at
            if target.status in (QuestionStatus.NEW, QuestionStatus.ASSIGNED):
                target.status = QuestionStatus.ANSWERED
    db.session.flush()
    target.points_count = _count_points(target)
    target.updated_at = utcnow()
    record("question.merge", target=target, conference_id=target.conference_id,
           merged=[q.id for q in merged])
    return merged


def split(duplicate: Question, *, publishes: bool) -> Question:
    """Undo a merge: the duplicate stands alone again, as new or answered by its own answer.

    Off a published question only by who ``publishes`` (organisers), as merging into one:
    the duplicate's point stops reading the answer, and the digest counts one point less."""
    # By its id: the relation may not be loaded yet after a merge in the same session.
    target = (db.session.get(Question, duplicate.merged_into_id)
              if duplicate.merged_into_id is not None else None)
    if target is None:
        raise RuleBroken([Problem("", _("Câu hỏi #%(id)d không được gộp vào câu nào.",
                                        id=duplicate.id))])
    if target.status == QuestionStatus.PUBLISHED and not publishes:
        raise RuleBroken([Problem("", _(
            "Câu hỏi #%(id)d đã công bố: chỉ ban tổ chức tách câu hỏi ra được.",
            id=target.id))])
    duplicate.merged_into_id = None
    duplicate.merged_into = None
    duplicate.status = QuestionStatus.ANSWERED if duplicate.answer else (
        QuestionStatus.ASSIGNED if duplicate.assignee_id else QuestionStatus.NEW)
    if (duplicate.answer and target.status == QuestionStatus.ANSWERED
            and (target.answer, target.answered_by_id, target.answered_at)
            == (duplicate.answer, duplicate.answered_by_id, duplicate.answered_at)):
        # The target's answer is the one the merge passed on, as it was written (none was
        # written for it since): it goes back with its question. A published one stays.
        target.answer, target.answered_by_id, target.answered_at = "", None, None
        target.status = QuestionStatus.ASSIGNED if target.assignee_id else QuestionStatus.NEW
    db.session.flush()
    target.points_count = _count_points(target)
    duplicate.points_count = _count_points(duplicate)
    record("question.split", target=duplicate, conference_id=duplicate.conference_id,
           from_question=target.id)
    return target


def edit(question: Question, body: str, topic_id: int | None) -> None:
    """An organiser rewords a question (often when merging many into one) or re-files it."""
    _standing_only(question)
    body = normalise_lines(body)
    problems = _check_body(body)
    conference = db.session.get(Conference, question.conference_id)
    topic = topic_of(conference, topic_id, problems)
    if problems:
        raise RuleBroken(problems)
    before = {"body": question.body, "topic_id": question.topic_id}
    question.body, question.search_text = body, fold(body)
    question.topic_id = topic.id if topic else None
    changed = changed_fields(before, {"body": question.body, "topic_id": question.topic_id})
    if changed:  # the wording as it was stays in the log
        record("question.edit", target=question, conference_id=question.conference_id,
               **changed)


def assign(questions: list[Question], presenter: Presenter | None) -> None:
    """Hand questions to a presenter to answer (or take them back, with None)."""
    for question in questions:
        _standing_only(question)
        if presenter is not None and presenter.conference_id != question.conference_id:
            raise RuleBroken([Problem("assignee", _("Báo cáo viên không thuộc hội nghị này."))])
        if (question.status == QuestionStatus.PUBLISHED
                and (presenter.id if presenter else None) != question.assignee_id):
            # The digest credits the answer to its presenter: not changed unseen.
            raise RuleBroken([Problem("assignee", _(
                "Câu hỏi #%(id)d đã công bố với câu trả lời của báo cáo viên đang được giao; "
                "hãy thôi công bố trước khi giao lại.", id=question.id))])
    for question in questions:
        question.assignee_id = presenter.id if presenter else None
        if presenter is not None and question.status == QuestionStatus.NEW:
            question.status = QuestionStatus.ASSIGNED
        elif presenter is None and question.status == QuestionStatus.ASSIGNED:
            question.status = QuestionStatus.NEW
        record("question.assign", target=question, conference_id=question.conference_id,
               presenter_id=question.assignee_id)


def changed_meanwhile(now: str, *, shown: str | None, sent: str) -> bool:
    """Whether someone saved another text (an answer, a question's wording: ``now``) since
    the form sending ``sent`` showed ``shown`` (None: a form that did not say, saved as it
    comes)."""
    if shown is None:
        return False
    return normalise_lines(shown) != now and normalise_lines(sent) != now


def answer(question: Question, text: str, *, user_id: int | None,
           publishes: bool = True) -> bool:
    """Write or correct the answer; whether it changed. Corrected by someone who may
    publish (an organiser), a published answer stays published; by a presenter, it leaves
    the digest until an organiser publishes it again, as every answer is reviewed before
    the points read it."""
    _standing_only(question)
    # NFC as every stored text: the length is counted in letters, and an answer saved again
    # unchanged in another form is no change.
    text = normalise_lines(text)
    if not text:
        raise RuleBroken([Problem("answer", _("Hãy nhập nội dung trả lời."))])
    if len(text) > MAX_ANSWER_LENGTH:
        raise RuleBroken([Problem("answer", _(
            "Câu trả lời dài %(length)d ký tự; tối đa %(limit)d ký tự.",
            length=len(text), limit=MAX_ANSWER_LENGTH))])
    if text == question.answer:
        return False
    question.answer, question.answered_by_id, question.answered_at = text, user_id, utcnow()
    if question.status != QuestionStatus.PUBLISHED or not publishes:
        question.status = QuestionStatus.ANSWERED
    record("question.answer", target=question, conference_id=question.conference_id)
    return True


def publish(questions: list[Question], *, reviewed: dict[int, str] | None = None) -> None:
    """Put answered questions in the digest every point reads; all or none.

    ``reviewed``: the answers as the publisher read them, by question. One saved again
    since is refused: what every point reads is what an organiser reviewed."""
    problems = []
    reviewed = reviewed or {}
    for question in questions:
        if (question.id in reviewed and question.answer
                and normalise_lines(reviewed[question.id]) != question.answer):
            problems.append(Problem("", _(
                "Câu trả lời của câu hỏi #%(id)d vừa được sửa; hãy đọc lại rồi công bố.",
                id=question.id)))
        elif question.merged_into_id is not None:
            problems.append(Problem("", _(
                "Câu hỏi #%(id)d đã được gộp vào câu hỏi #%(into)d; hãy xử lý câu hỏi đó.",
                id=question.id, into=question.merged_into_id)))
        elif not question.answer:
            problems.append(Problem("", _("Câu hỏi #%(id)d chưa có câu trả lời.",
                                          id=question.id)))
    if problems:
        raise RuleBroken(problems)
    now = utcnow()
    for question in questions:
        if question.status != QuestionStatus.PUBLISHED:
            question.status = QuestionStatus.PUBLISHED
            question.published_at = question.published_at or now
            record("question.publish", target=question, conference_id=question.conference_id)


def unpublish(question: Question) -> None:
    """Take a question out of the digest, to correct it or merge it."""
    if question.status != QuestionStatus.PUBLISHED:
        raise RuleBroken([Problem("", _("Câu hỏi #%(id)d chưa được công bố.", id=question.id))])
    question.status = QuestionStatus.ANSWERED
    record("question.unpublish", target=question, conference_id=question.conference_id)
