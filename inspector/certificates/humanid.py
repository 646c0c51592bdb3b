"""Short human ids: 9 random symbols + 1 Luhn mod 32 check symbol, Crockford base32 alphabet.

The alphabet has no I, L, O or U, so ids survive being read aloud on a live stream or typed
from a parcel label; lookalikes typed by a buyer (o->0, i/l->1) are normalised. The check
symbol catches every single-symbol typo and most adjacent swaps before any database lookup.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_N = len(ALPHABET)
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
LENGTH = 10


def _luhn_check(body: str) -> str:
    factor, total = 2, 0
    for c in reversed(body):
        addend = factor * _INDEX[c]
        factor = 1 if factor == 2 else 2
        total += addend // _N + addend % _N
    return ALPHABET[(_N - total % _N) % _N]


def new_human_id() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH - 1))
    return body + _luhn_check(body)


def normalize(text: str) -> str | None:
    """Canonical form of a typed id, or None when it cannot be a valid id (bad length/check)."""
    t = re.sub(r"[\s\-]", "", text or "").upper().translate(str.maketrans("OIL", "011"))
    if len(t) != LENGTH or any(c not in _INDEX for c in t):
        return None
    return t if _luhn_check(t[:-1]) == t[-1] else None


def pretty(human_id: str) -> str:
    """Grouped for reading aloud and printing: ``7KQ2-M9X4-TR``."""
    return f"{human_id[:4]}-{human_id[4:8]}-{human_id[8:]}"
