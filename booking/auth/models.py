import enum
import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.db import UTCDateTime, enum_type, utcnow
from booking.extensions import db
from booking.offices.models import Office, Service


class Role(enum.StrEnum):
    ADMIN = "admin"
    CASEWORKER = "caseworker"
    RECEPTION = "reception"
    PRIVACY = "privacy"  # the data protection officer: reads the audit log, changes nothing
    # Manages offices, services, staff and hours of one operator (booking/core/scope.py).
    OPERATOR_ADMIN = "operator_admin"


staff_office = sa.Table(
    "staff_office",
    db.metadata,
    sa.Column("staff_id", sa.ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("office_id", sa.ForeignKey("office.id", ondelete="CASCADE"), primary_key=True),
)

staff_service = sa.Table(
    "staff_service",
    db.metadata,
    sa.Column("staff_id", sa.ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("service_id", sa.ForeignKey("service.id", ondelete="CASCADE"), primary_key=True),
)


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class StaffLanguage(db.Model):
    """A language a staff member can counsel in (ISO 639 code)."""

    __tablename__ = "staff_language"

    staff_id: Mapped[int] = mapped_column(
        sa.ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(sa.String(8), primary_key=True)


class StaffUser(UserMixin, db.Model):
    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[Role] = mapped_column(enum_type(Role, "staff_role"))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    # Rotated on login, logout, password change and deactivation: old cookies stop working.
    session_token: Mapped[str] = mapped_column(sa.String(64), default=new_session_token)
    active: Mapped[bool] = mapped_column(default=True)
    wants_daily_agenda: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # sha256 of the secret in the caseworker's calendar feed URL; None when revoked.
    calendar_token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    offices: Mapped[list[Office]] = relationship(secondary=staff_office, order_by=Office.name)
    services: Mapped[list[Service]] = relationship(secondary=staff_service, order_by=Service.name)
    languages: Mapped[list[StaffLanguage]] = relationship(
        cascade="all, delete-orphan", order_by=StaffLanguage.code
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def language_codes(self) -> list[str]:
        return [language.code for language in self.languages]

    @language_codes.setter
    def language_codes(self, codes: list[str]) -> None:
        wanted = list(dict.fromkeys(codes))
        keep = [language for language in self.languages if language.code in wanted]
        have = {language.code for language in keep}
        self.languages = keep + [StaffLanguage(code=code) for code in wanted if code not in have]

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def rotate_session_token(self) -> None:
        self.session_token = new_session_token()

    def can_access_office(self, office: Office) -> bool:
        """May this person see families' records of the office (booking/core/scope.py)?"""
        from booking.core.scope import may_see_office

        return may_see_office(self, office)

    def __repr__(self) -> str:
        return f"<StaffUser {self.email}>"
