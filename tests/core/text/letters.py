"""Realistic Indonesian official letters (naskah dinas), for the OCR tests and the bench.

A ``Letter`` is the content of one surat dinas: the kop surat (the regional government's
name, the office, its address), nomor, sifat, lampiran, perihal, the addressee, body
paragraphs and the signature block. It is drawn two ways:

- ``scan(letter, ...)``: a Pillow image as a flatbed scanner gives it (200-300 dpi, greyish
  paper, a skew of 1-3 degrees, specks of noise, a little blur), saved as JPEG, PNG or TIFF
  bytes (``scan_bytes``);
- ``born_digital_pdf(letter)``: a PDF with a text layer (reportlab), as a word processor
  exports it; ``born_digital_text(letter)`` is the text its pages hold, line by line.

``blank_scan`` and ``scribble_scan`` are the scans OCR cannot read. Everything is seeded:
the same arguments give the same bytes. Fonts: reportlab's own Bitstream Vera (a
dependency of Brankas), so no system font is needed.
"""

from __future__ import annotations

import io
import math
import random
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_DIR = Path(__import__("reportlab").__file__).parent / "fonts"
REGULAR, BOLD = FONT_DIR / "Vera.ttf", FONT_DIR / "VeraBd.ttf"
A4_MM = (210.0, 297.0)


@dataclass(frozen=True)
class Letter:
    government: str  # "PEMERINTAH KABUPATEN SLEMAN"
    office: str  # "DINAS KESEHATAN"
    address: str
    place_date: str  # "Sleman, 12 Maret 2026"
    number: str
    nature: str  # sifat
    attachment: str  # lampiran
    subject: str  # perihal
    addressee: list[str]
    body: list[str]  # paragraphs
    signer_title: str
    signer_name: str
    signer_id: str  # NIP
    phrases: list[str] = field(default_factory=list)  # what a search must find in its text

    def lines(self) -> list[tuple[str, str, bool]]:
        """The letter as lines: (where: "center" | "left" | "sign", text, bold)."""
        out: list[tuple[str, str, bool]] = [
            ("center", self.government, True), ("center", self.office, True),
            ("center", self.address, False), ("rule", "", False),
            ("right", self.place_date, False),
            ("left", f"Nomor     : {self.number}", False),
            ("left", f"Sifat     : {self.nature}", False),
            ("left", f"Lampiran  : {self.attachment}", False),
            ("left", f"Perihal   : {self.subject}", False), ("gap", "", False),
        ]
        out += [("left", line, False) for line in self.addressee]
        out.append(("gap", "", False))
        for paragraph in self.body:
            out += [("left", line, False) for line in textwrap.wrap(paragraph, 78)]
            out.append(("gap", "", False))
        out += [("sign", self.signer_title, False), ("gap", "", False), ("gap", "", False),
                ("gap", "", False), ("sign", self.signer_name, True),
                ("sign", self.signer_id, False)]
        return out


_PLACES = [
    ("PEMERINTAH KABUPATEN SLEMAN", "Sleman", "Jalan Magelang Km. 10 Tridadi, Sleman 55511"),
    ("PEMERINTAH KOTA SURAKARTA", "Surakarta", "Jalan Jenderal Sudirman Nomor 2, Surakarta 57111"),
    ("PEMERINTAH PROVINSI JAWA TIMUR", "Surabaya", "Jalan Pahlawan Nomor 110, Surabaya 60174"),
    ("PEMERINTAH KABUPATEN BANYUMAS", "Purwokerto", "Jalan Kabupaten Nomor 1, Purwokerto 53114"),
]
_LETTERS = [
    ("DINAS KESEHATAN", "Undangan Rapat Koordinasi Percepatan Penurunan Stunting",
     ["Dalam rangka percepatan penurunan stunting di wilayah kabupaten, dengan hormat kami "
      "mengundang Saudara untuk menghadiri rapat koordinasi lintas sektor yang akan "
      "dilaksanakan pada hari Kamis, tanggal 19 Maret 2026, pukul 09.00 WIB sampai selesai, "
      "bertempat di Aula Dinas Kesehatan.",
      "Mengingat pentingnya acara tersebut, dimohon kehadiran Saudara tepat pada waktunya "
      "dengan membawa data balita gizi kurang di wilayah kerja masing-masing.",
      "Demikian undangan ini kami sampaikan, atas perhatian dan kehadirannya kami ucapkan "
      "terima kasih."],
     ["undangan rapat koordinasi", "penurunan stunting", "dinas kesehatan",
      "aula dinas kesehatan", "data balita gizi kurang", "lintas sektor", "wilayah kerja",
      "tepat pada waktunya", "atas perhatian dan kehadirannya", "kepala dinas kesehatan"]),
    ("BADAN PENANGGULANGAN BENCANA DAERAH", "Laporan Kesiapsiagaan Menghadapi Musim Hujan",
     ["Berdasarkan prakiraan cuaca dari Badan Meteorologi, Klimatologi, dan Geofisika, puncak "
      "musim hujan diperkirakan terjadi pada bulan Januari sampai Februari. Sehubungan dengan "
      "hal tersebut, kami mohon Saudara menyampaikan laporan kesiapsiagaan menghadapi banjir "
      "dan tanah longsor.",
      "Laporan memuat jumlah relawan, peralatan evakuasi, lokasi pengungsian sementara serta "
      "jalur evakuasi yang telah ditetapkan, dan disampaikan paling lambat tanggal 30 "
      "November 2026.",
      "Atas perhatian dan kerja sama Saudara, kami ucapkan terima kasih."],
     ["kesiapsiagaan menghadapi musim hujan", "puncak musim hujan", "banjir dan tanah longsor",
      "peralatan evakuasi", "lokasi pengungsian sementara", "jalur evakuasi",
      "paling lambat tanggal", "prakiraan cuaca", "jumlah relawan", "kerja sama saudara"]),
    ("DINAS PENDIDIKAN DAN KEBUDAYAAN", "Pelaksanaan Asesmen Nasional Berbasis Komputer",
     ["Menindaklanjuti surat edaran tentang pelaksanaan asesmen nasional tahun 2026, bersama "
      "ini kami sampaikan jadwal gladi bersih dan pelaksanaan asesmen nasional berbasis "
      "komputer bagi satuan pendidikan sekolah dasar dan sekolah menengah pertama.",
      "Kepala sekolah diminta memastikan kesiapan ruang laboratorium komputer, jaringan "
      "internet, serta proktor dan teknisi yang telah mengikuti bimbingan teknis.",
      "Demikian untuk menjadi perhatian dan dilaksanakan sebagaimana mestinya."],
     ["asesmen nasional berbasis komputer", "gladi bersih", "satuan pendidikan",
      "sekolah menengah pertama", "laboratorium komputer", "jaringan internet",
      "bimbingan teknis", "proktor dan teknisi", "surat edaran", "sebagaimana mestinya"]),
    ("BADAN PENGELOLAAN KEUANGAN DAN ASET DAERAH", "Penyampaian Laporan Realisasi Anggaran",
     ["Sehubungan dengan penyusunan laporan keuangan pemerintah daerah semester pertama, "
      "dengan ini kami minta seluruh perangkat daerah menyampaikan laporan realisasi "
      "anggaran pendapatan dan belanja beserta dokumen pendukungnya.",
      "Laporan disampaikan dalam bentuk cetak dan berkas elektronik kepada Bidang Akuntansi "
      "paling lambat sepuluh hari kerja setelah surat ini diterima.",
      "Atas perhatian dan kerja sama yang baik, kami sampaikan terima kasih."],
     ["laporan realisasi anggaran", "laporan keuangan pemerintah daerah", "semester pertama",
      "perangkat daerah", "pendapatan dan belanja", "dokumen pendukungnya",
      "bidang akuntansi", "berkas elektronik", "sepuluh hari kerja", "kerja sama yang baik"]),
]
_MONTHS = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
           "September", "Oktober", "November", "Desember"]


def letter(seed: int = 0) -> Letter:
    """A realistic letter; ``seed`` picks the office, subject and number."""
    rng = random.Random(seed)
    government, city, address = _PLACES[seed % len(_PLACES)]
    office, subject, body, phrases = _LETTERS[seed % len(_LETTERS)]
    code = "".join(word[0] for word in office.split() if word not in {"DAN", "DAERAH"})
    return Letter(
        government=government, office=office,
        address=f"{address} Telepon (0274) {rng.randint(100000, 999999)}",
        place_date=f"{city}, {rng.randint(1, 28)} {rng.choice(_MONTHS)} 2026",
        number=f"{rng.choice([440, 360, 420, 900])}/{rng.randint(100, 9999)}/{code}/2026",
        nature="Biasa", attachment=rng.choice(["-", "1 (satu) berkas", "2 (dua) lembar"]),
        subject=subject,
        addressee=["Yth. Kepala Perangkat Daerah", f"se-{city.title()}", "di Tempat"],
        body=body, signer_title=f"Kepala {office.title()}",
        signer_name=rng.choice(["dr. Cahya Purnama, M.Kes.", "Drs. Bambang Sutrisno, M.Si.",
                                "Ir. Sri Wahyuningsih, M.T.", "Hadi Prasetyo, S.H., M.H."]),
        signer_id=f"NIP {rng.randint(19600101, 19851231)} {rng.randint(198001, 201012)} "
                  f"{rng.randint(1, 2)} {rng.randint(1, 20):03d}",
        phrases=phrases,
    )


def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


def clean_page(item: Letter, dpi: int = 300, height_mm: float = A4_MM[1]) -> Image.Image:
    """The letter on white A4 at ``dpi``, greyscale, not yet degraded; ``height_mm``: the
    sheet cut shorter (a letter's lines end about 185 mm down the page)."""
    width, height = (round(mm / 25.4 * dpi) for mm in (A4_MM[0], height_mm))
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    pt = dpi / 72
    regular, bold = _font(REGULAR, round(11 * pt)), _font(BOLD, round(11 * pt))
    big = _font(BOLD, round(14 * pt))
    margin, y = round(25 / 25.4 * dpi), round(18 / 25.4 * dpi)
    step = round(11 * pt * 1.45)
    for where, text, strong in item.lines():
        if where == "gap":
            y += step // 2 + step // 4
            continue
        if where == "rule":
            draw.rectangle((margin, y, width - margin, y + round(2 * pt)), fill=0)
            y += round(8 * pt)
            continue
        font = big if where == "center" and strong else (bold if strong else regular)
        length = draw.textlength(text, font=font)
        x = {"center": (width - length) / 2, "right": width - margin - length,
             "sign": width * 0.55}.get(where, margin)
        draw.text((x, y), text, font=font, fill=20)
        y += step + (round(3 * pt) if where == "center" else 0)
    return page


def degrade(page: Image.Image, *, seed: int, skew: float, noise: float = 0.004) -> Image.Image:
    """As a flatbed scanner gives it: greyish paper, a skew of ``skew`` degrees, specks
    (``noise``: the share of pixels flipped), a slight blur."""
    rng = random.Random(seed)
    paper = page.point(lambda v: 18 + v * 222 // 255)  # ink not black, paper not white
    paper = paper.rotate(skew, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=240)
    paper = paper.filter(ImageFilter.GaussianBlur(0.6))
    pixels = paper.load()
    assert pixels is not None
    w, h = paper.size
    for _ in range(int(w * h * noise)):
        x, y = rng.randrange(w), rng.randrange(h)
        pixels[x, y] = rng.choice((30, 90, 255))
    return paper


def scan(item: Letter, *, seed: int = 0, dpi: int = 300, skew: float = 1.5,
         noise: float = 0.004, height_mm: float = A4_MM[1]) -> Image.Image:
    return degrade(clean_page(item, dpi, height_mm), seed=seed, skew=skew, noise=noise)


def blank_scan(*, seed: int = 0, dpi: int = 200) -> Image.Image:
    """A blank sheet through the scanner: paper tone and specks, no writing."""
    width, height = (round(mm / 25.4 * dpi) for mm in A4_MM)
    return degrade(Image.new("L", (width, height), 255), seed=seed, skew=1.0, noise=0.002)


def scribble_scan(*, seed: int = 0, dpi: int = 200) -> Image.Image:
    """Handwriting-like scribbles (loops of a pen, no letters) through the scanner."""
    rng = random.Random(seed)
    width, height = (round(mm / 25.4 * dpi) for mm in A4_MM)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    for row in range(14):
        y0 = height * (0.12 + row * 0.055)
        x, points = width * 0.1, []
        while x < width * 0.9:
            x += rng.uniform(2, 9) * dpi / 100
            points.append((x, y0 + math.sin(x / rng.uniform(6, 14)) * rng.uniform(4, 22)
                           * dpi / 100 + rng.uniform(-3, 3)))
        draw.line(points, fill=10, width=max(2, dpi // 70), joint="curve")
    return degrade(page, seed=seed, skew=2.0, noise=0.002)


def scan_bytes(image: Image.Image, kind: str, *, dpi: int = 300) -> bytes:
    """``image`` saved as a scanner would: "jpeg" (quality 75), "png" or "tiff" (LZW)."""
    out = io.BytesIO()
    if kind == "jpeg":
        image.save(out, "JPEG", quality=75, dpi=(dpi, dpi))
    elif kind == "png":
        image.save(out, "PNG", dpi=(dpi, dpi))
    elif kind == "tiff":
        image.save(out, "TIFF", compression="tiff_lzw", dpi=(dpi, dpi))
    else:
        raise ValueError(kind)
    return out.getvalue()


def born_digital_pdf(item: Letter) -> bytes:
    """The letter as a word processor exports it: a PDF with a text layer (reportlab)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4, invariant=1)
    width, height = A4
    y = height - 18 * mm
    for where, text, strong in item.lines():
        if where == "gap":
            y -= 12
            continue
        if where == "rule":
            c.setLineWidth(2)
            c.line(25 * mm, y + 8, width - 25 * mm, y + 8)
            y -= 6
            continue
        font, size = ("Helvetica-Bold" if strong else "Helvetica"), 11
        if where == "center":
            size = 14 if strong else 11
            c.setFont(font, size)
            c.drawCentredString(width / 2, y, text)
        elif where == "right":
            c.setFont(font, size)
            c.drawRightString(width - 25 * mm, y, text)
        else:
            c.setFont(font, size)
            c.drawString(width * 0.55 if where == "sign" else 25 * mm, y, text)
        y -= 16
    c.showPage()
    c.save()
    return out.getvalue()


def born_digital_text(item: Letter) -> str:
    """The text ``born_digital_pdf``'s page holds: its lines in order, one per line."""
    return "\n".join(text for where, text, _ in item.lines() if where not in {"gap", "rule"})
