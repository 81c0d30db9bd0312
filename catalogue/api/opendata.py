"""Open data (``/opendata/``): one set per content type in the form of the Russian open-data portals.

Per the methodological recommendations for publishing open data (version 3.0): for each set a passport
``meta.csv`` (property,value: identifier, title, description, creator, format, the current data and structure
files, dates, subject), a structure file ``structure-<version>.csv`` (field name, English and Russian
description, format) and the data ``data-<date>-structure-<version>.csv``: UTF-8, commas, a header row. The rows
are what the API shows (:mod:`catalogue.api.serialize`, so no personal data), read 200 items at a time by id and
streamed through :mod:`catalogue.exports`.
"""

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from flask import Blueprint, abort, current_app, render_template
from sqlalchemy import select
from sqlalchemy.orm import lazyload

from catalogue.api import serialize
from catalogue.clock import local
from catalogue.contest.models import Entry
from catalogue.exports import download, to_csv
from catalogue.extensions import db
from catalogue.page_cache import ContentGeneration
from catalogue.practices.models import Practice
from catalogue.projects.models import Project, ProjectReport
from catalogue.urls import external_url
from catalogue.workflow.models import Status

bp = Blueprint("opendata", __name__, url_prefix="/opendata")

STANDARD = "http://opendata.gosmonitor.ru/standard/3.0"
STRUCTURE_VERSION = "20261128"  # the date the fields below were last changed; change it with them
CREATED = dt.date(2026, 11, 28)
BATCH = 200
SUBJECT = "профориентация,образование,Иркутская область"


@dataclass(frozen=True)
class Field:
    name: str
    english: str
    russian: str
    format: str  # string, integer, date, datetime, url
    value: Callable[[dict], object]


@dataclass(frozen=True)
class DataSet:
    code: str
    title: str
    description: str
    model: type
    loading: tuple
    serialize: Callable[[list], list[dict]]
    fields: tuple[Field, ...]
    extra_where: tuple = ()


def _joined(key: str, inner: str = "name") -> Callable[[dict], str]:
    return lambda item: "; ".join(str(part[inner]) for part in item[key])


def _org(item: dict) -> str:
    return item["organization"]["name"] if item.get("organization") else ""


def _place(item: dict) -> str:
    if item.get("organization"):
        return item["organization"]["municipality"]["name"]
    municipality = item.get("municipality")
    return municipality["name"] if isinstance(municipality, dict) else municipality or ""


def _f(name: str, english: str, russian: str, kind: str = "string", value=None) -> Field:
    return Field(name, english, russian, kind, value or (lambda item: item[name]))


COMMON = (
    _f("id", "Identifier", "Номер записи на сайте", "integer"),
    _f("title", "Title", "Название"),
    _f("url", "Page address", "Адрес страницы на сайте", "url"),
)

DATASETS = {
    s.code: s
    for s in (
        DataSet(
            "projects",
            "Типовые проекты профориентации обучающихся 6–11 классов",
            "Опубликованные типовые проекты дорожной карты профориентации Иркутской области: цели, этапы, "
            "возрастные группы, профессиональные сферы.",
            Project,
            (lazyload(Project.author),),
            serialize.projects,
            (
                *COMMON,
                _f("summary", "Summary", "Краткое описание"),
                _f("goal", "Goal", "Цель"),
                _f("expected_results", "Expected results", "Ожидаемые результаты"),
                _f("format", "Format", "Формат", value=lambda i: i["format"]["name"]),
                _f("duration_weeks", "Duration, weeks", "Продолжительность, недель", "integer"),
                _f("age_groups", "Age groups", "Возрастные группы (через «; »)", value=_joined("age_groups")),
                _f("spheres", "Professional spheres", "Профессиональные сферы (через «; »)", value=_joined("spheres")),
                _f(
                    "author",
                    "Author (first name, initial)",
                    "Автор (имя и инициал фамилии)",
                    value=lambda i: i["author"] or "",
                ),
                _f("organization", "Organization", "Организация", value=_org),
                _f("municipality", "Municipality", "Муниципальное образование", value=_place),
                _f("stages", "Stages", "Этапы (через «; »)", value=_joined("stages", "title")),
                _f("published_at", "Published at (UTC)", "Дата и время публикации (UTC)", "datetime"),
            ),
        ),
        DataSet(
            "practices",
            "Лучшие профориентационные практики",
            "Опубликованные лучшие практики профориентации школ и колледжей Иркутской области: пункты дорожной "
            "карты, классы, результаты, контакты для тиражирования.",
            Practice,
            (lazyload(Practice.author),),
            serialize.practices,
            (
                *COMMON,
                _f("summary", "Summary", "Краткое описание"),
                _f("organization", "Organization", "Организация", value=_org),
                _f("municipality", "Municipality", "Муниципальное образование", value=_place),
                _f(
                    "roadmap_items",
                    "Roadmap items",
                    "Пункты дорожной карты (через «; »)",
                    value=_joined("roadmap_items", "number"),
                ),
                _f("grade_from", "From grade", "С класса", "integer"),
                _f("grade_to", "To grade", "По класс", "integer"),
                _f("spheres", "Professional spheres", "Профессиональные сферы (через «; »)", value=_joined("spheres")),
                _f("participants", "Participants", "Число участников", "integer"),
                _f("period_from", "Running since", "Реализуется с", "date"),
                _f("period_to", "Running until", "Реализуется по (пусто — продолжается)", "date"),
                _f("results", "Results", "Результаты"),
                _f("adoption_count", "Adoptions", "Сколько организаций внедрили", "integer"),
                _f("published_at", "Published at (UTC)", "Дата и время публикации (UTC)", "datetime"),
            ),
        ),
        DataSet(
            "reports",
            "Отчёты классов о реализации типовых проектов",
            "Опубликованные отчёты педагогов о том, как класс выполнил типовой проект, и его результаты.",
            ProjectReport,
            (lazyload(ProjectReport.author),),
            serialize.reports,
            (
                *COMMON,
                _f(
                    "project_id",
                    "Project identifier",
                    "Номер типового проекта",
                    "integer",
                    value=lambda i: i["project"]["id"],
                ),
                _f("organization", "Organization", "Организация", value=_org),
                _f("municipality", "Municipality", "Муниципальное образование", value=_place),
                _f("class_name", "Class", "Класс"),
                _f("grade", "Grade", "Год обучения (класс)", "integer"),
                _f("started_on", "Started on", "Дата начала", "date"),
                _f("finished_on", "Finished on", "Дата окончания", "date"),
                _f("participants", "Participants", "Число участников", "integer"),
                _f("results", "Results", "Результаты"),
                _f("published_at", "Published at (UTC)", "Дата и время публикации (UTC)", "datetime"),
            ),
            (Project.status == Status.PUBLISHED,),
        ),
        DataSet(
            "contest-entries",
            "Работы конкурса детского 3D-моделирования «СоЗДатель»",
            "Допущенные работы конкурса: сезон, номинация, возрастная категория, муниципалитет; автор (имя и "
            "инициал фамилии) — кроме сезонов, где жюри оценивает вслепую; награда и место — после публикации итогов.",
            Entry,
            (),
            serialize.entries,
            (
                *COMMON,
                _f("season", "Season (year)", "Сезон (год)", "integer"),
                _f("nomination", "Nomination", "Номинация", value=lambda i: i["nomination"]["name"]),
                _f("age_category", "Age category", "Возрастная категория", value=lambda i: i["age_category"]["name"]),
                _f(
                    "author",
                    "Author (first name, initial)",
                    "Автор (имя и инициал фамилии)",
                    value=lambda i: i["author"] or "",
                ),
                _f("grade", "Grade", "Класс", "integer"),
                _f(
                    "municipality", "Municipality", "Муниципальное образование", value=lambda i: i["municipality"] or ""
                ),
                _f("award", "Award", "Награда", value=lambda i: i["award_label"] or ""),
                _f("place", "Place", "Место", "integer"),
            ),
        ),
    )
}


def _items(dataset: DataSet) -> Iterator[dict]:
    """The set's published items as the API shows them, by id, ``BATCH`` at a time (bounded memory)."""
    model = dataset.model
    stmt = select(model).where(model.status == Status.PUBLISHED, *dataset.extra_where).options(*dataset.loading)
    if dataset.extra_where:
        stmt = stmt.join(Project, Project.id == ProjectReport.project_id)
    last = 0
    while True:
        batch = list(db.session.scalars(stmt.where(model.id > last).order_by(model.id).limit(BATCH)))
        if not batch:
            return
        yield from dataset.serialize(batch)
        last = batch[-1].id


def _rows(dataset: DataSet) -> Iterator[list]:
    yield [f.name for f in dataset.fields]
    for item in _items(dataset):
        yield [f.value(item) for f in dataset.fields]


def modified() -> dt.datetime:
    """When public content last changed (the page cache's generation): the data files' version."""
    row = db.session.get(ContentGeneration, 1)
    return local(row.changed_at) if row is not None else local(dt.datetime(2026, 11, 28))


def data_name(at: dt.datetime | None = None) -> str:
    return f"data-{(at or modified()):%Y%m%d}-structure-{STRUCTURE_VERSION}.csv"


def structure_name() -> str:
    return f"structure-{STRUCTURE_VERSION}.csv"


def identifier(dataset: DataSet) -> str:
    """ИНН of the operator and the set's code, as the recommendations ask (the code alone while ``OPERATOR_INN``
    is not set)."""
    inn = current_app.config.get("OPERATOR_INN") or ""
    return f"{inn}-{dataset.code}" if inn else dataset.code


def _file(dataset: DataSet, name: str) -> str:
    return external_url("opendata.file", code=dataset.code, name=name)


def passport(dataset: DataSet) -> list[list[str]]:
    at = modified()
    return [
        ["property", "value"],
        ["standardversion", STANDARD],
        ["identifier", identifier(dataset)],
        ["title", dataset.title],
        ["description", dataset.description],
        ["creator", current_app.config.get("OPERATOR_NAME") or ""],
        ["format", "csv"],
        [data_name(at).removesuffix(".csv"), _file(dataset, data_name(at))],
        [structure_name().removesuffix(".csv"), _file(dataset, structure_name())],
        ["created", CREATED.strftime("%Y%m%d")],
        ["modified", f"{at:%Y%m%d}"],
        ["provenance", "Набор обновляется автоматически при каждой публикации на сайте."],
        ["valid", ""],
        ["subject", SUBJECT],
    ]


def _csv(rows, filename: str):
    response = download(to_csv(rows, delimiter=",", bom=False), filename, "text/csv; charset=utf-8")
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/")
def index():
    """«Открытые данные»: the sets, each with its passport, structure and data."""
    at = modified()
    return render_template(
        "api/opendata.html", datasets=DATASETS.values(), data_name=data_name(at), structure_name=structure_name(),
        identifier=identifier, modified=at,
    )  # fmt: skip


@bp.get("/<code>/<name>")
def file(code: str, name: str):
    """A set's passport, structure or data file. :raise 404: no such set, or not the current file's name."""
    dataset = DATASETS.get(code)
    if dataset is None:
        abort(404)
    if name == "meta.csv":
        return _csv(passport(dataset), f"{code}-meta.csv")
    if name == structure_name():
        rows = [["field name", "english description", "russian description", "format"]] + [
            [f.name, f.english, f.russian, f.format] for f in dataset.fields
        ]
        return _csv(rows, f"{code}-{name}")
    if name == data_name():
        return _csv(_rows(dataset), f"{code}-{name}")
    abort(404)
