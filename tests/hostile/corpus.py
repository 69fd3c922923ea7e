"""The hostile-input corpus: each case is an input and the outcome it must have.

``code`` is the error code the input must be refused with, or ``OK`` when the input is
harmless once sanitised (a strange file name, a subject carrying HTML): then it is stored,
with safe names, and shown escaped. The same table is run through the service, the web
upload and (where a file system allows the name) the real CLI.
"""

from __future__ import annotations

import io
import struct
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

import pikepdf

from tests.conftest import make_jpeg, make_pdf
from tests.core.register.test_intake import (
    encrypted_pdf,
    make_png,
    make_tiff,
    png_bomb,
    png_chunk,
    zero_page_pdf,
)

OK = "ok"
Files = Callable[[], list[tuple[str, bytes]]]


@dataclass(frozen=True)
class Case:
    id: str
    files: Files
    code: str
    fields: dict[str, str] = field(default_factory=dict)
    max_file_mb: int | None = None  # a lower BRANKAS_MAX_FILE_MB for this case
    web: bool = True  # also through the web upload
    cli: bool = False  # also through the real CLI (slow: a few representative cases)
    # Where Django's own checks come first on the web: the outcome there (OK or a code) and,
    # for a refusal, the text the page shows.
    web_code: str | None = None
    web_text: str | None = None


def one(name: str, build: bytes | Callable[[], bytes]) -> Files:
    return lambda: [(name, build() if callable(build) else build)]


def pdf_ok() -> bytes:
    return make_pdf(text="hostile corpus")


# ---------------------------------------------------------------- PDFs with active content

def _pdf_with(edit: Callable[[pikepdf.Pdf], None]) -> bytes:
    with pikepdf.open(io.BytesIO(make_pdf(text="aktif"))) as pdf:
        edit(pdf)
        buf = io.BytesIO()
        pdf.save(buf)
    return buf.getvalue()


def _js_action(pdf: pikepdf.Pdf) -> pikepdf.Object:
    return pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.JavaScript,
                                                JS=pikepdf.String("app.alert('x')")))


def pdf_js_open_action() -> bytes:
    def edit(pdf: pikepdf.Pdf) -> None:
        pdf.Root.OpenAction = _js_action(pdf)
    return _pdf_with(edit)


def pdf_js_name_tree() -> bytes:
    def edit(pdf: pikepdf.Pdf) -> None:
        pdf.Root.Names = pikepdf.Dictionary(
            JavaScript=pikepdf.Dictionary(Names=pikepdf.Array(["init", _js_action(pdf)])))
    return _pdf_with(edit)


def pdf_launch_link() -> bytes:
    def edit(pdf: pikepdf.Pdf) -> None:
        link = pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 100, 100],
            A=pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("cmd.exe")))
        pdf.pages[0].Annots = pdf.make_indirect(pikepdf.Array([link]))
    return _pdf_with(edit)


def pdf_page_additional_action() -> bytes:
    def edit(pdf: pikepdf.Pdf) -> None:
        pdf.pages[0].AA = pikepdf.Dictionary(
            O=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("http://x.invalid/")))
    return _pdf_with(edit)


def pdf_xfa_form() -> bytes:
    def edit(pdf: pikepdf.Pdf) -> None:
        pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array(),
                                               XFA=pdf.make_stream(b"<xdp:xdp/>"))
    return _pdf_with(edit)


def pdf_embedded_file() -> bytes:
    def edit(pdf: pikepdf.Pdf) -> None:
        pdf.attachments["virus.exe"] = pikepdf.AttachedFileSpec(pdf, b"MZ\x90\x00payload")
    return _pdf_with(edit)


def pdf_file_attachment_annotation() -> bytes:
    def edit(pdf: pikepdf.Pdf) -> None:
        spec = pikepdf.AttachedFileSpec(pdf, b"lampiran", filename="a.txt")
        annot = pikepdf.Dictionary(Type=pikepdf.Name.Annot,
                                   Subtype=pikepdf.Name.FileAttachment,
                                   Rect=[0, 0, 10, 10], FS=spec.obj)
        pdf.pages[0].Annots = pdf.make_indirect(pikepdf.Array([annot]))
    return _pdf_with(edit)


# ---------------------------------------------------------------- polyglots

def small_zip(payload: bytes = b"<script>alert(1)</script>") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("index.html", payload)
    return buf.getvalue()


def html_then_pdf() -> bytes:
    return b"<html><script>alert(document.cookie)</script><!--\n" + pdf_ok()


def pdf_then_zip() -> bytes:
    return pdf_ok() + small_zip()


def zip_holding_pdf() -> bytes:
    return small_zip(pdf_ok())


def gif_then_pdf() -> bytes:
    return b"GIF89a\x01\x00\x01\x00\x00\x00\x00;" + pdf_ok()


def exe_then_pdf() -> bytes:
    return b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 56 + pdf_ok()


# ---------------------------------------------------------------- bombs and damaged scans

def jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose frame header (SOF0) claims ``width`` × ``height``."""
    data = bytearray(make_jpeg(size=(16, 16)))
    at = data.index(b"\xff\xc0")
    data[at + 5:at + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def tiff_claiming(width: int, height: int) -> bytes:
    """A TIFF whose IFD claims ``width`` × ``height`` (one strip of 8 bytes)."""
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 1),
               (262, 3, 1, 1), (273, 4, 1, 8 + 2 + 12 * 9 + 4), (277, 3, 1, 1),
               (278, 4, 1, height), (279, 4, 1, 8)]
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHII", tag, kind, count, value) for tag, kind, count, value in entries
    ) + struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + b"\x00" * 8


def png_zlib_bomb() -> bytes:
    """A real deflate bomb: 20000 × 20000 grey pixels (400 MB decoded) in ~400 KB."""
    width = height = 20_000
    body = _zero_rows_deflated(width, height)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", body)
            + png_chunk(b"IEND", b""))


def _zero_rows_deflated(width: int, height: int) -> bytes:
    """``height`` rows of ``width`` zero bytes, each after its filter byte 0, deflated at
    level 9: compressing the 400 MB costs a second of CPU, so the result is kept between
    runs in the temporary folder (named by the sizes and zlib's version; written in one
    rename), as tests/conftest.py keeps the migrated database."""
    import os
    import tempfile
    import zlib
    from pathlib import Path

    kept = Path(tempfile.gettempdir()) / (
        f"brankas-test-zero-rows-{width}x{height}-zlib{zlib.ZLIB_RUNTIME_VERSION}.deflate")
    size = (width + 1) * height
    adler = ((size % 65521) << 16) | 1  # the Adler-32 of ``size`` zero bytes: the trailer
    if kept.is_file():
        body = kept.read_bytes()
        if body[:2] == b"\x78\xda" and int.from_bytes(body[-4:], "big") == adler:
            return body
    row = b"\x00" + b"\x00" * width
    comp = zlib.compressobj(9)
    body = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    assert int.from_bytes(body[-4:], "big") == adler
    partial = kept.with_name(f"{kept.name}.{os.getpid()}.part")
    partial.write_bytes(body)
    os.replace(partial, kept)
    return body


def truncated(build: Callable[[], bytes], keep: float = 0.5) -> Callable[[], bytes]:
    return lambda: (lambda d: d[: int(len(d) * keep)])(build())


# ---------------------------------------------------------------- names

NFD_NAME = unicodedata.normalize("NFD", "Surat Pengantar Dinas Pendidikan é ñ.pdf")
RLO = "\u202e"

CASES: list[Case] = [
    # content that contradicts the name
    Case("jpeg-named-pdf", one("foto.pdf", make_jpeg), "file_type_mismatch", cli=True),
    Case("pdf-named-jpg", one("surat.jpg", pdf_ok), "file_type_mismatch"),
    Case("png-named-tif", one("scan.tif", make_png), "file_type_mismatch"),
    Case("pdf-named-exe", one("surat.exe", pdf_ok), "file_type_mismatch"),
    Case("html-named-pdf", one("surat.pdf", b"<html><script>alert(1)</script></html>\n" * 8),
         "file_type_unknown"),
    Case("svg-with-script-named-png",
         one("scan.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
         "file_type_unknown"),
    Case("windows-program-named-pdf", one("surat.pdf", b"MZ\x90\x00" + b"\x00" * 2000),
         "file_type_unknown"),
    # polyglots
    Case("html-before-pdf", one("surat.pdf", html_then_pdf), "file_polyglot", cli=True),
    Case("pdf-with-zip-appended", one("surat.pdf", pdf_then_zip), "file_polyglot"),
    Case("zip-holding-a-pdf", one("surat.pdf", zip_holding_pdf), "file_polyglot"),
    Case("gif-before-pdf", one("surat.pdf", gif_then_pdf), "file_polyglot"),
    Case("program-before-pdf", one("surat.pdf", exe_then_pdf), "file_polyglot"),
    # PDFs with active content or other files inside
    Case("pdf-javascript-open-action", one("aktif.pdf", pdf_js_open_action),
         "pdf_active_content", cli=True),
    Case("pdf-javascript-name-tree", one("aktif.pdf", pdf_js_name_tree), "pdf_active_content"),
    Case("pdf-launch-action", one("aktif.pdf", pdf_launch_link), "pdf_active_content"),
    Case("pdf-page-additional-action", one("aktif.pdf", pdf_page_additional_action),
         "pdf_active_content"),
    Case("pdf-xfa-form", one("aktif.pdf", pdf_xfa_form), "pdf_active_content"),
    Case("pdf-embedded-file", one("lampiran.pdf", pdf_embedded_file), "pdf_embedded_files"),
    Case("pdf-file-attachment-annotation", one("lampiran.pdf", pdf_file_attachment_annotation),
         "pdf_embedded_files"),
    Case("pdf-encrypted", one("rahasia.pdf", lambda: encrypted_pdf("u")), "pdf_encrypted"),
    Case("pdf-no-pages", one("nol.pdf", zero_page_pdf), "pdf_no_pages"),
    # decompression bombs
    Case("png-header-bomb", one("bom.png", png_bomb), "image_too_large", cli=True),
    Case("png-deflate-bomb", one("bom.png", png_zlib_bomb), "image_too_large", web=False),
    Case("jpeg-header-bomb", one("bom.jpg", lambda: jpeg_claiming(65_000, 65_000)),
         "image_too_large"),
    Case("tiff-header-bomb", one("bom.tif", lambda: tiff_claiming(2_000_000, 2_000_000)),
         "image_too_large"),
    # empty, truncated, oversize
    Case("empty-pdf", one("kosong.pdf", b""), "file_empty", cli=True),
    Case("empty-jpeg", one("kosong.jpg", b""), "file_empty"),
    Case("truncated-pdf", one("potong.pdf", truncated(pdf_ok)), "pdf_truncated"),
    Case("truncated-jpeg", one("potong.jpg", truncated(lambda: make_jpeg(size=(400, 300)),
                                                      0.3)), "image_unreadable"),
    Case("truncated-png", one("potong.png", lambda: make_png((300, 300))[:-40]),
         "image_unreadable"),
    Case("truncated-tiff", one("potong.tif", lambda: make_tiff(1)[:16]), "image_unreadable"),
    Case("oversize-pdf", one("besar.pdf", lambda: b"%PDF-1.7\n" + b"0" * (2 * 1024 * 1024)),
         "file_too_large", max_file_mb=1),
    Case("a-bad-page-among-good-ones",
         lambda: [("hal1.jpg", make_jpeg()), ("hal2.jpg", truncated(make_jpeg, 0.4)())],
         "image_unreadable"),
    # hostile names on a good file: stored under a safe name, or refused by extension
    Case("name-dot-dot-slash", one("../../../../etc/surat.pdf", pdf_ok), OK),
    Case("name-absolute-unix", one("/etc/passwd.pdf", pdf_ok), OK),
    Case("name-absolute-windows", one("C:\\Windows\\System32\\surat.pdf", pdf_ok), OK),
    Case("name-nul", one("surat\x00.pdf", pdf_ok), OK, web=False),
    Case("name-control-characters", one("su\x1b[31mrat\x07\r\n.pdf", pdf_ok), OK, web=False),
    Case("name-reserved-con", one("CON.pdf", pdf_ok), OK, cli=True),
    Case("name-reserved-nul-lower", one("nul.PDF", pdf_ok), OK),
    Case("name-reserved-com1", one("COM1.pdf", pdf_ok), OK),
    Case("name-very-long", one("surat-" + "panjang" * 60 + ".pdf", pdf_ok), OK),
    Case("name-nfd", one(NFD_NAME, pdf_ok), OK),
    Case("name-right-to-left-override", one(f"laporan{RLO}fdp.exe", pdf_ok),
         "file_type_mismatch"),
    # Django drops unprintable characters from an upload's name before Brankas sees it.
    Case("name-rlo-after-extension", one(f"laporan.pdf{RLO}", pdf_ok), "file_type_mismatch",
         web_code=OK),
    Case("name-trailing-dots-spaces", one("surat.pdf. . ", pdf_ok), "file_type_mismatch"),
    # metadata carrying markup, SQL, odd dates and numbers
    Case("subject-script-tag", one("surat.pdf", pdf_ok), OK,
         fields={"subject": "<script>alert('xss')</script>"}),
    Case("correspondent-img-onerror", one("surat.pdf", pdf_ok), OK,
         fields={"correspondent": '"><img src=x onerror=alert(1)>'}),
    Case("number-sql", one("surat.pdf", pdf_ok), OK,
         fields={"number": "1'; DROP TABLE documents_document; --"}),
    Case("subject-sql-union", one("surat.pdf", pdf_ok), OK,
         fields={"subject": "x' UNION SELECT password FROM accounts_user --"}),
    Case("subject-only-invisible", one("surat.pdf", pdf_ok), "field_required",
         fields={"subject": "\u202e\u200b\u2066\t"}),
    Case("subject-nul", one("surat.pdf", pdf_ok), "field_required",
         fields={"subject": "\x00\x00"}, web_code="field_required",
         web_text="Karakter null tidak diizinkan."),
    Case("subject-too-long", one("surat.pdf", pdf_ok), "field_too_long",
         fields={"subject": "a" * 501}),
    Case("date-before-1945", one("surat.pdf", pdf_ok), "date_invalid",
         fields={"doc_date": "1900-01-01"}, cli=True,
         web_code="form_date_invalid"),
    Case("date-far-future", one("surat.pdf", pdf_ok), "date_invalid",
         fields={"doc_date": "9999-12-31"},
         web_code="form_date_invalid"),
    Case("date-february-30", one("surat.pdf", pdf_ok), "date_invalid",
         fields={"doc_date": "2026-02-30"},
         web_code="form_date_invalid"),
    Case("date-iso-week", one("surat.pdf", pdf_ok), "date_invalid",
         fields={"doc_date": "2026-W47-5"},
         web_code="form_date_invalid"),
    Case("date-compact", one("surat.pdf", pdf_ok), "date_invalid",
         fields={"doc_date": "20261120"},
         web_code="form_date_invalid"),
    Case("date-zero", one("surat.pdf", pdf_ok), "date_invalid", fields={"doc_date": "0000-00-00"},
         web_code="form_date_invalid"),
    Case("pages-underscore", one("surat.pdf", pdf_ok), "field_invalid", fields={"pages": "1_000"}),
    Case("pages-arabic-indic", one("surat.pdf", pdf_ok), "field_invalid",
         fields={"pages": "\u0663"}),
    Case("pages-exponent", one("surat.pdf", pdf_ok), "field_invalid", fields={"pages": "1e3"}),
    Case("pages-hex", one("surat.pdf", pdf_ok), "field_invalid", fields={"pages": "0x10"}),
    Case("pages-negative", one("surat.pdf", pdf_ok), "field_invalid", fields={"pages": "-1"}),
    Case("pages-huge", one("surat.pdf", pdf_ok), "field_invalid",
         fields={"pages": "99999999999999999999"}),
    Case("direction-path", one("surat.pdf", pdf_ok), "direction_invalid",
         fields={"direction": "../arsip"}),
    Case("classification-sql", one("surat.pdf", pdf_ok), "classification_invalid",
         fields={"classification": "rahasia' OR '1'='1"}),
]

FIELDS = {
    "direction": "penerimaan",
    "classification": "biasa",
    "number": "005/12/2026",
    "subject": "Undangan rapat koordinasi",
    "correspondent": "Bupati Bolaang Mongondow",
    "pages": "",
    "attachments": "",
    "notes": "",
}


def fields_of(case: Case, today: str) -> dict[str, str]:
    return {**FIELDS, "doc_date": today, **case.fields}
