"""``/search``: one page for everything published, whole or (for htmx) just its results block."""

from flask import Blueprint, render_template, request

from catalogue import fragments
from catalogue.htmx import is_fragment_request, render
from catalogue.search import service, suggestions

bp = Blueprint("search", __name__)


@bp.get("/search")
def index():
    """Search across everything published; with no words, the newest items."""
    fragment = is_fragment_request()
    pieces = fragments.cached("search", fragments.query_key(), fragment, make=lambda: _pieces(fragment))
    return render("search/index.html", block="results", **pieces)


def _pieces(fragment: bool) -> dict:
    """The page but its header and footer: the same for everybody, for the query string (and htmx or not)."""
    page = service.search(service.SearchParams.from_args(request.args))
    title = f"«{page.params.q}»: поиск" if page.params.q else "Поиск"
    context = dict(page=page, title=title, fragment=fragment)
    pieces = fragments.render_each(context, results="search/_results.html")
    if not fragment:
        pieces |= fragments.render_each(context, header_box="search/_header_box_of_page.html")
    return {"title": title, **pieces}


@bp.get("/search/suggest")
def suggest():
    """Suggestions under the header box as one types (an HTML fragment of listbox options): titles of published
    items that match, and known words that complete the last one. The same for everybody (cached)."""
    return fragments.cached(
        "search-suggest",
        fragments.query_key(),
        make=lambda: render_template("search/_suggest.html", found=suggestions.suggest(request.args)),
    )
