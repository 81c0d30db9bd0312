"""Admitted entries in the site's search: title, description, software, nomination, school, municipality."""

from collections.abc import Collection, Sequence

from flask import g
from sqlalchemy import select

from catalogue.accounts.services import name_changed
from catalogue.contest.entries import OWNER, entry_url
from catalogue.contest.models import Entry, Nomination
from catalogue.extensions import db
from catalogue.forms import bounded_int
from catalogue.markdown import plain_text
from catalogue.search import outbox, registry
from catalogue.taxonomy.models import AgeGroup
from catalogue.workflow.models import Status


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
    parts = [plain_text(entry.description), entry.software, entry.nomination.name, entry.age_category.name]
    if entry.organization:
        parts += [entry.organization.name, entry.organization.municipality.name]
    if not entry.season.authors_hidden:
        parts.append(entry.author.public_name)
    return registry.SearchDocument(
        title=entry.title,
        text=" ".join(p for p in parts if p),
        age_groups=_age_group_slugs(entry),
        municipality=str(entry.organization.municipality_id) if entry.organization else None,
        season=str(entry.season.year),
        nomination=str(entry.nomination_id),
        date=entry.published_at,
    )


def _facts(entry: Entry) -> list[str]:
    facts = [f"Сезон {entry.season.year}", entry.nomination.name, entry.age_category.name]
    if entry.award and entry.season.results_published:
        facts.append(entry.award_label)
    return facts


def _nomination_labels(values: Collection[str]) -> dict[str, str]:
    ids = [i for i in map(bounded_int, values) if i is not None]
    rows = db.session.scalars(select(Nomination).where(Nomination.id.in_(ids))) if ids else []
    return {str(n.id): f"{n.name} ({n.season.year})" for n in rows}


def _load(ids: Sequence[int]):
    return db.session.scalars(select(Entry).where(Entry.id.in_(ids))).unique()


def register_searchable() -> None:
    registry.register(
        registry.SearchableType(
            key=OWNER,
            model=Entry,
            to_document=to_document,
            load=_load,
            label="Конкурсная работа",
            url=entry_url,
            facts=_facts,
            facet_labels={
                "season": lambda values: {v: f"Сезон {v}" for v in values},
                "nomination": _nomination_labels,
            },
        )
    )


@name_changed.connect
def _reindex_entries_of(_sender, user, **_extra) -> None:
    """An author's name is in their admitted entries' documents."""
    published = select(Entry.id).where(Entry.author_id == user.id, Entry.status == Status.PUBLISHED)
    for entry_id in db.session.scalars(published):
        outbox.enqueue(OWNER, entry_id)
