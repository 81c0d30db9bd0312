"""The API's OpenAPI 3.1 document, written as data; ``tests/test_api.py`` validates every real answer against it."""

from catalogue.urls import external_url


def _nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
DATE = {"type": "string", "format": "date"}
MOMENT = {"type": "string", "format": "date-time"}
URL = {"type": "string", "format": "uri"}


def _object(properties: dict, optional: tuple = ()) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


TERM = _object({"slug": STRING, "name": STRING})
STEP = _object({"title": STRING, "description": STRING})
ID_NAME = _object({"id": INTEGER, "name": STRING})
ORGANIZATION = _object({"name": STRING, "municipality": ID_NAME})

SCHEMAS = {
    "Term": TERM,
    "Organization": ORGANIZATION,
    "Project": _object(
        {
            "id": INTEGER,
            "title": STRING,
            "url": URL,
            "summary": STRING,
            "goal": STRING,
            "expected_results": STRING,
            "resources": STRING,
            "format": _ref("Term"),
            "duration_weeks": INTEGER,
            "age_groups": {"type": "array", "items": _ref("Term")},
            "spheres": {"type": "array", "items": _ref("Term")},
            "author": _nullable({"type": "string", "description": "«Имя Ф.», как на страницах сайта"}),
            "organization": _nullable(_ref("Organization")),
            "published_at": _nullable(MOMENT),
            "stages": {"type": "array", "items": STEP},
        }
    ),
    "Practice": _object(
        {
            "id": INTEGER,
            "title": STRING,
            "url": URL,
            "summary": STRING,
            "description": STRING,
            "organization": _nullable(_ref("Organization")),
            "municipality": ID_NAME,
            "roadmap_items": {"type": "array", "items": _object({"number": INTEGER, "title": STRING})},
            "grade_from": INTEGER,
            "grade_to": INTEGER,
            "spheres": {"type": "array", "items": _ref("Term")},
            "participants": _nullable(INTEGER),
            "student_share": _nullable(INTEGER),
            "period_from": DATE,
            "period_to": _nullable(DATE),
            "results": STRING,
            "resources": STRING,
            "contacts": STRING,
            "adoption_count": INTEGER,
            "published_at": _nullable(MOMENT),
            "steps": {"type": "array", "items": STEP},
        }
    ),
    "Report": _object(
        {
            "id": INTEGER,
            "title": STRING,
            "url": URL,
            "project": _object({"id": INTEGER, "title": STRING}),
            "organization": _nullable(_ref("Organization")),
            "class_name": STRING,
            "grade": INTEGER,
            "started_on": DATE,
            "finished_on": DATE,
            "participants": INTEGER,
            "body": STRING,
            "results": STRING,
            "published_at": _nullable(MOMENT),
        }
    ),
    "Season": _object(
        {
            "year": INTEGER,
            "title": STRING,
            "url": URL,
            "submission_opens": DATE,
            "submission_closes": DATE,
            "judging_opens": DATE,
            "judging_closes": DATE,
            "results_date": DATE,
            "results_published": {"type": "boolean"},
            "nominations": {"type": "array", "items": _object({"id": INTEGER, "name": STRING, "description": STRING})},
            "age_categories": {
                "type": "array",
                "items": _object({"id": INTEGER, "name": STRING, "grade_from": INTEGER, "grade_to": INTEGER}),
            },
        }
    ),
    "Entry": _object(
        {
            "id": INTEGER,
            "title": STRING,
            "url": URL,
            "season": INTEGER,
            "nomination": ID_NAME,
            "age_category": ID_NAME,
            "description": STRING,
            "software": STRING,
            "author": _nullable(
                {"type": "string", "description": "«Имя Ф.» школьника; null, пока жюри оценивает работы вслепую"}
            ),
            "grade": _nullable(INTEGER),
            "organization": _nullable(_ref("Organization")),
            "municipality": _nullable(STRING),
            "award": _nullable({"enum": ["winner", "prize", "participant"]}),
            "award_label": _nullable(STRING),
            "place": _nullable(INTEGER),
        }
    ),
    "Links": _object({"self": URL, "next": _nullable(URL), "prev": _nullable(URL)}),
    "Meta": _object({"total": INTEGER, "limit": INTEGER}),
    "Error": _object({"error": _object({"code": STRING, "message": STRING})}),
}


def _page_of(name: str) -> dict:
    return _object({"data": {"type": "array", "items": _ref(name)}, "links": _ref("Links"), "meta": _ref("Meta")})


def _whole(item: dict, **extra) -> dict:
    return _object({"data": {"type": "array", "items": item}, **extra})


def _query(name: str, description: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema or STRING}


def _path(name: str, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": INTEGER}


PAGING = [
    _query("limit", "Сколько записей на странице, от 1 до 100 (по умолчанию 20).", {"type": "integer"}),
    _query("after", "Курсор: записи после него (из links.next)."),
    _query("before", "Курсор: записи перед ним (из links.prev)."),
]


def _answer(schema: dict, description: str = "Успешный ответ") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    "304": {"description": "Не изменилось с прошлого раза (If-None-Match совпал с ETag)"},
    "400": _answer(_ref("Error"), "Неверный фильтр, limit или курсор"),
    "429": _answer(_ref("Error"), "Слишком много запросов; Retry-After говорит, сколько секунд подождать"),
}
NOT_FOUND = {"404": _answer(_ref("Error"), "Нет такой опубликованной записи")}


def _get(summary: str, schema: dict, parameters: list | None = None, not_found: bool = False) -> dict:
    responses = {"200": _answer(schema), **ERRORS, **(NOT_FOUND if not_found else {})}
    return {"get": {"summary": summary, "parameters": parameters or [], "responses": responses}}


# Each path: (summary, response schema, parameters, has a 404). The test walks this table.
PATHS = {
    "/projects": _get(
        "Опубликованные типовые проекты с этапами",
        _page_of("Project"),
        [
            _query("age", "Возрастная группа (slug из /age-groups)"),
            _query("sphere", "Сфера (slug из /spheres)"),
            _query("format", "Формат (slug из /formats)"),
            _query("duration", "Продолжительность (slug из /formats, durations)"),
            _query("sort", "new — сначала новые, title — по названию", {"enum": ["new", "title"]}),
            *PAGING,
        ],
    ),
    "/projects/{id}": _get("Один типовой проект", _object({"data": _ref("Project")}), [_path("id", "Номер")], True),
    "/practices": _get(
        "Опубликованные лучшие практики с шагами",
        _page_of("Practice"),
        [
            _query("item", "Пункт дорожной карты (1–13)"),
            _query("municipality", "Муниципальное образование (id из /municipalities)"),
            _query("grade", "Класс (6–11)"),
            _query("sphere", "Сфера (slug из /spheres)"),
            _query("sort", "new — сначала новые, adopted — чаще внедряют", {"enum": ["new", "adopted"]}),
            *PAGING,
        ],
    ),
    "/practices/{id}": _get("Одна практика", _object({"data": _ref("Practice")}), [_path("id", "Номер")], True),
    "/reports": _get(
        "Опубликованные отчёты классов о типовых проектах, сначала новые",
        _page_of("Report"),
        [_query("project", "Номер типового проекта", {"type": "integer"}), *PAGING],
    ),
    "/reports/{id}": _get("Один отчёт", _object({"data": _ref("Report")}), [_path("id", "Номер")], True),
    "/contest/seasons": _get("Сезоны конкурса «СоЗДатель» с номинациями и категориями", _whole(_ref("Season"))),
    "/contest/seasons/{year}": _get(
        "Один сезон", _object({"data": _ref("Season")}), [_path("year", "Год сезона")], True
    ),
    "/contest/entries": _get(
        "Допущенные конкурсные работы, как их показывает галерея; итоги — после их публикации",
        _page_of("Entry"),
        [
            _query("season", "Год сезона; с ним — порядок галереи и фильтры ниже", {"type": "integer"}),
            _query("nomination", "Номинация (id из /contest/seasons)", {"type": "integer"}),
            _query("age", "Возрастная категория (id из /contest/seasons)", {"type": "integer"}),
            _query("municipality", "Муниципальное образование (id)", {"type": "integer"}),
            *PAGING,
        ],
    ),
    "/contest/entries/{id}": _get(
        "Одна конкурсная работа", _object({"data": _ref("Entry")}), [_path("id", "Номер")], True
    ),
    "/municipalities": _get(
        "Муниципальные образования Иркутской области",
        _whole(_object({"id": INTEGER, "name": STRING, "kind": STRING})),
    ),
    "/age-groups": _get(
        "Возрастные группы типовых проектов",
        _whole(_object({"slug": STRING, "name": STRING, "grade_from": INTEGER, "grade_to": INTEGER})),
    ),
    "/spheres": _get(
        "Профессиональные сферы", _whole(_object({"slug": STRING, "name": STRING, "description": STRING}))
    ),
    "/formats": _get(
        "Форматы и продолжительности типовых проектов",
        _whole(
            _ref("Term"),
            durations={
                "type": "array",
                "items": _object({"slug": STRING, "name": STRING, "weeks_from": INTEGER, "weeks_to": INTEGER}),
            },
        ),
    ),
    "/nominations": _get(
        "Номинации и возрастные категории всех сезонов конкурса",
        _whole(
            _object({"id": INTEGER, "name": STRING, "season": INTEGER}),
            age_categories={"type": "array", "items": _object({"id": INTEGER, "name": STRING, "season": INTEGER})},
        ),
    ),
    "/openapi.json": {
        "get": {
            "summary": "Этот документ (OpenAPI 3.1)",
            "parameters": [],
            "responses": {"200": _answer({"type": "object", "required": ["openapi", "paths"]})},
        }
    },
}


def document() -> dict:
    """The whole document, with the server's absolute address."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Профориентация Приангарья: открытый API",
            "version": "1",
            "description": (
                "Всё опубликованное на сайте, только чтение, JSON. Списки — по курсорам (links.next, links.prev), "
                "limit от 1 до 100. ETag и 304, CORS для GET, не больше 600 запросов в минуту с адреса. "
                "Персональных данных нет: школьники — в форме «Имя Ф.», как на страницах сайта."
            ),
        },
        "servers": [{"url": external_url("api.guide").rstrip("/") + "/v1"}],
        "paths": PATHS,
        "components": {"schemas": SCHEMAS},
    }
