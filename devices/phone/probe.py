"""The used-phone inspection: what the phone says about itself, each value with its provenance.

Every field of :class:`PhoneReport` is a :class:`Fact`: a value plus the command it came from,
or no value plus the reason it is unknown. Nothing is guessed: a battery health code the phone
calls "unknown", an IMEI that fails its check digit, a ``df`` line we cannot read all stay
unknown, with the reason shown to the operator and the buyer.

Only losing the phone aborts the probe (PhoneDisconnected / PhoneUnauthorized propagate);
everything else degrades to unknown fields.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from . import parsers
from .errors import PhoneProbeError
from .parsers import ParseError
from .transport import AdbTransport, ShellResult

T = TypeVar("T")

# Packages whose presence means the phone has been rooted (or is being rooted).
ROOT_PACKAGES = (
    "com.topjohnwu.magisk",
    "io.github.huskydg.magisk",
    "io.github.vvb2060.magisk",
    "me.weishu.kernelsu",
    "eu.chainfire.supersu",
    "com.koushikdutta.superuser",
    "com.noshufou.android.su",
    "com.kingroot.kinguser",
    "com.kingo.root",
)

# OEM properties that carry the IMEI on some builds (accepted only if the check digit holds).
IMEI_PROPS = ("ro.ril.oem.imei", "ro.ril.oem.imei1", "ro.ril.oem.imei2", "persist.radio.imei", "ril.imei")

# sysfs nodes exposing the charge-cycle counter, by vendor.
CYCLE_COUNT_FILES = (
    "/sys/class/power_supply/battery/cycle_count",
    "/sys/class/power_supply/battery/battery_cycle",  # Samsung
    "/sys/class/power_supply/bms/cycle_count",  # Qualcomm fuel gauge
)
CHARGE_FULL = "/sys/class/power_supply/battery/charge_full"
CHARGE_FULL_DESIGN = "/sys/class/power_supply/battery/charge_full_design"


@dataclass(frozen=True)
class Fact(Generic[T]):
    """A measured value with where it came from, or ``value=None`` and why it is unknown."""

    value: T | None
    source: str | None = None
    unknown: str | None = None

    @property
    def known(self) -> bool:
        return self.unknown is None

    @classmethod
    def of(cls, value: T, source: str) -> Fact[T]:
        return cls(value, source, None)

    @classmethod
    def missing(cls, reason: str, source: str | None = None) -> Fact[T]:
        return cls(None, source, reason)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"value": self.value, "source": self.source}
        if self.unknown is not None:
            d["unknown"] = self.unknown
        return d


# Immutable, so one shared default is safe.
UNPROBED: Fact[Any] = Fact(None, None, "not probed")


@dataclass
class PhoneReport:
    """Everything the station learnt about one phone. ``to_dict()`` is JSON-ready.

    Units are integers so the report can be signed with JCS: bytes, kB, mV, tenths of a degree C.
    """

    serial: str  # as the transport addresses it (USB serial or host:port)
    transport: str
    probed_at: str
    duration_ms: int = 0
    device_serial: Fact[str] = UNPROBED
    model: Fact[str] = UNPROBED
    brand: Fact[str] = UNPROBED
    manufacturer: Fact[str] = UNPROBED
    device: Fact[str] = UNPROBED
    product: Fact[str] = UNPROBED
    android_version: Fact[str] = UNPROBED
    sdk: Fact[int] = UNPROBED
    security_patch: Fact[str] = UNPROBED
    build_fingerprint: Fact[str] = UNPROBED
    hardware: Fact[str] = UNPROBED
    cpu_abi: Fact[str] = UNPROBED
    ram_total_kb: Fact[int] = UNPROBED
    imeis: Fact[list[str]] = UNPROBED
    sim_state: Fact[str] = UNPROBED
    battery_level_pct: Fact[int] = UNPROBED
    battery_status: Fact[str] = UNPROBED
    battery_health: Fact[str] = UNPROBED
    battery_temperature_dc: Fact[int] = UNPROBED
    battery_voltage_mv: Fact[int] = UNPROBED
    battery_cycle_count: Fact[int] = UNPROBED
    battery_capacity_pct: Fact[int] = UNPROBED  # full charge / design capacity
    storage_total_bytes: Fact[int] = UNPROBED
    storage_free_bytes: Fact[int] = UNPROBED
    verified_boot_state: Fact[str] = UNPROBED  # green / yellow / orange / red
    bootloader_locked: Fact[bool] = UNPROBED
    oem_unlock_allowed: Fact[bool] = UNPROBED
    debuggable_build: Fact[bool] = UNPROBED
    build_tags: Fact[str] = UNPROBED
    knox_warranty_void: Fact[bool] = UNPROBED  # Samsung only
    su_binary: Fact[str] = UNPROBED  # path of su, "" when absent
    root_packages: Fact[list[str]] = UNPROBED
    rooted: Fact[bool] = UNPROBED
    frp_partition: Fact[bool] = UNPROBED  # factory reset protection supported
    google_accounts: Fact[int] = UNPROBED
    frp_locked: Fact[bool] = UNPROBED  # a reset would demand the owner's account
    screen_lock: Fact[str] = UNPROBED  # none / pin / password / pattern
    screen_lock_set: Fact[bool] = UNPROBED
    warnings: list[str] = field(default_factory=list)

    def facts(self) -> dict[str, Fact[Any]]:
        return {
            f.name: getattr(self, f.name) for f in fields(self) if isinstance(getattr(self, f.name), Fact)
        }

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = v.to_dict() if isinstance(v, Fact) else v
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PhoneReport:
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            v = data[f.name]
            if isinstance(v, dict) and "value" in v:
                kwargs[f.name] = Fact(v["value"], v.get("source"), v.get("unknown"))
            else:
                kwargs[f.name] = v
        return cls(**kwargs)


def imei_service_calls(sdk: int | None) -> list[tuple[int, str]]:
    """``service call iphonesubinfo`` invocations per SIM slot for this Android release.

    Transaction numbers follow the method order of IPhoneSubInfo.aidl: ``getDeviceId`` is 1
    (taking the calling package from Android 6); ``getDeviceIdForPhone(phoneId, pkg)`` is 3 on
    Android 6-10 and 4 from Android 11 (``getDeviceIdWithFeature`` was inserted before it).
    A wrong guess cannot produce a wrong IMEI: only answers passing the check digit are kept.
    """
    pkg = "s16 com.android.shell"
    if sdk is None or sdk < 23:
        return [(0, "service call iphonesubinfo 1")]
    if sdk <= 29:
        return [(0, f"service call iphonesubinfo 1 {pkg}"), (1, f"service call iphonesubinfo 3 i32 1 {pkg}")]
    return [
        (0, f"service call iphonesubinfo 1 {pkg}"),
        (1, f"service call iphonesubinfo 4 i32 1 {pkg} s16 null"),
    ]


class _Prober:
    def __init__(self, transport: AdbTransport, timeout: float | None) -> None:
        self.t = transport
        self.timeout = timeout
        self.r = PhoneReport(
            serial=transport.serial,
            transport=type(transport).__name__,
            probed_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        self.props: dict[str, str] = {}

    def run(self, command: str) -> ShellResult:
        return self.t.run(command, self.timeout)

    def set(self, name: str, fn: Callable[[], Any], source: str) -> None:
        """Fill a field from ``fn``; a ParseError turns into 'unknown: <reason>'."""
        try:
            setattr(self.r, name, Fact.of(fn(), source))
        except ParseError as exc:
            setattr(self.r, name, Fact.missing(str(exc), source))

    def prop(self, name: str, key: str, convert: Callable[[str], Any] = str) -> None:
        def get() -> Any:
            value = self.props.get(key, "").strip()
            if not value:
                raise ParseError(f"phone does not report {key}")
            return convert(value)

        self.set(name, get, f"getprop {key}")

    # -- steps ------------------------------------------------------------------------------------
    def identity(self) -> None:
        res = self.run("getprop")
        self.props = parsers.parse_getprop(res.output)
        if not self.props:
            raise PhoneProbeError(f"`getprop` returned nothing usable (exit {res.exit_code})")
        serial_key = "ro.serialno" if self.props.get("ro.serialno") else "ro.boot.serialno"
        self.prop("device_serial", serial_key)
        for name, key in (
            ("model", "ro.product.model"),
            ("brand", "ro.product.brand"),
            ("manufacturer", "ro.product.manufacturer"),
            ("device", "ro.product.device"),
            ("product", "ro.product.name"),
            ("android_version", "ro.build.version.release"),
            ("security_patch", "ro.build.version.security_patch"),
            ("build_fingerprint", "ro.build.fingerprint"),
            ("hardware", "ro.hardware"),
            ("cpu_abi", "ro.product.cpu.abi"),
            ("build_tags", "ro.build.tags"),
            ("verified_boot_state", "ro.boot.verifiedbootstate"),
            ("sim_state", "gsm.sim.state"),
        ):
            self.prop(name, key)
        self.prop("sdk", "ro.build.version.sdk", lambda v: parsers.parse_int(v, "SDK level"))

    def flag(self, name: str, key: str, true: tuple[str, ...], false: tuple[str, ...]) -> None:
        def conv(v: str) -> bool:
            if v in true:
                return True
            if v in false:
                return False
            raise ParseError(f"{key}={v!r} is not a recognised value")

        self.prop(name, key, conv)

    def security_props(self) -> None:
        p = self.props
        if p.get("ro.boot.flash.locked"):
            self.flag("bootloader_locked", "ro.boot.flash.locked", ("1",), ("0",))
        else:
            self.flag("bootloader_locked", "ro.boot.vbmeta.device_state", ("locked",), ("unlocked",))
        self.flag("oem_unlock_allowed", "sys.oem_unlock_allowed", ("1",), ("0",))
        self.flag("debuggable_build", "ro.debuggable", ("1",), ("0",))
        if p.get("ro.product.manufacturer", "").lower() == "samsung":
            self.flag("knox_warranty_void", "ro.boot.warranty_bit", ("1",), ("0",))
        else:
            self.r.knox_warranty_void = Fact.missing("not a Samsung phone")
        self.prop("frp_partition", "ro.frp.pst", lambda v: True)

    def imeis(self) -> None:
        found: list[tuple[str, str]] = []  # (imei, source)
        reasons: list[str] = []

        def add(candidate: str | None, source: str) -> None:
            try:
                imei = parsers.check_imei(candidate, source)
            except ParseError as exc:
                reasons.append(str(exc))
                return
            if imei not in {i for i, _ in found}:
                found.append((imei, source))

        sdk = self.r.sdk.value
        for slot, cmd in imei_service_calls(sdk):
            res = self.run(cmd)
            try:
                add(parsers.parse_parcel_string16(res.output), cmd)
            except ParseError as exc:
                reasons.append(f"{cmd}: {exc}")
            if slot == 0 and not found:
                break  # slot 1 answers the same way slot 0 did; do not ask twice
        for key in IMEI_PROPS:
            if self.props.get(key):
                add(self.props[key], f"getprop {key}")
        if not found:
            res = self.run("dumpsys iphonesubinfo")
            try:
                for cand in parsers.parse_dumpsys_iphonesubinfo(res.output):
                    add(cand, "dumpsys iphonesubinfo")
            except ParseError as exc:
                reasons.append(str(exc))
        if found:
            self.r.imeis = Fact.of([i for i, _ in found], "; ".join(dict.fromkeys(s for _, s in found)))
        else:
            self.r.imeis = Fact.missing("; ".join(reasons) or "no source reported an IMEI", "iphonesubinfo")

    def battery(self) -> None:
        src = "dumpsys battery"
        res = self.run(src)
        f = parsers.parse_key_values(res.output)
        self.set("battery_level_pct", lambda: parsers.battery_level_pct(f), src)
        self.set("battery_status", lambda: parsers.battery_status(f), src)
        self.set("battery_health", lambda: parsers.battery_health(f), src)
        self.set("battery_temperature_dc", lambda: parsers.battery_temperature_dc(f), src)
        self.set("battery_voltage_mv", lambda: parsers.battery_voltage_mv(f), src)
        try:
            self.r.battery_cycle_count = Fact.of(parsers.battery_cycle_count_from_dumpsys(f), src)
        except ParseError:
            reasons = ["dumpsys battery has no cycle count"]
            for path in CYCLE_COUNT_FILES:
                out = self.run(f"cat {path}")
                if out.exit_code != 0:
                    continue
                try:
                    self.r.battery_cycle_count = Fact.of(
                        parsers.parse_sysfs_int(out.output, "cycle count"), f"cat {path}"
                    )
                    break
                except ParseError as exc:
                    reasons.append(str(exc))
            else:
                reasons.append("no readable cycle_count node in /sys/class/power_supply")
                self.r.battery_cycle_count = Fact.missing("; ".join(reasons), src)
        full = self.run(f"cat {CHARGE_FULL} {CHARGE_FULL_DESIGN}")
        source = f"cat {CHARGE_FULL} {CHARGE_FULL_DESIGN}"

        def capacity() -> int:
            if full.exit_code != 0:
                raise ParseError("charge_full / charge_full_design not exposed by this phone")
            lines = full.output.split()
            if len(lines) != 2:
                raise ParseError("charge_full / charge_full_design not readable")
            now = parsers.parse_int(lines[0], "charge_full")
            design = parsers.parse_int(lines[1], "charge_full_design")
            if design <= 0 or now < 0:
                raise ParseError("design capacity is not positive")
            return now * 100 // design

        self.set("battery_capacity_pct", capacity, source)

    def storage_memory(self) -> None:
        res = self.run("df /data")

        def total() -> int:
            return parsers.parse_df(res.output)[0]

        def free() -> int:
            return parsers.parse_df(res.output)[1]

        try:
            exact = parsers.parse_df(res.output)[2]
        except ParseError:
            exact = True
        src = "df /data" if exact else "df /data (rounded by the phone's old df)"
        self.set("storage_total_bytes", total, src)
        self.set("storage_free_bytes", free, src)
        mem = self.run("cat /proc/meminfo")
        self.set("ram_total_kb", lambda: parsers.parse_meminfo_total_kb(mem.output), "cat /proc/meminfo")

    def root(self) -> None:
        which = self.run("which su")
        path = which.output.strip().splitlines()[0] if which.exit_code == 0 and which.output.strip() else ""
        if which.exit_code in (0, 1):
            self.r.su_binary = Fact.of(path, "which su")
        else:
            self.r.su_binary = Fact.missing(f"`which su` failed (exit {which.exit_code})", "which su")
        pm = self.run("pm list packages")
        if pm.exit_code == 0 and "package:" in pm.output:
            installed = {
                ln.strip()[len("package:") :] for ln in pm.output.splitlines() if ln.startswith("package:")
            }
            self.r.root_packages = Fact.of(sorted(installed & set(ROOT_PACKAGES)), "pm list packages")
        else:
            self.r.root_packages = Fact.missing("package list not available", "pm list packages")
        su, pkgs = self.r.su_binary, self.r.root_packages
        if (su.known and su.value) or (pkgs.known and pkgs.value):
            self.r.rooted = Fact.of(True, "which su; pm list packages")
        elif su.known and pkgs.known:
            self.r.rooted = Fact.of(False, "which su; pm list packages")
        else:
            self.r.rooted = Fact.missing("root checks did not complete", "which su; pm list packages")

    def accounts_and_lock(self) -> None:
        acc = self.run("dumpsys account")
        self.set("google_accounts", lambda: parsers.count_google_accounts(acc.output), "dumpsys account")
        n, sdk = self.r.google_accounts, self.r.sdk.value
        if n.known and n.value == 0:
            self.r.frp_locked = Fact.of(False, "dumpsys account (no Google account)")
        elif n.known and (self.r.frp_partition.value or (sdk is not None and sdk >= 22)):
            # Android 5.1+ ties a factory reset to the last signed-in Google account.
            self.r.frp_locked = Fact.of(True, "dumpsys account; getprop ro.frp.pst")
        else:
            self.r.frp_locked = Fact.missing("Google account or FRP support unknown", "dumpsys account")
        lock = self.run("dumpsys lock_settings")
        self.set(
            "screen_lock", lambda: parsers.parse_lock_credential_type(lock.output), "dumpsys lock_settings"
        )
        kind = self.r.screen_lock
        if kind.known:
            self.r.screen_lock_set = Fact.of(kind.value != "none", "dumpsys lock_settings")
        else:
            self.r.screen_lock_set = Fact.missing(kind.unknown or "unknown", "dumpsys lock_settings")

    def warnings(self) -> None:
        r, w = self.r, self.r.warnings
        if r.rooted.value:
            w.append("rooted: su binary or root manager present")
        if r.bootloader_locked.value is False:
            w.append("bootloader unlocked")
        if r.verified_boot_state.value in ("orange", "red", "yellow"):
            w.append(f"verified boot state is {r.verified_boot_state.value}")
        if r.knox_warranty_void.value:
            w.append("Samsung Knox warranty bit tripped")
        if r.frp_locked.value:
            w.append("Google account signed in: factory reset protection will lock a reset phone")
        if r.screen_lock_set.value:
            w.append(f"screen lock ({r.screen_lock.value}) set: the seller must remove it before sale")
        if r.debuggable_build.value or r.build_tags.value == "test-keys":
            w.append("non-production build (debuggable or test-keys)")
        if not r.imeis.known:
            w.append("IMEI unknown: the buyer cannot match it against the certificate")
        if r.battery_health.value not in (None, "good"):
            w.append(f"battery health reported as {r.battery_health.value}")


def probe_phone(transport: AdbTransport, timeout: float | None = None) -> PhoneReport:
    """Inspect the phone behind ``transport``; ``timeout`` bounds each command (default: transport's).

    Raises PhoneDisconnected / PhoneUnauthorized if the phone goes away, PhoneProbeError if it
    does not even answer ``getprop``; every other problem becomes an unknown field.
    """
    start = time.monotonic()
    p = _Prober(transport, timeout)
    p.identity()
    p.security_props()
    p.imeis()
    p.battery()
    p.storage_memory()
    p.root()
    p.accounts_and_lock()
    p.warnings()
    p.r.duration_ms = int((time.monotonic() - start) * 1000)
    return p.r
