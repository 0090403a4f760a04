"""Reading questions: the triage queue, similar questions, the digest and the counts."""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, replace

from sqlalchemy import ColumnElement, and_, case, false, func, or_, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from confmgr.conferences import publishing
from confmgr.conferences.models import Conference, Topic
from confmgr.conferences.publishing import PublishedAgenda, PublishedTopic
from confmgr.conferences.scheduling import bare_topic_number, in_number_order, topic_number_key
from confmgr.db import db
from confmgr.paging import Page, page_number
from confmgr.enums import QuestionStatus
from confmgr.points.models import BroadcastPoint
from confmgr.points.listing import in_province
from confmgr.points.official import provinces
from confmgr.questions.models import Question
from confmgr.roster.sorting import text_key
from confmgr.text import fold, whole_number

SORTS = ("new", "old", "most")
#: The topic filter's value for questions about no one topic.
GENERAL = "general"


@dataclass(frozen=True)
class TriageQuery:
    text: str = ""
    topic: str = ""
    status: str = ""
    province: str = ""
    sort: str = "new"
    page: int = 1
    per_page: int = 50

    @classmethod
    def from_args(cls, args) -> TriageQuery:
        topic = args.get("topic", "")
        return cls(
            text=args.get("q", "").strip()[:200],
            topic=topic if topic == GENERAL or whole_number(topic) is not None else "",
            status=args.get("status", "") if args.get("status") in set(QuestionStatus) else "",
            province=args.get("province", "").strip()[:10],
            sort=args.get("sort") if args.get("sort") in SORTS else "new",
            page=page_number(args),
        )

    def args(self, **changes) -> dict:
        """The query as URL arguments, for links to other pages of the same list."""
        values = {"q": self.text, "topic": self.topic, "status": self.status,
                  "province": self.province, "sort": self.sort, "page": self.page}
        values.update(changes)
        if values["page"] == 1:
            del values["page"]
        if values["sort"] == "new":
            del values["sort"]
        return {name: value for name, value in values.items() if value != ""}


#: A search looks for this many words at most, each one LIKE over every question.
SEARCH_WORDS = 10


def search_words(text: str) -> list[str]:
    """The folded words a search looks for; the page says so when some are left out."""
    return re.findall(r"\w+", fold(text))


def _like_words(column, text: str) -> list[ColumnElement[bool]]:
    """One LIKE per folded word, so "dang vien" finds "Đảng viên" and "đảng viên mới".
    Words only: "chi bộ," typed with its comma finds "chi bộ" wherever it stands; a search
    of no word at all ("%", "?") finds nothing."""
    words = search_words(text)
    if text.strip() and not words:
        return [false()]
    conditions = []
    for word in words[:SEARCH_WORDS]:
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(column.like(f"%{escaped}%", escape="\\"))
    return conditions


def asked_from_province(conference: Conference, province_code: str) -> ColumnElement[bool]:
    """A standing question that some point of the province (or, for NO_PROVINCE, of none)
    asked, itself or a duplicate: from the points to their questions, rather than a
    look-up per question."""
    asked = aliased(Question)
    return Question.id.in_(
        select(func.coalesce(asked.merged_into_id, asked.id))
        .where(asked.point_id.in_(select(BroadcastPoint.id).where(
            BroadcastPoint.conference_id == conference.id,
            in_province(BroadcastPoint.province_code, province_code)))))


def triage(conference: Conference, reach: ColumnElement[bool], query: TriageQuery) -> Page[Question]:
    """One page of the standing questions in reach that match the filters."""
    conditions = [Question.conference_id == conference.id, Question.merged_into_id.is_(None),
                  reach, *_like_words(Question.search_text, query.text)]
    if query.topic == GENERAL:
        conditions.append(Question.topic_id.is_(None))
    elif query.topic:
        conditions.append(Question.topic_id == int(query.topic))
    if query.status:
        conditions.append(Question.status == QuestionStatus(query.status))
    if query.province:
        conditions.append(asked_from_province(conference, query.province))
    where = and_(*conditions)
    total = db.session.scalar(select(func.count()).select_from(Question).where(where))
    order = {"new": (Question.raised_at.desc(), Question.id.desc()),
             "old": (Question.raised_at, Question.id),
             "most": (Question.points_count.desc(), Question.id)}[query.sort]
    items = db.session.scalars(
        select(Question).where(where).order_by(*order)
        # The page first, then its points, topics and presenters: joined, the database
        # would join every matching question before keeping fifty.
        .options(selectinload(Question.topic), selectinload(Question.point),
                 selectinload(Question.assignee))
        .limit(query.per_page).offset((query.page - 1) * query.per_page)).all()
    return Page(items, total, query)


@dataclass(frozen=True)
class QueueLine:
    """One topic's line in the triage queue."""
    topic_id: int | None
    label: str
    waiting: int
    total: int


def queue(conference: Conference, reach: ColumnElement[bool], *, as_published: bool
          ) -> list[QueueLine]:
    """Per topic in reach: standing questions not yet published, and all of them; each
    topic named as ``topic_labels`` names it."""
    rows = db.session.execute(
        select(Question.topic_id, Question.status, func.count())
        .where(Question.conference_id == conference.id, Question.merged_into_id.is_(None),
               reach)
        .group_by(Question.topic_id, Question.status)).all()
    waiting, total = Counter(), Counter()
    for topic_id, status, count in rows:
        total[topic_id] += count
        if status != QuestionStatus.PUBLISHED:
            waiting[topic_id] += count
    # In number order, as topic_labels reads the topics.
    lines = [QueueLine(topic_id, label, waiting[topic_id], total[topic_id])
             for topic_id, label in topic_labels(conference, as_published=as_published).items()
             if total[topic_id]]
    if total[None]:
        lines.append(QueueLine(None, "", waiting[None], total[None]))
    return lines


def topic_labels(conference: Conference, *, as_published: bool) -> dict[int, str]:
    """Each topic's label by id: as the draft names it for organisers, else as the
    published agenda does (a presenter reads no draft title before the points do); a
    topic never published, as it is."""
    labels = {topic.id: topic_label(topic) for topic in conference_topics(conference)}
    if as_published:
        labels.update((topic.id, topic_label(topic)) for topic in published_topics(conference)
                      if topic.id in labels)
    return labels


def conference_topics(conference: Conference) -> list[Topic]:
    return in_number_order(db.session.scalars(
        select(Topic).where(Topic.conference_id == conference.id)))


def published_topics(conference: Conference,
                     agenda: PublishedAgenda | None = None) -> list[PublishedTopic]:
    """The topics of the latest published agenda (``agenda``, when the caller has read it),
    in its order, as it numbers and names them: what points may ask about and the public
    reads. None before the first publication. Versions published before snapshots held
    topic ids name the live topic of the same number."""
    agenda = agenda or publishing.published_agenda(conference)
    if agenda is None:
        return []
    topics = agenda.topics
    if any(topic.id is None for topic in topics):
        # A live topic saved before numbers were stored bare still carries the words.
        by_number = {topic_number_key(topic.number): topic.id
                     for topic in conference_topics(conference)}
        topics = [topic if topic.id is not None
                  else replace(topic, id=by_number.get(topic_number_key(topic.number)))
                  for topic in topics]
    found: dict[int, PublishedTopic] = {}
    for topic in topics:
        if topic.id is not None:
            found.setdefault(topic.id, topic)
    return list(found.values())


def answered_topics(conference: Conference) -> list[PublishedTopic]:
    """The published topics the digest has answers for: what its filter offers."""
    answered = set(db.session.scalars(select(Question.topic_id).where(
        Question.conference_id == conference.id, Question.merged_into_id.is_(None),
        Question.status == QuestionStatus.PUBLISHED, Question.topic_id.is_not(None))
        .distinct()))
    return [topic for topic in published_topics(conference) if topic.id in answered]


def topic_label(topic: Topic | PublishedTopic | None) -> str:
    """"3. title" ("3" also for a topic saved as "Chuyên đề 3" before numbers were stored
    bare), or "" for general questions (the template names them)."""
    return f"{bare_topic_number(topic.number)}. {topic.title}" if topic else ""


def group(question: Question) -> list[Question]:
    """The question and every duplicate merged into it, oldest first, with their points."""
    return list(db.session.scalars(
        select(Question).where(question.group())
        .options(joinedload(Question.point)).order_by(Question.raised_at, Question.id)))


#: Syllable pairs that every question has ("như thế nào", "đề nghị hướng dẫn"): they say
#: nothing about what is asked.
_COMMON_PAIRS = frozenset({("nhu", "the"), ("the", "nao"), ("ra", "sao"), ("hay", "khong"),
                           ("co", "phai"), ("duoc", "khong"), ("de", "nghi"),
                           ("huong", "dan"), ("co", "duoc"), ("nhu", "nao")})


def syllable_pairs(folded: str) -> set[tuple[str, str]]:
    """Neighbouring syllables of a folded text. A Vietnamese word is often two syllables
    ("cấp ủy", "phụ trách"), so pairs match what single syllables, shared by every
    question ("xã", "có", "viên"), cannot."""
    syllables = re.findall(r"\w+", folded)
    return set(zip(syllables, syllables[1:])) - _COMMON_PAIRS


#: The most of a question's syllable pairs looked for (its longest): all of a question
#: of a few lines, while a very long one does not make the query huge.
SIMILAR_PAIRS = 40
#: How many candidates, those sharing the most pairs by the database's count, are then
#: compared exactly.
SIMILAR_CANDIDATES = 200


def similar(question: Question, reach: ColumnElement[bool], limit: int = 10) -> list[Question]:
    """Standing, unpublished questions in reach that share at least three syllable pairs
    with this one (or all of its pairs, if it has fewer): the likely duplicates."""
    own = syllable_pairs(question.search_text)
    if not own:
        return []
    needed = min(3, len(own))
    looked_for = sorted(own, key=lambda pair: (-len(pair[0]) - len(pair[1]), pair))
    # LIKE finds a pair only as written side by side, and inside longer syllables too
    # ("an toan" in "than toan"; a comma between two syllables hides their pair), so the
    # database's count only orders the candidates; their pairs are then compared exactly.
    found = [Question.search_text.like(f"%{a} {b}%".replace("_", "\\_"), escape="\\")
             for a, b in looked_for[:SIMILAR_PAIRS]]
    shared_by_count = sum((case((condition, 1), else_=0) for condition in found[1:]),
                          case((found[0], 1), else_=0))
    candidates = db.session.scalars(
        select(Question).where(
            Question.conference_id == question.conference_id, Question.id != question.id,
            Question.merged_into_id.is_(None), reach,
            Question.status != QuestionStatus.PUBLISHED,
            or_(*found))
        .order_by(shared_by_count.desc(), Question.id)
        .options(joinedload(Question.point)).limit(SIMILAR_CANDIDATES)).all()
    shared = {q.id: len(own & syllable_pairs(q.search_text)) for q in candidates}
    ranked = sorted((q for q in candidates if shared[q.id] >= needed),
                    key=lambda q: (-shared[q.id], q.id))
    return ranked[:limit]


def point_questions(point_ids) -> list[Question]:
    """The questions some points raised, newest first, with what answers them."""
    return list(db.session.scalars(
        select(Question).where(Question.point_id.in_(point_ids))
        .options(joinedload(Question.topic), joinedload(Question.merged_into),
                 joinedload(Question.point))
        .order_by(Question.raised_at.desc(), Question.id.desc())))


@dataclass
class DigestSection:
    topic: PublishedTopic | None
    questions: list[Question]
    #: Who answered each question (by id), where the published agenda names them: a
    #: presenter renamed or added in the draft is not public yet.
    answerers: dict[int, str]
    #: The number, within its topic, of the section's first question: a topic that runs
    #: over from the page before goes on counting.
    first_number: int = 1


#: Questions and answers on one page of the digest: every point reads it, often over a
#: slow link. The printable digest and the workbook hold them all.
DIGEST_PER_PAGE = 100


@dataclass(frozen=True)
class DigestQuery:
    """The digest's ``?topic=`` (a topic's id, ``general``, or empty for all) and page."""

    topic: str = ""
    page: int = 1
    per_page: int = DIGEST_PER_PAGE

    @classmethod
    def from_args(cls, args) -> DigestQuery:
        return cls(topic=args.get("topic", ""), page=page_number(args),
                   per_page=DIGEST_PER_PAGE)

    @property
    def topic_id(self) -> int | None:
        return whole_number(self.topic)

    @property
    def general_only(self) -> bool:
        return self.topic == GENERAL

    def args(self, **changes) -> dict:
        values = {"topic": self.topic, "page": self.page, **changes}
        return {name: value for name, value in values.items()
                if value and not (name == "page" and value == 1)}


def digest(conference: Conference, query: DigestQuery = DigestQuery(), *,
           whole: bool = False) -> Page[DigestSection]:
    """The published questions and answers, by topic in the published agenda's order and
    as it names them: the query's page of them, or with ``whole`` all on one page. A
    question filed under a topic the published agenda does not hold is told with the
    general ones: the public knows no such topic."""
    agenda = publishing.published_agenda(conference)
    topics = published_topics(conference, agenda)
    known = {topic.id for topic in topics}
    if query.topic_id is not None and not query.general_only and query.topic_id not in known:
        return Page([], 0, query)
    published_names = ({presenter.name for session in agenda.sessions
                        for presenter in session.presenters} if agenda else set())
    statement = (select(Question.id, Question.topic_id)
                 .where(Question.conference_id == conference.id,
                        Question.merged_into_id.is_(None),
                        Question.status == QuestionStatus.PUBLISHED)
                 .order_by(Question.published_at, Question.id))
    if query.general_only:
        statement = statement.where(or_(Question.topic_id.is_(None),
                                        Question.topic_id.not_in(known)))
    elif query.topic_id is not None:
        statement = statement.where(Question.topic_id == query.topic_id)
    # The order of the whole digest from ids alone; only the page's questions are loaded.
    by_topic: dict[int | None, list[int]] = defaultdict(list)
    for question_id, filed_under in db.session.execute(statement):
        by_topic[filed_under if filed_under in known else None].append(question_id)
    ordered = [(topic, number, question_id)
               for topic in [*topics, None]
               for number, question_id in enumerate(by_topic[topic.id if topic else None],
                                                    start=1)]
    shown = ordered if whole else ordered[(query.page - 1) * query.per_page:
                                          query.page * query.per_page]
    loaded = {q.id: q for q in db.session.scalars(
        select(Question).where(Question.id.in_([question_id for _t, _n, question_id in shown]))
        .options(selectinload(Question.assignee)))} if shown else {}
    sections: list[DigestSection] = []
    for topic, number, question_id in shown:
        if not sections or sections[-1].topic is not topic:
            sections.append(DigestSection(topic, [], {}, first_number=number))
        question = loaded[question_id]
        sections[-1].questions.append(question)
        if question.assignee is not None and question.assignee.name in published_names:
            sections[-1].answerers[question.id] = question.assignee.name
    return Page(sections, len(ordered), replace(query, per_page=max(1, len(ordered)))
                if whole else query)


@dataclass(frozen=True)
class TopicCount:
    topic: Topic | None
    raised: int
    standing: int
    answered: int
    published: int


@dataclass
class Counts:
    topics: list[TopicCount]
    #: (province code, name, questions raised in all, raised per topic id) by most raised.
    provinces: list[tuple[str, str, int, dict[int | None, int]]]
    #: The topics' columns of the province table, in agenda order.
    columns: list[Topic | None]


def counts(conference: Conference) -> Counts:
    """Which topics raise the most questions, and from which provinces.

    "Raised" counts every question a point sent, duplicates included: it is how much a
    topic troubles the points. "Standing" counts them after merging.
    """
    # A duplicate counts under the topic of the question it was merged into, which an
    # organiser may have re-filed.
    standing = aliased(Question)
    topic_id = case((Question.merged_into_id.is_(None), Question.topic_id),
                    else_=standing.topic_id)
    per_province: dict[str, Counter] = defaultdict(Counter)
    raised: Counter = Counter()
    for province, topic, count in db.session.execute(
            select(BroadcastPoint.province_code, topic_id, func.count())
            .join(BroadcastPoint, BroadcastPoint.id == Question.point_id)
            .outerjoin(standing, standing.id == Question.merged_into_id)
            .where(Question.conference_id == conference.id)
            .group_by(BroadcastPoint.province_code, topic_id)):
        per_province[province or ""][topic] += count
        raised[topic] += count
    by_status: dict[int | None, Counter] = defaultdict(Counter)
    for topic, status, count in db.session.execute(
            select(Question.topic_id, Question.status, func.count())
            .where(Question.conference_id == conference.id, Question.merged_into_id.is_(None))
            .group_by(Question.topic_id, Question.status)):
        by_status[topic][status] += count
    topics = [t for t in conference_topics(conference) if raised.get(t.id)]
    columns: list[Topic | None] = [*topics, *([None] if raised.get(None) else [])]
    topic_counts = []
    for topic in columns:
        key = topic.id if topic else None
        status = by_status[key]
        topic_counts.append(TopicCount(
            topic, raised.get(key, 0), sum(status.values()),
            status[QuestionStatus.ANSWERED] + status[QuestionStatus.PUBLISHED],
            status[QuestionStatus.PUBLISHED]))
    topic_counts.sort(key=lambda line: -line.raised)
    names = {code: province.name for code, province in provinces().items()}
    province_lines = sorted(
        ((code, names.get(code, code), sum(by_topic.values()), dict(by_topic))
         for code, by_topic in per_province.items()),
        key=lambda line: (-line[2], text_key(line[1])))  # ties in Vietnamese order
    return Counts(topic_counts, province_lines, columns)
