"""Organization picker (public, used by registration) and the taxonomy admin pages."""

from flask import Blueprint, request

from catalogue.accounts.models import Role
from catalogue.extensions import db
from catalogue.htmx import render
from catalogue.permissions import role_required
from catalogue.taxonomy.models import Organization
from catalogue.taxonomy.services import search_organizations

bp = Blueprint("taxonomy", __name__)


def int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


@bp.get("/organizations/options")
def organization_options():
    """Organizations matching the typed name within the chosen municipality, as radio options."""
    query = request.args.get("organization_query", request.args.get("q", ""))[:200]
    municipality_id = int_arg("municipality_id")
    selected_id = int_arg("organization_id")
    options = search_organizations(query, municipality_id)
    selected = db.session.get(Organization, selected_id) if selected_id else None
    in_scope = selected is not None and municipality_id in (None, selected.municipality_id)
    if in_scope and selected not in options:
        options.insert(0, selected)
    return render(
        "taxonomy/organization_options.html",
        block="options",
        options=options,
        selected_id=selected_id,
        query=query,
        municipality_id=municipality_id,
    )


@bp.get("/admin/taxonomy/")
@role_required(Role.ADMIN)
def admin_index():
    """Taxonomy administration: municipalities, organizations, age groups, spheres."""
    return render("taxonomy/admin_index.html")
