"""Domain exceptions that services raise and the web layer turns into responses."""

from functools import wraps

from flask import abort
from flask_login import current_user

from catalogue.errors import InvalidInput
from catalogue.roles import Role

__all__ = ["Conflict", "InvalidInput", "NotFound", "PermissionDenied", "require_role", "role_required"]


class PermissionDenied(Exception):
    """The actor may not do this (HTTP 403)."""


class Conflict(Exception):
    """The action does not fit the current state of the object (HTTP 409)."""


def require_role(actor, *roles: Role) -> None:
    """:raise PermissionDenied: unless ``actor`` is logged in, active and holds one of ``roles``."""
    if actor is None or not actor.is_authenticated or not actor.is_active or not actor.has_role(*roles):
        raise PermissionDenied


def role_required(*roles: Role):
    """View decorator: log in first, then hold one of ``roles``.

    :raise 403: for a logged-in user without the role.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            from catalogue.extensions import login_manager

            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


class NotFound(Exception):
    """The object does not exist, or this actor may not know that it does (HTTP 404)."""
