"""Property tests of the MT-SICS reply parser: garbage never crashes it, valid replies roundtrip."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.scale.sics import (
    STATUSES,
    SicsParseError,
    SicsReply,
    format_reply,
    format_weight_reply,
    parse_reply,
    parse_weight,
)


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash_the_parser(data: bytes) -> None:
    """Any line noise yields either a reply or SicsParseError, never another exception."""
    try:
        reply = parse_reply(data)
    except SicsParseError:
        return
    assert isinstance(reply, SicsReply)
    with contextlib.suppress(SicsParseError):
        parse_weight(reply)


_ids = st.from_regex(r"[A-Z@][A-Z0-9]{0,3}", fullmatch=True).filter(lambda s: s not in {"ES", "ET", "EL"})
_plain = st.from_regex(r"[!#-~]{1,12}", fullmatch=True)
_quoted = st.from_regex(r"[ !#-~]{0,20}", fullmatch=True)
_field = st.one_of(_plain.map(lambda s: (s, False)), _quoted.map(lambda s: (s, True)))


@given(_ids, st.sampled_from(sorted(STATUSES)), st.lists(_field, max_size=4))
def test_valid_replies_roundtrip(cmd: str, status: str, fields: list[tuple[str, bool]]) -> None:
    """What a balance writes parses back to the same command, status and fields."""
    reply = SicsReply(cmd, status, tuple(f for f, _ in fields), tuple(q for _, q in fields))
    assert parse_reply(format_reply(reply)) == reply


@given(st.integers(-(10**7), 10**8), st.sampled_from(["S", "D"]))
def test_weight_replies_roundtrip_in_milligrams(mg: int, status: str) -> None:
    """A formatted weight in grams comes back as the same integer milligrams and stability."""
    w = parse_weight(parse_reply(format_weight_reply("S", status, mg, "g", 3)))
    assert w.mg == mg and w.stable == (status == "S")


@pytest.mark.parametrize(
    "line,mg,stable,unit",
    [
        (b"S S      12.345 g\r\n", 12_345, True, "g"),
        (b"S D       0.100 g\r\n", 100, False, "g"),
        (b"S S     -0.001 g\r\n", -1, True, "g"),
        (b"S S   1.000000 kg\r\n", 1_000_000, True, "kg"),
        (b"S S     5.000 ct\r\n", 1_000, True, "ct"),
        (b"S S       250 mg\r\n", 250, True, "mg"),
    ],
)
def test_reference_weight_lines(line: bytes, mg: int, stable: bool, unit: str) -> None:
    """The reply shapes from the MT-SICS reference parse to the right milligrams."""
    w = parse_weight(parse_reply(line))
    assert (w.mg, w.stable, w.unit) == (mg, stable, unit)
    assert w.value == Decimal(line.split()[2].decode())


@pytest.mark.parametrize("line", [b"ES\r\n", b"ET\r\n", b"EL\r\n"])
def test_generic_errors(line: bytes) -> None:
    """Standalone ES/ET/EL are recognised as the balance's generic errors."""
    assert parse_reply(line).is_generic_error


@pytest.mark.parametrize(
    "line",
    [
        b"",
        b"S\r\n",
        b"S X 1 g\r\n",
        b"S S 1.0 lb\r\n",
        b"S S 1..0 g\r\n",
        b"S S \xff12.0 g\r\n",
        b'I4 A "unterminated\r\n',
        b"S S 1.0\r\ng\r\n",
    ],
)
def test_invalid_lines_rejected(line: bytes) -> None:
    """Truncated, foreign or noisy lines are rejected instead of being read as a weight."""
    with pytest.raises(SicsParseError):
        parse_weight(parse_reply(line))
