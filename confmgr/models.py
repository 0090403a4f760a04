"""Every model, imported in one place so Alembic and the app see the whole schema."""
from confmgr.accounts.models import User, conference_organisers, point_coordinators
from confmgr.api.models import ApiToken
from confmgr.attendance.models import (
    Attendance,
    AttendanceChange,
    CheckInReceipt,
    SessionPointCategoryCount,
    SessionPointCount,
)
from confmgr.audit.models import AuditEntry
from confmgr.calendar.models import ChosenSession, FeedToken
from confmgr.conferences.models import (
    AgendaSession,
    AgendaVersion,
    Conference,
    Presenter,
    Room,
    Topic,
    TopicMaterial,
    session_presenters,
)
from confmgr.points.models import BroadcastPoint, ConnectionTestResult, ConnectionTestSlot
from confmgr.questions.models import Question
from confmgr.roster.models import (
    Category,
    CategoryRequirement,
    Participant,
    PointCategoryRegistration,
)

__all__ = [
    "AgendaSession",
    "ApiToken",
    "AgendaVersion",
    "Attendance",
    "AttendanceChange",
    "AuditEntry",
    "BroadcastPoint",
    "Category",
    "CheckInReceipt",
    "ChosenSession",
    "CategoryRequirement",
    "Conference",
    "ConnectionTestResult",
    "ConnectionTestSlot",
    "FeedToken",
    "Participant",
    "PointCategoryRegistration",
    "Presenter",
    "Question",
    "Room",
    "SessionPointCategoryCount",
    "SessionPointCount",
    "Topic",
    "TopicMaterial",
    "User",
    "conference_organisers",
    "point_coordinators",
    "session_presenters",
]
