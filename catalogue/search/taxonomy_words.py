"""Taxonomy words are searchable: a query word in a sphere's, age group's, municipality's or nomination's name or
description also finds the documents tagged with it («роботы» finds the projects of «Робототехника и беспилотные
системы», whose description says «Роботы, БПЛА…»).

Applied at query time, like the thesaurus (and to its related words too): the clause of such a word also matches
the documents with that facet value, so an edit of a sphere's description needs no reindex. A word shared by many
records of one taxonomy («класс» of every age group, «район» of most municipalities) says nothing and is not used.
Read once per process and content generation (:func:`catalogue.fragments.cached`). Formats need nothing: a
project's format label is in its text.
"""

from dataclasses import dataclass, replace

from sqlalchemy import select

from catalogue.extensions import db
from catalogue.search.query import Item, ParsedQuery

SHARED_SHARE = 0.25  # a stem in more than this share of a taxonomy's records (and in two or more) is not used
MAX_VALUES = 6  # facet values one query word may add


@dataclass
class TaxonomyWords:
    by_stem: dict[str, list[tuple[str, str]]]  # stem -> [(facet key, value)]

    def values(self, stems: list[str]) -> list[tuple[str, str]]:
        """The facet values whose words include every one of ``stems``."""
        if not stems:
            return []
        found = [set(self.by_stem.get(stem, ())) for stem in stems]
        common = set.intersection(*found)
        return sorted(common)[:MAX_VALUES]


def _records():
    from catalogue.contest.models import Nomination
    from catalogue.taxonomy.models import AgeGroup, Municipality, Sphere

    for slug, name, description in db.session.execute(select(Sphere.slug, Sphere.name, Sphere.description)):
        yield "sphere", slug, f"{name} {description or ''}"
    for slug, name in db.session.execute(select(AgeGroup.slug, AgeGroup.name)):
        yield "age", slug, name
    for municipality_id, name in db.session.execute(select(Municipality.id, Municipality.name)):
        yield "municipality", str(municipality_id), name
    for nomination_id, name, description in db.session.execute(
        select(Nomination.id, Nomination.name, Nomination.description)
    ):
        yield "nomination", str(nomination_id), f"{name} {description or ''}"


def load(analyze) -> TaxonomyWords:
    by_facet: dict[str, list[tuple[str, set[str]]]] = {}
    for facet, value, text in _records():
        by_facet.setdefault(facet, []).append((value, set(analyze(text))))
    by_stem: dict[str, list[tuple[str, str]]] = {}
    for facet, records in by_facet.items():
        counts: dict[str, int] = {}
        for _value, stems in records:
            for stem in stems:
                counts[stem] = counts.get(stem, 0) + 1
        for value, stems in records:
            for stem in stems:
                if counts[stem] > 1 and counts[stem] > SHARED_SHARE * len(records):
                    continue
                by_stem.setdefault(stem, []).append((facet, value))
    return TaxonomyWords(by_stem)


def current(analyze) -> TaxonomyWords:
    from catalogue.fragments import cached

    return cached("search-taxonomy-words", make=lambda: load(analyze))


def expand(parsed: ParsedQuery, words: TaxonomyWords, analyze) -> ParsedQuery:
    """``parsed`` with, in each clause, the facet values its words (typed or related) name."""
    clauses = []
    for clause in parsed.clauses:
        values: dict[tuple[str, str], None] = {}
        for item in clause:
            if item.facet is None:
                values.update(dict.fromkeys(words.values(analyze(item.text))))
        clauses.append(clause + [Item([], facet=value) for value in values])
    return replace(parsed, clauses=clauses)
