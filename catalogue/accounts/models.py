"""Users, their roles, their live sessions, and login attempts (for throttling)."""

import datetime as dt
import enum

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, event, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalogue.clock import utcnow
from catalogue.extensions import db
from catalogue.formatting import fold
from catalogue.roles import Role
from catalogue.taxonomy.models import Municipality, Organization


class UserRole(db.Model):
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)


class User(UserMixin, db.Model):
    __table_args__ = (Index("ix_user_created", "created_at", "id"),)  # the administrators' list, newest first

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    last_name: Mapped[str] = mapped_column(String(80))
    first_name: Mapped[str] = mapped_column(String(80))
    middle_name: Mapped[str] = mapped_column(String(80), default="")
    # Students only: their grade (6-11) and birth date (for the consent rules of minors).
    grade: Mapped[int | None]
    birth_date: Mapped[dt.date | None]
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    organization: Mapped[Organization | None] = relationship(lazy="joined")
    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipality.id"), index=True)
    municipality: Mapped[Municipality | None] = relationship(lazy="joined")
    # Folded names and e-mail, for case- and ё-insensitive search on any database.
    search_folded: Mapped[str] = mapped_column(String(600), default="")
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped on password change or deactivation: every session made before stops working.
    auth_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())
    last_login_at: Mapped[dt.datetime | None]
    # Teachers only: a self-registered teacher acts for students once an administrator or a verified
    # teacher of the same organization has confirmed them (accounts made by administrators are confirmed).
    verified_at: Mapped[dt.datetime | None]
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # users are deactivated, never deleted

    role_rows: Mapped[list[UserRole]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by=UserRole.role
    )

    # -- Flask-Login --------------------------------------------------------------------------
    @property
    def is_active(self) -> bool:
        return self.active

    #: The token of the session this object was loaded for (set at login and by the user loader).
    session_token: str = ""

    def get_id(self) -> str:
        # The session (and the remember cookie) name the user, the password version and one live
        # UserSession: a password change, a deactivation or a logout ends it on the server.
        return f"{self.id}:{self.auth_version}:{self.session_token}"

    def __eq__(self, other) -> bool:
        # The same person in the same password version, whichever session each object was loaded for.
        if not isinstance(other, User):
            return NotImplemented
        return (self.id, self.auth_version) == (other.id, other.auth_version)

    __hash__ = object.__hash__

    # -- roles --------------------------------------------------------------------------------
    @property
    def roles(self) -> set[Role]:
        return {Role(r.role) for r in self.role_rows}

    def has_role(self, *roles: Role) -> bool:
        return not self.roles.isdisjoint(roles)

    def set_roles(self, roles: set[Role]) -> None:
        keep = [r for r in self.role_rows if r.role in roles]
        have = {r.role for r in keep}
        self.role_rows = keep + [UserRole(role=str(r)) for r in sorted(roles) if r not in have]

    @property
    def role_labels(self) -> list[str]:
        return [Role(r.role).label for r in self.role_rows]

    @property
    def is_student(self) -> bool:
        return self.has_role(Role.STUDENT)

    @property
    def is_admin(self) -> bool:
        return self.has_role(Role.ADMIN)

    @property
    def is_verified_teacher(self) -> bool:
        return self.has_role(Role.TEACHER) and self.verified_at is not None

    # -- names --------------------------------------------------------------------------------
    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)

    @property
    def short_name(self) -> str:
        """«Артём И.»: first name and the surname's initial, the form people take for those who are not staff."""
        initial = f" {self.last_name[:1]}." if self.last_name else ""
        return f"{self.first_name}{initial}"

    @property
    def public_name(self) -> str:
        """The name an author has on public pages: a student (a minor) as «Имя Ф.», adults in full."""
        return self.short_name if self.is_student else self.full_name

    @property
    def is_staff(self) -> bool:
        return self.has_role(Role.MODERATOR, Role.ADMIN)

    def __str__(self) -> str:
        return self.full_name


def name_for(viewer, person: User | None) -> str:
    """How ``viewer`` sees ``person`` named as an actor (in histories, consents, revisions, previews): moderators
    and administrators see the full name, everyone else the short form «Артём И.»."""
    if person is None:
        return ""
    staff = viewer is not None and getattr(viewer, "is_authenticated", False) and viewer.is_staff
    return person.full_name if staff else person.short_name


@event.listens_for(User, "before_insert")
@event.listens_for(User, "before_update")
def _fold_user_search_text(_mapper, _connection, user: User) -> None:
    user.search_folded = fold(f"{user.full_name} {user.email}")


class LoginAttempt(db.Model):
    """One try to log in; recent failures throttle an account and an address."""

    __table_args__ = (
        Index("ix_login_attempt_email_created", "email", "created_at"),
        Index("ix_login_attempt_address_created", "address", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class UserSession(db.Model):
    """A logged-in browser. Logging out deletes it: a copied session or remember cookie then opens nothing."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    # SHA-256 of the token in the cookie; the database alone cannot be used to take a session over.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class KnownAddress(db.Model):
    """An address (keyed hash) a person logged in from: the per-address ceiling never stops them there."""

    __table_args__ = (UniqueConstraint("user_id", "address_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    address_hash: Mapped[str] = mapped_column(String(64))
    last_used_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class UsedLoginLink(db.Model):
    """A one-time login link already used; the primary key makes the second use fail in any process."""

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SupervisionStatus(enum.StrEnum):
    PENDING = "pending"  # the teacher asked; the student has not answered
    ACCEPTED = "accepted"
    DECLINED = "declined"
    ENDED = "ended"  # the student (or the teacher) ended an accepted supervision

    @property
    def label(self) -> str:
        return SUPERVISION_LABELS[self]


SUPERVISION_LABELS = {
    SupervisionStatus.PENDING: "ждёт ответа обучающегося",
    SupervisionStatus.ACCEPTED: "принято",
    SupervisionStatus.DECLINED: "отклонено",
    SupervisionStatus.ENDED: "завершено",
}


class Supervision(db.Model):
    """A teacher supervises a student's contest entries once the student has accepted (one row per pair)."""

    __table_args__ = (UniqueConstraint("teacher_id", "student_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    teacher: Mapped[User] = relationship(foreign_keys=[teacher_id], lazy="joined")
    student_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    student: Mapped[User] = relationship(foreign_keys=[student_id], lazy="joined")
    status: Mapped[str] = mapped_column(String(20), default=SupervisionStatus.PENDING)
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[dt.datetime | None]

    @property
    def state(self) -> SupervisionStatus:
        return SupervisionStatus(self.status)


class CoordinatedMunicipality(db.Model):
    """Which municipality a municipal coordinator coordinates (one per coordinator, assigned by an administrator)."""

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"), index=True)
    municipality: Mapped[Municipality] = relationship(lazy="joined")
