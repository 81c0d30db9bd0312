"""Administrators' pages for people: find users, edit their details and roles, deactivate."""

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user

from catalogue.accounts import services
from catalogue.accounts.coordinators import coordinated_municipality, set_coordinated_municipality
from catalogue.accounts.forms import AdminUserForm
from catalogue.accounts.models import Role, User
from catalogue.errors import DomainError
from catalogue.extensions import db
from catalogue.forms import choices, field_error
from catalogue.htmx import render
from catalogue.pagination import Pager
from catalogue.permissions import role_required
from catalogue.taxonomy.services import municipalities, search_organizations
from catalogue.unit_of_work import one_transaction

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users/")
@role_required(Role.ADMIN)
def users():
    """Users, searchable by name or e-mail and filtered by role."""
    query = request.args.get("q", "")[:100]
    role = request.args.get("role", "")
    result = services.search_users(current_user, query, role, Pager.from_request())
    return render("admin/users.html", block="results", page=result, query=query, role=role, roles=list(Role))


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_user(user_id: int):
    """Edit one user's details, roles and activity.

    :raise 404: no such user.
    """
    user = db.get_or_404(User, user_id)
    form = AdminUserForm(obj=None if request.method == "POST" else user)
    if request.method == "GET":
        form.roles.data = sorted(str(r) for r in user.roles)
        form.organization_id.data = user.organization_id or 0
        form.grade.data = str(user.grade) if user.grade else ""
        coordinated = coordinated_municipality(user)
        form.coordinated_municipality_id.data = coordinated.id if coordinated else 0
    organizations = (
        search_organizations(municipality_id=user.municipality_id, limit=500) if user.municipality_id else []
    )
    if user.organization is not None and user.organization not in organizations:
        organizations.insert(0, user.organization)
    form.organization_id.choices = choices([(0, "— не указана —")] + [(o.id, o.name) for o in organizations])
    form.coordinated_municipality_id.choices = choices([(0, "— нет —")] + [(m.id, m.name) for m in municipalities()])
    status = 200
    if form.validate_on_submit():
        try:
            with one_transaction():  # the details and the coordinated municipality together, or neither
                services.update_user(
                    current_user,
                    user,
                    services.UserChanges(
                        last_name=form.last_name.data,
                        first_name=form.first_name.data,
                        middle_name=form.middle_name.data or "",
                        email=form.email.data,
                        roles={Role(r) for r in form.roles.data or []},
                        active=form.active.data,
                        organization_id=form.organization_id.data or None,
                        grade=int(form.grade.data) if form.grade.data else None,
                    ),
                )
                set_coordinated_municipality(current_user, user, form.coordinated_municipality_id.data or None)
        except DomainError as e:
            db.session.rollback()
            field_error(form, e)
            status = 422
        else:
            flash(f"Изменения сохранены: {user.full_name}.", "success")
            return redirect(url_for("admin.users"), 303)
    elif request.method == "POST":
        status = 422
    return render("admin/user_edit.html", status=status, form=form, user=user)
