"""MT-SICS (Mettler Toledo Standard Interface Command Set) reply parsing and formatting.

Every MT-SICS exchange is one ASCII line each way, terminated by CR LF. A reply is the
command identifier, a status letter and optional fields, separated by blanks; text fields
are double-quoted. Weight replies carry a right-aligned value and a unit, e.g.
``S S      12.345 g``. The generic errors ``ES`` (syntax), ``ET`` (transmission) and
``EL`` (logical) stand alone.

The line has no checksum, so this parser is deliberately strict: anything that does not
match the grammar exactly is rejected (and the driver asks again) rather than guessed at,
because a flipped digit would otherwise become a wrong weight on a certificate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

CRLF = b"\r\n"
MAX_LINE = 256
"""Longest reply line accepted; real balances stay well under 100 characters."""

#: milligrams per unit. 1 metric carat is exactly 200 mg.
UNIT_MG: dict[str, Decimal] = {
    "mg": Decimal(1),
    "g": Decimal(1000),
    "kg": Decimal(1_000_000),
    "ct": Decimal(200),
}

#: Status letters a reply may carry (A: done, B: more lines follow, S: stable weight,
#: D: dynamic weight, I: busy / not executable, L: logical error in parameters,
#: +/-: overload / underload).
STATUSES = frozenset({"A", "B", "S", "D", "I", "L", "+", "-"})
GENERIC_ERRORS = frozenset({"ES", "ET", "EL"})

_ID_RE = re.compile(r"[A-Z@][A-Z0-9]{0,7}")
_VALUE_RE = re.compile(r"[-+]?\d+(?:\.\d+)?")
_PLAIN_FIELD_RE = re.compile(r"[\x21-\x7e]+")
_QUOTED_TEXT_RE = re.compile(r"[\x20\x21\x23-\x7e]*")  # printable ASCII without the quote


class SicsParseError(ValueError):
    """A reply line that is not valid MT-SICS (garbled, truncated or foreign)."""


@dataclass(frozen=True)
class SicsReply:
    """One parsed reply line: ``command`` (e.g. ``S``, ``I4``), ``status`` and ``fields``.

    ``fields`` keep quoted text unquoted; ``quoted`` says which of them were quoted so the
    reply can be written back byte-for-byte equivalent. Generic errors have ``status`` "".
    """

    command: str
    status: str
    fields: tuple[str, ...] = ()
    quoted: tuple[bool, ...] = ()

    @property
    def is_generic_error(self) -> bool:
        return self.command in GENERIC_ERRORS and self.status == ""


def _tokenize(text: str) -> tuple[list[str], list[bool]]:
    tokens: list[str] = []
    quoted: list[bool] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] == " ":
            i += 1
            continue
        if text[i] == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise SicsParseError("unterminated quoted text")
            inner = text[i + 1 : end]
            if not _QUOTED_TEXT_RE.fullmatch(inner):
                raise SicsParseError("non-printable character in quoted text")
            tokens.append(inner)
            quoted.append(True)
            i = end + 1
            if i < n and text[i] != " ":
                raise SicsParseError("quoted text not followed by a blank")
            continue
        end = text.find(" ", i)
        if end < 0:
            end = n
        tok = text[i:end]
        if not _PLAIN_FIELD_RE.fullmatch(tok) or '"' in tok:
            raise SicsParseError("invalid character in reply")
        tokens.append(tok)
        quoted.append(False)
        i = end
    return tokens, quoted


def parse_reply(line: bytes) -> SicsReply:
    """Parse one reply line (with or without its CR LF). Raises only ``SicsParseError``."""
    if len(line) > MAX_LINE:
        raise SicsParseError(f"reply longer than {MAX_LINE} bytes")
    if line.endswith(CRLF):
        line = line[:-2]
    if b"\r" in line or b"\n" in line:
        raise SicsParseError("stray line terminator inside reply")
    try:
        text = line.decode("ascii")
    except UnicodeDecodeError as exc:
        raise SicsParseError("non-ASCII byte in reply (line noise?)") from exc
    tokens, quoted = _tokenize(text)
    if not tokens:
        raise SicsParseError("empty reply")
    if quoted[0] or not _ID_RE.fullmatch(tokens[0]):
        raise SicsParseError(f"invalid command identifier {tokens[0]!r}")
    if len(tokens) == 1:
        if tokens[0] in GENERIC_ERRORS:
            return SicsReply(tokens[0], "")
        raise SicsParseError(f"reply {tokens[0]!r} has no status")
    if quoted[1] or tokens[1] not in STATUSES:
        raise SicsParseError(f"invalid status {tokens[1]!r}")
    return SicsReply(tokens[0], tokens[1], tuple(tokens[2:]), tuple(quoted[2:]))


def format_reply(reply: SicsReply) -> bytes:
    """Write a reply line the way a balance does (used by the simulator and tests)."""
    parts = [reply.command]
    if reply.status:
        parts.append(reply.status)
    quoted = reply.quoted or (False,) * len(reply.fields)
    for field, q in zip(reply.fields, quoted, strict=True):
        parts.append(f'"{field}"' if q else field)
    return " ".join(parts).encode("ascii") + CRLF


@dataclass(frozen=True)
class Weight:
    """A weight reading. ``mg`` is the integer value in milligrams (what gets stored and
    signed); ``value``/``unit`` are exactly what the balance reported."""

    mg: int
    unit: str
    stable: bool
    value: Decimal

    @property
    def grams(self) -> Decimal:
        return Decimal(self.mg) / 1000

    @property
    def carats(self) -> Decimal:
        """Metric carats (1 ct = 200 mg)."""
        return Decimal(self.mg) / 200

    @property
    def millicarats(self) -> int:
        """Carats as an integer number of thousandths (1 ct = 200 mg, so 1 mg = 5 mct)."""
        return self.mg * 5

    def __str__(self) -> str:
        flag = "" if self.stable else " (dynamic)"
        return f"{self.grams:.3f} g / {self.carats:.3f} ct{flag}"


def to_mg(value: str, unit: str) -> int:
    """Convert a reported value and unit to integer milligrams (half-even rounding)."""
    if unit not in UNIT_MG:
        raise SicsParseError(f"unsupported weight unit {unit!r} (expected one of {sorted(UNIT_MG)})")
    if not _VALUE_RE.fullmatch(value):
        raise SicsParseError(f"invalid weight value {value!r}")
    try:
        mg = Decimal(value) * UNIT_MG[unit]
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards this
        raise SicsParseError(f"invalid weight value {value!r}") from exc
    return int(mg.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def parse_weight(reply: SicsReply) -> Weight:
    """Read the weight out of an ``S``/``SI``/``T``/``TA`` style reply (status S, D or A)."""
    if reply.status not in {"S", "D", "A"}:
        raise SicsParseError(f"reply {reply.command} {reply.status} carries no weight")
    if len(reply.fields) != 2 or any(reply.quoted):
        raise SicsParseError("weight reply must be exactly: value unit")
    value, unit = reply.fields
    mg = to_mg(value, unit)
    return Weight(mg=mg, unit=unit, stable=reply.status != "D", value=Decimal(value))


def format_weight_reply(command: str, status: str, mg: int, unit: str = "g", decimals: int = 3) -> bytes:
    """Format ``<cmd> <status> <value right-aligned in 10> <unit>`` like a balance does."""
    value = (Decimal(mg) / UNIT_MG[unit]).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)
    return f"{command} {status} {value:>10} {unit}".encode("ascii") + CRLF
