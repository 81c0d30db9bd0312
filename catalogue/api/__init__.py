"""The public JSON API (``/api/v1/``): everything published, read-only, and its OpenAPI document.

Lists take the filters of their pages (the same parsing: ``projects.views.catalogue_filters`` and the others),
``limit`` (1–100, default 20) and the cursors ``after``/``before`` of ``catalogue/pagination.py``; they answer
``{"data": [...], "links": {"self", "next", "prev"}, "meta": {"total", "limit"}}`` with absolute links. Every
answer has an ETag (``If-None-Match`` gets a 304), ``Cache-Control`` and CORS for GET; each client address may make
``API_RATE_LIMIT`` (600) requests a minute (:mod:`catalogue.api.ratelimit`), then gets a 429 with ``Retry-After``.
Errors are JSON too: ``{"error": {"code": "not_found", "message": "…"}}``.
"""

import json

from flask import Blueprint, Response, abort, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import lazyload
from werkzeug.exceptions import HTTPException

from catalogue.api import ratelimit, serialize
from catalogue.api.openapi import document
from catalogue.contest import entries as contest_entries
from catalogue.contest import seasons as contest_seasons
from catalogue.contest import views as contest_views
from catalogue.contest.models import AgeCategory, Entry, Nomination, Season
from catalogue.extensions import db
from catalogue.forms import bounded_int
from catalogue.pagination import Pager, paginate
from catalogue.permissions import NotFound
from catalogue.practices import services as practice_services
from catalogue.practices import views as practice_views
from catalogue.practices.models import Practice
from catalogue.projects import services as project_services
from catalogue.projects import views as project_views
from catalogue.projects.models import DURATIONS, Project, ProjectFormat, ProjectReport
from catalogue.taxonomy.services import age_groups, municipalities, spheres
from catalogue.urls import external_url
from catalogue.workflow.models import Status

bp = Blueprint("api", __name__, url_prefix="/api")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_AGE_SECONDS = 60
CURSOR_ARGS = ("after", "before")

MESSAGES = {
    400: "Неверный запрос.",
    404: "Не найдено. Проверьте адрес: список адресов API — /api/v1/openapi.json.",
    405: "Этот метод не поддерживается: API только читает данные (GET).",
    429: "Слишком много запросов с вашего адреса. Подождите и повторите запрос.",
}
CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 429: "too_many_requests"}


class BadRequest(HTTPException):
    code = 400


def _json(data, status: int = 200) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status=status, content_type="application/json; charset=utf-8")


def error(status: int, message: str | None = None) -> Response:
    return _json({"error": {"code": CODES.get(status, "error"), "message": message or MESSAGES[status]}}, status)


def _bad(message: str):
    abort(error(400, message))


def _is_v1() -> bool:
    return request.path.startswith("/api/v1/")


@bp.before_request
def _limit_rate():
    if not _is_v1() or request.method == "OPTIONS":
        return None
    wait = ratelimit.count_request(request.remote_addr or "")
    if wait is None:
        return None
    response = error(429, f"Слишком много запросов с вашего адреса: не больше {ratelimit.limit()} в минуту. "
                          f"Повторите через {wait} с.")  # fmt: skip
    response.headers["Retry-After"] = str(wait)
    return response


@bp.after_request
def _headers(response: Response) -> Response:
    if not _is_v1():
        return response
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "ETag, Retry-After"
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "If-None-Match"
        response.headers["Access-Control-Max-Age"] = "86400"
        return response
    if response.status_code == 200 and request.method in ("GET", "HEAD"):
        response.headers["Cache-Control"] = f"public, max-age={MAX_AGE_SECONDS}"
        response.add_etag()
        response.make_conditional(request)
    elif response.status_code != 304:
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(HTTPException)
def _error(exc: HTTPException):
    if exc.response is not None:  # an answer made here already (a 400 with its message)
        return exc.response
    if not _is_v1():
        return exc
    return error(exc.code if exc.code in MESSAGES else 400, None if exc.code in MESSAGES else exc.description)


# -- lists --------------------------------------------------------------------------------------


def _pager() -> tuple[Pager, int]:
    """The cursor and page size asked for. :raise 400: a limit that is not 1–100."""
    raw = request.args.get("limit")
    size = DEFAULT_LIMIT if raw is None else bounded_int(raw, MAX_LIMIT)
    if not size:
        _bad(f"Параметр limit — целое число от 1 до {MAX_LIMIT}.")
    return Pager(after=request.args.get("after", "")[:401], before=request.args.get("before", "")[:401]), size


def _link(**cursor) -> str:
    args = {k: v for k, v in request.args.items() if k not in CURSOR_ARGS}
    return external_url(request.endpoint, **(request.view_args or {}), **args, **cursor)


def _list(page, items: list[dict], size: int) -> Response:
    """The answer for one page; a cursor the list cannot read is a 400, not a silent first page."""
    if (request.args.get("after") or request.args.get("before")) and page.page is not None:
        _bad("Неверный курсор after/before: берите его из links.next и links.prev.")
    return _json(
        {
            "data": items,
            "links": {
                "self": _link(**{k: request.args[k] for k in CURSOR_ARGS if k in request.args}),
                "next": _link(after=page.after_key) if page.has_next and page.after_key else None,
                "prev": _link(before=page.before_key) if page.has_prev and page.before_key else None,
            },
            "meta": {"total": page.total, "limit": size},
        }
    )


def _filters_or_400(form, valid: bool) -> None:
    if not valid:
        wrong = ", ".join(f"{name} ({'; '.join(errors)})" for name, errors in form.errors.items())
        _bad(f"Неверное значение фильтра: {wrong}. Допустимые значения — в /api/v1/openapi.json и справочниках.")


def _item(items: list[dict]) -> Response:
    if not items:
        abort(404)
    return _json({"data": items[0]})


@bp.get("/v1/projects")
def projects():
    pager, size = _pager()
    form, filters, valid = project_views.catalogue_filters(request.args, pager)
    _filters_or_400(form, valid)
    filters.per_page = size
    page = project_services.published_projects(filters)
    return _list(page, serialize.projects(page.items), size)


@bp.get("/v1/projects/<int:item_id>")
def project(item_id: int):
    found = db.session.scalars(
        select(Project)
        .where(Project.id == item_id, Project.status == Status.PUBLISHED)
        .options(lazyload(Project.author))
    ).all()
    return _item(serialize.projects(list(found)))


@bp.get("/v1/practices")
def practices():
    pager, size = _pager()
    form, filters, valid = practice_views.catalogue_filters(request.args, pager)
    _filters_or_400(form, valid)
    filters.per_page = size
    page = practice_services.published_practices(filters)
    return _list(page, serialize.practices(page.items), size)


@bp.get("/v1/practices/<int:item_id>")
def practice(item_id: int):
    found = db.session.scalars(
        select(Practice)
        .where(Practice.id == item_id, Practice.status == Status.PUBLISHED)
        .options(*practice_services.CARD_LOADING)
    ).all()
    return _item(serialize.practices(list(found)))


def _published_reports():
    return (
        select(ProjectReport)
        .join(Project, Project.id == ProjectReport.project_id)
        .where(ProjectReport.status == Status.PUBLISHED, Project.status == Status.PUBLISHED)
        .options(lazyload(ProjectReport.author))
    )


@bp.get("/v1/reports")
def reports():
    pager, size = _pager()
    stmt = _published_reports()
    if "project" in request.args:
        project_id = bounded_int(request.args["project"])
        if project_id is None:
            _bad("Параметр project — номер типового проекта.")
        stmt = stmt.where(ProjectReport.project_id == project_id)
    page = paginate(stmt, [ProjectReport.id.desc()], pager, per_page=size)
    return _list(page, serialize.reports(page.items), size)


@bp.get("/v1/reports/<int:item_id>")
def report(item_id: int):
    found = db.session.scalars(_published_reports().where(ProjectReport.id == item_id)).all()
    return _item(serialize.reports(list(found)))


@bp.get("/v1/contest/seasons")
def seasons():
    return _json({"data": [serialize.season(s) for s in contest_seasons.all_seasons(structure=True)]})


@bp.get("/v1/contest/seasons/<int:year>")
def season(year: int):
    try:
        found = contest_seasons.season_by_year(year)
    except NotFound:
        abort(404)
    return _json({"data": serialize.season(found)})


def _published_entries():
    return select(Entry).where(Entry.status == Status.PUBLISHED)


@bp.get("/v1/contest/entries")
def contest_entry_list():
    pager, size = _pager()
    if "season" not in request.args:
        if any(name in request.args for name in ("nomination", "age", "municipality")):
            _bad("Фильтры nomination, age и municipality работают вместе с season (год сезона).")
        page = paginate(_published_entries(), [Entry.id.desc()], pager, per_page=size)
        return _list(page, serialize.entries(page.items), size)
    year = bounded_int(request.args["season"], 9999)
    found = db.session.scalar(select(Season).where(Season.year == year)) if year else None
    if found is None:
        _bad("Параметр season — год сезона конкурса из /api/v1/contest/seasons.")
    form, filters, valid = contest_views.gallery_filters(found, request.args, pager)
    _filters_or_400(form, valid)
    filters.per_page = size
    page = contest_entries.gallery(found, filters)
    return _list(page, serialize.entries(page.items), size)


@bp.get("/v1/contest/entries/<int:item_id>")
def contest_entry(item_id: int):
    found = db.session.scalars(_published_entries().where(Entry.id == item_id)).all()
    return _item(serialize.entries(list(found)))


# -- taxonomies (small, whole) ------------------------------------------------------------------------


@bp.get("/v1/municipalities")
def municipality_list():
    return _json({"data": [{"id": m.id, "name": m.name, "kind": m.kind} for m in municipalities()]})


@bp.get("/v1/age-groups")
def age_group_list():
    return _json(
        {"data": [{**serialize.term(g), "grade_from": g.grade_from, "grade_to": g.grade_to} for g in age_groups()]}
    )


@bp.get("/v1/spheres")
def sphere_list():
    return _json({"data": [{**serialize.term(s), "description": s.description} for s in spheres()]})


@bp.get("/v1/formats")
def format_list():
    return _json(
        {
            "data": [{"slug": slug, "name": name} for slug, name in ProjectFormat.LABELS.items()],
            "durations": [
                {"slug": key, "name": label, "weeks_from": low, "weeks_to": high} for key, label, low, high in DURATIONS
            ],
        }
    )


@bp.get("/v1/nominations")
def nomination_list():
    rows = db.session.execute(
        select(Nomination.id, Nomination.name, Season.year)
        .join(Season, Season.id == Nomination.season_id)
        .order_by(Season.year.desc(), Nomination.position, Nomination.id)
    )
    categories = db.session.execute(
        select(AgeCategory.id, AgeCategory.name, Season.year)
        .join(Season, Season.id == AgeCategory.season_id)
        .order_by(Season.year.desc(), AgeCategory.position, AgeCategory.id)
    )
    return _json(
        {
            "data": [{"id": i, "name": name, "season": year} for i, name, year in rows],
            "age_categories": [{"id": i, "name": name, "season": year} for i, name, year in categories],
        }
    )


@bp.get("/v1/openapi.json")
def openapi():
    return _json(document())


@bp.get("/v1/<path:rest>")
def unknown(rest: str):
    abort(404)


@bp.get("/")
def guide():
    """A short page in Russian about the API, with examples."""
    return render_template("api/index.html", base=external_url("api.guide").rstrip("/") + "/v1")
