"""The office logo as uploaded by people: a photo taken on its side (EXIF orientation) is
stored upright, a 16-bit greyscale PNG keeps its grey (not all white), an animated GIF
named .png and a decompression bomb are refused."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from brankas.core.errors import InvalidInput
from brankas.web.accounts.office import logo_clean


def _bytes(image: Image.Image, fmt: str, **kw: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **kw)
    return out.getvalue()


def _stored(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(logo_clean(data)))
    image.load()
    return image


def test_a_jpeg_with_exif_orientation_is_stored_upright() -> None:
    # 200 x 100 as stored in the file, left half blue; orientation 6: shown turned a
    # quarter clockwise, 100 wide and 200 high with the blue half on top.
    image = Image.new("RGB", (200, 100), "red")
    image.paste((0, 0, 255), (0, 0, 100, 100))
    exif = Image.Exif()
    exif[0x0112] = 6
    stored = _stored(_bytes(image, "JPEG", exif=exif.tobytes(), quality=95))
    assert stored.size == (100, 200)
    r, g, b = stored.getpixel((50, 20))[:3]
    assert b > 200 and r < 60


def test_a_16_bit_greyscale_png_keeps_its_grey() -> None:
    stored = _stored(_bytes(Image.new("I;16", (40, 40), 32768), "PNG"))
    value = stored.convert("L").getpixel((10, 10))
    assert 110 <= value <= 145, value  # half grey, not white


def _bomb_png(side: int = 20000) -> bytes:
    """A whole, valid black 1-bit PNG of ``side`` x ``side`` pixels (400 million: 48 KiB),
    written chunk by chunk: the bytes Pillow's encoder writes for ``Image.new("1", (side,
    side))``, without its 0.7 CPU-s of encoding a 50 MB raster (which, at the module's top,
    every pytest process paid while collecting)."""
    row = b"\0" * (1 + (side + 7) // 8)  # filter byte "none", then the row's bits
    deflate = zlib.compressobj(9)
    idat = b"".join([*(deflate.compress(row) for _ in range(side)), deflate.flush()])

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1 bit, greyscale
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat)
            + chunk(b"IEND", b""))


@pytest.mark.parametrize("make,code", [
    (lambda: _bytes(Image.new("P", (30, 30)), "GIF"), "office_logo_invalid"),  # a GIF named .png
    # 400 million pixels in 48 KiB: named as too large, not as "not a whole PNG or JPEG"
    (_bomb_png, "office_logo_too_large"),
], ids=["gif", "bomb"])
def test_not_a_logo_is_refused(make, code: str) -> None:  # type: ignore[no-untyped-def]
    data = make()
    with pytest.raises(InvalidInput) as refused:
        logo_clean(data)
    assert refused.value.code == code
