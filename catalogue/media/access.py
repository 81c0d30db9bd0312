"""Who may read a stored file: its uploader while pending, then whatever its owner's content type says.

The owner type of a file is a content type's key (``catalogue.content``); the type's ``files`` part::

    ContentType(key="project", ..., files=lambda user, project_id: services.can_view_project(user, project_id))

gets ``current_user`` (possibly anonymous) and the owner's id, and must be cheap enough to run per file
request. Unknown owner types, and types without a ``files`` part, are denied: deny by default. The type's
``model`` (with ``id`` and the workflow's ``status``) tells the upload quota which owners are published.
"""

from collections.abc import Callable

from flask_login import AnonymousUserMixin

from catalogue import content
from catalogue.media.models import StoredFile

OwnerCheck = Callable[[object, int], bool]


def register_owner(owner_type: str, can_read: OwnerCheck, model: type | None = None) -> None:
    """An owner type with only a ``files`` part (tests); content types declare theirs in ``content.py``."""
    content.register(content.ContentType(key=owner_type, model=model, files=can_read))


def unregister_owner(owner_type: str) -> None:
    """Forget an owner type registered by :func:`register_owner` (tests)."""
    content.unregister(owner_type)


def owner_models() -> dict[str, type]:
    """The mapped class of each owner type whose rows have a workflow ``status`` (the quota's published test)."""
    return {
        t.key: t.model
        for t in content.all_types()
        if t.files is not None and t.model is not None and hasattr(t.model, "status")
    }


def can_read_file(user, stored_file: StoredFile) -> bool:
    """True when ``user`` may read ``stored_file`` (and its thumbnail)."""
    if stored_file.owner_type is None:
        return _is_uploader(user, stored_file)
    owner = content.get(stored_file.owner_type)
    check = owner.files if owner is not None else None
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
