"""Which municipality a municipal coordinator coordinates (one per coordinator, assigned by an administrator)."""

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalogue.extensions import db
from catalogue.taxonomy.models import Municipality


class CoordinatedMunicipality(db.Model):
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"), index=True)
    municipality: Mapped[Municipality] = relationship(lazy="joined")
