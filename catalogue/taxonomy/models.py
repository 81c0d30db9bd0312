"""Shared taxonomies: municipalities, organizations, age groups, professional spheres."""

from sqlalchemy import ForeignKey, String, UniqueConstraint, event, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalogue.extensions import db
from catalogue.formatting import fold


class Municipality(db.Model):
    """A district-level municipal entity of the oblast (городской округ, муниципальный район)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(60))

    def __str__(self) -> str:
        return self.name


class OrganizationKind:
    SCHOOL = "school"
    COLLEGE = "college"
    UNIVERSITY = "university"
    OTHER = "other"

    LABELS = {
        SCHOOL: "Школа",
        COLLEGE: "Колледж, техникум",
        UNIVERSITY: "Вуз",
        OTHER: "Другая организация",
    }


class Organization(db.Model):
    """A school, college, university or other organization, located in a municipality."""

    __table_args__ = (UniqueConstraint("name", "municipality_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    # Case- and ё-folded name: SQLite's lower() leaves Cyrillic alone, so we search this.
    name_folded: Mapped[str] = mapped_column(String(300), default="", index=True)
    kind: Mapped[str] = mapped_column(String(20), default=OrganizationKind.SCHOOL)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"), index=True)
    municipality: Mapped[Municipality] = relationship(lazy="joined")
    # False for one a person added when registering (their school was not in the list) until an
    # administrator checks the name.
    confirmed: Mapped[bool] = mapped_column(default=True, server_default=true(), index=True)

    @property
    def kind_label(self) -> str:
        return OrganizationKind.LABELS.get(self.kind, self.kind)

    def __str__(self) -> str:
        return self.name


@event.listens_for(Organization, "before_insert")
@event.listens_for(Organization, "before_update")
def _fold_organization_name(_mapper, _connection, organization: Organization) -> None:
    organization.name_folded = fold(organization.name)


class AgeGroup(db.Model):
    """A band of school grades that projects and contest categories are aimed at."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    grade_from: Mapped[int]
    grade_to: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)

    def includes_grade(self, grade: int) -> bool:
        return self.grade_from <= grade <= self.grade_to

    def __str__(self) -> str:
        return self.name


class Sphere(db.Model):
    """A professional sphere: an industry of the region or a profession of the future."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    position: Mapped[int] = mapped_column(default=0)

    def __str__(self) -> str:
        return self.name
