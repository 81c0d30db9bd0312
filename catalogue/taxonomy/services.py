"""Reading the taxonomies (for forms and filters) and editing them (administrators)."""

from sqlalchemy import select

from catalogue.extensions import db
from catalogue.formatting import fold, ru_sort_key
from catalogue.taxonomy.models import AgeGroup, Municipality, Organization, Sphere

ORGANIZATION_OPTIONS_LIMIT = 30


def municipalities() -> list[Municipality]:
    """All municipalities: city districts first, then districts, each alphabetically."""
    rows = db.session.scalars(select(Municipality)).all()
    return sorted(rows, key=lambda m: (m.kind != "городской округ", ru_sort_key(m.name)))


def age_groups() -> list[AgeGroup]:
    return list(db.session.scalars(select(AgeGroup).order_by(AgeGroup.position, AgeGroup.grade_from)))


def spheres() -> list[Sphere]:
    return list(db.session.scalars(select(Sphere).order_by(Sphere.position, Sphere.name)))


def search_organizations(
    query: str = "", municipality_id: int | None = None, limit: int = ORGANIZATION_OPTIONS_LIMIT
) -> list[Organization]:
    """Organizations whose name contains every word of ``query`` (any case, ё = е), in a municipality."""
    words = fold(query).split()
    if not words and municipality_id is None:
        return []
    stmt = select(Organization)
    if municipality_id is not None:
        stmt = stmt.where(Organization.municipality_id == municipality_id)
    for word in words[:6]:
        stmt = stmt.where(Organization.name_folded.contains(word, autoescape=True))
    rows = db.session.scalars(stmt.order_by(Organization.name_folded).limit(limit)).all()
    return sorted(rows, key=lambda o: ru_sort_key(o.name))
