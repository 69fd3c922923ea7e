"""Intake checks for scanned documents (SOP step 1).

A document is one PDF, or one or more JPEG/PNG/TIFF scans that are combined into one
PDF without re-compression (img2pdf). The type is decided by content; a file whose
name claims another type is refused. Empty, oversize, truncated, password-protected
and unreadable files are refused before anything is stored.

Inputs are ``InputFile`` objects: a name and a way to open the bytes again, so the
same checks serve files on disk (CLI, import) and uploads held in memory (web).
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from brankas.core.errors import InvalidInput
from brankas.core.names import display_name

KINDS = {"pdf": "PDF", "jpeg": "JPEG", "png": "PNG", "tiff": "TIFF"}
EXTENSIONS = {
    "pdf": "pdf",
    "jpg": "jpeg",
    "jpeg": "jpeg",
    "jpe": "jpeg",
    "png": "png",
    "tif": "tiff",
    "tiff": "tiff",
}
PIL_FORMATS = {"JPEG": "jpeg", "PNG": "png", "TIFF": "tiff", "MPO": "jpeg"}


@dataclass(frozen=True)
class InputFile:
    name: str
    size: int
    opener: Callable[[], BinaryIO]

    def open(self) -> BinaryIO:
        return self.opener()

    @classmethod
    def from_path(cls, path: Path) -> InputFile:
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise InvalidInput("file_missing", name=str(path)) from None
        if not path.is_file():
            raise InvalidInput("file_missing", name=str(path))
        return cls(name=path.name, size=size, opener=lambda: open(path, "rb"))  # noqa: SIM115

    @classmethod
    def from_bytes(cls, name: str, data: bytes) -> InputFile:
        return cls(name=name, size=len(data), opener=lambda: io.BytesIO(data))


@dataclass(frozen=True)
class Original:
    name: str
    kind: str
    size: int
    sha256: str | None = None  # filled in while the bytes are read for storing


@dataclass
class Prepared:
    """A checked document, ready to be written to the store as one PDF."""

    originals: list[Original]
    pages: int
    open_pdf: Callable[[], BinaryIO]
    converted: bool = False
    original_hashes: list[str] = field(default_factory=list)


def sniff(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    # The PDF header may follow a little junk (ISO 32000-1, 7.5.2 tolerance in readers).
    if b"%PDF-" in head[:1024]:
        return "pdf"
    return None


def _check_basics(f: InputFile, limit_mb: int) -> str:
    name = display_name(f.name)
    if f.size == 0:
        raise InvalidInput("file_empty", name=name)
    if f.size > limit_mb * 1024 * 1024:
        raise InvalidInput(
            "file_too_large", name=name, size=round(f.size / 1048576, 1), limit=limit_mb
        )
    with f.open() as fh:
        head = fh.read(1024)
    kind = sniff(head)
    if kind is None:
        raise InvalidInput("file_type_unknown", name=name)
    ext = f.name.rsplit(".", 1)[-1].lower() if "." in f.name else ""
    claimed = EXTENSIONS.get(ext)
    if ext and claimed != kind:
        raise InvalidInput("file_type_mismatch", name=name, actual=KINDS[kind], ext=ext)
    return kind


def _check_pdf(f: InputFile) -> int:
    import pikepdf

    name = display_name(f.name)
    with f.open() as fh:
        head = fh.read(1024)
        fh.seek(max(0, f.size - 2048))
        tail = fh.read()
    _check_pdf_edges(name, head, tail)
    with f.open() as fh:
        try:
            with pikepdf.open(fh, attempt_recovery=False) as pdf:
                if pdf.is_encrypted:
                    raise InvalidInput("pdf_encrypted", name=name)
                pages = len(pdf.pages)
                _check_pdf_objects(pdf, name)
        except pikepdf.PasswordError:
            raise InvalidInput("pdf_encrypted", name=name) from None
        except pikepdf.PdfError as exc:
            raise InvalidInput("pdf_unreadable", name=name, detail=_short(exc)) from None
    if pages < 1:
        raise InvalidInput("pdf_no_pages", name=name)
    return pages


# What may stand before ``%PDF-`` or after the last ``%%EOF``: a byte-order mark, white
# space and NUL padding. Anything else makes the file a second format at once (HTML with a
# script, a ZIP or an executable around a PDF: a "polyglot"), which another program would
# read differently from a PDF reader.
_PADDING = b" \t\r\n\x00\x0c"


def _check_pdf_edges(name: str, head: bytes, tail: bytes) -> None:
    prefix = head[: head.find(b"%PDF-")]
    if prefix.removeprefix(b"\xef\xbb\xbf").strip(_PADDING):
        raise InvalidInput("file_polyglot", name=name, detail=_what_prefix(prefix))
    end = tail.rfind(b"%%EOF")
    if end < 0:
        raise InvalidInput("pdf_truncated", name=name)
    if tail[end + 5:].strip(_PADDING):
        raise InvalidInput("file_polyglot", name=name, detail="data after %%EOF")


def _what_prefix(prefix: bytes) -> str:
    low = prefix.lower()
    if b"<" in low:
        return "HTML/XML before %PDF-"
    if prefix.startswith(b"PK"):
        return "ZIP before %PDF-"
    if prefix.startswith(b"MZ") or prefix.startswith(b"\x7fELF"):
        return "program before %PDF-"
    return "data before %PDF-"


# PDF names that run something when the file is opened, or carry files inside it.
_ACTIVE_KEYS = {"/JS": "JavaScript", "/JavaScript": "JavaScript", "/AA": "automatic actions",
                "/XFA": "XFA form", "/RichMedia": "rich media"}
_ACTIVE_ACTIONS = {"/JavaScript": "JavaScript", "/Launch": "launch action",
                   "/ImportData": "import action", "/SubmitForm": "form submission",
                   "/Rendition": "media action", "/RichMediaExecute": "rich media"}
_EMBEDDED = {"/EmbeddedFiles", "/EmbeddedFile", "/FileAttachment"}


def _check_pdf_objects(pdf: object, name: str) -> None:
    """Refuse JavaScript, launch and similar actions, XFA forms and embedded files, wherever
    they sit: every object of the file is looked at, not only the catalogue."""
    import pikepdf

    def visit(obj: object, depth: int) -> None:
        if depth > 32:
            return
        if isinstance(obj, pikepdf.Stream):
            obj = obj.stream_dict
        if isinstance(obj, pikepdf.Dictionary):
            for key in obj.keys():  # noqa: SIM118 (pikepdf dictionaries)
                if key in _ACTIVE_KEYS:
                    raise InvalidInput("pdf_active_content", name=name, what=_ACTIVE_KEYS[key])
                if key in _EMBEDDED:
                    raise InvalidInput("pdf_embedded_files", name=name)
                value = obj.get(key)
                if isinstance(value, pikepdf.Name):
                    text = str(value)
                    if key == "/S" and text in _ACTIVE_ACTIONS:
                        raise InvalidInput("pdf_active_content", name=name,
                                           what=_ACTIVE_ACTIONS[text])
                    if key in {"/Type", "/Subtype"} and text in _EMBEDDED:
                        raise InvalidInput("pdf_embedded_files", name=name)
                elif isinstance(value, pikepdf.Dictionary | pikepdf.Array) and not (
                    value.is_indirect
                ):
                    visit(value, depth + 1)
        elif isinstance(obj, pikepdf.Array):
            for item in obj:
                if isinstance(item, pikepdf.Dictionary | pikepdf.Array) and not item.is_indirect:
                    visit(item, depth + 1)

    for obj in pdf.objects:  # type: ignore[attr-defined]
        visit(obj, 0)


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


def _check_image(data: bytes, name: str, kind: str, max_pixels: int) -> int:
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                if PIL_FORMATS.get(im.format or "") != kind:
                    raise InvalidInput("file_type_unknown", name=name)
                frames = getattr(im, "n_frames", 1)
                for index in range(frames):
                    im.seek(index)
                    pixels = im.size[0] * im.size[1]
                    if pixels > max_pixels:
                        raise InvalidInput(
                            "image_too_large", name=name, pixels=pixels, limit=max_pixels
                        )
                    if im.format == "JPEG" and frames == 1:
                        # Decode at 1/8 scale: every bit of the compressed data is still
                        # read and checked (truncated and corrupt scans are caught the
                        # same way), but the costly pixel reconstruction is skipped. The
                        # stored PDF keeps the original JPEG untouched. (Not for
                        # multi-picture MPO files, whose later frames draft mode breaks.)
                        im.draft(im.mode, (max(1, im.size[0] // 8), max(1, im.size[1] // 8)))
                    im.load()  # decodes the whole image: catches truncated and corrupt scans
                return frames
    except InvalidInput:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidInput("image_too_large", name=name, pixels="?", limit=max_pixels) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidInput("image_unreadable", name=name, detail=_short(exc)) from None


def prepare(files: list[InputFile], *, limit_mb: int, max_image_pixels: int) -> Prepared:
    """Check the inputs and return how to read them as one PDF. Nothing is written."""
    if not files:
        raise InvalidInput("no_files")
    kinds = [_check_basics(f, limit_mb) for f in files]
    if "pdf" in kinds:
        if len(files) != 1:
            raise InvalidInput("mixed_inputs")
        f = files[0]
        pages = _check_pdf(f)
        return Prepared(
            originals=[Original(display_name(f.name), "pdf", f.size)],
            pages=pages,
            open_pdf=f.open,
        )
    import img2pdf

    images: list[bytes] = []
    originals: list[Original] = []
    hashes: list[str] = []
    pages = 0
    for f, kind in zip(files, kinds, strict=True):
        with f.open() as fh:
            data = fh.read()
        name = display_name(f.name)
        pages += _check_image(data, name, kind, max_image_pixels)
        digest = hashlib.sha256(data).hexdigest()
        originals.append(Original(name, kind, len(data), digest))
        hashes.append(digest)
        images.append(data)
    try:
        # img2pdf's own PDF writer: the images are embedded verbatim either way, and it is
        # several times cheaper than the pikepdf engine, which linearizes and hashes the
        # whole file on every conversion (no use for a scan of a few pages).
        pdf_bytes = img2pdf.convert(
            images, rotation=img2pdf.Rotation.ifvalid, engine=img2pdf.Engine.internal
        )
    except Exception as exc:  # img2pdf raises a variety of errors on odd images
        raise InvalidInput("image_unreadable", name=originals[0].name, detail=_short(exc)) from None
    assert pdf_bytes is not None
    return Prepared(
        originals=originals,
        pages=pages,
        open_pdf=lambda: io.BytesIO(pdf_bytes),
        converted=True,
        original_hashes=hashes,
    )


def source_digest(hashes: list[str]) -> str:
    """The identity of what was scanned: the file's SHA-256, or for several scans the SHA-256
    of their hashes in order (used to warn about registering the same thing twice)."""
    if len(hashes) == 1:
        return hashes[0]
    return hashlib.sha256("\n".join(hashes).encode("ascii")).hexdigest()
