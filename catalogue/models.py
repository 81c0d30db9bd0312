"""Every model of the application, imported so that metadata and migrations see them all."""

from catalogue.accounts.models import LoginAttempt, Role, User, UserRole
from catalogue.taxonomy.models import AgeGroup, Municipality, Organization, Sphere

__all__ = [
    "AgeGroup",
    "LoginAttempt",
    "Municipality",
    "Organization",
    "Role",
    "Sphere",
    "User",
    "UserRole",
]
