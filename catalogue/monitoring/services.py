"""The dashboard's numbers for one viewer: indicators by year, municipality and school, with the privacy rule.

Who sees what: the public and everyone without a monitoring role see the protected aggregates
(:mod:`catalogue.monitoring.privacy`); a municipal coordinator sees their own municipality's numbers as they are
and its schools one by one, other municipalities protected; administrators and moderators see everything, and
the schools of any municipality they choose.
"""

from dataclasses import dataclass

from sqlalchemy import select

from catalogue import fragments
from catalogue.clock import local_today
from catalogue.extensions import db
from catalogue.monitoring import indicators as ind
from catalogue.monitoring.models import CoordinatedMunicipality
from catalogue.monitoring.privacy import Cell, Table, protect, protect_series
from catalogue.permissions import InvalidInput, require_role
from catalogue.roles import Role
from catalogue.taxonomy.models import Municipality, Organization


@dataclass(frozen=True)
class Viewer:
    """What a person may see: ``known`` municipalities' numbers as they are (None: all of them); the organizations
    of ``own_municipality`` (a coordinator's), or of any municipality chosen on the page (``choose``)."""

    known: frozenset[int] | None
    own_municipality: Municipality | None = None
    choose: bool = False

    @property
    def is_public(self) -> bool:
        return self.known is not None and not self.known


PUBLIC = Viewer(frozenset())


def coordinated_municipality(user) -> Municipality | None:
    """The municipality ``user`` coordinates, or None (not a coordinator, or none assigned yet)."""
    if not user.is_authenticated or not user.has_role(Role.COORDINATOR):
        return None
    row = db.session.get(CoordinatedMunicipality, user.id)
    return row.municipality if row else None


def viewer_for(user) -> Viewer:
    if user.is_authenticated and user.is_active and user.has_role(Role.ADMIN, Role.MODERATOR):
        return Viewer(None, choose=True)
    municipality = coordinated_municipality(user) if user.is_authenticated and user.is_active else None
    if municipality is not None:
        return Viewer(frozenset({municipality.id}), own_municipality=municipality)
    return PUBLIC


def set_coordinated_municipality(actor, user, municipality_id: int | None) -> None:
    """An administrator records (or clears, with None) the municipality ``user`` coordinates; the caller commits.

    :raise PermissionDenied: ``actor`` is not an administrator.
    :raise InvalidInput: a coordinator without a municipality, or no such municipality.
    """
    require_role(actor, Role.ADMIN)
    if user.has_role(Role.COORDINATOR) and (
        municipality_id is None or db.session.get(Municipality, municipality_id) is None
    ):
        raise InvalidInput(
            "Выберите муниципальное образование, которое координирует пользователь.", "coordinated_municipality_id"
        )
    if not user.has_role(Role.COORDINATOR):
        municipality_id = None
    row = db.session.get(CoordinatedMunicipality, user.id)
    if municipality_id is None:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(CoordinatedMunicipality(user_id=user.id, municipality_id=municipality_id))
    else:
        row.municipality_id = municipality_id


@dataclass
class IndicatorNumbers:
    indicator: ind.Indicator
    by_year: Table  # {year: Cell}
    by_municipality: Table  # {municipality id: Cell} for the chosen year
    applies: bool  # False: a filter of the page does not apply to it (it is counted without that filter)


@dataclass
class Dashboard:
    years: list[int]
    year: int
    municipalities: list[Municipality]
    numbers: list[IndicatorNumbers]
    breakdowns: list[tuple[ind.Breakdown, Table]]
    schools_of: Municipality | None
    schools: list[tuple[Organization, list[Cell]]]

    def chart(self, name: str) -> IndicatorNumbers:
        return next((n for n in self.numbers if n.indicator.name == name), None) or self.chart(ind.DEFAULT_CHART)


def dashboard(
    viewer: Viewer, filters: ind.Filters, municipalities: list[Municipality], year: int | None, schools_of=None
) -> Dashboard:
    """Every indicator by year and by municipality, the contest's breakdowns and, when allowed, the schools of
    ``schools_of``: one query per indicator, one per breakdown, and for the schools one per indicator and one for
    the organizations; the counts are kept per content generation."""
    # The counts are the same for everybody (only what is hidden differs): made once per content generation.
    key = (filters.age_group.slug if filters.age_group else "", filters.sphere.slug if filters.sphere else "")
    cubes = fragments.cached("monitoring.cubes", *key, make=lambda: [(i, ind.cube(i, filters)) for i in ind.INDICATORS])
    years = sorted({y for _, cube in cubes for y, _ in cube}) or [local_today().year]
    if year not in years:
        this_year = local_today().year
        year = this_year if this_year in years else max([y for y in years if y <= this_year] or years)
    ids = [m.id for m in municipalities]
    numbers = []
    for indicator, cube in cubes:
        columns = {y: protect({m: cube.get((y, m), 0) for m in ids}, viewer.known) for y in years}
        totals = {y: sum(v for (yy, _), v in cube.items() if yy == y) for y in years}
        forced = [y for y, table in columns.items() if table.total.hidden]
        series = protect_series(totals, forced, everything=viewer.known is None)
        applies = not (
            (filters.age_group and "age_group" not in indicator.filters)
            or (filters.sphere and "sphere" not in indicator.filters)
        )
        numbers.append(IndicatorNumbers(indicator, series, columns[year], applies))
    counted = fragments.cached(
        "monitoring.breakdowns", *key, year, make=lambda: [ind.breakdown(b, year, filters) for b in ind.BREAKDOWNS]
    )
    breakdowns = [
        (b, protect(values, None if viewer.known is None else ()))
        for b, values in zip(ind.BREAKDOWNS, counted, strict=True)
    ]
    schools = []
    if schools_of is not None:
        place = ind.Place(ind.ORGANIZATION, schools_of.id)
        school_cubes = fragments.cached(
            "monitoring.schools",
            *key,
            schools_of.id,
            make=lambda: [ind.cube(i, filters, place) for i in ind.INDICATORS],
        )
        organizations = db.session.scalars(
            select(Organization).where(Organization.municipality_id == schools_of.id).order_by(Organization.name)
        )
        for organization in organizations:
            values = [cube.get((year, organization.id), 0) for cube in school_cubes]
            if any(values):
                schools.append((organization, [Cell(v) for v in values]))
    return Dashboard(years, year, municipalities, numbers, breakdowns, schools_of, schools)
