"""Home page, the sections' entry pages, and a public site's conventions: «О проекте», the privacy policy,
the version for the visually impaired, robots.txt and the favicon."""

from flask import Blueprint, current_app, make_response, redirect, request, send_from_directory, url_for

from catalogue import fragments
from catalogue.accounts.views import safe_next
from catalogue.contest import seasons
from catalogue.contest.models import Phase
from catalogue.htmx import render
from catalogue.main.roadmap import ORDER, ROADMAP
from catalogue.practices import services as practices
from catalogue.projects import services as projects
from catalogue.taxonomy.services import age_groups, spheres
from catalogue.urls import external_url

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    """What the site is, and where each audience starts."""
    content = fragments.rendered("home", "main/_home_content.html", context=lambda: dict(
        age_groups=age_groups(),
        spheres=spheres(),
        age_counts=projects.published_counts_by_age_group(),
        sphere_counts=projects.published_counts_by_sphere(),
        new_projects=projects.latest_published(3),
        new_practices=practices.latest_published(3),
        season=seasons.current_season(),
        Phase=Phase,
    ))  # fmt: skip
    return render("main/home.html", content=content)


@bp.get("/about")
def about():
    """What the site is for: the roadmap's items, which of them the site holds, and who runs what."""
    return render("main/about.html", order=ORDER, roadmap=ROADMAP)


@bp.get("/privacy")
def privacy():
    """The policy on processing personal data (152-FZ), minors' above all."""
    return render("main/privacy.html")


# The cookie of the version for the visually impaired: its value is one of A11Y_MODES. Pages for a request
# carrying it differ (a stylesheet, a class), so a shared page cache must not serve them.
A11Y_COOKIE = "a11y"
A11Y_MODES = ("on", "noimages")


@bp.get("/a11y")
def a11y():
    """Switches the version for the visually impaired (ГОСТ Р 52872-2019) by a plain link, without JavaScript.

    ``mode`` is ``on`` (larger type, high contrast), ``noimages`` (the same without images) or anything
    else (the ordinary version); the choice is remembered for a year; ``next`` is the page to go back to.
    """
    mode = request.args.get("mode")
    response = redirect(safe_next(request.args.get("next")) or url_for("main.home"), 303)
    if mode in A11Y_MODES:
        response.set_cookie(A11Y_COOKIE, mode, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                            secure=current_app.config["SESSION_COOKIE_SECURE"])  # fmt: skip
    else:
        response.delete_cookie(A11Y_COOKIE)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/robots.txt")
def robots():
    """Crawlers are welcome on public pages, kept out of personal ones, and told where the sitemap is."""
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in ROBOTS_DISALLOW), "",
             f"Sitemap: {external_url('feeds.sitemap')}", ""]  # fmt: skip
    response = make_response("\n".join(lines))
    response.mimetype = "text/plain"
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


# Pages that are someone's own, forms, and switches: nothing a search engine should list.
ROBOTS_DISALLOW = ("/auth/", "/account/", "/admin/", "/moderation/", "/workflow/", "/a11y")


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page says; the pages link the SVG and the PNG."""
    return send_from_directory(current_app.static_folder, "favicon.ico", max_age=7 * 24 * 3600)
