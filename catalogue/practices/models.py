"""Best career-guidance practices (roadmap item 13), their revisions, and the organizations that adopted them."""

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalogue.accounts.models import User
from catalogue.clock import utcnow
from catalogue.extensions import db
from catalogue.formatting import slugify
from catalogue.practices.roadmap import BY_NUMBER, RoadmapItem
from catalogue.taxonomy.models import Municipality, Organization, Sphere
from catalogue.workflow.models import Moderated

practice_sphere = Table(
    "practice_sphere",
    db.metadata,
    Column("practice_id", ForeignKey("practice.id", ondelete="CASCADE"), primary_key=True),
    Column("sphere_id", ForeignKey("sphere.id"), primary_key=True, index=True),
)


class PracticeRoadmapItem(db.Model):
    """One roadmap item (1-13) that a practice serves."""

    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"), primary_key=True)
    item: Mapped[int] = mapped_column(primary_key=True, index=True)


class Practice(Moderated, db.Model):
    # The catalogue's order, so any page of it starts reading at its key (catalogue/pagination.py).
    __table_args__ = (
        Index("ix_practice_status_published", "status", "published_at", "id"),
        Index("ix_practice_status_adopted", "status", "adoption_count", "published_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    # How many organizations adopted it, kept by practices.services.adopt: «чаще внедряют» reads its index.
    adoption_count: Mapped[int] = mapped_column(default=0, server_default="0")
    organization: Mapped[Organization] = relationship(lazy="joined", foreign_keys=[organization_id])
    # The organization's municipality, kept here so that filters and reports need no join.
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"), index=True)
    municipality: Mapped[Municipality] = relationship(lazy="joined", foreign_keys=[municipality_id])
    grade_from: Mapped[int]
    grade_to: Mapped[int]
    # Results in numbers: how many took part, what share of the organization's students, over which period.
    participants: Mapped[int | None]
    student_share: Mapped[int | None]  # per cent
    period_from: Mapped[dt.date]
    period_to: Mapped[dt.date | None]  # None: still running
    results: Mapped[str] = mapped_column(Text)
    resources: Mapped[str] = mapped_column(Text, default="")
    contacts: Mapped[str] = mapped_column(Text)
    # When the content now shown was approved: a revision's publication, or None for the first version.
    revised_at: Mapped[dt.datetime | None]

    roadmap_rows: Mapped[list[PracticeRoadmapItem]] = relationship(
        lazy="selectin", order_by=PracticeRoadmapItem.item, cascade="all, delete-orphan"
    )
    spheres: Mapped[list[Sphere]] = relationship(secondary=practice_sphere, lazy="selectin", order_by=Sphere.position)
    steps: Mapped[list["PracticeStep"]] = relationship(order_by="PracticeStep.position", cascade="all, delete-orphan")
    adoptions: Mapped[list["PracticeAdoption"]] = relationship(
        back_populates="practice",
        order_by=lambda: (PracticeAdoption.adopted_on.desc(), PracticeAdoption.id.desc()),
        passive_deletes=True,
    )

    @property
    def slug(self) -> str:
        return slugify(self.title)

    @property
    def roadmap_numbers(self) -> list[int]:
        return [row.item for row in self.roadmap_rows]

    @property
    def roadmap_items(self) -> list[RoadmapItem]:
        return [BY_NUMBER[n] for n in self.roadmap_numbers if n in BY_NUMBER]

    @property
    def grades_label(self) -> str:
        if self.grade_from == self.grade_to:
            return f"{self.grade_from} класс"
        return f"{self.grade_from}–{self.grade_to} классы"

    @property
    def current_version_date(self) -> dt.datetime | None:
        """The date of the content now shown: the last approved revision, else the first publication."""
        return self.revised_at or self.published_at


class PracticeStep(db.Model):
    """One step of the replication guide."""

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")


class PracticeAdoption(db.Model):
    """«Внедрили у себя»: an organization replicated a practice. One mark per organization and practice."""

    __table_args__ = (UniqueConstraint("practice_id", "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"))
    practice: Mapped[Practice] = relationship(back_populates="adoptions")
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    organization: Mapped[Organization] = relationship(lazy="joined")
    adopted_on: Mapped[dt.date]
    comment: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    author: Mapped[User | None] = relationship()  # for the moderators' report only
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PracticeRevision(Moderated, db.Model):
    """A proposed change to a published practice, reviewed on its own while the practice stays as it was.

    ``data`` holds the whole proposed content (see ``services.PracticeData``); publishing the revision
    applies it to the practice and keeps the content it replaced in ``previous``, so history stays readable.
    """

    __table_args__ = (Index("ix_practice_revision_practice_status", "practice_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"))
    practice: Mapped[Practice] = relationship(lazy="joined")
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    previous: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")  # the author's word to the moderator: what and why

    @property
    def title(self) -> str:
        return f"{self.data.get('title') or self.practice.title} (правка)"
