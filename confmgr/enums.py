"""Closed sets of values, stored as short strings guarded by CHECK constraints."""
from __future__ import annotations

import enum

from sqlalchemy import Enum


class Visibility(enum.StrEnum):
    #: Anyone reads the published agenda and subscribes to its feeds.
    PUBLIC = "public"
    #: Only organisers and coordinators of the conference, and holders of a feed token.
    RESTRICTED = "restricted"


class FeedKind(enum.StrEnum):
    """Whose private calendar feed a secret token opens."""

    CONFERENCE = "conference"  # a user's address for a restricted conference
    CHOSEN = "chosen"  # the sessions a user picked
    POINT = "point"  # a broadcast point's: its address and stream link
    DELEGATE = "delegate"  # one delegate's own


class ConferenceStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class SessionKind(enum.StrEnum):
    OPENING = "opening"
    DIRECTIVE = "directive"
    TOPIC = "topic"
    DISCUSSION = "discussion"
    BREAK = "break"
    CLOSING = "closing"
    OTHER = "other"


class SessionStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class PointLevel(enum.StrEnum):
    MAIN = "main"
    PROVINCE = "province"
    COMMUNE = "commune"
    OTHER = "other"


class ConnectionTestStatus(enum.StrEnum):
    NOT_TESTED = "not_tested"
    PASSED = "passed"
    FAILED = "failed"


class RegistrationStatus(enum.StrEnum):
    REGISTERED = "registered"
    WITHDRAWN = "withdrawn"


class AttendanceStatus(enum.StrEnum):
    PRESENT = "present"
    LATE = "late"
    EXCUSED = "excused"
    ABSENT = "absent"


class QuestionStatus(enum.StrEnum):
    """Where a question (vướng mắc) stands; a merged duplicate follows its question."""

    NEW = "new"
    ASSIGNED = "assigned"
    ANSWERED = "answered"
    PUBLISHED = "published"


class CheckInMethod(enum.StrEnum):
    MANUAL = "manual"
    QR = "qr"
    IMPORT = "import"
    API = "api"
    SELF = "self"  # the delegate, from their own code
    HEADCOUNT = "headcount"
    #: "All present": every delegate of the point not yet recorded, at once.
    ALL_PRESENT = "all_present"


class Role(enum.StrEnum):
    ADMIN = "admin"
    ORGANISER = "organiser"
    COORDINATOR = "coordinator"
    #: A presenter's own account: the questions on their topics, nothing else.
    PRESENTER = "presenter"


class TokenScope(enum.StrEnum):
    # What an API token may do within its user's permissions (a comment, not a docstring:
    # the API document describes the scope in the reader's language where it is used).

    READ = "read"
    WRITE = "write"


def db_enum(enum_class: type[enum.StrEnum], name: str) -> Enum:
    """A portable column type: VARCHAR plus a CHECK constraint, no native ENUM."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(20, *(len(member.value) for member in enum_class)),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )
