"""Cross-cutting web concerns: security headers, malformed input, error pages, template context."""

from typing import NoReturn
from urllib.parse import unquote_to_bytes

from flask import Flask, current_app, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError, RequestEntityTooLarge, SecurityError
from werkzeug.routing import IntegerConverter

from catalogue.errors import DomainError
from catalogue.forms import MAX_ID, bounded_int
from catalogue.htmx import is_fragment_request, render
from catalogue.permissions import Conflict, NotFound, PermissionDenied
from catalogue.urls import external_url

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

ERROR_TEXTS = {
    400: ("Некорректный запрос", "Сервер не смог разобрать запрос. Проверьте введённые данные и попробуйте ещё раз."),
    403: ("Доступ запрещён", "У вас нет прав для этого действия или страницы."),
    404: ("Страница не найдена", "Такой страницы нет. Возможно, ссылка устарела или в адресе опечатка."),
    405: ("Действие недоступно", "Этот адрес не принимает такой запрос."),
    409: (
        "Действие уже невозможно",
        "Состояние материала изменилось. Обновите страницу и посмотрите, что с ним сейчас.",
    ),
    422: ("Проверьте данные", "Запрос не выполнен: данные не прошли проверку."),
    413: (
        "Слишком большой файл",
        "Отправленные данные превышают допустимый размер. Уменьшите файл и попробуйте снова.",
    ),
    429: ("Слишком много попыток", "Подождите немного и попробуйте снова."),
    500: ("Ошибка на сервере", "Что-то пошло не так. Мы уже знаем об ошибке; попробуйте повторить позже."),
}
CSRF_TEXT = (
    "Страница устарела",
    "Форма была открыта слишком давно или отправлена не с этого сайта. Обновите страницу и отправьте форму ещё раз.",
)


MALFORMED_TEXT = (
    "В адресе или в отправленных данных есть недопустимые символы (нулевой байт или неверная кодировка). "
    "Проверьте, что текст набран или вставлен без служебных символов, и отправьте ещё раз."
)


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` limited to what a database integer holds: a longer number is a 404, not a crash."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def int_arg(name: str, maximum: int = MAX_ID) -> int | None:
    """An integer of the query string (an id, a year): None when absent, malformed or out of 0..``maximum``."""
    return bounded_int(request.args.get(name), maximum)


def _clean_bytes(raw: bytes) -> bool:
    """True for text in valid UTF-8 without NUL: what every part of a request must be."""
    if b"\x00" in raw:
        return False
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _clean_urlencoded(raw: bytes) -> bool:
    return _clean_bytes(unquote_to_bytes(raw.replace(b"+", b" ")))


def reject_malformed_input() -> None:
    """400 for a NUL byte or invalid UTF-8 in the path, the query string or a form field.

    Werkzeug would quietly turn invalid bytes into U+FFFD, and PostgreSQL refuses NUL in text:
    a request that carries either is refused here, before any view reads it.
    """
    environ = request.environ
    # WSGI gives the path as latin-1 text of its bytes; the raw address, where the server passes
    # it on, still has the bytes a server may already have decoded with replacement characters.
    path = environ.get("PATH_INFO", "").encode("latin-1", "replace")
    raw_path = (environ.get("RAW_URI") or environ.get("REQUEST_URI") or "").partition("?")[0]
    query = environ.get("QUERY_STRING", "").encode("latin-1", "replace")
    if not (_clean_bytes(path) and _clean_urlencoded(raw_path.encode("latin-1", "replace"))):
        _malformed()
    if not _clean_urlencoded(query):
        _malformed()
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return
    if request.mimetype == "application/x-www-form-urlencoded":
        # The form is parsed from this cached copy later; a longer body is refused by the parser (413).
        length, limit = request.content_length, request.max_form_memory_size
        readable = length is not None and (limit is None or length <= limit)
        if readable and not _clean_urlencoded(request.get_data(cache=True)):
            _malformed()
    elif request.mimetype == "multipart/form-data":
        # Field values were decoded already: a U+FFFD there stands for bytes that were not UTF-8.
        values = [value for _, value in request.form.items(multi=True)]
        values += [upload.filename or "" for _, upload in request.files.items(multi=True)]
        if any("\x00" in v or "\ufffd" in v for v in values):
            _malformed()


def _malformed() -> NoReturn:
    raise MalformedRequest(MALFORMED_TEXT)


class MalformedRequest(BadRequest):
    """A 400 whose Russian description is shown on the error page."""

    russian = True


def register(app: Flask) -> None:
    # First of all: a request for a Host not in TRUSTED_HOSTS gets nothing but a plain 400; then the check of
    # the input's bytes, before CSRF protection (which reads the form) and every view.
    app.before_request_funcs.setdefault(None, []).insert(0, reject_malformed_input)
    app.before_request_funcs[None].insert(0, refuse_untrusted_host)
    app.register_error_handler(SecurityError, lambda e: untrusted_host_page())
    app.jinja_env.globals["external_url"] = external_url
    app.jinja_env.globals["url_for"] = url_for_in_templates
    app.after_request(set_security_headers)
    app.register_error_handler(CSRFError, lambda e: error_page(400, *CSRF_TEXT))
    app.register_error_handler(PermissionDenied, lambda e: error_page(403))
    # The service's reason («Приём работ закрыт: …») replaces the general text, which would mislead
    app.register_error_handler(Conflict, lambda e: error_page(409, text=str(e) or None))
    app.register_error_handler(NotFound, lambda e: error_page(404))
    app.register_error_handler(DomainError, lambda e: error_page(422, detail=str(e)))
    app.register_error_handler(RequestEntityTooLarge, lambda e: too_large_page())
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(InternalServerError, lambda e: error_page(500))
    app.context_processor(template_context)


def refuse_untrusted_host():
    if isinstance(request.routing_exception, SecurityError):
        return untrusted_host_page()
    return None


def untrusted_host_page():
    """A short page without templates: no URL can be built for a Host the site does not serve."""
    site = escape(current_app.config["SITE_URL"])
    body = (
        '<!doctype html><html lang="ru"><meta charset="utf-8"><title>Неизвестный адрес сайта</title>'
        "<h1>Неизвестный адрес сайта</h1>"
        f'<p>Этот сайт не отвечает на такой адрес. Откройте его по адресу <a href="{site}/">{site}</a>.</p></html>'
    )
    return current_app.response_class(body, status=400, content_type="text/html; charset=utf-8")


def set_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.headers.get("HX-Request"):
        response.vary.add("HX-Request")
    return response


def handle_http_exception(e: HTTPException):
    if e.code is None or e.code < 400:
        return e
    detail = e.description if getattr(e, "russian", False) else None
    response = error_page(e.code, detail=detail)
    if e.code == 405 and hasattr(e, "valid_methods") and e.valid_methods:
        response.headers["Allow"] = ", ".join(e.valid_methods)
    return response


def too_large_page():
    """413 naming the limit of one submission; the way back to the form keeps what was typed in it."""
    from catalogue.media.errors import human_size

    limit = human_size(current_app.config["MAX_CONTENT_LENGTH"])
    text = (
        f"Отправленная форма вместе с файлами больше {limit} — столько сайт принимает за один раз "
        "(у каждого поля файла свой предел, он указан рядом с полем). Вернитесь к форме кнопкой «Назад» браузера: "
        "заполненные поля останутся на месте. Выберите файлы поменьше и отправьте форму снова."
    )
    return error_page(413, text=text, back=True)


def error_page(
    code: int, title: str | None = None, text: str | None = None, detail: str | None = None, back: bool = False
):
    """The Russian error page; for an htmx fragment request, a message shown in the page's alert area."""
    default_title, default_text = ERROR_TEXTS.get(code, ERROR_TEXTS[500] if code >= 500 else ERROR_TEXTS[400])
    response = render(
        "errors/error.html",
        block="error",
        status=code,
        code=code,
        title=title or default_title,
        text=text or default_text,
        detail=detail,
        back=back,
    )
    if is_fragment_request():
        response.headers["HX-Retarget"] = "#messages"
        response.headers["HX-Reswap"] = "innerHTML"
    return response


_PLAIN_URLS: dict[tuple, str] = {}


def url_for_in_templates(endpoint: str, **values) -> str:
    """``url_for`` in templates: an address without arguments, or of a static file — the header's, the menu's, the
    footer's, some forty a page — is built once per process (and script root), the others as always."""
    if endpoint.startswith(".") or not values.keys() <= {"filename"}:
        return url_for(endpoint, **values)
    key = (endpoint, values.get("filename"), request.script_root)
    found = _PLAIN_URLS.get(key)
    if found is None:
        found = url_for(endpoint, **values)
        if len(_PLAIN_URLS) < 2048:
            _PLAIN_URLS[key] = found
    return found


def template_context() -> dict:
    from catalogue.accounts.models import Role, name_for
    from catalogue.markdown import plain_text, render_markdown
    from catalogue.workflow import services as workflow
    from catalogue.workflow.registry import is_moderator

    return {
        "Role": Role,
        # The person itself, not the proxy: the templates read it some forty times a page
        "current_user": current_user._get_current_object(),
        "markdown": render_markdown,
        "plain_text": plain_text,
        "is_moderator": is_moderator,
        # A person as the viewer may see them: full names for staff, «Имя Ф.» for everyone else.
        "person_name": lambda person: name_for(current_user, person),
        # Called by the header only, so pages that do not show it cost no queries.
        "queue_count": lambda: workflow.queue_count(current_user),
        "unread_count": lambda: workflow.unread_count(current_user),
        "may_delete": lambda obj: workflow.may_delete(current_user, obj),
        # For previews that show an item's files without their own view (the moderator's review page).
        "attachments_of": _attachments_of,
    }


def _attachments_of(owner_type: str, owner_id: int) -> list:
    from catalogue.media.attachments import attachments_of

    return attachments_of(owner_type, owner_id)
