"""The office logo as uploaded by people: a photo taken on its side (EXIF orientation) is
stored upright, a 16-bit greyscale PNG keeps its grey (not all white), an animated GIF
named .png and a decompression bomb are refused."""

from __future__ import annotations

import io

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


@pytest.mark.parametrize("data,code", [
    (_bytes(Image.new("P", (30, 30)), "GIF"), "office_logo_invalid"),  # a GIF named .png
    # 400 million pixels in 48 KiB: named as too large, not as "not a whole PNG or JPEG"
    (_bytes(Image.new("1", (20000, 20000)), "PNG"), "office_logo_too_large"),
])
def test_not_a_logo_is_refused(data: bytes, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        logo_clean(data)
    assert refused.value.code == code
