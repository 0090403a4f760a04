from __future__ import annotations

import hashlib
import hmac
import unicodedata
from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, Column, ForeignKey, String, Table, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from confmgr.conferences.models import Conference
from confmgr.db import UTCDateTime, db, utcnow
from confmgr.enums import Role, db_enum
from confmgr.points.models import BroadcastPoint
from confmgr.text import fold

#: Which conferences an organiser manages.
conference_organisers = Table(
    "conference_organisers",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("conference_id", ForeignKey("conferences.id", ondelete="CASCADE"), primary_key=True),
)

#: Which points a site coordinator manages (and so every point below them).
point_coordinators = Table(
    "point_coordinators",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "point_id", ForeignKey("broadcast_points.id", ondelete="CASCADE"), primary_key=True,
        index=True,
    ),
)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("email = lower(email)", name="email_lower_case"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Always stored in lower case, so logins ignore case.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(db_enum(Role, "user_role"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Raised whenever the account is locked, so the sessions it had then stay ended when
    #: it is unlocked (the session stamp names it with the password).
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Email and name folded (``user_search_text``): SQLite's lower() and LIKE know only
    #: ASCII case, so "NGUYỄN" would not find "Nguyễn" without it, nor "nguyen" anywhere.
    search_text: Mapped[str] = mapped_column(Text, default="")

    conferences: Mapped[list[Conference]] = relationship(
        secondary=conference_organisers, order_by=Conference.first_day
    )
    points: Mapped[list[BroadcastPoint]] = relationship(
        secondary=point_coordinators, order_by=BroadcastPoint.code
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    #: The key of the sign-in this request is part of (``SignIn``); not stored here.
    sign_in_key = None

    def get_id(self) -> str:
        # The session (and the remember-me cookie) names the password and the lock count
        # too, so a new password, or a lock, signs out every session opened before it; and
        # the sign-in, which signing out ends on the server.
        return f"{self.id}:{self.session_stamp}:{self.sign_in_key or ''}"

    @property
    def session_stamp(self) -> str:
        """Changes with the password and with each lock; keyed, so a session cookie says
        nothing about either."""
        return self.session_stamp_under(current_app.config["SECRET_KEY"])

    def session_stamp_under(self, key: str | bytes) -> str:
        """The session stamp under one secret key: the current one, or one of
        SECRET_KEY_FALLBACKS, which sessions begun before the key changed carry."""
        # An account never locked signs as before the count existed: no one is signed out
        # by the upgrade that added it.
        signed = self.password_hash + (f":{self.session_epoch}" if self.session_epoch else "")
        key = key.encode() if isinstance(key, str) else key
        return hmac.new(key, signed.encode(), hashlib.sha256).hexdigest()[:20]

    def set_password(self, password: str) -> None:
        # NFC, so the same password typed on a keyboard that sends decomposed letters
        # ("ậ" as a, ̣, ̂) is the same password.
        self.password_hash = generate_password_hash(
            unicodedata.normalize("NFC", password),
            method=current_app.config["PASSWORD_HASH_METHOD"],
        )

    def check_password(self, password: str) -> bool:
        composed = unicodedata.normalize("NFC", password)
        # A password set before passwords were composed was hashed as it was typed.
        return check_password_hash(self.password_hash, composed) or (
            composed != password and check_password_hash(self.password_hash, password))

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class SignIn(db.Model):
    """One signed-in browser. Its session and remember-me cookies carry the key; signing out
    deletes the row, so a copied cookie opens nothing afterwards (a shared computer in a
    commune hall is the usual case)."""
    __tablename__ = "sign_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    #: SHA-256 of the key: nothing here could be turned back into a cookie.
    key_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def sign_in_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def user_search_text(email: str, display_name: str) -> str:
    return fold(f"{email} {display_name}")


@event.listens_for(User, "before_insert")
@event.listens_for(User, "before_update")
def _keep_search_text(mapper, connection, user: User) -> None:
    # Bulk inserts through Core set it themselves with user_search_text().
    user.search_text = user_search_text(user.email, user.display_name)
