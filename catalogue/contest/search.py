"""Admitted entries in the site's search: title, description, software, nomination, school, municipality."""

from collections.abc import Collection, Sequence

from flask import g
from sqlalchemy import select

from catalogue.contest.models import Entry, Nomination
from catalogue.extensions import db
from catalogue.forms import bounded_int
from catalogue.markdown import plain_text
from catalogue.search import registry
from catalogue.taxonomy.models import AgeGroup


def _age_group_slugs(entry: Entry) -> list[str]:
    """The site's age groups that overlap the entry's category (the search's age facet)."""
    category = entry.age_category
    # The few age groups are read once per app context, not once per entry of an indexing batch.
    if "search_age_groups" not in g:
        g.search_age_groups = db.session.execute(select(AgeGroup.slug, AgeGroup.grade_from, AgeGroup.grade_to)).all()
    return [
        slug
        for slug, grade_from, grade_to in g.search_age_groups
        if grade_from <= category.grade_to and grade_to >= category.grade_from
    ]


def to_document(entry: Entry) -> registry.SearchDocument:
    """While blind judging hides the authors, neither their names nor their school are indexed (a school with
    one or two entrants names them as well); the municipality stays, as on the gallery's cards."""
    parts = [plain_text(entry.description), entry.software, entry.nomination.name, entry.age_category.name]
    hidden = entry.season.authors_hidden
    if entry.organization and not hidden:
        parts.append(entry.organization.name)
    if entry.organization:
        parts.append(entry.organization.municipality.name)
    if not hidden:
        parts.append(entry.author.public_name)
    return registry.SearchDocument(
        title=entry.title,
        text=" ".join(p for p in parts if p),
        age_groups=_age_group_slugs(entry),
        municipality=str(entry.organization.municipality_id) if entry.organization else None,
        season=str(entry.season.year),
        nomination=str(entry.nomination_id),
        date=entry.published_at,
        names=[] if hidden else [entry.author.public_name],
    )


def facts(entry: Entry) -> list[str]:
    facts = [f"Сезон {entry.season.year}", entry.nomination.name, entry.age_category.name]
    if entry.award and entry.season.results_published:
        facts.append(entry.award_label)
    return facts


def nomination_labels(values: Collection[str]) -> dict[str, str]:
    ids = [i for i in map(bounded_int, values) if i is not None]
    rows = db.session.scalars(select(Nomination).where(Nomination.id.in_(ids))) if ids else []
    return {str(n.id): f"{n.name} ({n.season.year})" for n in rows}


def load(ids: Sequence[int]):
    return db.session.scalars(select(Entry).where(Entry.id.in_(ids))).unique()
