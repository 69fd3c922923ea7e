"""intake.py: the bad-input corpus (each with the error it must produce) and good inputs."""

from __future__ import annotations

import io
import random
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import pikepdf
import pytest
from PIL import Image

from brankas.core.errors import InvalidInput
from brankas.core.register import intake
from brankas.core.register.intake import InputFile, prepare
from tests.conftest import make_jpeg, make_pdf

LIMIT_MB = 5
MAX_PIXELS = 50_000_000


def run(files: list[InputFile], *, limit_mb: int = LIMIT_MB) -> intake.Prepared:
    return prepare(files, limit_mb=limit_mb, max_image_pixels=MAX_PIXELS)


# ---------------------------------------------------------------- builders of bad files

def encrypted_pdf(user: str) -> bytes:
    buf = io.BytesIO()
    with pikepdf.open(io.BytesIO(make_pdf())) as pdf:
        pdf.save(buf, encryption=pikepdf.Encryption(owner="o", user=user))
    return buf.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header (with a correct CRC) claims a huge canvas."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat)
            + png_chunk(b"IEND", b""))


def garbage_pdf() -> bytes:
    body = random.Random(7).randbytes(3000).replace(b"%%EOF", b"xxxxx")
    return b"%PDF-1.7\n" + body + b"\n%%EOF\n"


def random_bytes() -> bytes:
    data = random.Random(42).randbytes(4096)
    assert intake.sniff(data[:1024]) is None  # the case must stay what it claims to be
    return data


def make_png(size: tuple[int, int] = (64, 48)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, "navy").save(buf, format="PNG")
    return buf.getvalue()


def make_tiff(frames: int) -> bytes:
    images = [Image.new("L", (50, 70), 40 * i) for i in range(frames)]
    buf = io.BytesIO()
    images[0].save(buf, format="TIFF", save_all=True, append_images=images[1:])
    return buf.getvalue()


def zero_page_pdf() -> bytes:
    buf = io.BytesIO()
    pikepdf.new().save(buf)
    return buf.getvalue()


def one(name: str, data: bytes | Callable[[], bytes]) -> Callable[[], list[InputFile]]:
    return lambda: [InputFile.from_bytes(name, data() if callable(data) else data)]


@dataclass(frozen=True)
class Bad:
    case: str
    build: Callable[[], list[InputFile]]
    code: str
    names_file: str | None  # the file name the message must show, or None
    limit_mb: int = LIMIT_MB


BAD_INPUTS = [
    Bad("empty file", one("kosong.pdf", b""), "file_empty", "kosong.pdf"),
    Bad("random bytes", one("acak.bin", random_bytes), "file_type_unknown", "acak.bin"),
    Bad("text named .pdf", one("catatan.pdf", b"Ini bukan PDF, hanya teks.\n" * 20),
        "file_type_unknown", "catatan.pdf"),
    Bad("JPEG named .pdf", one("foto.pdf", make_jpeg), "file_type_mismatch", "foto.pdf"),
    Bad("PDF named .jpg", one("surat.jpg", make_pdf), "file_type_mismatch", "surat.jpg"),
    Bad("PNG named .jpeg", one("scan.jpeg", make_png), "file_type_mismatch", "scan.jpeg"),
    Bad("truncated PDF", one("potong.pdf", lambda: make_pdf()[: len(make_pdf()) // 2]),
        "pdf_truncated", "potong.pdf"),
    Bad("garbage PDF with %%EOF", one("rusak.pdf", garbage_pdf), "pdf_unreadable",
        "rusak.pdf"),
    Bad("user-password PDF", one("rahasia.pdf", lambda: encrypted_pdf("u")), "pdf_encrypted",
        "rahasia.pdf"),
    Bad("owner-password-only PDF", one("pemilik.pdf", lambda: encrypted_pdf("")),
        "pdf_encrypted", "pemilik.pdf"),
    Bad("PDF without pages", one("nol.pdf", zero_page_pdf), "pdf_no_pages", "nol.pdf"),
    Bad("truncated PNG", one("scan.png", lambda: make_png((300, 300))[:-40]),
        "image_unreadable", "scan.png"),
    Bad("TIFF header only", one("scan.tif", lambda: make_tiff(1)[:16]), "image_unreadable",
        "scan.tif"),
    Bad("truncated JPEG", one("scan.jpg", lambda: make_jpeg(size=(400, 300))[:400]),
        "image_unreadable", "scan.jpg"),
    Bad("PNG decompression bomb", one("bom.png", png_bomb), "image_too_large", "bom.png"),
    Bad("PNG over max_image_pixels", one("besar.png", lambda: png_bomb(8000, 8000)),
        "image_too_large", "besar.png"),
    Bad("oversize file", one("besar.pdf", lambda: b"%PDF-1.7\n" + b"0" * (3 * 1024 * 1024)),
        "file_too_large", "besar.pdf", limit_mb=2),
    Bad("PDF mixed with JPEG",
        lambda: [InputFile.from_bytes("a.pdf", make_pdf()),
                 InputFile.from_bytes("b.jpg", make_jpeg())],
        "mixed_inputs", None),
    Bad("two PDFs", lambda: [InputFile.from_bytes("a.pdf", make_pdf()),
                             InputFile.from_bytes("b.pdf", make_pdf())],
        "mixed_inputs", None),
    Bad("a bad scan among good ones",
        lambda: [InputFile.from_bytes("hal1.jpg", make_jpeg()),
                 InputFile.from_bytes("hal2.jpg", make_jpeg(size=(400, 300))[:300])],
        "image_unreadable", "hal2.jpg"),
    Bad("no files", lambda: [], "no_files", None),
    Bad("path in the given name", one("../../etc/kosong.pdf", b""), "file_empty",
        "kosong.pdf"),
]


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")
@pytest.mark.parametrize("bad", BAD_INPUTS, ids=[b.case for b in BAD_INPUTS])
def test_bad_input_is_refused_with_its_code(bad: Bad) -> None:
    with pytest.raises(InvalidInput) as info:
        run(bad.build(), limit_mb=bad.limit_mb)
    exc = info.value
    assert exc.code == bad.code
    for lang in ("id", "en"):
        text = exc.message(lang)
        assert text.strip()
        assert "{" not in text  # every placeholder was filled
        if bad.names_file is not None:
            assert bad.names_file in text
    assert exc.message("id") != exc.message("en")
    if bad.names_file is not None:
        assert "../" not in exc.message("en")


def test_missing_file_on_disk(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput) as info:
        InputFile.from_path(tmp_path / "tidak-ada.pdf")
    assert info.value.code == "file_missing"
    assert "tidak-ada.pdf" in info.value.message("id")
    with pytest.raises(InvalidInput) as info:
        InputFile.from_path(tmp_path)  # a folder is not a file
    assert info.value.code == "file_missing"


# ---------------------------------------------------------------- good inputs

def test_one_pdf_counts_its_pages(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "surat.pdf"
    data = make_pdf(path, pages=3)
    prepared = run([InputFile.from_path(path)])
    assert prepared.pages == 3
    assert prepared.converted is False
    assert [(o.name, o.kind, o.size) for o in prepared.originals] == [
        ("surat.pdf", "pdf", len(data))
    ]
    with prepared.open_pdf() as fh:
        assert fh.read() == data  # a PDF is stored as given, byte for byte


def test_pdf_with_leading_junk_is_accepted() -> None:
    data = b"\xef\xbb\xbf\r\n" + make_pdf(pages=2)
    assert run([InputFile.from_bytes("bom.pdf", data)]).pages == 2


def test_several_jpegs_become_one_pdf_without_recompression() -> None:
    scans = [make_jpeg(size=(120 + 10 * i, 160), color=c)
             for i, c in enumerate(["white", "red", "blue"])]
    files = [InputFile.from_bytes(f"hal{i + 1}.JPG", data) for i, data in enumerate(scans)]
    prepared = run(files)
    assert prepared.pages == 3
    assert prepared.converted is True
    assert [o.kind for o in prepared.originals] == ["jpeg"] * 3
    assert len(set(prepared.original_hashes)) == 3
    with prepared.open_pdf() as fh:
        pdf_bytes = fh.read()
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        assert len(pdf.pages) == 3
        embedded = [image for page in pdf.pages for image in page.get_images().values()]
        assert [str(image.Filter) for image in embedded] == ["/DCTDecode"] * 3
        assert [image.read_raw_bytes() for image in embedded] == scans
    for data in scans:  # img2pdf embeds the JPEG stream verbatim
        assert data in pdf_bytes


def test_multipage_tiff_gives_one_page_per_frame() -> None:
    prepared = run([InputFile.from_bytes("arsip.tif", make_tiff(4))])
    assert prepared.pages == 4
    with prepared.open_pdf() as fh, pikepdf.open(fh) as pdf:
        assert len(pdf.pages) == 4


def test_png_and_jpeg_scans_can_be_combined() -> None:
    png = make_png()
    prepared = run([InputFile.from_bytes("hal1.png", png),
                    InputFile.from_bytes("hal2.jpg", make_jpeg())])
    assert prepared.pages == 2
    assert [o.kind for o in prepared.originals] == ["png", "jpeg"]
    with prepared.open_pdf() as fh, pikepdf.open(fh) as pdf:
        assert len(pdf.pages) == 2


def odd_image(mode: str, fmt: str, **options: object) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, (60, 80)).save(buf, format=fmt, **options)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("phone.png", lambda: odd_image("RGBA", "PNG")),
        ("deep.png", lambda: odd_image("I;16", "PNG")),
        ("palette.png", lambda: odd_image("P", "PNG", transparency=0)),
        ("print.jpg", lambda: odd_image("CMYK", "JPEG")),
        ("grey.jpeg", lambda: odd_image("L", "JPEG")),
        ("fax.tif", lambda: odd_image("1", "TIFF", compression="group4")),
        ("lzw.tiff", lambda: odd_image("RGB", "TIFF", compression="tiff_lzw")),
    ],
)
def test_unusual_but_valid_scans_are_accepted(name: str, build: Callable[[], bytes]) -> None:
    prepared = run([InputFile.from_bytes(name, build())])
    assert prepared.pages == 1
    with prepared.open_pdf() as fh, pikepdf.open(fh) as pdf:
        assert len(pdf.pages) == 1


def test_name_without_extension_is_judged_by_content() -> None:
    prepared = run([InputFile.from_bytes("scan", make_jpeg())])
    assert prepared.pages == 1
    assert prepared.originals[0].kind == "jpeg"


def test_source_digest() -> None:
    import hashlib

    a, b = "a" * 64, "b" * 64
    assert intake.source_digest([a]) == a
    assert intake.source_digest([a, b]) == hashlib.sha256(f"{a}\n{b}".encode()).hexdigest()
    assert intake.source_digest([a, b]) != intake.source_digest([b, a])
