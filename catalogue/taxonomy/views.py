"""Organization picker (public, used by registration) and the taxonomy admin pages."""

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user

from catalogue.extensions import db
from catalogue.forms import choices, field_error
from catalogue.htmx import render
from catalogue.pagination import Pager
from catalogue.permissions import role_required
from catalogue.roles import Role
from catalogue.taxonomy import services
from catalogue.taxonomy.forms import (
    AgeGroupForm,
    MunicipalityForm,
    OrganizationFilterForm,
    OrganizationForm,
    SphereForm,
)
from catalogue.taxonomy.models import AgeGroup, Municipality, Organization, Sphere
from catalogue.web import int_arg

bp = Blueprint("taxonomy", __name__)


@bp.get("/organizations/options")
def organization_options():
    """Organizations matching the typed name within the chosen municipality, as radio options."""
    query = request.args.get("organization_query", request.args.get("q", ""))[:200]
    municipality_id = int_arg("municipality_id")
    selected_id = int_arg("organization_id")
    options = services.search_organizations(query, municipality_id)
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


# -- administration ---------------------------------------------------------------------------
# The edit views share one shape: a valid form goes to its service; a refusal is shown next to
# its field with 422 and the typed values; success flashes and redirects (303) to the list.


def refusal(form, error: services.TaxonomyError) -> int:
    """Put the service's message next to its field (or above the form); the status to answer with."""
    field_error(form, error)
    return 422


def edit_page(form, status: int, **context):
    return render("taxonomy/edit.html", status=status, form=form, **context)


@bp.get("/admin/taxonomy/")
@role_required(Role.ADMIN)
def admin_index():
    """Taxonomy administration: municipalities, organizations, age groups, spheres."""
    return render(
        "taxonomy/admin_index.html", sizes=services.taxonomy_sizes(), pending=services.pending_organizations_count()
    )


@bp.get("/admin/taxonomy/municipalities/")
@role_required(Role.ADMIN)
def municipalities():
    """The oblast's municipalities, with how many organizations each has."""
    return render(
        "taxonomy/municipalities.html",
        municipalities=services.municipalities(),
        counts=services.organization_counts(),
    )


@bp.route("/admin/taxonomy/municipalities/<int:municipality_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_municipality(municipality_id: int):
    """Rename a municipality or correct its kind.

    :raise 404: no such municipality.
    """
    municipality = db.get_or_404(Municipality, municipality_id)
    form = MunicipalityForm(obj=None if request.method == "POST" else municipality)
    if municipality.kind not in services.MUNICIPALITY_KINDS:
        form.kind.choices = [*form.kind.choices, *choices([(municipality.kind, municipality.kind)])]
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            services.save_municipality(current_user, municipality, form.changes())
        except services.TaxonomyError as e:
            status = refusal(form, e)
        else:
            flash(f"Изменения сохранены: {municipality.name}.", "success")
            return redirect(url_for("taxonomy.municipalities"), 303)
    return edit_page(
        form,
        status,
        title=municipality.name,
        tab="municipalities",
        action=url_for("taxonomy.edit_municipality", municipality_id=municipality.id),
    )


@bp.get("/admin/taxonomy/organizations/")
@role_required(Role.ADMIN)
def organizations():
    """Organizations, searchable by name and filtered by municipality and kind."""
    filters = OrganizationFilterForm(request.args)
    filters.municipality.choices = choices(
        [("", "Все муниципальные образования")] + [(m.id, m.name) for m in services.municipalities()]
    )
    page = services.organization_page(
        (filters.q.data or "")[:200],
        filters.municipality.data,
        filters.kind.data or "",
        Pager.from_request(),
        pending=filters.state.data == "pending",
    )
    return render("taxonomy/organizations.html", block="results", page=page, filters=filters)


@bp.route("/admin/taxonomy/organizations/new", methods=["GET", "POST"], defaults={"organization_id": None})
@bp.route("/admin/taxonomy/organizations/<int:organization_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_organization(organization_id: int | None):
    """Add an organization, or edit one's name, kind and municipality.

    :raise 404: no such organization.
    """
    organization = db.get_or_404(Organization, organization_id) if organization_id else None
    form = OrganizationForm(obj=None if request.method == "POST" else organization)
    form.municipality_id.choices = choices([("", "— выберите —")] + [(m.id, m.name) for m in services.municipalities()])
    if organization is None and request.method == "GET":
        # "Add" from a list filtered by municipality starts in that municipality.
        form.municipality_id.data = int_arg("municipality")
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            saved = services.save_organization(current_user, organization, form.changes())
        except services.TaxonomyError as e:
            status = refusal(form, e)
        else:
            flash(f"Организация «{saved.name}» {'сохранена' if organization else 'добавлена'}.", "success")
            return redirect(url_for("taxonomy.organizations", q=saved.name, municipality=saved.municipality_id), 303)
    return edit_page(
        form,
        status,
        title=organization.name if organization else "Новая организация",
        tab="organizations",
        action=url_for("taxonomy.edit_organization", organization_id=organization_id),
        note=(
            "Эту организацию добавил участник при регистрации. Проверьте название и муниципальное образование "
            "и сохраните: организация станет проверенной."
            if organization is not None and not organization.confirmed
            else None
        ),
    )


@bp.get("/admin/taxonomy/age-groups/")
@role_required(Role.ADMIN)
def age_groups():
    """Age groups of students, in their list order."""
    return render("taxonomy/age_groups.html", age_groups=services.age_groups())


@bp.route("/admin/taxonomy/age-groups/new", methods=["GET", "POST"], defaults={"age_group_id": None})
@bp.route("/admin/taxonomy/age-groups/<int:age_group_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_age_group(age_group_id: int | None):
    """Add an age group, or edit one.

    :raise 404: no such age group.
    """
    age_group = db.get_or_404(AgeGroup, age_group_id) if age_group_id else None
    form = AgeGroupForm(obj=None if request.method == "POST" else age_group)
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            saved = services.save_age_group(current_user, age_group, form.changes())
        except services.TaxonomyError as e:
            status = refusal(form, e)
        else:
            flash(f"Возрастная группа «{saved.name}» {'сохранена' if age_group else 'добавлена'}.", "success")
            return redirect(url_for("taxonomy.age_groups"), 303)
    return edit_page(
        form,
        status,
        title=age_group.name if age_group else "Новая возрастная группа",
        tab="age_groups",
        action=url_for("taxonomy.edit_age_group", age_group_id=age_group_id),
    )


@bp.get("/admin/taxonomy/spheres/")
@role_required(Role.ADMIN)
def spheres():
    """Professional spheres, in their list order."""
    return render("taxonomy/spheres.html", spheres=services.spheres())


@bp.route("/admin/taxonomy/spheres/new", methods=["GET", "POST"], defaults={"sphere_id": None})
@bp.route("/admin/taxonomy/spheres/<int:sphere_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_sphere(sphere_id: int | None):
    """Add a professional sphere, or edit one.

    :raise 404: no such sphere.
    """
    sphere = db.get_or_404(Sphere, sphere_id) if sphere_id else None
    form = SphereForm(obj=None if request.method == "POST" else sphere)
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            saved = services.save_sphere(current_user, sphere, form.changes())
        except services.TaxonomyError as e:
            status = refusal(form, e)
        else:
            flash(f"Сфера «{saved.name}» {'сохранена' if sphere else 'добавлена'}.", "success")
            return redirect(url_for("taxonomy.spheres"), 303)
    return edit_page(
        form,
        status,
        title=sphere.name if sphere else "Новая сфера",
        tab="spheres",
        action=url_for("taxonomy.edit_sphere", sphere_id=sphere_id),
    )
