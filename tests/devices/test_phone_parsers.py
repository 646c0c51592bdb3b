"""Parsers of what a phone sends: IMEI check digits, parcels, dumpsys, df and the ADB framing.

Property tests feed arbitrary input: a phone (or anything on the port) must never crash the
station, only produce a clear 'unknown' / protocol error.
"""

from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.phone import parsers
from devices.phone.fakeshell import format_parcel, string16_parcel
from devices.phone.luhn import is_valid_imei, luhn_complete, luhn_valid
from devices.phone.parsers import ParseError
from devices.phone.probe import imei_service_calls
from devices.phone.protocol import (
    A_CLSE,
    A_CNXN,
    A_OKAY,
    A_OPEN,
    A_WRTE,
    AdbMessage,
    AdbProtocolError,
    MessageParser,
    parse_service,
)

# Text a real Pixel (Android 13) prints for `service call iphonesubinfo 1 s16 com.android.shell`.
REAL_PARCEL = """Result: Parcel(
  0x00000000: 00000000 0000000f 00350033 00370036 '........3.5.6.7.'
  0x00000010: 00300034 00310031 00380039 00360037 '4.0.1.1.9.8.7.6.'
  0x00000020: 00340035 00000039                   '5.4.9...        ')
"""


def test_luhn_accepts_valid_and_rejects_altered_imeis() -> None:
    """The IMEI check digit (Luhn) accepts real IMEIs and catches a single wrong digit."""
    assert is_valid_imei("490154203237518")
    assert not is_valid_imei("490154203237519")
    assert not is_valid_imei("49015420323751")  # 14 digits
    assert not is_valid_imei("49015420323751a")
    assert not is_valid_imei("000000000000000")  # placeholder some phones report
    assert luhn_valid("79927398713") and not luhn_valid("")


@given(st.text(alphabet="0123456789", min_size=14, max_size=14), st.integers(0, 13), st.integers(1, 9))
def test_luhn_detects_every_single_digit_error(body: str, pos: int, delta: int) -> None:
    """Changing any one digit of a valid IMEI always breaks the check."""
    imei = luhn_complete(body)
    assert luhn_valid(imei)
    altered = imei[:pos] + str((int(imei[pos]) + delta) % 10) + imei[pos + 1 :]
    assert not luhn_valid(altered)


def test_real_parcel_dump_parses_to_imei() -> None:
    """A parcel dump copied from a phone yields its IMEI."""
    assert parsers.parse_parcel_string16(REAL_PARCEL) == "356740119876549"


def test_parcel_exception_and_null_string() -> None:
    """A SecurityException becomes a ParseError with the phone's message; a null string is None."""
    denied = format_parcel(string16_parcel(None, exception=-1, message="Permission denied"))
    with pytest.raises(ParseError, match="Permission denied"):
        parsers.parse_parcel_string16(denied)
    assert parsers.parse_parcel_string16(format_parcel(string16_parcel(None))) is None


def test_imei_transaction_codes_per_release() -> None:
    """getDeviceIdForPhone moved from transaction 3 to 4 in Android 11."""
    assert imei_service_calls(19) == [(0, "service call iphonesubinfo 1")]
    assert imei_service_calls(29)[1][1].startswith("service call iphonesubinfo 3 i32 1")
    assert imei_service_calls(30)[1][1].startswith("service call iphonesubinfo 4 i32 1")


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=200))
def test_parcel_string_round_trips(value: str) -> None:
    """Any String16 written into a parcel dump reads back identically."""
    assert parsers.parse_parcel_string16(format_parcel(string16_parcel(value))) == value


@settings(max_examples=300)
@given(
    st.one_of(
        st.text(max_size=400),
        st.lists(st.from_regex(r"[0-9a-f]{8}", fullmatch=True)).map(
            lambda ws: "Result: Parcel(" + " ".join(ws) + " '....')"
        ),
    )
)
def test_parcel_parser_never_crashes(text: str) -> None:
    """Arbitrary `service call` output gives a string, None or ParseError, nothing else."""
    with contextlib.suppress(ParseError):
        parsers.parse_parcel_string16(text)


@settings(max_examples=300)
@given(st.text(max_size=600))
def test_text_parsers_never_crash(text: str) -> None:
    """dumpsys battery / df / getprop / meminfo / accounts parsers survive arbitrary text."""
    fields = parsers.parse_key_values(text)
    fields_from_lines = parsers.parse_key_values("".join(f"  {ln}\n" for ln in text.splitlines()))
    for f in (fields, fields_from_lines):
        for fn in (
            parsers.battery_level_pct,
            parsers.battery_health,
            parsers.battery_status,
            parsers.battery_voltage_mv,
            parsers.battery_temperature_dc,
            parsers.battery_cycle_count_from_dumpsys,
        ):
            with contextlib.suppress(ParseError):
                fn(f)
    parsers.parse_getprop(text)
    for fn2 in (
        parsers.parse_df,
        parsers.parse_meminfo_total_kb,
        parsers.count_google_accounts,
        parsers.parse_dumpsys_iphonesubinfo,
        parsers.parse_lock_credential_type,
        lambda t: parsers.parse_sysfs_int(t, "x"),
        lambda t: parsers.check_imei(t, "x"),
    ):
        with contextlib.suppress(ParseError):
            fn2(text)


@given(
    st.dictionaries(
        st.sampled_from(["level", "scale", "health", "status", "voltage", "temperature", "cycle count"]),
        st.one_of(st.integers(-(10**20), 10**20).map(str), st.text(max_size=10)),
    )
)
def test_battery_parsers_on_hostile_numbers(fields: dict[str, str]) -> None:
    """Huge, negative, zero-scale or non-numeric battery fields are unknown, never a crash or a lie."""
    for fn in (parsers.battery_level_pct, parsers.battery_voltage_mv, parsers.battery_temperature_dc):
        try:
            value = fn(fields)
        except ParseError:
            continue
        assert isinstance(value, int)
    with contextlib.suppress(ParseError):
        assert 0 <= parsers.battery_level_pct(fields) <= 100


def test_toybox_and_toolbox_df() -> None:
    """Both df flavours are read; toolbox's rounded sizes are marked inexact."""
    toybox = (
        "Filesystem      1K-blocks     Used Available Use% Mounted on\n"
        "/dev/block/dm-5 110632308 23458012  87043224  22% /data\n"
    )
    assert parsers.parse_df(toybox) == (110632308 * 1024, 87043224 * 1024, True)
    toolbox = "Filesystem               Size     Used     Free   Blksize\n/data 11.8G 8.7G 3.1G 4096\n"
    total, free, exact = parsers.parse_df(toolbox)
    assert not exact and total == int(11.8 * 1024**3) and free == int(3.1 * 1024**3)
    with pytest.raises(ParseError):
        parsers.parse_df("df: /data: Permission denied\n")


def test_lock_type_is_read_for_the_owner_user() -> None:
    """The owner's (user 0) lock type is reported, not a work profile's; old dumps are unknown."""
    dump = (
        "Current lock settings service state:\n\nUser State:\n"
        "  User 0\n    SID: 0\n    Quality: 0\n    CredentialType: None\n    SeparateChallenge: false\n"
        "  User 10\n    SID: 1f\n    Quality: 131072\n    CredentialType: Pin\n"
    )
    assert parsers.parse_lock_credential_type(dump) == "none"
    assert parsers.parse_lock_credential_type(
        dump.replace("CredentialType: None", "CredentialType: Pattern")
    ) == ("pattern")
    with pytest.raises(ParseError, match="does not report"):
        parsers.parse_lock_credential_type("Current lock settings service state:\n  SP Enabled = true\n")


# -- ADB framing ----------------------------------------------------------------------------------
@settings(max_examples=300)
@given(st.lists(st.binary(max_size=64), max_size=20))
def test_adb_message_parser_never_crashes(chunks: list[bytes]) -> None:
    """Arbitrary bytes on the simulated phone's port give messages or AdbProtocolError only."""
    parser = MessageParser(max_payload=4096)
    try:
        for chunk in chunks:
            for msg in parser.feed(chunk):
                assert len(msg.data) <= 4096
    except AdbProtocolError:
        pass


messages = st.builds(
    AdbMessage,
    st.sampled_from([A_CNXN, A_OPEN, A_OKAY, A_WRTE, A_CLSE]),
    st.integers(0, 2**32 - 1),
    st.integers(0, 2**32 - 1),
    st.binary(max_size=300),
)


@given(st.lists(messages, max_size=8), st.integers(1, 50))
def test_adb_messages_survive_any_split(msgs: list[AdbMessage], step: int) -> None:
    """Packed messages cut into arbitrary TCP segments decode to the same messages."""
    wire = b"".join(m.pack() for m in msgs)
    parser = MessageParser()
    out: list[AdbMessage] = []
    for i in range(0, len(wire), step):
        out += parser.feed(wire[i : i + step])
    assert out == msgs


def test_corrupted_frames_are_rejected() -> None:
    """Bad magic and bad checksum (when the negotiated version requires it) are protocol errors."""
    good = AdbMessage(A_WRTE, 1, 2, b"hello").pack()
    bad_magic = good[:20] + struct.pack("<I", 0) + good[24:]
    with pytest.raises(AdbProtocolError, match="magic"):
        MessageParser().feed(bad_magic)
    bad_sum = good[:16] + struct.pack("<I", 12345) + good[20:]
    with pytest.raises(AdbProtocolError, match="checksum"):
        MessageParser().feed(bad_sum)
    assert MessageParser(verify_checksum=False).feed(bad_sum)[0].data == b"hello"


def test_service_strings_of_adb_hosts() -> None:
    """OPEN payloads from adb 29+ (shell v2 with options) and adb-shell (v1) are understood."""
    assert parse_service(b"shell,v2,TERM=xterm,raw:getprop ro.serialno\0") == (
        "shell",
        ["v2", "TERM=xterm", "raw"],
        "getprop ro.serialno",
    )
    assert parse_service(b"shell:echo a:b\0") == ("shell", [], "echo a:b")
    assert parse_service(b"sync:\0") == ("sync", [], "")
