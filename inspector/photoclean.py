"""Uploaded photos are decoded for real, bounded and re-encoded before anything keeps them.

A file is accepted only if Pillow decodes it as a JPEG, PNG or WebP image; checking magic
bytes is not enough (HTML behind a WebP header passes that). Its size is judged from the
header before any pixel is decoded, so a small file that claims a huge image (a
decompression bomb) costs nothing. What is kept is a fresh JPEG built from the decoded
pixels only: EXIF (a buyer's GPS position, the phone's serial), XMP, ICC and comments are
not carried over, and the EXIF orientation is applied first so the photo stays upright.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
# Refused before decoding: a 48-megapixel phone photo fits, a bomb does not.
MAX_PIXELS = 50_000_000
# Kept photos are at most this many pixels on their long side (enough to see a hairline crack).
MAX_SIDE_PX = 4096
JPEG_QUALITY = 88
STORED_MEDIA_TYPE = "image/jpeg"


class PhotoRejected(ValueError):
    """An upload that is not a photo we keep; the message is for the person who sent it."""


@dataclass(frozen=True)
class CleanPhoto:
    """A re-encoded photo, ready to store under its SHA-256."""

    data: bytes
    sha256: str
    width: int
    height: int


def _decoded(data: bytes) -> Image.Image:
    """Open, check the header's dimensions, then decode (reduced for huge JPEGs)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
        width, height = image.size
        if width < 1 or height < 1 or width * height > MAX_PIXELS:
            raise PhotoRejected(f"the photo has more than {MAX_PIXELS // 1_000_000} megapixels")
        # JPEG only: decode at 1/2, 1/4 or 1/8 scale while both sides stay at least half of
        # MAX_SIDE_PX (a 48-megapixel photo is decoded as 12), which is most of the cost saved.
        image.draft("RGB", (MAX_SIDE_PX // 2, MAX_SIDE_PX // 2))
        image.load()
        return image


def _flattened(image: Image.Image) -> Image.Image:
    """Upright RGB pixels: orientation applied, transparency laid on white."""
    upright = ImageOps.exif_transpose(image)
    if upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info):
        rgba = upright.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return upright.convert("RGB")


def clean_photo(data: bytes) -> CleanPhoto:
    """Decode ``data`` as a photo and return it re-encoded as a metadata-free JPEG.

    Raises ``PhotoRejected`` for anything that is not a decodable JPEG, PNG or WebP image of
    at most ``MAX_PIXELS`` pixels.
    """
    try:
        decoded = _decoded(data)
        decoded.thumbnail((MAX_SIDE_PX, MAX_SIDE_PX), Image.Resampling.LANCZOS)
        rgb = _flattened(decoded)
        # A new image from the pixels alone, so no metadata of the upload can ride along.
        bare = Image.frombytes("RGB", rgb.size, rgb.tobytes())
        out = io.BytesIO()
        bare.save(out, format="JPEG", quality=JPEG_QUALITY)
    except PhotoRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoRejected(f"the photo has more than {MAX_PIXELS // 1_000_000} megapixels") from exc
    except UnidentifiedImageError as exc:
        raise PhotoRejected("this file is not a JPEG, PNG or WebP photo") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:  # truncated or corrupt image data
        raise PhotoRejected("this photo is damaged or incomplete; take or export it again") from exc
    encoded = out.getvalue()
    return CleanPhoto(encoded, hashlib.sha256(encoded).hexdigest(), bare.width, bare.height)
