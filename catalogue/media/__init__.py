"""Uploads shared by projects, contest entries and practices: validation, 3D facts, thumbnails, storage, serving.

What other features call:

- ``validation.validate_upload(kind, filename, data, max_size=None, *, allowed=None)`` → ``ValidatedUpload``
  or ``UploadError`` (Russian message);
- ``forms.UploadField`` and ``forms.accept_uploads(field, actor)`` with the ``media/_upload.html`` macro;
- ``services.store_upload`` (held to the account's quota), ``claim_files``, ``files_of``, ``delete_file``,
  ``delete_files_of``, and ``release_transaction()`` before slow work;
- ``attachments.attach_files(actor, owner_type, owner_id, add, remove)`` with the rules of ``attachments.RULES``;
- ``access.can_read_file``: the ``files`` part of the owner's content type (``catalogue.content``); its
  ``file_name`` part makes the neutral public names (``names.public_name``);
- templates: ``file_url(f)`` (ends in the neutral public name), ``file_label(f)`` (the original name for the
  uploader and moderators), ``public_file_name(f)``, ``thumbnail_url(f)``, ``size|filesize``.
"""
