"""The names files go by in public: made from what a file belongs to, never from what the uploader called it.

A person's file name often carries their own name («Иванов_Артём_ракета.stl»), so URLs and downloads use
a neutral one, transliterated and in lower case: ``sozdatel-2027-rabota-23.stl``. Each owner type
registers the words of its names once at start-up::

    register_public_name("project", lambda f: ("проект", f.owner_id, "приложение", f.id))

The callable gets the stored file and returns words and numbers; it must not query per file (the
owner, if it needs one, is usually in the session already). The uploader and the moderators still
see the original name (:func:`file_label`), on the review pages and in the author's forms.
"""

from collections.abc import Callable, Sequence

from catalogue.accounts.models import Role
from catalogue.formatting import slugify
from catalogue.media.models import StoredFile

NameWords = Callable[[StoredFile], Sequence[str | int]]
MAX_STEM_LENGTH = 100
_namers: dict[str, NameWords] = {}


def register_public_name(owner_type: str, words: NameWords) -> None:
    """Let ``words(stored_file)`` make the public names of the files of ``owner_type``."""
    _namers[owner_type] = words


def public_name(stored: StoredFile) -> str:
    """The file's neutral name: ``proekt-12-prilozhenie-40.pdf``; a pending file is ``zagruzka-<id>``."""
    namer = _namers.get(stored.owner_type) if stored.owner_type is not None else None
    words = namer(stored) if namer is not None else ("загрузка" if stored.is_pending else "файл", stored.id)
    stem = slugify(" ".join(str(word) for word in words), max_length=MAX_STEM_LENGTH)
    return f"{stem}.{stored.extension}"


def file_label(user, stored: StoredFile) -> str:
    """The name ``user`` is shown: the original one for the uploader and the moderators, else the public one."""
    known = user is not None and getattr(user, "is_authenticated", False)
    if known and (stored.uploaded_by_id == user.id or user.has_role(Role.MODERATOR, Role.ADMIN)):
        return stored.original_name
    return public_name(stored)
