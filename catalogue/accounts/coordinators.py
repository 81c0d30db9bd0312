"""Municipal coordinators: the municipality each one coordinates, set by an administrator (the monitoring
dashboard shows a coordinator their municipality in detail)."""

from catalogue.accounts.models import CoordinatedMunicipality
from catalogue.extensions import db
from catalogue.permissions import InvalidInput, require_role
from catalogue.roles import Role
from catalogue.taxonomy.models import Municipality


def coordinated_municipality(user) -> Municipality | None:
    """The municipality ``user`` coordinates, or None (not a coordinator, or none assigned yet)."""
    if not user.is_authenticated or not user.has_role(Role.COORDINATOR):
        return None
    row = db.session.get(CoordinatedMunicipality, user.id)
    return row.municipality if row else None


def set_coordinated_municipality(actor, user, municipality_id: int | None) -> None:
    """An administrator records (or clears, with None) the municipality ``user`` coordinates; the caller commits.

    :raise PermissionDenied: ``actor`` is not an administrator.
    :raise InvalidInput: a coordinator without a municipality, or no such municipality.
    """
    require_role(actor, Role.ADMIN)
    if user.has_role(Role.COORDINATOR) and (
        municipality_id is None or db.session.get(Municipality, municipality_id) is None
    ):
        raise InvalidInput(
            "Выберите муниципальное образование, которое координирует пользователь.", "coordinated_municipality_id"
        )
    if not user.has_role(Role.COORDINATOR):
        municipality_id = None
    row = db.session.get(CoordinatedMunicipality, user.id)
    if municipality_id is None:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(CoordinatedMunicipality(user_id=user.id, municipality_id=municipality_id))
    else:
        row.municipality_id = municipality_id
