"""Users, their roles, and login attempts (for throttling)."""

import datetime as dt

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, event, func
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

    role_rows: Mapped[list[UserRole]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by=UserRole.role
    )

    # -- Flask-Login --------------------------------------------------------------------------
    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.auth_version}"

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

    # -- names --------------------------------------------------------------------------------
    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)

    @property
    def public_name(self) -> str:
        """The name shown on public pages: a student (a minor) as «Имя Ф.», adults in full."""
        if self.is_student:
            initial = f" {self.last_name[:1]}." if self.last_name else ""
            return f"{self.first_name}{initial}"
        return self.full_name

    def __str__(self) -> str:
        return self.full_name


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
