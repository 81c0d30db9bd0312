"""Cross-cutting web concerns: security headers, error pages, template context."""

from flask import Flask, current_app, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError
from werkzeug.routing import IntegerConverter

from catalogue.htmx import is_fragment_request, render
from catalogue.permissions import Conflict, InvalidInput, NotFound, PermissionDenied
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


MAX_ID = 2**31 - 1
MAX_PAGE = 10_000


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` limited to what a database integer holds: a longer number is a 404, not a crash."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def page_arg(name: str = "page") -> int:
    """The page number from the query string, clamped to 1..MAX_PAGE."""
    value = request.args.get(name, "")
    return min(int(value), MAX_PAGE) if value.isdigit() and len(value) < 7 and int(value) > 0 else 1


def register(app: Flask) -> None:
    # First of all: a request for a Host not in TRUSTED_HOSTS gets nothing but a plain 400.
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_untrusted_host)
    app.register_error_handler(SecurityError, lambda e: untrusted_host_page())
    app.jinja_env.globals["external_url"] = external_url
    app.after_request(set_security_headers)
    app.register_error_handler(CSRFError, lambda e: error_page(400, *CSRF_TEXT))
    app.register_error_handler(PermissionDenied, lambda e: error_page(403))
    app.register_error_handler(Conflict, lambda e: error_page(409, detail=str(e) or None))
    app.register_error_handler(NotFound, lambda e: error_page(404))
    app.register_error_handler(InvalidInput, lambda e: error_page(422, detail=str(e)))
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


def error_page(code: int, title: str | None = None, text: str | None = None, detail: str | None = None):
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
    )
    if is_fragment_request():
        response.headers["HX-Retarget"] = "#messages"
        response.headers["HX-Reswap"] = "innerHTML"
    return response


def template_context() -> dict:
    from catalogue.accounts.models import Role, name_for
    from catalogue.markdown import plain_text, render_markdown
    from catalogue.workflow import services as workflow
    from catalogue.workflow.registry import is_moderator

    return {
        "Role": Role,
        "current_user": current_user,
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
    from catalogue.media.services import files_of

    return files_of(owner_type, [owner_id])[owner_id]
