"""Uploaded photos are decoded for real before they are kept: bombs, fakes and broken files are
refused with a clear reason, and what is kept is a bare, upright JPEG."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from inspector.photoclean import MAX_PIXELS, PhotoRejected, clean_photo


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb's shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("side", [8000, 12_000, 100_000])
def test_a_decompression_bomb_is_refused_from_its_header(side: int) -> None:
    """A 200-byte file claiming 64 to 10,000 megapixels is refused before any pixel is decoded."""
    assert side * side > MAX_PIXELS
    with pytest.raises(PhotoRejected, match="megapixels"):
        clean_photo(_png_header_only(side, side))


def test_fakes_and_broken_photos_are_refused_with_a_reason() -> None:
    """Text, HTML behind an image header and a truncated JPEG are refused; the reason never quotes them."""
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 30)).save(out, format="JPEG")
    cases = [
        b"hello, world",
        b"RIFF\x20\x00\x00\x00WEBPVP8 <html><script>alert(1)</script></html>",
        b"\x89PNG\r\n\x1a\n<html></html>",
        out.getvalue()[: len(out.getvalue()) // 2],
    ]
    for data in cases:
        with pytest.raises(PhotoRejected) as refused:
            clean_photo(data)
        assert "<" not in str(refused.value) and "hello" not in str(refused.value)


def test_transparency_is_laid_on_white_and_the_result_is_a_bare_jpeg() -> None:
    """A PNG with transparency and text chunks becomes an RGB JPEG on white, with no metadata."""
    image = Image.new("RGBA", (20, 10), (0, 0, 0, 0))
    out = io.BytesIO()
    meta = {"Comment": "buyer home address"}
    image.save(out, format="PNG", pnginfo=_pnginfo(meta))
    kept = clean_photo(out.getvalue())
    decoded = Image.open(io.BytesIO(kept.data))
    assert decoded.format == "JPEG" and decoded.mode == "RGB" and (kept.width, kept.height) == (20, 10)
    assert min(decoded.getpixel((10, 5))) > 240  # white, not black
    assert b"buyer home address" not in kept.data


def _pnginfo(text: dict[str, str]) -> PngInfo:
    info = PngInfo()
    for k, v in text.items():
        info.add_text(k, v)
    return info
