"""IMEI validation (Luhn check digit, as specified for IMEIs in 3GPP TS 23.003)."""

from __future__ import annotations


def luhn_valid(digits: str) -> bool:
    """True when ``digits`` is all decimal digits and its Luhn checksum is zero."""
    if not digits or not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def is_valid_imei(value: str) -> bool:
    """A 15-digit IMEI with a correct check digit; all-zero placeholders are rejected."""
    return len(value) == 15 and luhn_valid(value) and value.strip("0") != ""


def luhn_complete(body: str) -> str:
    """Append the check digit that makes ``body`` Luhn-valid (used to build test profiles)."""
    for check in "0123456789":
        if luhn_valid(body + check):
            return body + check
    raise ValueError(f"not a digit string: {body!r}")
