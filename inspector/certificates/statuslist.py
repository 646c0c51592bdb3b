"""Bitstring Status List v1.0 bit arrays: index 0 is the left-most (most significant) bit.

``encodedList`` is the GZIP of the bitstring, base64url without padding, multibase ``u``.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable

from inspector.certificates.encoding import EncodingError, b64url_encode, multibase_decode

LIST_SIZE = 131_072  # entries per list: the spec's minimum, for herd privacy


def encode_list(set_indices: Iterable[int], size: int = LIST_SIZE) -> str:
    bits = bytearray(size // 8)
    for i in set_indices:
        if not 0 <= i < size:
            raise ValueError(f"status index {i} outside 0..{size - 1}")
        bits[i // 8] |= 0x80 >> (i % 8)
    return "u" + b64url_encode(gzip.compress(bytes(bits), compresslevel=9, mtime=0))


def decode_list(encoded: str) -> bytes:
    try:
        data = gzip.decompress(multibase_decode(encoded))
    except (OSError, EOFError, EncodingError) as exc:
        raise EncodingError(f"encodedList is not a GZIP multibase bitstring: {exc}") from exc
    if len(data) * 8 < LIST_SIZE:
        raise EncodingError(f"status list has {len(data) * 8} entries; at least {LIST_SIZE} required")
    return data


def bit_at(bits: bytes, index: int) -> bool:
    if not 0 <= index < len(bits) * 8:
        raise EncodingError(f"status index {index} is outside the list")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))
