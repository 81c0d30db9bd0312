"""Stored files: one row per uploaded file, owned by a piece of content or pending (no owner yet)."""

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from catalogue.clock import utcnow
from catalogue.extensions import db


class StoredFile(db.Model):
    """An uploaded file on disk under a random key; ``owner_type`` + ``owner_id`` say what it belongs to.

    A file without an owner is *pending*: uploaded with a form that has not been saved yet. Only its
    uploader may see or claim it, and ``flask media cleanup`` removes it after a day.
    """

    __table_args__ = (Index("ix_stored_file_owner", "owner_type", "owner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    # "document", "image" or "model": what the content is (a JPEG sent as a document is an image).
    kind: Mapped[str] = mapped_column(String(20))
    media_type: Mapped[str] = mapped_column(String(100))
    original_name: Mapped[str] = mapped_column(String(255))
    extension: Mapped[str] = mapped_column(String(10))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    facts: Mapped[dict] = mapped_column(JSON, default=dict)
    thumbnail_key: Mapped[str | None] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    owner_type: Mapped[str | None] = mapped_column(String(40))
    owner_id: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)

    @property
    def is_pending(self) -> bool:
        return self.owner_type is None

    @property
    def is_image(self) -> bool:
        return self.kind == "image"

    @property
    def is_model(self) -> bool:
        return self.kind == "model"

    def __repr__(self) -> str:
        return f"<StoredFile {self.key} {self.original_name!r} {self.owner_type}:{self.owner_id}>"
