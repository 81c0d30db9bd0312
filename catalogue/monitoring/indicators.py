"""The indicators: a registry of definitions, each one grouped query on any database.

An indicator counts published things by **year** and **place**: every definition builds one ``SELECT year, place,
value … GROUP BY year, place`` where the place is the municipality or, for one municipality, the organization
(school). The filters of the page (an age group, a sphere) narrow it where they mean something; where they do
not (contest entries have no sphere) the definition says so and the page tells the reader.

A new indicator is one more entry of ``INDICATORS``.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Select, and_, distinct, exists, extract, func, select

from catalogue.contest.models import AgeCategory, Award, Entry, Nomination, Season
from catalogue.extensions import db
from catalogue.practices.models import Practice, PracticeAdoption, practice_sphere
from catalogue.projects.models import Project, ProjectReport, ProjectRun, project_age_group, project_sphere
from catalogue.taxonomy.models import AgeGroup, Organization, Sphere
from catalogue.workflow.models import Status

MUNICIPALITY = "municipality"
ORGANIZATION = "organization"


@dataclass(frozen=True)
class Filters:
    """What the page is narrowed to; ``age_group`` and ``sphere`` are taxonomy rows or None."""

    age_group: AgeGroup | None = None
    sphere: Sphere | None = None


@dataclass(frozen=True)
class Place:
    """How a query's rows are placed: by municipality, or by organization within ``municipality_id``."""

    by: str = MUNICIPALITY
    municipality_id: int | None = None


@dataclass(frozen=True)
class Indicator:
    name: str
    label: str
    unit: str  # what one counts: «проектов», «человек»
    # (filters, place) -> SELECT year, place, value GROUP BY year, place
    query: Callable[[Filters, Place], Select]
    filters: frozenset[str] = field(default_factory=lambda: frozenset({"age_group", "sphere"}))
    note: str = ""  # how it is counted, for the page and the README


def _grouped(value, year, municipality, organization, place: Place, *where) -> Select:
    key = municipality if place.by == MUNICIPALITY else organization
    stmt = select(year.label("year"), key.label("place"), value.label("value")).where(*where)
    if place.by == ORGANIZATION:
        stmt = stmt.where(municipality == place.municipality_id)
    return stmt.group_by(year, key)


def _grades_within(grade, group: AgeGroup):
    return and_(grade >= group.grade_from, grade <= group.grade_to)


def _projects(filters: Filters, place: Place) -> Select:
    where = [Project.status == Status.PUBLISHED]
    if filters.age_group:
        where.append(
            exists().where(
                project_age_group.c.project_id == Project.id, project_age_group.c.age_group_id == filters.age_group.id
            )
        )
    if filters.sphere:
        where.append(
            exists().where(project_sphere.c.project_id == Project.id, project_sphere.c.sphere_id == filters.sphere.id)
        )
    stmt = _grouped(
        func.count(Project.id),
        extract("year", Project.published_at),
        Organization.municipality_id,
        Organization.id,
        place,
        *where,
    )
    return stmt.join_from(Project, Organization, Project.organization_id == Organization.id)


def _class_work(filters: Filters, grade, project_id) -> list:
    """What narrows a class's work on a typical project (a run, a report): the class's grade within the age
    group, and the project's sphere."""
    where = []
    if filters.age_group:
        where.append(_grades_within(grade, filters.age_group))
    if filters.sphere:
        where.append(
            exists().where(project_sphere.c.project_id == project_id, project_sphere.c.sphere_id == filters.sphere.id)
        )
    return where


def _runs(value):
    """Classes that took a typical project into work («Взять в работу»), by the year they began and the school's
    municipality (copied onto the run when it was recorded)."""

    def query(filters: Filters, place: Place) -> Select:
        where = [Project.status == Status.PUBLISHED, *_class_work(filters, ProjectRun.grade, ProjectRun.project_id)]
        year = extract("year", ProjectRun.started_on)
        stmt = _grouped(value(), year, ProjectRun.municipality_id, ProjectRun.organization_id, place, *where)
        return stmt.join_from(ProjectRun, Project, ProjectRun.project_id == Project.id)

    return query


def _reports(value):
    def query(filters: Filters, place: Place) -> Select:
        where = [
            ProjectReport.status == Status.PUBLISHED,
            *_class_work(filters, ProjectReport.grade, ProjectReport.project_id),
        ]
        year = extract("year", ProjectReport.finished_on)
        stmt = _grouped(value(), year, Organization.municipality_id, Organization.id, place, *where)
        return stmt.join_from(ProjectReport, Organization, ProjectReport.organization_id == Organization.id)

    return query


def _entries(value, *more_where):
    def query(filters: Filters, place: Place) -> Select:
        where = [Entry.status == Status.PUBLISHED, *more_where]
        if filters.age_group:
            where.append(_grades_within(Entry.grade, filters.age_group))
        stmt = _grouped(value(), Season.year, Organization.municipality_id, Organization.id, place, *where)
        return stmt.join_from(Entry, Season, Entry.season_id == Season.id).join(
            Organization, Entry.organization_id == Organization.id
        )

    return query


def _practice_where(filters: Filters) -> list:
    where = [Practice.status == Status.PUBLISHED]
    if filters.age_group:
        where += [Practice.grade_from <= filters.age_group.grade_to, Practice.grade_to >= filters.age_group.grade_from]
    if filters.sphere:
        where.append(
            exists().where(
                practice_sphere.c.practice_id == Practice.id, practice_sphere.c.sphere_id == filters.sphere.id
            )
        )
    return where


def _practices(filters: Filters, place: Place) -> Select:
    return _grouped(
        func.count(Practice.id),
        extract("year", Practice.published_at),
        Practice.municipality_id,
        Practice.organization_id,
        place,
        *_practice_where(filters),
    ).select_from(Practice)


def _adoptions_where_adopted(filters: Filters, place: Place) -> Select:
    stmt = _grouped(
        func.count(PracticeAdoption.id),
        extract("year", PracticeAdoption.adopted_on),
        Organization.municipality_id,
        Organization.id,
        place,
        *_practice_where(filters),
    )
    return stmt.join_from(PracticeAdoption, Practice, PracticeAdoption.practice_id == Practice.id).join(
        Organization, PracticeAdoption.organization_id == Organization.id
    )


def _adoptions_of_origin(filters: Filters, place: Place) -> Select:
    stmt = _grouped(
        func.count(PracticeAdoption.id),
        extract("year", PracticeAdoption.adopted_on),
        Practice.municipality_id,
        Practice.organization_id,
        place,
        *_practice_where(filters),
    )
    return stmt.join_from(PracticeAdoption, Practice, PracticeAdoption.practice_id == Practice.id)


_ENTRY_FILTERS = frozenset({"age_group"})

INDICATORS: list[Indicator] = [
    Indicator(
        "projects",
        "Типовые проекты опубликованы",
        "проектов",
        _projects,
        note="по году публикации и муниципалитету организации автора",
    ),
    Indicator(
        "reports",
        "Отчёты о проведении проектов",
        "отчётов",
        _reports(lambda: func.count(ProjectReport.id)),
        note="опубликованные отчёты классов, по году окончания проекта; возраст — по классу",
    ),
    Indicator(
        "pupils",
        "Обучающихся в проектах (по отчётам)",
        "человек",
        _reports(lambda: func.coalesce(func.sum(ProjectReport.participants), 0)),
        note="сумма участников в опубликованных отчётах",
    ),
    Indicator(
        "entries",
        "Конкурсные работы",
        "работ",
        _entries(lambda: func.count(Entry.id)),
        _ENTRY_FILTERS,
        note="допущенные работы «СоЗДателя», по году сезона и школе автора",
    ),
    Indicator(
        "participants",
        "Участники конкурса",
        "человек",
        _entries(lambda: func.count(distinct(Entry.author_id))),
        _ENTRY_FILTERS,
        note="авторы допущенных работ, каждый один раз в сезоне и школе",
    ),
    Indicator(
        "winners",
        "Победители и призёры конкурса",
        "человек",
        _entries(
            lambda: func.count(distinct(Entry.author_id)),
            Entry.award.in_([Award.WINNER, Award.PRIZE]),
            Season.results_published_at.is_not(None),
        ),
        _ENTRY_FILTERS,
        note="по опубликованным итогам сезона",
    ),
    Indicator(
        "practices",
        "Лучшие практики опубликованы",
        "практик",
        _practices,
        note="по году публикации и муниципалитету организации-автора",
    ),
    Indicator(
        "adoptions",
        "Внедрения практик (где внедрили)",
        "внедрений",
        _adoptions_where_adopted,
        note="отметки «Внедрили у себя», по муниципалитету внедрившей организации и году внедрения",
    ),
    Indicator(
        "adoptions_origin",
        "Внедрения практик (чьи практики)",
        "внедрений",
        _adoptions_of_origin,
        note="те же отметки по муниципалитету, откуда практика",
    ),
    Indicator(
        "runs",
        "Классы, взявшие проект в работу",
        "классов",
        _runs(lambda: func.count(ProjectRun.id)),
        note="отметки «Взять в работу» опубликованных проектов, по году начала и муниципалитету школы; "
        "возраст — по классу",
    ),
    Indicator(
        "projects_in_class",
        "Типовые проекты, взятые в работу",
        "проектов",
        _runs(lambda: func.count(distinct(ProjectRun.project_id))),
        note="разные проекты, которые хотя бы один класс взял в работу, в году и муниципалитете",
    ),
]
BY_NAME = {i.name: i for i in INDICATORS}
# The charts' indicator until the reader picks another: the pupils who took part in project work, the key result
# of the roadmap's item 3.
DEFAULT_CHART = "pupils"


def cube(indicator: Indicator, filters: Filters, place: Place = Place()) -> dict[tuple[int, int], int]:
    """``{(year, place id): value}`` of one indicator: one query."""
    rows = db.session.execute(indicator.query(filters, place))
    return {(int(year), key): int(value) for year, key, value in rows if year is not None and key is not None}


# -- the contest's participants by age category and by nomination, for one season ---------------------------


@dataclass(frozen=True)
class Breakdown:
    name: str
    label: str
    column: object  # what the rows are grouped by


BREAKDOWNS = [
    Breakdown("by_category", "Участники конкурса по возрастным категориям", AgeCategory.name),
    Breakdown("by_nomination", "Участники конкурса по номинациям", Nomination.name),
]


def breakdown(item: Breakdown, year: int, filters: Filters) -> dict[str, int]:
    """``{category or nomination: participants}`` in the season of ``year``: one query."""
    where = [Entry.status == Status.PUBLISHED, Season.year == year]
    if filters.age_group:
        where.append(_grades_within(Entry.grade, filters.age_group))
    stmt = (
        select(item.column, func.count(distinct(Entry.author_id)))
        .join_from(Entry, Season, Entry.season_id == Season.id)
        .join(AgeCategory, Entry.age_category_id == AgeCategory.id)
        .join(Nomination, Entry.nomination_id == Nomination.id)
        .where(*where)
        .group_by(item.column)
    )
    return {name: int(count) for name, count in db.session.execute(stmt)}
