"""The feeds of any search or filtered list, «Подписаться», «Мои подписки» and the one-click unsubscribe."""

from urllib.parse import parse_qsl

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from catalogue import fragments
from catalogue.errors import InvalidInput
from catalogue.extensions import csrf
from catalogue.feeds import FEED_LENGTH, atom_feed, feed_response
from catalogue.htmx import is_fragment_request, render
from catalogue.pagination import Pager
from catalogue.permissions import NotFound
from catalogue.subscriptions import services
from catalogue.subscriptions.forms import FrequencyForm, SubscribeForm
from catalogue.subscriptions.models import Frequency
from catalogue.subscriptions.sources import SOURCES, Source
from catalogue.urls import external_url

bp = Blueprint("subscriptions", __name__)


# -- the feeds: the same for everybody, kept per content generation and query -----------------------------


def _feed(kind: str):
    source = SOURCES[kind]
    query, title = _this_list(source)

    def document() -> bytes:
        return atom_feed(
            title,
            source.feed_url(query),
            source.page_url(query),
            source.newest(query, FEED_LENGTH),
            subtitle="Новые материалы сайта «Профориентация Приангарья» по этому запросу, сначала новые.",
        )

    return feed_response(fragments.cached("subscriptions.feed", kind, query, make=document))


@bp.get("/search.atom")
def search_feed():
    """The search's newest 50 results for ``q`` and the facets, newest first."""
    return _feed("search")


@bp.get("/projects.atom")
def projects_feed():
    """The newest 50 typical projects with the catalogue's filters."""
    return _feed("projects")


@bp.get("/practices.atom")
def practices_feed():
    """The newest 50 best practices with the catalogue's filters."""
    return _feed("practices")


@bp.get("/contest/<int:year>/gallery.atom")
def gallery_feed(year: int):
    """The newest 50 admitted entries of a season's gallery with its filters.

    :raise 404: no season of that year.
    """
    if not _this_list(SOURCES["gallery"])[0]:
        abort(404)
    return _feed("gallery")


# -- by a list's results: its feed and «Подписаться» -------------------------------------------------------


def _request_args() -> MultiDict:
    """The query string with the address's own parts (a season's ``year``), as the lists read them."""
    args = MultiDict(request.args)
    for name, value in (request.view_args or {}).items():
        args[name] = str(value)
    return args


def _this_list(source: Source) -> tuple[str, str]:
    """The request's list: its normalised query and its title, the same for everybody (kept per generation)."""
    path = tuple(sorted((request.view_args or {}).items()))
    return fragments.cached(
        "subscriptions.list", source.kind, path, fragments.query_key(),
        make=lambda: (source.normalise(_request_args()), source.describe(_request_args())),
    )


@bp.app_template_global("feed_alternate")
def feed_alternate(kind: str) -> Markup:
    """``<link rel="alternate">`` of the list's feed for the page's head."""
    source = SOURCES[kind]
    query, title = _this_list(source)
    return Markup('<link rel="alternate" type="application/atom+xml" title="{}" href="{}">').format(
        title, source.feed_url(query)
    )


@bp.app_template_global("subscription_box")
def subscription_box(kind: str, args: MultiDict | None = None, form=None, message: str = "") -> Markup:
    """The feed link and «Подписаться» by a list's results (for this person: not kept in any cache)."""
    source = SOURCES[kind]
    query = _this_list(source)[0] if args is None else source.normalise(args)
    # Whether the person already follows this list is looked up only after they press the button: a page of
    # the list costs a logged-in person no query more for the box.
    existing = services.find(current_user, kind, query) if args is not None and current_user.is_authenticated else None
    if args is None and form is None and not message and current_user.is_authenticated:
        # A list's page for someone logged in: the same box for everybody but the CSRF token, so it is made once
        # per list and content generation with a stand-in for the token, put in here
        return fragments.with_token(
            "subscriptions.box", "subscriptions/_box.html", kind, query, context=lambda: _member_box(source, query)
        )
    if form is None and current_user.is_authenticated:  # a form makes a CSRF token: a visitor's page stays shared
        form = SubscribeForm(formdata=None, kind=kind, query=query)
        if existing is not None:
            form.frequency.data = existing.frequency
    context = dict(
        source=source, query=query, form=form, existing=existing, message=message,
        feed_url=url_for(source.feed_endpoint, **dict(parse_qsl(query))),
        login_url=url_for("accounts.login", next=request.full_path if request.method == "GET" else None),
    )
    return fragments.render_each(context, box="subscriptions/_box.html")["box"]


def _member_box(source: Source, query: str) -> dict:
    """The box's context for someone logged in who does not follow the list yet (the token is put in later)."""
    form = SubscribeForm(formdata=None, meta={"csrf": False}, kind=source.kind, query=query)
    return dict(
        source=source, query=query, form=form, existing=None, message="",
        feed_url=url_for(source.feed_endpoint, **dict(parse_qsl(query))), login_url="",
    )  # fmt: skip


def _page_path(source: Source, query: str) -> str:
    return url_for(source.page_endpoint, **dict(parse_qsl(query)))


@bp.post("/subscriptions/")
@login_required
def subscribe():
    """Subscribe to the list the form names; htmx gets the box back, a plain form a redirect to the list."""
    form = SubscribeForm()
    source = SOURCES.get(form.kind.data or "")
    if source is None:
        abort(400)
    args = MultiDict(parse_qsl(form.query.data or ""))
    message, status = "", 200
    if form.validate_on_submit():
        try:
            subscription = services.subscribe(current_user, source.kind, args, form.frequency.data)
        except InvalidInput as e:
            form.form_errors.append(str(e))
            status = 422
        else:
            message = (
                f"Готово: новое по «{subscription.title}» будет приходить на {current_user.email} "
                f"{subscription.frequency_label}."
            )
    else:
        status = 422
    if is_fragment_request():
        return subscription_box(source.kind, args, form=form if status != 200 else None, message=message), status
    if status == 200:
        flash(message, "success")
    else:
        for error in form.form_errors or [e for errors in form.errors.values() for e in errors]:
            flash(error, "error")
    return redirect(_page_path(source, source.normalise(args)), 303)


@bp.get("/subscriptions/")
@login_required
def mine():
    """«Мои подписки»: a page of the person's subscriptions, to change how often or to delete."""
    page = services.subscriptions_of(current_user, Pager.from_request())
    return render("subscriptions/mine.html", page=page, sources=SOURCES, Frequency=Frequency)


@bp.post("/subscriptions/<int:subscription_id>/frequency")
@login_required
def change(subscription_id: int):
    """:raise 404: not the person's own subscription."""
    form = FrequencyForm()
    try:
        if not form.validate_on_submit():
            raise InvalidInput("Выберите, как часто присылать письма.")
        subscription = services.change_frequency(current_user, subscription_id, form.frequency.data)
    except NotFound:
        abort(404)
    except InvalidInput as e:
        flash(str(e), "error")
    else:
        flash(f"Письма по «{subscription.title}» будут приходить {subscription.frequency_label}.", "success")
    return redirect(url_for("subscriptions.mine"), 303)


@bp.post("/subscriptions/<int:subscription_id>/delete")
@login_required
def delete(subscription_id: int):
    """:raise 404: not the person's own subscription. (CSRF: checked for every POST, as everywhere.)"""
    try:
        services.delete(current_user, subscription_id)
    except NotFound:
        abort(404)
    flash("Подписка удалена.", "success")
    return redirect(url_for("subscriptions.mine"), 303)


# -- one-click unsubscribe: the signature in the address is the authority; no login, no CSRF ---------------


@bp.route("/subscriptions/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str):
    """GET: a confirmation with a button. POST (the button, or a mail client's RFC 8058 one-click): unsubscribe.

    :raise 400: the signature does not hold. :raise 404: the subscription has been deleted.
    """
    try:
        subscription = services.by_token(token)
    except services.BadToken as e:
        response = render("subscriptions/unsubscribe.html", status=400, error=str(e), subscription=None)
    else:
        if subscription is None:
            error = "Такой подписки больше нет: её уже удалили. Ничего делать не нужно — писем по ней не будет."
            response = render("subscriptions/unsubscribe.html", status=404, error=error, subscription=None)
        else:
            done = request.method == "POST"
            if done:
                services.unsubscribe(subscription)
            response = render(
                "subscriptions/unsubscribe.html", subscription=subscription, done=done, error="",
                page_url=SOURCES[subscription.kind].page_url(subscription.query)
                if subscription.kind in SOURCES else external_url("main.home"),
            )
    response.headers["Cache-Control"] = "no-store"
    return response
