"""Encodings of what is signed and verified: I-JSON documents, multibase, Multikey, base64url.

Kept tiny and dependency-free because every function here is a fixed, published format
(I-JSON = RFC 7493, which RFC 8785 requires of every document it canonicalises; multibase
``z`` = base58btc, ``u`` = base64url without padding; Multikey Ed25519 = 0xed01 prefix).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from inspector.certificates.errors import CertificatesError

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}
ED25519_PUB_PREFIX = b"\xed\x01"
ED25519_PRIV_PREFIX = b"\x80\x26"


class EncodingError(CertificatesError):
    """A malformed multibase / multikey string."""


class NotIJSONError(EncodingError):
    """Bytes that are not an I-JSON message (RFC 7493), so no signature over them can be trusted."""


MAX_SAFE_INTEGER = 2**53 - 1  # I-JSON 2.2 / RFC 8785 3.2.2.3: integers exact in an IEEE 754 double
_MAX_INTEGER_DIGITS = len(str(MAX_SAFE_INTEGER))
_NAME_SHOWN = 40  # characters of a duplicated member name quoted in an error


def _parse_int(text: str) -> int:
    digits = text.lstrip("-")
    if len(digits) > _MAX_INTEGER_DIGITS or abs(int(text)) > MAX_SAFE_INTEGER:
        raise NotIJSONError("an integer is outside the I-JSON range of +/-(2**53 - 1)")
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise NotIJSONError("a number is too large for an IEEE 754 double (I-JSON)")
    return value


def _parse_constant(name: str) -> Any:
    raise NotIJSONError(f"{name} is not a JSON number")


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for name, value in pairs:
        if name in obj:
            shown = name if len(name) <= _NAME_SHOWN else name[:_NAME_SHOWN] + "..."
            raise NotIJSONError(f"duplicate member name {shown!r} (I-JSON forbids it)")
        obj[name] = value
    return obj


def _refuse_lone_surrogates(value: Any) -> None:
    """I-JSON 2.1: strings are Unicode scalar values, so an escaped lone surrogate is refused."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            strings: list[str] = [item]
        elif isinstance(item, dict):
            strings = list(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            strings = []
            stack.extend(item)
        else:
            continue
        for text in strings:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise NotIJSONError("a string holds a lone surrogate (not Unicode text)") from exc


def loads_ijson(data: bytes | str) -> Any:
    """Parse an I-JSON message (RFC 7493) or raise NotIJSONError saying what is wrong with it.

    Refused: bytes that are not UTF-8, invalid JSON, duplicate member names (a reader keeping
    the last value would verify a signature over a document a person reads differently),
    NaN/Infinity, integers beyond +/-(2**53 - 1), numbers that overflow a double, lone
    surrogates, and nesting deeper than the interpreter's recursion limit.
    """
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NotIJSONError(f"not UTF-8 text (invalid byte at offset {exc.start})") from exc
    else:
        text = data
    try:
        value = json.loads(
            text,
            object_pairs_hook=_unique_members,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except NotIJSONError:
        raise
    except json.JSONDecodeError as exc:
        raise NotIJSONError(f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from exc
    except RecursionError as exc:
        raise NotIJSONError("JSON nested too deeply") from exc
    _refuse_lone_surrogates(value)
    return value


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
