from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    LargeBinary,
    event,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
    bindparam,
    column,
    or_,
    select,
    table,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from confmgr.db import UTCDateTime, db, utcnow
from confmgr.enums import PointLevel, RegistrationStatus, db_enum
from confmgr.roster.sorting import name_key
from confmgr.text import name_compare_form, normalise
from confmgr.points.models import BroadcastPoint


class Category(db.Model):
    """A role group (thành phần) such as "Bí thư Đảng ủy xã"."""

    __tablename__ = "categories"
    __table_args__ = (
        UniqueConstraint("conference_id", "name"),
        UniqueConstraint("id", "conference_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    #: Protocol order: lower ranks are listed first.
    rank: Mapped[int] = mapped_column(default=100)

    requirements: Mapped[list[CategoryRequirement]] = relationship(
        back_populates="category", cascade="all, delete-orphan", order_by="CategoryRequirement.level"
    )


class CategoryRequirement(db.Model):
    """How many delegates of a category every point of a level must send."""

    __tablename__ = "category_requirements"
    __table_args__ = (
        UniqueConstraint("category_id", "level"),
        CheckConstraint("min_count >= 1", name="at_least_one"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"))
    level: Mapped[PointLevel] = mapped_column(db_enum(PointLevel, "point_level"))
    min_count: Mapped[int] = mapped_column(default=1)

    category: Mapped[Category] = relationship(back_populates="requirements")


class Participant(db.Model):
    """A delegate registered by a broadcast point."""

    __tablename__ = "participants"
    __table_args__ = (
        # Point and category belong to the participant's own conference.
        ForeignKeyConstraint(
            ["point_id", "conference_id"],
            ["broadcast_points.id", "broadcast_points.conference_id"],
        ),
        ForeignKeyConstraint(
            ["category_id", "conference_id"], ["categories.id", "categories.conference_id"]
        ),
        CheckConstraint("full_name <> ''", name="name_not_empty"),
        UniqueConstraint("id", "conference_id"),
        Index("ix_participants_point_key", "point_id", "name_key"),
        # The national list in Vietnamese order, a page at a time.
        Index("ix_participants_conference_key", "conference_id", "name_key", "id"),
        Index("ix_participants_conference_name", "conference_id", "name_norm"),
        Index("ix_participants_conference_phone", "conference_id", "phone"),
        Index("ix_participants_conference_email", "conference_id", "email"),
        Index("ix_participants_conference_category", "conference_id", "category_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    point_id: Mapped[int] = mapped_column()
    category_id: Mapped[int | None] = mapped_column()
    full_name: Mapped[str] = mapped_column(String(200))
    #: The name in lower case, NFC, single spaces: what duplicate checks compare. Unbounded:
    #: lower case can be longer than the name ("İ" is two characters).
    name_norm: Mapped[str] = mapped_column(Text, default="")
    #: Vietnamese sort key (tên, họ, tên đệm), compared as bytes by every database.
    name_key: Mapped[bytes] = mapped_column(LargeBinary(600), default=b"")
    position: Mapped[str] = mapped_column(String(300), default="")
    unit: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    #: The personal check-in code on the delegate's badge, issued when first printed.
    checkin_code: Mapped[str | None] = mapped_column(String(24), unique=True)
    #: The id the sending device gave the registration (the API's client_id, a UUID in
    #: lower case): the same registration sent again finds this delegate.
    client_id: Mapped[str | None] = mapped_column(String(36), unique=True)
    #: What came with ``client_id`` (services.registration_digest): the same registration
    #: sent again is told from another sent under the same id by it, not by the delegate
    #: as they are now (moved, or their name's spelling corrected, since).
    client_digest: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[RegistrationStatus] = mapped_column(
        db_enum(RegistrationStatus, "registration_status"), default=RegistrationStatus.REGISTERED
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    #: Added to their point's place_revision to give place_revision below; each move sets
    #: it anew (negative when the new point's count is the higher), see moved().
    place_revision_offset: Mapped[int] = mapped_column(default=0, server_default="0")
    #: When they were last moved to another point.
    moved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    point: Mapped[BroadcastPoint] = relationship(
        primaryjoin="Participant.point_id == BroadcastPoint.id", foreign_keys=[point_id]
    )
    category: Mapped[Category | None] = relationship(
        primaryjoin="Participant.category_id == Category.id", foreign_keys=[category_id]
    )

    @property
    def place_revision(self) -> int:
        """How often the place shown in the delegate's own calendar changed: their point's
        address or link, or a move. It only rises, so their feed's SEQUENCE never falls."""
        return self.place_revision_offset + self.point.place_revision

    @property
    def place_changed_at(self) -> datetime | None:
        """When that place last changed, by the point or by a move."""
        return max((moment for moment in (self.moved_at, self.point.place_changed_at)
                    if moment is not None), default=None)

    def moved(self, origin: BroadcastPoint, destination: BroadcastPoint, now: datetime) -> None:
        """Count a move from ``origin`` to ``destination`` as one change of place.

        The two points' own counts have nothing to do with each other; the offset carries
        the count reached at ``origin`` over to ``destination``, one higher, so calendar
        clients take the new point's address.
        """
        reached = self.place_revision_offset + origin.place_revision
        self.place_revision_offset = reached + 1 - destination.place_revision
        self.moved_at = now


def participant_name_fields(full_name: str) -> dict:
    """The stored forms of a name: NFC with single spaces, its compare form, its sort key."""
    name = normalise(full_name)
    return {"full_name": name, "name_norm": name_compare_form(name), "name_key": name_key(name)}


def renormalise_names_holding(connection, characters: str) -> None:
    """Give the stored names holding any of ``characters`` the forms a save gives them now
    (for the migrations that widen what normalising removes). Reads only those names."""
    participants = table("participants", column("id"), column("full_name"),
                         column("name_norm"), column("name_key"))
    rows = connection.execute(select(participants.c.id, participants.c.full_name).where(
        or_(*(participants.c.full_name.contains(char) for char in characters)))).all()
    changed = [{"row_id": id_, **{f"new_{field}": value
                                  for field, value in participant_name_fields(name).items()}}
               for id_, name in rows]
    if changed:
        connection.execute(
            participants.update().where(participants.c.id == bindparam("row_id"))
            .values(full_name=bindparam("new_full_name"), name_norm=bindparam("new_name_norm"),
                    name_key=bindparam("new_name_key")), changed)


@event.listens_for(Participant, "before_insert")
@event.listens_for(Participant, "before_update")
def _keep_name_fields(mapper, connection, participant: Participant) -> None:
    # Bulk inserts through Core set them with participant_name_fields().
    for name, value in participant_name_fields(participant.full_name).items():
        setattr(participant, name, value)


class PointCategoryRegistration(db.Model):
    """How many delegates a point has registered in each category (0: none).

    Kept with every registration, withdrawal, move and import, beside the point's own
    ``registered_count``, so reports by category never count the participants table.
    """

    __tablename__ = "point_category_registrations"
    __table_args__ = (
        CheckConstraint("registered >= 0", name="registered_not_negative"),
        Index("ix_point_category_registrations_conference", "conference_id", "category_ref"),
        Index("ix_point_category_registrations_province", "conference_id", "province_code",
              "category_ref"),
    )

    point_id: Mapped[int] = mapped_column(
        ForeignKey("broadcast_points.id", ondelete="CASCADE"), primary_key=True)
    category_ref: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    province_code: Mapped[str] = mapped_column(String(10), default="")
    registered: Mapped[int] = mapped_column(default=0)
