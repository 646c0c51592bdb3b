"""Parsers for what Android prints: getprop, dumpsys battery, service-call parcels, df, meminfo.

They take untrusted text from a phone: each either returns a value or raises :class:`ParseError`
with a reason the report can show -- never any other exception (property tests hold them to it).
"""

from __future__ import annotations

import re
import struct

from .luhn import is_valid_imei


class ParseError(ValueError):
    """The text is not what the parser expected; the message says why (shown as 'unknown: ...')."""


_PROP_LINE = re.compile(r"^\[([^\]]+)\]: \[(.*)\]\s*$")


def parse_getprop(text: str) -> dict[str, str]:
    """``getprop`` without arguments: ``[key]: [value]`` per line."""
    props: dict[str, str] = {}
    for line in text.splitlines():
        m = _PROP_LINE.match(line)
        if m:
            props[m.group(1)] = m.group(2)
    return props


def parse_key_values(text: str) -> dict[str, str]:
    """``  key: value`` lines (``dumpsys battery`` and friends); later duplicates win."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        key = key.strip()
        if sep and key and line.startswith(" "):
            out[key] = value.strip()
    return out


BATTERY_HEALTH = {
    1: "unknown",
    2: "good",
    3: "overheat",
    4: "dead",
    5: "over_voltage",
    6: "unspecified_failure",
    7: "cold",
}
BATTERY_STATUS = {1: "unknown", 2: "charging", 3: "discharging", 4: "not_charging", 5: "full"}


def parse_int(value: str | None, what: str) -> int:
    if value is None:
        raise ParseError(f"{what} not reported")
    v = value.strip()
    if not re.fullmatch(r"-?\d{1,18}", v):
        raise ParseError(f"{what} is not an integer: {v[:40]!r}")
    return int(v)


def battery_level_pct(fields: dict[str, str]) -> int:
    level = parse_int(fields.get("level"), "battery level")
    scale = parse_int(fields.get("scale", "100"), "battery scale")
    if scale <= 0:
        raise ParseError(f"battery scale {scale} is not positive")
    pct = level * 100 // scale
    if not 0 <= pct <= 100:
        raise ParseError(f"battery level {level}/{scale} is out of range")
    return pct


def battery_health(fields: dict[str, str]) -> str:
    return _battery_code(fields, "health", BATTERY_HEALTH)


def battery_status(fields: dict[str, str]) -> str:
    return _battery_code(fields, "status", BATTERY_STATUS)


def _battery_code(fields: dict[str, str], key: str, names: dict[int, str]) -> str:
    """A code the phone itself calls "unknown" is as unknown to the report as an unlisted one."""
    code = parse_int(fields.get(key), f"battery {key}")
    name = names.get(code)
    if name is None or name == "unknown":
        raise ParseError(f"phone reports battery {key} code {code} (unknown)")
    return name


def battery_voltage_mv(fields: dict[str, str]) -> int:
    """dumpsys reports millivolts; a few old kernels report volts or microvolts: normalise."""
    v = parse_int(fields.get("voltage"), "battery voltage")
    if 1 <= v <= 10:
        raise ParseError(f"battery voltage {v} is in whole volts: too coarse to report")
    if v > 1_000_000:
        v //= 1000
    if not 2000 <= v <= 6000:
        raise ParseError(f"battery voltage {v} mV is implausible")
    return v


def battery_temperature_dc(fields: dict[str, str]) -> int:
    """Tenths of a degree Celsius, as the phone reports it."""
    t = parse_int(fields.get("temperature"), "battery temperature")
    if not -400 <= t <= 1000:
        raise ParseError(f"battery temperature {t} (0.1 C) is implausible")
    return t


_CYCLE_KEY = re.compile(r"cycle[ _]?count", re.IGNORECASE)


def battery_cycle_count_from_dumpsys(fields: dict[str, str]) -> int:
    for key, value in fields.items():
        if _CYCLE_KEY.search(key):
            n = parse_int(value, key)
            if n < 0:
                raise ParseError(f"{key} is negative")
            return n
    raise ParseError("dumpsys battery has no cycle count")


def parse_sysfs_int(text: str, what: str) -> int:
    """A sysfs node's single integer (``cat`` output)."""
    return parse_int(text.strip().splitlines()[0] if text.strip() else None, what)


# -- binder parcels ----------------------------------------------------------------------------------
_HEX_WORD = re.compile(r"\b[0-9a-fA-F]{8}\b")


def parcel_bytes(text: str) -> bytes:
    """The bytes of a ``service call`` reply (``Result: Parcel(...)``), from its hex words."""
    start = text.find("Parcel(")
    if start < 0:
        raise ParseError(f"not a parcel dump: {text.strip()[:80]!r}")
    data = bytearray()
    for line in text[start + len("Parcel(") :].splitlines():
        hexpart = line.split("'", 1)[0]  # the quoted ASCII column may contain anything
        if ":" in hexpart:
            hexpart = hexpart.split(":", 1)[1]  # drop the "0x00000010:" address
        for word in _HEX_WORD.findall(hexpart):
            data += struct.pack("<I", int(word, 16))
    if not data:
        raise ParseError("empty parcel")
    return bytes(data)


def _string16_at(data: bytes, offset: int) -> str | None:
    if offset + 4 > len(data):
        raise ParseError("parcel ends before the string length")
    (length,) = struct.unpack_from("<i", data, offset)
    if length == -1:
        return None
    if length < 0 or offset + 4 + 2 * length > len(data):
        raise ParseError(f"parcel string length {length} does not fit the parcel")
    raw = data[offset + 4 : offset + 4 + 2 * length]
    return raw.decode("utf-16-le", errors="replace")


EX_HAS_NOTED_APPOPS_REPLY_HEADER = -127
EX_HAS_REPLY_HEADER = -128


def parse_parcel_string16(text: str) -> str | None:
    """A reply parcel holding one String16: the string, None for a null string.

    A Java exception in the reply raises ParseError carrying its message (e.g. SecurityException).
    """
    data = parcel_bytes(text)
    if len(data) < 4:
        raise ParseError("parcel too short")
    offset = 0
    (code,) = struct.unpack_from("<i", data, 0)
    offset = 4
    if code in (EX_HAS_REPLY_HEADER, EX_HAS_NOTED_APPOPS_REPLY_HEADER):
        if len(data) < 8:
            raise ParseError("parcel reply header truncated")
        (header_size,) = struct.unpack_from("<i", data, 4)
        if header_size < 4 or 4 + header_size > len(data):
            raise ParseError("parcel reply header size is invalid")
        offset = 4 + header_size
        code = 0
    if code != 0:
        try:
            message = _string16_at(data, offset) or ""
        except ParseError:
            message = ""
        raise ParseError(f"phone refused (exception {code}): {message[:120]}".rstrip(": "))
    return _string16_at(data, offset)


# -- identifiers, storage, memory -------------------------------------------------------------------
_DEVICE_ID = re.compile(r"Device ID\s*=\s*(\S+)")


def parse_dumpsys_iphonesubinfo(text: str) -> list[str]:
    """Old Androids' ``dumpsys iphonesubinfo``: every ``Device ID = ...`` (unvalidated)."""
    if "Permission Denial" in text:
        raise ParseError("dumpsys iphonesubinfo: permission denied to the shell user")
    ids = _DEVICE_ID.findall(text)
    if not ids:
        raise ParseError("dumpsys iphonesubinfo shows no Device ID")
    return ids


def check_imei(candidate: str | None, where: str) -> str:
    """The candidate as an IMEI, or ParseError saying why it is not one."""
    if candidate is None or not candidate.strip():
        raise ParseError(f"{where}: no value")
    c = candidate.strip()
    if re.fullmatch(r"[0-9A-Fa-f]{14}", c) and not c.isdigit():
        raise ParseError(f"{where}: {c} is a CDMA MEID, not an IMEI")
    if not is_valid_imei(c):
        raise ParseError(f"{where}: {c[:20]!r} fails the IMEI (15 digits, Luhn) check")
    return c


_SIZE = re.compile(r"^(\d+(?:\.\d+)?)([KMGT]?)$", re.IGNORECASE)
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def parse_df(text: str, mount: str = "/data") -> tuple[int, int, bool]:
    """``df /data`` -> (total bytes, available bytes, exact?).

    toybox (Android 7+) prints 1K blocks; old toolbox prints rounded sizes like ``11.8G`` -- those
    are reported with ``exact=False``.
    """
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines or not lines[0].lower().startswith("filesystem"):
        raise ParseError(f"df output without a header: {text.strip()[:80]!r}")
    header = lines[0].lower().split()
    for line in lines[1:]:
        cols = line.split()
        if "1k-blocks" in header and len(cols) >= 6 and cols[-1] == mount:
            total = parse_int(cols[1], "df total")
            avail = parse_int(cols[3], "df available")
            if total <= 0 or not 0 <= avail <= total:
                raise ParseError(f"df numbers are inconsistent: {line.strip()}")
            return total * 1024, avail * 1024, True
        if header[:2] == ["filesystem", "size"] and len(cols) >= 4 and cols[0] == mount:
            sizes = []
            for col in (cols[1], cols[3]):
                m = _SIZE.match(col)
                if not m:
                    raise ParseError(f"df size {col!r} not understood")
                sizes.append(int(float(m.group(1)) * _UNITS[m.group(2).upper()]))
            if sizes[0] <= 0 or not 0 <= sizes[1] <= sizes[0]:
                raise ParseError(f"df numbers are inconsistent: {line.strip()}")
            return sizes[0], sizes[1], False
    raise ParseError(f"df does not list {mount}")


def parse_meminfo_total_kb(text: str) -> int:
    m = re.search(r"^MemTotal:\s+(\d{1,15}) kB", text, re.MULTILINE)
    if not m:
        raise ParseError("/proc/meminfo has no MemTotal")
    return int(m.group(1))


_ACCOUNT = re.compile(r"Account \{name=[^,]*, type=com\.google\}")


def count_google_accounts(text: str) -> int:
    """Google accounts signed in (``dumpsys account``); names are not kept (buyer privacy)."""
    if "Accounts:" not in text:
        raise ParseError("dumpsys account output not understood")
    return len(set(_ACCOUNT.findall(text)))


_CREDENTIAL = re.compile(r"^\s*User 0\s*$(?:\n(?!\s*User \d).*)*?\n\s*CredentialType:\s*(\w+)", re.MULTILINE)


def parse_lock_credential_type(text: str) -> str:
    """User 0's screen lock from ``dumpsys lock_settings`` (Android 11+): none/pin/password/pattern.

    Read from the service's dump rather than ``locksettings verify``, which counts a failed
    unlock attempt on a locked phone (and could trigger a lockout or a wipe policy).
    """
    m = _CREDENTIAL.search(text)
    if not m:
        raise ParseError("this Android version does not report the screen lock type")
    kind = m.group(1).lower()
    if kind not in ("none", "pin", "password", "pattern"):
        raise ParseError(f"screen lock type {kind!r} not recognised")
    return kind
