"""Uploads shared by projects, contest entries and practices: validation, 3D facts, thumbnails, storage, serving.

What other features call:

- ``validation.validate_upload(kind, filename, data, max_size=None, *, allowed=None)`` → ``ValidatedUpload``
  or ``UploadError`` (Russian message);
- ``forms.UploadField`` and ``forms.accept_uploads(field, actor)`` with the ``media/_upload.html`` macro;
- ``services.store_upload``, ``claim_files``, ``files_of``, ``delete_file``, ``delete_files_of``;
- ``access.can_read_file``: the ``files`` part of the owner's content type (``catalogue.content``);
- templates: ``file_url(f)``, ``thumbnail_url(f)``, ``size|filesize``.
"""
