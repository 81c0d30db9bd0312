"""Home page, the sections' entry pages, and the privacy notice."""

from flask import Blueprint

from catalogue.htmx import render
from catalogue.taxonomy.services import age_groups, spheres

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    """What the site is, and where each audience starts."""
    return render("main/home.html", age_groups=age_groups(), spheres=spheres())


@bp.get("/privacy")
def privacy():
    """How personal data, minors' above all, is processed."""
    return render("main/privacy.html")
