"""``/search``: one page for everything published, whole or (for htmx) just its results block."""

from flask import Blueprint, request

from catalogue.htmx import is_fragment_request, render
from catalogue.search import service

bp = Blueprint("search", __name__)


@bp.get("/search")
def index():
    """Search across everything published; with no words, the newest items."""
    page = service.search(service.SearchParams.from_args(request.args))
    title = f"«{page.params.q}»: поиск" if page.params.q else "Поиск"
    return render("search/index.html", block="results", page=page, title=title, fragment=is_fragment_request())
