"""The benchmark's input files: one big exempted scan, a four-folder tree of old scans to
import, and a bigger four-folder tree of PDFs for the backup.

Everything is generated from fixed seeds, so two runs measure the same bytes.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from pathlib import Path

MIB = 1 << 20


def big_pdf(path: Path, size: int, *, seed: int = 256) -> int:
    """Write a valid one-page PDF of exactly ``size`` bytes whose page shows one
    uncompressed grey image of random bytes (an incompressible "scan"), in constant memory.
    Returns the file size."""
    head, tail, length = _fit(size, 16384)
    rnd = random.Random(seed)
    with open(path, "wb") as fh:
        fh.write(head)
        left = length
        while left:
            n = min(left, 8 * MIB)
            fh.write(rnd.randbytes(n))
            left -= n
        fh.write(tail)
    return path.stat().st_size


def _fit(size: int, width: int) -> tuple[bytes, bytes, int]:
    """The bytes before and after the image data, and its length, for a PDF of exactly
    ``size`` bytes whose image is ``width`` pixels wide."""
    height = size // width
    pad = 0
    for _ in range(100):
        head, tail, length, total = _big_pdf_layout(width, height, pad)
        if total == size:
            return head, tail, length
        if total > size and pad == 0:
            height -= 1
            continue
        pad = max(0, pad + size - total)
        if pad == 1:  # a comment line needs at least two bytes
            height -= 1
            pad = 0
    raise RuntimeError(f"cannot lay out a PDF of {size} bytes")


def scan_pdf(size: int, rnd: random.Random) -> bytes:
    """A valid one-page PDF of exactly ``size`` bytes (at least a few KB): one grey image
    of random bytes, about A4-shaped (incompressible, like a scanner's JPEG)."""
    width = max(64, int((size / 1.414) ** 0.5))
    head, tail, length = _fit(size, width)
    return head + rnd.randbytes(length) + tail


def _big_pdf_layout(width: int, height: int, pad: int) -> tuple[bytes, bytes, int, int]:
    """The bytes before and after the image data, its length, and the file size."""
    length = width * height
    header = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    if pad:
        header += b"%" + b"x" * (pad - 2) + b"\n"
    content = b"q 595 0 0 842 0 0 cm /Im0 Do Q\n"
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]"
        b" /Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>",
    ]
    head = header
    offsets = []
    for i, body in enumerate(bodies, start=1):
        offsets.append(len(head))
        head += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    offsets.append(len(head))
    head += (
        f"4 0 obj\n<< /Type /XObject /Subtype /Image /Width {width} /Height {height}"
        f" /ColorSpace /DeviceGray /BitsPerComponent 8 /Length {length} >>\nstream\n"
    ).encode("ascii")
    tail = b"\nendstream\nendobj\n"
    offsets.append(len(head) + length + len(tail))
    tail += (
        f"5 0 obj\n<< /Length {len(content)} >>\nstream\n".encode() + content
        + b"endstream\nendobj\n"
    )
    xref_at = len(head) + length + len(tail)
    tail += b"xref\n0 6\n0000000000 65535 f \n" + b"".join(
        f"{off:010d} 00000 n \n".encode() for off in offsets
    )
    tail += f"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n".encode()
    return head, tail, length, len(head) + length + len(tail)


@dataclass(frozen=True)
class Tree:
    root: Path
    files: list[Path]
    total_bytes: int
    pdfs: int
    jpegs: int
    exempted: int


def _page_jpeg(rnd: random.Random, *, width: int, height: int, color: bool, sigma: float,
               quality: int) -> bytes:
    """A scan-like page: paper grain and lines of dark "words", as a scanner saves it."""
    from PIL import Image, ImageDraw

    im = Image.new("L", (width, height), 245)
    draw = ImageDraw.Draw(im)
    line_h = max(4, int(height * 0.008))
    y = int(height * 0.08)
    while y < height * 0.9:
        x = int(width * 0.1)
        while x < width * 0.88:
            w = rnd.randint(int(width * 0.01), int(width * 0.06))
            draw.rectangle([x, y, x + w, y + line_h], fill=rnd.randint(20, 80))
            x += w + int(width * 0.012)
        y += int(height * 0.022)
    im = Image.blend(im, Image.effect_noise((width, height), sigma), 0.12)
    if color:
        im = Image.merge("RGB", (im, im.point(lambda v: min(255, v + 4)),
                                 im.point(lambda v: max(0, v - 6))))
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def _tagged(jpeg: bytes, tag: str) -> bytes:
    """The same JPEG with a comment segment (COM) naming it: unique bytes, same image."""
    text = tag.encode("ascii")
    segment = b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text
    return jpeg[:2] + segment + jpeg[2:]


# (width, height, colour, noise sigma, JPEG quality): 150 and 100 dpi A4 pages, grey and
# colour, giving files from about 50 KB to about 300 KB, like office scanners do.
PAGE_STYLES = [
    (1240, 1754, False, 30, 75),
    (1240, 1754, False, 15, 60),
    (1240, 1754, True, 30, 65),
    (827, 1169, False, 40, 75),
    (827, 1169, True, 50, 75),
    (827, 1169, False, 12, 55),
    (1240, 1754, False, 8, 50),
    (827, 1169, True, 20, 60),
]


def import_tree(root: Path, count: int, *, seed: int = 2000, exempted_share: float = 0.25,
                pdf_share: float = 0.5) -> Tree:
    """``root/{biasa,dikecualikan}/{pengiriman,penerimaan}/YYYY/<name>.{pdf,jpg}``."""
    import img2pdf

    rnd = random.Random(seed)
    bases = [
        _page_jpeg(rnd, width=w, height=h, color=c, sigma=s, quality=q)
        for (w, h, c, s, q) in PAGE_STYLES
        for _ in range(2)
    ]
    subjects = ["undangan rapat", "laporan bulanan", "nota dinas", "surat edaran",
                "permohonan data", "berita acara", "surat tugas", "disposisi"]
    files: list[Path] = []
    total = pdfs = jpegs = exempted = 0
    for i in range(count):
        is_exempted = rnd.random() < exempted_share
        category = "dikecualikan" if is_exempted else "biasa"
        direction = rnd.choice(["pengiriman", "penerimaan"])
        year = rnd.choice([2021, 2022, 2023, 2024, 2025])
        folder = root / category / direction / str(year)
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"{rnd.choice(subjects).replace(' ', '_')}_{i:05d}"
        page = _tagged(rnd.choice(bases), f"bench scan {seed}-{i}")
        if rnd.random() < pdf_share:
            pages = [page]
            if rnd.random() < 0.2 and len(page) < 150_000:  # a few two-page letters
                pages.append(_tagged(rnd.choice(bases), f"bench scan {seed}-{i}-2"))
            data = img2pdf.convert(pages)
            assert data is not None
            path = folder / f"{stem}.pdf"
            pdfs += 1
        else:
            data = page
            path = folder / f"{stem}.jpg"
            jpegs += 1
        path.write_bytes(data)
        files.append(path)
        total += len(data)
        exempted += is_exempted
    return Tree(root=root, files=files, total_bytes=total, pdfs=pdfs, jpegs=jpegs,
                exempted=exempted)


SUBJECTS = ["undangan rapat", "laporan bulanan", "nota dinas", "surat edaran",
            "permohonan data", "berita acara", "surat tugas", "disposisi"]


def backup_tree(root: Path, count: int, *, seed: int = 5000, exempted_share: float = 0.25,
                min_bytes: int = 50 * 1024, max_bytes: int = 500 * 1024) -> Tree:
    """``root/{biasa,dikecualikan}/{pengiriman,penerimaan}/YYYY/<name>.pdf``: ``count``
    one-page PDFs, sizes spread evenly over ``min_bytes..max_bytes`` (5,000 files: about
    1.4 GB), every file's bytes different. Written straight to disk, one file at a time."""
    rnd = random.Random(seed)
    files: list[Path] = []
    total = exempted = 0
    made: set[Path] = set()
    for i in range(count):
        is_exempted = rnd.random() < exempted_share
        category = "dikecualikan" if is_exempted else "biasa"
        folder = (root / category / rnd.choice(["pengiriman", "penerimaan"])
                  / str(rnd.choice([2021, 2022, 2023, 2024, 2025])))
        if folder not in made:
            folder.mkdir(parents=True, exist_ok=True)
            made.add(folder)
        path = folder / f"{rnd.choice(SUBJECTS).replace(' ', '_')}_{i:05d}.pdf"
        body = scan_pdf(rnd.randint(min_bytes, max_bytes), rnd)
        path.write_bytes(body)
        files.append(path)
        total += len(body)
        exempted += is_exempted
    return Tree(root=root, files=files, total_bytes=total, pdfs=count, jpegs=0,
                exempted=exempted)
