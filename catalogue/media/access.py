"""Who may read a stored file: its uploader while pending, then whatever its owner's feature says.

Each content type registers one callable at start-up, e.g. in the feature's ``__init__`` or views::

    register_owner("project", lambda user, project_id: services.can_view_project(user, project_id))

The callable gets ``current_user`` (possibly anonymous) and the owner's id, and must be cheap
enough to run per file request. Unknown owner types are denied: deny by default. ``model`` (a mapped
class with ``id`` and the workflow's ``status``) tells the upload quota which owners are published.
"""

from collections.abc import Callable

from flask_login import AnonymousUserMixin

from catalogue.media.models import StoredFile

OwnerCheck = Callable[[object, int], bool]
_owners: dict[str, OwnerCheck] = {}
_models: dict[str, type] = {}


def register_owner(owner_type: str, can_read: OwnerCheck, model: type | None = None) -> None:
    """Let ``can_read(user, owner_id)`` decide who may read the files of ``owner_type`` (rows of ``model``)."""
    _owners[owner_type] = can_read
    if model is not None:
        _models[owner_type] = model


def unregister_owner(owner_type: str) -> None:
    """Forget an owner type (tests)."""
    _owners.pop(owner_type, None)
    _models.pop(owner_type, None)


def owner_models() -> dict[str, type]:
    """The mapped class of each owner type that named one: its rows have ``id`` and ``status``."""
    return dict(_models)


def can_read_file(user, stored_file: StoredFile) -> bool:
    """True when ``user`` may read ``stored_file`` (and its thumbnail)."""
    if stored_file.owner_type is None:
        return _is_uploader(user, stored_file)
    check = _owners.get(stored_file.owner_type)
    return check is not None and stored_file.owner_id is not None and bool(check(user, stored_file.owner_id))


def is_public(stored_file: StoredFile) -> bool:
    """True when anyone, logged in or not, may read the file: then shared caches may keep it."""
    return stored_file.owner_type is not None and can_read_file(AnonymousUserMixin(), stored_file)


def _is_uploader(user, stored_file: StoredFile) -> bool:
    return (
        user is not None
        and getattr(user, "is_authenticated", False)
        and stored_file.uploaded_by_id is not None
        and stored_file.uploaded_by_id == user.id
    )
