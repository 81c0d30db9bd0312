"""Published practices in the site's search: title, texts, guide, organization; age, sphere and municipality facets."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from catalogue.extensions import db
from catalogue.markdown import plain_text
from catalogue.practices.models import Practice
from catalogue.search import registry
from catalogue.taxonomy.models import AgeGroup


def _age_group_slugs(practice: Practice) -> list[str]:
    """The site's age groups that overlap the practice's grades (the search's age facet)."""
    return list(
        db.session.scalars(
            select(AgeGroup.slug).where(
                AgeGroup.grade_from <= practice.grade_to, AgeGroup.grade_to >= practice.grade_from
            )
        )
    )


def to_document(practice: Practice) -> registry.SearchDocument:
    parts = [
        plain_text(practice.summary),
        plain_text(practice.results),
        plain_text(practice.resources),
        " ".join(f"{s.title} {plain_text(s.description)}" for s in practice.steps),
        plain_text(practice.description),
        " ".join(item.title for item in practice.roadmap_items),
        practice.organization.name,
        practice.municipality.name,
    ]
    return registry.SearchDocument(
        title=practice.title,
        text=" ".join(p for p in parts if p),
        age_groups=_age_group_slugs(practice),
        spheres=[s.slug for s in practice.spheres],
        municipality=str(practice.municipality_id),
        date=practice.published_at,
    )


def facts(practice: Practice) -> list[str]:
    return [practice.municipality.name, practice.grades_label] + [
        f"п. {n} дорожной карты" for n in practice.roadmap_numbers
    ]


def load(ids: Sequence[int]):
    return db.session.scalars(select(Practice).where(Practice.id.in_(ids)).options(selectinload(Practice.steps)))
