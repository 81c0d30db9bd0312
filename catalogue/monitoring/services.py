"""The dashboard's numbers for one viewer: indicators by year, municipality and school, with the privacy rule.

Who sees what: the public and everyone without a monitoring role see the protected aggregates
(:mod:`catalogue.monitoring.privacy`); a municipal coordinator sees their own municipality's numbers as they are
and its schools one by one, other municipalities protected; administrators and moderators see everything, and
the schools of any municipality they choose.
"""

from dataclasses import dataclass

from sqlalchemy import select

from catalogue import fragments
from catalogue.accounts.coordinators import coordinated_municipality
from catalogue.clock import local_today
from catalogue.extensions import db
from catalogue.monitoring import indicators as ind
from catalogue.monitoring.privacy import Cell, Table, protect, protect_grid
from catalogue.roles import Role
from catalogue.taxonomy.models import AgeGroup, Municipality, Organization


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


def viewer_for(user) -> Viewer:
    if user.is_authenticated and user.is_active and user.has_role(Role.ADMIN, Role.MODERATOR):
        return Viewer(None, choose=True)
    municipality = coordinated_municipality(user) if user.is_authenticated and user.is_active else None
    if municipality is not None:
        return Viewer(frozenset({municipality.id}), own_municipality=municipality)
    return PUBLIC


@dataclass
class IndicatorNumbers:
    indicator: ind.Indicator
    by_year: Table  # {year: Cell}; the total over the years is None for those who do not see everything
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


REGION = "region"  # the row of the region's totals in a year's table


def dashboard(
    viewer: Viewer,
    filters: ind.Filters,
    municipalities: list[Municipality],
    groups: list[AgeGroup],
    year: int | None,
    schools_of=None,
) -> Dashboard:
    """Every indicator by year and by municipality, the contest's breakdowns and, when allowed, the schools of
    ``schools_of``, with what the viewer may not see hidden.

    A year's numbers are protected as one table of municipalities (and the region) by all ages and by each age
    group (:func:`privacy.protect_grid`), so that no filter's numbers, taken from another's, tell a hidden one: one
    query per indicator and age choice, one per breakdown, and for the schools one per indicator and one for the
    organizations. The counts are the same for everybody and are kept per content generation.
    """
    sphere = filters.sphere.slug if filters.sphere else ""

    def count():
        narrowed = [("", ind.Filters(sphere=filters.sphere))]
        narrowed += [(g.slug, ind.Filters(age_group=g, sphere=filters.sphere)) for g in groups]
        return {i.name: {slug: ind.cube(i, f) for slug, f in narrowed} for i in ind.INDICATORS}

    cubes = fragments.cached("monitoring.cubes", sphere, make=count)
    years = sorted({y for by_age in cubes.values() for y, _ in by_age[""]}) or [local_today().year]
    if year not in years:
        this_year = local_today().year
        year = this_year if this_year in years else max([y for y in years if y <= this_year] or years)
    column = filters.age_group.slug if filters.age_group else ""
    ids = [m.id for m in municipalities]
    numbers, participants_total = [], None
    for indicator in ind.INDICATORS:
        by_age = cubes[indicator.name]
        by_year = {}
        for y in years:
            grid = {}
            for slug, cube in by_age.items():
                grid.update({(m, slug): cube.get((y, m), 0) for m in ids})
                grid[(REGION, slug)] = sum(v for (yy, _), v in cube.items() if yy == y)
            by_year[y] = (grid, protect_grid(grid, viewer.known))
        grid, cells = by_year[year]
        by_municipality = Table({m: cells[(m, column)] for m in ids}, cells[(REGION, column)])
        year_cells = {y: cells_y[(REGION, column)] for y, (_, cells_y) in by_year.items()}
        # The sum over the years only for those who see everything: the public could take one filter's sum from
        # another's and learn a hidden year.
        total = Cell(sum(grid_y[(REGION, column)] for grid_y, _ in by_year.values())) if viewer.known is None else None
        applies = not (
            (filters.age_group and "age_group" not in indicator.filters)
            or (filters.sphere and "sphere" not in indicator.filters)
        )
        numbers.append(IndicatorNumbers(indicator, Table(year_cells, total), by_municipality, applies))
        if indicator.name == "participants":
            participants_total = by_municipality.total
    counted = fragments.cached(
        "monitoring.breakdowns",
        column,
        year,
        make=lambda: [ind.breakdown(b, year, ind.Filters(age_group=filters.age_group)) for b in ind.BREAKDOWNS],
    )
    # A breakdown adds up to about the participants' total: hidden there, it is hidden here too.
    hide_total = participants_total is not None and participants_total.hidden
    breakdowns = [
        (b, protect(values, None if viewer.known is None else (), hide_total=hide_total))
        for b, values in zip(ind.BREAKDOWNS, counted, strict=True)
    ]
    schools = []
    if schools_of is not None:
        place = ind.Place(ind.ORGANIZATION, schools_of.id)
        school_cubes = fragments.cached(
            "monitoring.schools",
            column,
            sphere,
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
