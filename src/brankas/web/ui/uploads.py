"""Uploads never touch disk; what every page with an upload shares.

Django writes uploads larger than 2.5 MB to a temporary file; for an exempted document
that would put its plaintext on disk. This handler replaces Django's two defaults: it
keeps every upload in memory and stops reading at ``BRANKAS_MAX_UPLOAD_MB``.

An upload over the limit sets ``request.brankas_upload_too_large`` (and
``request.brankas_upload_name``, the first file's name) so the view can say so; the
form fields sent before the files are still parsed (the CSRF token among them).
"""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest
from django.utils.translation import gettext as _

from brankas.core.errors import InvalidInput
from brankas.core.register.intake import InputFile

MIB = 1024 * 1024


class UploadTooLarge(StopUpload):
    pass


class MemoryOnlyUploadHandler(FileUploadHandler):
    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.total = 0
        self.limit = settings.FILE_UPLOAD_MAX_MEMORY_SIZE
        self.buffer: io.BytesIO | None = None
        self.too_large = False

    def _refuse(self) -> None:
        if self.request is not None:
            setattr(self.request, "brankas_upload_too_large", True)  # noqa: B010
            if self.file_name and not getattr(self.request, "brankas_upload_name", ""):
                setattr(self.request, "brankas_upload_name", self.file_name)  # noqa: B010
        self.buffer = None
        raise UploadTooLarge(connection_reset=True)

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):  # type: ignore[no-untyped-def]
        # Raising here would escape Django's parser (and the CSRF check that reads the form):
        # mark the request and refuse at the first file instead, without reading its bytes.
        if content_length and content_length > self.limit + 1024 * 1024:
            self.too_large = True
        return None

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        if self.too_large:
            self._refuse()
        self.buffer = io.BytesIO()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.total += len(raw_data)
        if self.total > self.limit:
            self._refuse()
        assert self.buffer is not None
        self.buffer.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> InMemoryUploadedFile | None:
        assert self.buffer is not None
        self.buffer.seek(0)
        return InMemoryUploadedFile(
            file=self.buffer,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )


def upload_too_large(request: HttpRequest) -> InvalidInput:
    """The refusal for an upload the handler stopped reading."""
    limit = settings.FILE_UPLOAD_MAX_MEMORY_SIZE / MIB
    try:
        size = int(request.META.get("CONTENT_LENGTH") or 0) / MIB
    except ValueError:
        size = 0
    return InvalidInput(
        "file_too_large",
        name=getattr(request, "brankas_upload_name", "") or _("the upload"),
        size=round(size, 1),
        limit=int(limit) if limit == int(limit) else round(limit, 1),
    )


def uploaded_files(items: list[Any]) -> list[InputFile]:
    """Uploads, held in memory (the upload handler never spools them to disk)."""
    return [InputFile.from_bytes(f.name or "", f.read()) for f in items]


def refuse_if_too_large(request: HttpRequest, form: Any) -> bool:
    """Whether the upload was too large for the handler; the refusal is then put on
    ``form`` (which is validated first, so its other errors show too)."""
    if not getattr(request, "brankas_upload_too_large", False):
        return False
    form.is_valid()
    form.add_brankas_error(upload_too_large(request))
    return True
