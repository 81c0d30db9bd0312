"""``/search``: one page for everything published, whole or (for htmx) just its results block."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from catalogue import fragments
from catalogue.extensions import db
from catalogue.forms import field_error
from catalogue.htmx import is_fragment_request, render
from catalogue.pagination import Pager
from catalogue.permissions import role_required
from catalogue.roles import Role
from catalogue.search import service, suggestions, thesaurus
from catalogue.taxonomy.forms import SynonymGroupForm

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


# -- the search thesaurus, in the taxonomy admin (Справочники → Тезаурус поиска) ------------------------------


@bp.get("/admin/taxonomy/thesaurus/")
@role_required(Role.ADMIN)
def thesaurus_groups():
    """The search thesaurus: groups of related words, by their first word, a page at a time."""
    return render("taxonomy/thesaurus.html", page=thesaurus.group_page(Pager.from_request()))


@bp.route("/admin/taxonomy/thesaurus/new", methods=["GET", "POST"], defaults={"group_id": None})
@bp.route("/admin/taxonomy/thesaurus/<int:group_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_thesaurus_group(group_id: int | None):
    """Add a group of related words, or edit one; the next search uses it (no reindex).

    :raise 404: no such group.
    """
    group = db.get_or_404(thesaurus.SynonymGroup, group_id) if group_id else None
    form = SynonymGroupForm(obj=None if request.method == "POST" else group)
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            saved = thesaurus.save_group(current_user, group, form.terms.data)
        except thesaurus.ThesaurusError as e:
            field_error(form, e)
            status = 422
        else:
            flash(f"Группа «{saved.term_list[0]}» {'сохранена' if group else 'добавлена'}.", "success")
            return redirect(url_for("search.thesaurus_groups"), 303)
    return render(
        "taxonomy/thesaurus_edit.html",
        status=status,
        form=form,
        group=group,
        title=f"Группа «{group.term_list[0]}»" if group else "Новая группа слов",
        tab="thesaurus_groups",
        action=url_for("search.edit_thesaurus_group", group_id=group_id),
    )


@bp.post("/admin/taxonomy/thesaurus/<int:group_id>/delete")
@role_required(Role.ADMIN)
def delete_thesaurus_group(group_id: int):
    """Delete a group of related words (CSRF-checked like every form).

    :raise 404: no such group.
    """
    group = db.get_or_404(thesaurus.SynonymGroup, group_id)
    first = group.term_list[0]
    thesaurus.delete_group(current_user, group)
    flash(f"Группа «{first}» удалена.", "success")
    return redirect(url_for("search.thesaurus_groups"), 303)
