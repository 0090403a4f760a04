"""Questions (vướng mắc) and how duplicates are merged.

A duplicate keeps its own row, its point and its asker, and points at the question it was
merged into (``merged_into_id``): the merged question remembers every point that asked it
by those rows, and a coordinator still finds their own question, now answered through it.
Merging is one level deep: merging a question that has duplicates moves them along.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, or_, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from confmgr.conferences.models import Presenter, Topic
from confmgr.db import UTCDateTime, db, utcnow
from confmgr.enums import QuestionStatus, db_enum
from confmgr.points.models import BroadcastPoint

#: Longest question and answer accepted, in characters.
MAX_QUESTION_LENGTH = 2000
MAX_ANSWER_LENGTH = 20000


class Question(db.Model):
    __tablename__ = "questions"
    __table_args__ = (
        CheckConstraint("points_count >= 1", name="points_count_positive"),
        CheckConstraint("merged_into_id IS NULL OR merged_into_id <> id", name="not_merged_into_itself"),
        # The triage queue: the conference's questions still standing, by topic and status.
        Index("ix_questions_queue", "conference_id", "merged_into_id", "topic_id", "status"),
        # The newest standing questions first, the triage page's default order.
        Index("ix_questions_standing_recent", "conference_id", "raised_at", "id",
              sqlite_where=text("merged_into_id IS NULL"),
              postgresql_where=text("merged_into_id IS NULL")),
        Index("ix_questions_merged_into", "merged_into_id"),
        Index("ix_questions_point", "point_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    #: None: a general question, about no one topic.
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id", ondelete="SET NULL"))
    #: The point that asked it.
    point_id: Mapped[int] = mapped_column(ForeignKey("broadcast_points.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    #: The body folded (no diacritics, lower case), for search.
    search_text: Mapped[str] = mapped_column(Text, default="")
    asker_name: Mapped[str] = mapped_column(String(200), default="")
    asker_position: Mapped[str] = mapped_column(String(300), default="")
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[QuestionStatus] = mapped_column(
        db_enum(QuestionStatus, "question_status"), default=QuestionStatus.NEW)
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("questions.id", ondelete="SET NULL"))
    #: How many distinct points asked it, duplicates included (kept on merge and split).
    points_count: Mapped[int] = mapped_column(default=1, server_default="1")
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("presenters.id", ondelete="SET NULL"))
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When it first went into the digest, kept while it is out for a correction: the
    #: digest numbers questions in this order, and a point's "câu hỏi 2" must stay the same.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    topic: Mapped[Topic | None] = relationship()
    point: Mapped[BroadcastPoint] = relationship()
    assignee: Mapped[Presenter | None] = relationship()
    merged_into: Mapped[Question | None] = relationship(remote_side=[id])

    def group(self):
        """A filter on questions: this one and every duplicate merged into it."""
        return or_(Question.id == self.id, Question.merged_into_id == self.id)

    @property
    def standing(self) -> Question:
        """The question that answers this one: itself, or the one it was merged into."""
        return self.merged_into or self

    def __repr__(self) -> str:
        return f"<Question {self.id} {self.status}>"
