"""`/monitoring/` and its downloads: the same numbers as a page (tables and SVG charts) and as CSV and XLSX."""

from flask import Blueprint, request
from flask_login import current_user
from wtforms import SelectField
from wtforms.validators import Optional

from catalogue.exports import csv_download, xlsx_download
from catalogue.forms import QueryForm, choices
from catalogue.htmx import render
from catalogue.monitoring import charts, services
from catalogue.monitoring import indicators as ind
from catalogue.taxonomy.services import age_groups, municipalities, spheres

bp = Blueprint("monitoring", __name__, url_prefix="/monitoring")


class MonitoringFilterForm(QueryForm):
    year = SelectField("Год", validators=[Optional()])
    age = SelectField("Возрастная группа", validators=[Optional()])
    sphere = SelectField("Сфера", validators=[Optional()])
    indicator = SelectField(
        "Показатель на графиках",
        choices=choices((i.name, i.label) for i in ind.INDICATORS),
        default=ind.DEFAULT_CHART,
        validators=[Optional()],
    )
    municipality = SelectField("Школы муниципалитета", validators=[Optional()])


def _read_request():
    """The viewer, the filter form and the dashboard the request asks for (unknown values: the defaults)."""
    viewer = services.viewer_for(current_user)
    places = municipalities()
    groups, sphere_rows = age_groups(), spheres()
    form = MonitoringFilterForm(request.args)
    form.age.choices = choices([("", "Все возрасты")] + [(g.slug, g.name) for g in groups])
    form.sphere.choices = choices([("", "Все сферы")] + [(s.slug, s.name) for s in sphere_rows])
    form.municipality.choices = choices([("", "— не показывать —")] + [(str(m.id), m.name) for m in places])
    args = request.args
    filters = ind.Filters(
        age_group=next((g for g in groups if g.slug == args.get("age")), None),
        sphere=next((s for s in sphere_rows if s.slug == args.get("sphere")), None),
    )
    year = args.get("year", "")
    schools_of = viewer.own_municipality
    if viewer.choose:
        schools_of = next((m for m in places if str(m.id) == args.get("municipality")), None)
    data = services.dashboard(
        viewer,
        filters,
        places,
        groups,
        int(year) if year.isascii() and year.isdigit() and len(year) == 4 else None,
        schools_of,
    )
    form.year.choices = choices([(str(y), str(y)) for y in reversed(data.years)])
    form.year.data = str(data.year)
    if form.indicator.data not in ind.BY_NAME:
        form.indicator.data = ind.DEFAULT_CHART
    if not viewer.choose:
        del form.municipality
    return viewer, form, filters, data


@bp.get("/")
def index():
    """The roadmap's numbers: by year, by municipality (bars and a tile map), the contest's participants, and the
    schools for those allowed to see them."""
    viewer, form, filters, data = _read_request()
    chosen = data.chart(form.indicator.data)
    by_name = {m.name: chosen.by_municipality.cells.get(m.id) for m in data.municipalities}
    top = max((c.value for c in chosen.by_municipality.cells.values() if not c.hidden), default=0)
    return render(
        "monitoring/index.html",
        block="results",
        viewer=viewer,
        form=form,
        filters=filters,
        data=data,
        chosen=chosen,
        bars=charts.bars([(m.name, chosen.by_municipality.cells[m.id]) for m in data.municipalities]),
        columns=charts.columns([(str(y), chosen.by_year.cells[y]) for y in data.years]),
        tiles=charts.tiles(by_name),
        legend=charts.legend(top),
        tile_size=(charts.TILE_W, charts.TILE_H, charts.GAP),
    )


HEADER = ["Таблица", "Показатель", "Год", "Где", "Значение", "Единица"]


def _rows(data: services.Dashboard, filters: ind.Filters):
    """Every table of the page as rows of one sheet: the header, then by year, by municipality, the breakdowns
    and the schools; hidden cells as their words («менее 5», «скрыто»)."""
    narrowed = ", ".join(
        part for part in (filters.age_group and filters.age_group.name, filters.sphere and filters.sphere.name) if part
    )
    yield [*HEADER, "Фильтр"]
    for n in data.numbers:
        for year in data.years:
            cell = n.by_year.cells[year]
            yield ["По годам", n.indicator.label, year, "Иркутская область", cell.cell, n.indicator.unit, narrowed]
        if n.by_year.total is not None:
            yield [
                "По годам",
                n.indicator.label,
                "всего",
                "Иркутская область",
                n.by_year.total.cell,
                n.indicator.unit,
                narrowed,
            ]
    for n in data.numbers:
        for m in data.municipalities:
            cell = n.by_municipality.cells[m.id]
            yield ["По муниципалитетам", n.indicator.label, data.year, m.name, cell.cell, n.indicator.unit, narrowed]
        yield [
            "По муниципалитетам",
            n.indicator.label,
            data.year,
            "итого",
            n.by_municipality.total.cell,
            n.indicator.unit,
            narrowed,
        ]
    for breakdown, table in data.breakdowns:
        for name, cell in sorted(table.cells.items()):
            yield [breakdown.label, "Участники конкурса", data.year, name, cell.cell, "человек", narrowed]
        yield [breakdown.label, "Участники конкурса", data.year, "итого", table.total.cell, "человек", narrowed]
    if data.schools_of is not None:
        for organization, cells in data.schools:
            for n, cell in zip(data.numbers, cells, strict=True):
                yield [
                    f"Школы: {data.schools_of.name}",
                    n.indicator.label,
                    data.year,
                    organization.name,
                    cell.cell,
                    n.indicator.unit,
                    narrowed,
                ]


@bp.get("/indicators.csv")
def indicators_csv():
    """Every table of the page, with the same filters, as CSV for the Russian Excel."""
    _viewer, _form, filters, data = _read_request()
    return csv_download(_rows(data, filters), f"monitoring-{data.year}.csv")


@bp.get("/indicators.xlsx")
def indicators_xlsx():
    """The same as XLSX."""
    _viewer, _form, filters, data = _read_request()
    return xlsx_download(_rows(data, filters), f"monitoring-{data.year}.xlsx", "Мониторинг")
