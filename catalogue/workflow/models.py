"""The one lifecycle of all content: states, the moderated-content mixin, audit rows, notifications."""

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from catalogue.accounts.models import User
from catalogue.clock import utcnow
from catalogue.extensions import db


class Status(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    CHANGES_REQUESTED = "changes_requested"
    PUBLISHED = "published"
    REJECTED = "rejected"
    ARCHIVED = "archived"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    Status.DRAFT: "Черновик",
    Status.SUBMITTED: "На проверке",
    Status.CHANGES_REQUESTED: "Нужны исправления",
    Status.PUBLISHED: "Опубликовано",
    Status.REJECTED: "Отклонено",
    Status.ARCHIVED: "Снято с публикации",
}
# States in which authors may change their work; in the others it is under review or decided.
EDITABLE = frozenset({Status.DRAFT, Status.CHANGES_REQUESTED})


class Moderated:
    """Columns every moderated content type has: state, author, and when things happened."""

    status: Mapped[str] = mapped_column(String(20), default=Status.DRAFT, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    published_at: Mapped[dt.datetime | None] = mapped_column(index=True)

    @declared_attr
    def author_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("user.id"), index=True)

    @declared_attr
    def author(cls) -> Mapped[User]:
        return relationship(User, lazy="joined", foreign_keys=[cls.author_id])

    @property
    def state(self) -> Status:
        return Status(self.status)

    @property
    def is_published(self) -> bool:
        return self.status == Status.PUBLISHED

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE


class AuditEntry(db.Model):
    """One transition of one item: who, when, from which state to which, and why."""

    __table_args__ = (Index("ix_audit_entry_content", "content_type", "content_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    content_type: Mapped[str] = mapped_column(String(40))
    content_id: Mapped[int]
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    actor: Mapped[User | None] = relationship(lazy="joined")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def from_label(self) -> str:
        return Status(self.from_status).label

    @property
    def to_label(self) -> str:
        return Status(self.to_status).label


class Notification(db.Model):
    """A message to a person in the site (a copy also goes by e-mail)."""

    __table_args__ = (Index("ix_notification_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    read_at: Mapped[dt.datetime | None]
