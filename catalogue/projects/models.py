"""Typical projects (roadmap item 3), the classes that run them and the reports of teachers who ran them."""

import datetime as dt

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalogue.accounts.models import User
from catalogue.clock import utcnow
from catalogue.extensions import db
from catalogue.formatting import slugify
from catalogue.taxonomy.models import AgeGroup, Organization, Sphere
from catalogue.workflow.models import Moderated, Status

project_age_group = Table(
    "project_age_group",
    db.metadata,
    Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), primary_key=True),
    Column("age_group_id", ForeignKey("age_group.id"), primary_key=True, index=True),
)
project_sphere = Table(
    "project_sphere",
    db.metadata,
    Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), primary_key=True),
    Column("sphere_id", ForeignKey("sphere.id"), primary_key=True, index=True),
)


class ProjectFormat:
    INDIVIDUAL = "individual"
    GROUP = "group"
    LABELS = {INDIVIDUAL: "Индивидуальный", GROUP: "Групповой"}


# Duration filter buckets: (key, label, min weeks, max weeks).
DURATIONS = [
    ("short", "до 2 недель", 1, 2),
    ("month", "3–5 недель", 3, 5),
    ("term", "6–12 недель", 6, 12),
    ("long", "больше четверти", 13, 52),
]


class Project(Moderated, db.Model):
    # The catalogue's two orders, so any page of it starts reading at its key (catalogue/pagination.py).
    __table_args__ = (
        Index("ix_project_status_published", "status", "published_at", "id"),
        Index("ix_project_status_title", "status", "title", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    goal: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(20), index=True)
    duration_weeks: Mapped[int] = mapped_column(index=True)
    expected_results: Mapped[str] = mapped_column(Text)
    resources: Mapped[str] = mapped_column(Text, default="")
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    organization: Mapped[Organization | None] = relationship(lazy="joined")
    age_groups: Mapped[list[AgeGroup]] = relationship(
        secondary=project_age_group, lazy="selectin", order_by=AgeGroup.position
    )
    spheres: Mapped[list[Sphere]] = relationship(secondary=project_sphere, lazy="selectin", order_by=Sphere.position)
    stages: Mapped[list["ProjectStage"]] = relationship(order_by="ProjectStage.position", cascade="all, delete-orphan")

    @property
    def slug(self) -> str:
        return slugify(self.title)

    @property
    def format_label(self) -> str:
        return ProjectFormat.LABELS.get(self.format, self.format)

    @property
    def grades_label(self) -> str:
        return ", ".join(g.name for g in self.age_groups)


class ProjectStage(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")


class ProjectReport(Moderated, db.Model):
    """«Материалы проектов обучающихся»: how a class carried out a typical project, and what came of it."""

    __table_args__ = (Index("ix_project_report_project_status", "project_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    project: Mapped[Project] = relationship(lazy="joined")
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    organization: Mapped[Organization] = relationship(lazy="joined")
    class_name: Mapped[str] = mapped_column(String(40))  # «8 «Б»»
    grade: Mapped[int]
    started_on: Mapped[dt.date]
    finished_on: Mapped[dt.date]
    participants: Mapped[int]
    body: Mapped[str] = mapped_column(Text)  # what was done
    results: Mapped[str] = mapped_column(Text)

    @property
    def title(self) -> str:
        return f"{self.project.title}: {self.organization.name}, {self.class_name}"


def class_key(label: str) -> str:
    """A class label as compared for duplicates: «7 «Б»», «7б» and «7-Б» are one class."""
    return "".join(ch for ch in label.upper().replace("Ё", "Е") if ch.isalnum())


class ProjectRun(db.Model):
    """«Взять в работу»: a teacher's class runs a published project. The teacher's organization and municipality
    are copied when it is recorded, so that the counts of a project (and of a municipality) are one grouped query.

    The public sees only counts; who runs it and where is the teacher's own.
    """

    __table_args__ = (
        UniqueConstraint("project_id", "organization_id", "class_key", name="uq_project_run_class"),
        Index("ix_project_run_project_municipality", "project_id", "municipality_id"),
        Index("ix_project_run_teacher_started", "teacher_id", "started_on", "id"),
        Index("ix_project_run_due", "reminded_at", "report_id", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    project: Mapped[Project] = relationship(lazy="joined")
    teacher_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    teacher: Mapped[User] = relationship(lazy="joined")
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"), index=True)
    class_label: Mapped[str] = mapped_column(String(20))  # «7Б», as typed
    class_key: Mapped[str] = mapped_column(String(20))  # class_key(class_label)
    grade: Mapped[int] = mapped_column(index=True)
    started_on: Mapped[dt.date] = mapped_column(index=True)
    due_on: Mapped[dt.date]  # started_on + the project's duration
    pupils: Mapped[int | None]
    report_id: Mapped[int | None] = mapped_column(
        ForeignKey("project_report.id", ondelete="SET NULL"), unique=True
    )
    report: Mapped["ProjectReport | None"] = relationship(lazy="joined")
    reminded_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def state(self, today: dt.date) -> str:
        """«идёт», «пора отчитаться» or «отчёт отправлен» (a report linked and sent for review or further)."""
        if self.report is not None and self.report.status != Status.DRAFT:
            return "отчёт отправлен"
        return "пора отчитаться" if today >= self.due_on else "идёт"
