"""The files a piece of content carries: one set of rules per owner type, and the one service that applies them.

Projects, project reports, practices (and their revisions) and contest entries attach files the same way::

    attach_files(actor, "project", project.id, add=data.attach, remove=data.detach)

in the service's transaction: the owner's files among ``remove`` are deleted, the actor's pending uploads
among ``add`` are claimed, and the owner's :class:`AttachmentRules` (how many files, how many bytes in all,
which kinds) are checked; a broken rule raises :class:`InvalidInput` naming the form field, and the caller
rolls back, so the uploads stay pending for the form. Only files of the rules' kinds count: an entry's
model and note are not among its images.

One owner never carries the same content twice: a claimed upload whose SHA-256 equals one of the owner's
files (or another upload of the same call) is deleted instead of attached, whichever path brought it
(a photo kept after a failed form and picked again, a repeated import, a double submit).
"""

from collections.abc import Iterable
from dataclasses import dataclass

from catalogue.formatting import plural
from catalogue.media import services
from catalogue.media.errors import MiB, human_size
from catalogue.media.formats import DOCUMENT, IMAGE
from catalogue.media.models import StoredFile
from catalogue.permissions import InvalidInput


@dataclass(frozen=True)
class AttachmentRules:
    """What one owner may carry: at most ``max_files`` files of ``kinds``, ``max_total_bytes`` in all.

    ``too_many`` is the refusal, with ``{count}`` for the limit in words (``nouns``: one, few, many, in the
    genitive after «не больше»); ``field`` is the form field the refusals belong to.
    """

    max_files: int
    max_total_bytes: int
    kinds: frozenset[str]
    field: str
    too_many: str
    nouns: tuple[str, str, str] = ("файла", "файлов", "файлов")
    wrong_kind: str = "Этот файл сюда не подходит: загрузите документ или изображение."

    def too_many_message(self) -> str:
        return self.too_many.format(count=plural(self.max_files, *self.nouns))

    def too_large_message(self, total: int) -> str:
        return f"Файлы вместе занимают {human_size(total)}, а можно не больше {human_size(self.max_total_bytes)}."


_PRACTICE = AttachmentRules(
    max_files=10,
    max_total_bytes=200 * MiB,
    kinds=frozenset({DOCUMENT, IMAGE}),
    field="attachments",
    too_many="Не больше {count} у одной практики.",
)

# The one table of rules, by owner type (``StoredFile.owner_type``).
RULES: dict[str, AttachmentRules] = {
    "project": AttachmentRules(
        max_files=10,
        max_total_bytes=200 * MiB,
        kinds=frozenset({DOCUMENT, IMAGE}),
        field="attachments",
        too_many="Не больше {count} у одного проекта.",
    ),
    "report": AttachmentRules(
        max_files=12,
        max_total_bytes=240 * MiB,
        kinds=frozenset({IMAGE}),
        field="photos",
        too_many="Не больше {count} у одного отчёта.",
        nouns=("фотографии", "фотографий", "фотографий"),
        wrong_kind="Фотографии — JPEG, PNG или WebP.",
    ),
    # A revision's new files wait beside the practice's: the two are counted together.
    "practice": _PRACTICE,
    "practice_revision": _PRACTICE,
    "entry": AttachmentRules(
        max_files=6,
        max_total_bytes=120 * MiB,
        kinds=frozenset({IMAGE}),
        field="images",
        too_many="Не больше {count}.",
        nouns=("изображения", "изображений", "изображений"),
        wrong_kind="Изображения — JPEG, PNG или WebP.",
    ),
}


def rules_for(owner_type: str) -> AttachmentRules:
    """:raise KeyError: an owner type without rules (a programming error)."""
    return RULES[owner_type]


def attachments_of(owner_type: str, owner_id: int) -> list[StoredFile]:
    """The owner's files that its rules count (oldest first, one query)."""
    kinds = rules_for(owner_type).kinds
    return [f for f in services.files_of(owner_type, [owner_id])[owner_id] if f.kind in kinds]


def attach_files(
    actor,
    owner_type: str,
    owner_id: int,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    *,
    elsewhere: Iterable[StoredFile] = (),
) -> list[StoredFile]:
    """Delete the owner's files among ``remove``, claim ``actor``'s pending uploads among ``add``; the caller commits.

    ``elsewhere`` are files counted with the owner's (a practice's files beside its revision's).
    Keys of files that are not the actor's pending uploads are ignored, as by ``services.claim_files``;
    uploads with the content of a file the owner keeps, or of an earlier one of ``add``, are deleted.

    :return: the files claimed (without the duplicates).
    :raise InvalidInput: a file of a kind the owner does not take, too many files, or too many bytes.
    """
    rules = rules_for(owner_type)
    removed = set(remove)
    kept = []
    for stored in attachments_of(owner_type, owner_id):
        if stored.key in removed:
            remove_attachment(stored)
        else:
            kept.append(stored)
    add = list(add)
    claimed = _without_duplicates(kept, services.claim_files(actor, add, owner_type, owner_id) if add else [])
    if any(f.kind not in rules.kinds for f in claimed):
        raise InvalidInput(rules.wrong_kind, rules.field)
    counted = [*elsewhere, *kept, *claimed]
    if len(counted) > rules.max_files:
        raise InvalidInput(rules.too_many_message(), rules.field)
    total = sum(f.size for f in counted)
    if total > rules.max_total_bytes:
        raise InvalidInput(rules.too_large_message(total), rules.field)
    return claimed


def _without_duplicates(kept: list[StoredFile], claimed: list[StoredFile]) -> list[StoredFile]:
    """``claimed`` without the files whose content the owner already has; those are deleted."""
    seen = {f.sha256 for f in kept}
    unique = []
    for stored in claimed:
        if stored.sha256 in seen:
            remove_attachment(stored)
        else:
            seen.add(stored.sha256)
            unique.append(stored)
    return unique


def remove_attachment(stored: StoredFile) -> None:
    """Delete one attached file: the row now, the file on disk once the caller commits."""
    services.delete_file(stored)
