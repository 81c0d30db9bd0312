"""File fields for the forms of other features, with uploads kept across a failed submit.

Usage in a feature (the form needs ``enctype="multipart/form-data"``)::

    class EntryForm(BaseForm):
        title = StringField("Название", [InputRequired()])
        models = UploadField("Файл модели", kind="model", max_files=3)

    form = EntryForm()
    if form.is_submitted():
        valid = form.validate()
        files = accept_uploads(form.models, current_user)   # stores new valid files as pending
        if valid and not form.models.errors:
            entry = services.submit_entry(current_user, ..., file_keys=[f.key for f in files])
            # the service calls media.services.claim_files(actor, keys, "entry", entry.id) and commits
            ...
    return render("contest/entry_form.html", form=form)

and in the template::

    {% from "media/_upload.html" import upload_field %}
    {{ upload_field(form.models, hint="STL, OBJ, GLB или 3MF, до 50 МБ") }}
"""

import hashlib
from collections.abc import Collection

from flask_wtf.file import MultipleFileField
from werkzeug.datastructures import FileStorage
from wtforms.utils import unset_value
from wtforms.widgets import FileInput

from catalogue.formatting import plural
from catalogue.media import services
from catalogue.media.errors import UploadError, human_size
from catalogue.media.formats import KIND_FORMATS, accept_attribute
from catalogue.media.models import StoredFile
from catalogue.media.validation import DEFAULT_MAX_SIZE, ValidatedUpload, validate_upload


def validate_form_upload(
    file_storage: FileStorage, kind: str, max_size: int | None = None, allowed: Collection[str] | None = None
) -> ValidatedUpload:
    """Validate one file of a submitted form by its content. :raise UploadError: with the reason in Russian."""
    return validate_upload(kind, file_storage.filename or "", file_storage.stream, max_size, allowed=allowed)


class UploadField(MultipleFileField):
    """A file input of one upload kind; its files come back as pending uploads when the form fails.

    ``kind``: ``document``, ``image`` or ``model``; ``allowed`` narrows the formats (e.g. ``{"pdf"}``);
    ``max_size`` is per file in bytes (default per kind); ``max_files`` > 1 lets people pick several.
    Pending keys travel in hidden inputs ``<name>-pending``; ticked ``<name>-remove`` boxes discard them.
    """

    def __init__(
        self,
        label=None,
        validators=None,
        kind: str = "document",
        max_size: int | None = None,
        allowed: Collection[str] | None = None,
        max_files: int = 10,
        **kwargs,
    ) -> None:
        super().__init__(label, validators, **kwargs)
        self.kind = kind
        self.max_size = max_size
        self.allowed = allowed
        self.max_files = max_files
        self.widget = FileInput(multiple=max_files > 1)
        self.pending: list[StoredFile] = []
        self.pending_keys: list[str] = []
        self.remove_keys: list[str] = []

    def process(self, formdata, data=unset_value, extra_filters=None) -> None:
        super().process(formdata, data, extra_filters)
        if formdata is not None:
            self.pending_keys = formdata.getlist(f"{self.name}-pending")
            self.remove_keys = formdata.getlist(f"{self.name}-remove")

    @property
    def accept(self) -> str:
        """The input's ``accept`` attribute: a hint to the browser, never trusted."""
        formats = [f for f in KIND_FORMATS[self.kind] if self.allowed is None or f in self.allowed]
        return accept_attribute(formats)

    @property
    def limit_attributes(self) -> dict:
        """``data-max-bytes`` and its words («50 МБ»): the server's limit, checked in the browser before sending."""
        limit = self.max_size or DEFAULT_MAX_SIZE[self.kind]
        return {"data-max-bytes": str(limit), "data-max-size": human_size(limit)}

    @property
    def new_files(self) -> list[FileStorage]:
        return [f for f in self.data or [] if isinstance(f, FileStorage) and f.filename]


def accept_uploads(field: UploadField, actor) -> list[StoredFile]:
    """Drop the files ticked for removal, store the new valid ones as pending, and return all the field holds.

    New files are checked outside any transaction: call it before the form's service changes anything.
    Refusals are added to ``field.errors``; ``field.pending`` is set for the template.
    """
    removed = set(field.remove_keys) & set(field.pending_keys)
    if removed:
        services.discard_pending(actor, removed)
    held = services.pending_files(actor, [k for k in field.pending_keys if k not in removed])
    kept = list(held)
    errors = list(field.errors)
    if field.new_files:
        # Checking a file takes time: nobody else's writes may wait for it (each store_upload commits).
        services.release_transaction()
    for file_storage in field.new_files:
        if len(held) >= field.max_files:
            errors.append(f"Можно прикрепить не больше {plural(field.max_files, 'файла', 'файлов', 'файлов')}.")
            break
        try:
            validated = validate_form_upload(file_storage, field.kind, field.max_size, field.allowed)
            if _holds_content(kept, validated.data):
                continue  # picked again after a failed submit: it is kept already
            held.append(services.store_upload(actor, validated))
        except UploadError as e:
            errors.append(str(e))
    field.errors = errors
    field.pending = held
    return held


def _holds_content(kept: list[StoredFile], data: bytes) -> bool:
    """True when one of the files kept from the last submit has exactly these bytes (chosen a second time);
    repeats among new files are left to the attachments service, which attaches one of them."""
    digest = hashlib.sha256(data).hexdigest()
    return any(f.sha256 == digest for f in kept)
