"""The names files go by in public: made from what a file belongs to, never from what the uploader called it.

A person's file name often carries their own name («Иванов_Артём_ракета.stl»), so URLs and downloads use
a neutral one, transliterated and in lower case: ``sozdatel-2027-rabota-23.stl``. The owner's content type
gives the words in its ``file_name`` part (``catalogue.content``)::

    ContentType(key="project", ..., file_name=lambda f: ("проект", f.owner_id, "приложение", f.id))

The callable gets the stored file and returns words and numbers; it must not query per file (the
owner, if it needs one, is usually in the session already). The uploader and the moderators still
see the original name (:func:`file_label`), on the review pages and in the author's forms.
"""

from catalogue import content
from catalogue.accounts.models import Role
from catalogue.formatting import slugify
from catalogue.media.models import StoredFile

MAX_STEM_LENGTH = 100


def public_name(stored: StoredFile) -> str:
    """The file's neutral name: ``proekt-12-prilozhenie-40.pdf``; a pending file is ``zagruzka-<id>``."""
    owner = content.get(stored.owner_type) if stored.owner_type is not None else None
    namer = owner.file_name if owner is not None else None
    words = namer(stored) if namer is not None else ("загрузка" if stored.is_pending else "файл", stored.id)
    stem = slugify(" ".join(str(word) for word in words), max_length=MAX_STEM_LENGTH)
    return f"{stem}.{stored.extension}"


def file_label(user, stored: StoredFile) -> str:
    """The name ``user`` is shown: the original one for the uploader and the moderators, else the public one."""
    known = user is not None and getattr(user, "is_authenticated", False)
    if known and (stored.uploaded_by_id == user.id or user.has_role(Role.MODERATOR, Role.ADMIN)):
        return stored.original_name
    return public_name(stored)
