"""The six facets: their headings, and the labels of their values (the index holds keys, not labels)."""

from collections.abc import Callable, Collection
from dataclasses import dataclass

from sqlalchemy import select

from catalogue.extensions import db
from catalogue.forms import bounded_int
from catalogue.search import registry
from catalogue.taxonomy.models import AgeGroup, Municipality, Sphere

Labels = Callable[[Collection[str]], dict[str, str]]


def _type_labels(values: Collection[str]) -> dict[str, str]:
    return {t.key: t.type_label() for t in registry.all_types() if t.key in values}


def _age_labels(values: Collection[str]) -> dict[str, str]:
    rows = db.session.execute(
        select(AgeGroup.slug, AgeGroup.name).where(AgeGroup.slug.in_(values)).order_by(AgeGroup.position)
    )
    return dict(rows.all())


def _sphere_labels(values: Collection[str]) -> dict[str, str]:
    rows = db.session.execute(
        select(Sphere.slug, Sphere.name).where(Sphere.slug.in_(values)).order_by(Sphere.position, Sphere.name)
    )
    return dict(rows.all())


def _municipality_labels(values: Collection[str]) -> dict[str, str]:
    ids = [i for i in map(bounded_int, values) if i is not None]
    rows = db.session.execute(select(Municipality.id, Municipality.name).where(Municipality.id.in_(ids)))
    return {str(i): name for i, name in rows.all()}


def _labels_from_types(facet: str) -> Labels:
    """Labels that the content types bring (the contest brings its seasons and nominations)."""

    def labels(values: Collection[str]) -> dict[str, str]:
        result: dict[str, str] = {}
        for searchable in registry.all_types():
            function = searchable.facet_labels.get(facet)
            if function is not None:
                result.update(function(values))
        return result

    return labels


@dataclass(frozen=True)
class Facet:
    key: str  # the URL parameter and the index field
    title: str
    labels: Labels
    ordered_by_label: bool  # values in the labels' order (age groups by grade); else the most frequent first


FACETS = (
    Facet("type", "Раздел", _type_labels, True),
    Facet("age", "Возрастная группа", _age_labels, True),
    Facet("sphere", "Профессиональная сфера", _sphere_labels, False),
    Facet("municipality", "Муниципальное образование", _municipality_labels, False),
    Facet("season", "Сезон конкурса", _labels_from_types("season"), True),
    Facet("nomination", "Номинация", _labels_from_types("nomination"), False),
)
BY_KEY = {facet.key: facet for facet in FACETS}
