"""Home page, the sections' entry pages, and the privacy notice."""

from flask import Blueprint

from catalogue.contest import seasons
from catalogue.contest.models import Phase
from catalogue.htmx import render
from catalogue.practices import services as practices
from catalogue.projects import services as projects
from catalogue.taxonomy.services import age_groups, spheres

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    """What the site is, and where each audience starts."""
    return render(
        "main/home.html",
        age_groups=age_groups(),
        spheres=spheres(),
        age_counts=projects.published_counts_by_age_group(),
        sphere_counts=projects.published_counts_by_sphere(),
        new_projects=projects.latest_published(3),
        new_practices=practices.latest_published(3),
        season=seasons.current_season(),
        Phase=Phase,
    )


@bp.get("/privacy")
def privacy():
    """How personal data, minors' above all, is processed."""
    return render("main/privacy.html")
