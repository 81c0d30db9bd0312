"""The demo's municipal coordinator: coordinator@demo.example, who coordinates the city of Irkutsk."""

from sqlalchemy import select

from catalogue.accounts.models import CoordinatedMunicipality, User
from catalogue.accounts.services import create_user
from catalogue.extensions import db
from catalogue.roles import Role
from catalogue.taxonomy.models import Municipality

COORDINATOR_EMAIL = "coordinator@demo.example"


def seed_coordinator(password: str) -> list[str]:
    """Add the demo coordinator if missing; returns the e-mails created (idempotent)."""
    if db.session.scalar(select(User.id).where(User.email == COORDINATOR_EMAIL)) is not None:
        return []
    irkutsk = db.session.scalar(select(Municipality).where(Municipality.name == "город Иркутск"))
    user = create_user(COORDINATOR_EMAIL, password, "Лаптева", "Светлана", {Role.COORDINATOR}, middle_name="Юрьевна")
    db.session.flush()
    db.session.add(CoordinatedMunicipality(user_id=user.id, municipality_id=irkutsk.id))
    db.session.commit()
    return [COORDINATOR_EMAIL]
