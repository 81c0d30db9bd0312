"""The rows of the adoption report's CSV downloads (written by ``catalogue.exports``)."""

from collections.abc import Callable, Iterator, Sequence

from catalogue.practices.services import AdoptionReport


def adoptions(report: AdoptionReport) -> Iterator[Sequence]:
    yield ("Практика", "Организация практики", "Внедрила организация", "Муниципальное образование",
           "Дата внедрения", "Комментарий", "Отметил(а)", "Отмечено")  # fmt: skip
    for a in report.adoptions:
        yield (
            a.practice.title,
            a.practice.organization.name,
            a.organization.name,
            a.organization.municipality.name,
            a.adopted_on,
            a.comment,
            a.author.full_name if a.author else "",
            a.created_at.date(),
        )


def by_municipality(report: AdoptionReport) -> Iterator[Sequence]:
    yield ("Муниципальное образование", "Внедрений", "Организаций", "Практик")
    for row in report.by_municipality:
        yield (row.municipality, row.adoptions, row.organizations, row.practices)


def by_practice(report: AdoptionReport) -> Iterator[Sequence]:
    yield ("Практика", "Организация", "Муниципальное образование", "Внедрили организаций", "Муниципалитетов")
    for row in report.by_practice:
        p = row.practice
        yield (p.title, p.organization.name, p.municipality.name, row.organizations, row.municipalities)


REPORTS: dict[str, Callable[[AdoptionReport], Iterator[Sequence]]] = {
    "adoptions": adoptions,
    "municipality": by_municipality,
    "practice": by_practice,
}
