"""Byte encodings used by Data Integrity and Bitstring Status List: multibase, Multikey, base64url.

Kept tiny and dependency-free because every function here is a fixed, published format
(multibase ``z`` = base58btc, ``u`` = base64url without padding; Multikey Ed25519 = 0xed01 prefix).
"""

from __future__ import annotations

import base64

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}
ED25519_PUB_PREFIX = b"\xed\x01"
ED25519_PRIV_PREFIX = b"\x80\x26"


class EncodingError(ValueError):
    """A malformed multibase / multikey string."""


def b58encode(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = []
    while n:
        n, r = divmod(n, 58)
        out.append(_B58[r])
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    n = 0
    for c in text:
        try:
            n = n * 58 + _B58_INDEX[c]
        except KeyError as exc:
            raise EncodingError(f"invalid base58 character {c!r}") from exc
    pad = len(text) - len(text.lstrip("1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * pad + body


def multibase_b58(data: bytes) -> str:
    return "z" + b58encode(data)


def multibase_decode(text: str) -> bytes:
    """Decode a multibase string in base58btc (``z``) or base64url-no-pad (``u``)."""
    if not isinstance(text, str) or len(text) < 2:
        raise EncodingError("empty or non-string multibase value")
    if text[0] == "z":
        return b58decode(text[1:])
    if text[0] == "u":
        return b64url_decode(text[1:])
    raise EncodingError(f"unsupported multibase prefix {text[0]!r}")


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise EncodingError(f"invalid base64url: {exc}") from exc


def ed25519_multikey(public_key: bytes) -> str:
    """``publicKeyMultibase`` of a raw 32-byte Ed25519 public key (starts with ``z6Mk``)."""
    return multibase_b58(ED25519_PUB_PREFIX + public_key)


def ed25519_from_multikey(value: str) -> bytes:
    raw = multibase_decode(value)
    if not raw.startswith(ED25519_PUB_PREFIX) or len(raw) != 34:
        raise EncodingError("not an Ed25519 Multikey public key")
    return raw[2:]
