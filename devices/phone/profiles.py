"""Phone profiles the simulator answers from: what a real handset of that model reports.

A profile is plain data (JSON round-trips through :meth:`PhoneProfile.to_dict` /
:meth:`PhoneProfile.from_dict`), so a station can also load one from a file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .luhn import luhn_complete


@dataclass
class PhoneProfile:
    name: str
    description: str
    serial: str
    props: dict[str, str]
    # ``dumpsys battery`` lines (key -> value) in the order the phone prints them.
    battery: dict[str, str]
    # Readable files (sysfs battery nodes, /proc/meminfo); anything else is "No such file".
    files: dict[str, str] = field(default_factory=dict)
    imeis: list[str] = field(default_factory=list)
    # Does ``service call iphonesubinfo`` answer the shell user, or raise SecurityException?
    imei_service_call: bool = True
    # Does ``dumpsys iphonesubinfo`` print "Device ID = ..." (Android 4/5 era)?
    imei_dumpsys: bool = False
    # /data filesystem in 1 KiB blocks: total, used, available.
    data_kb: tuple[int, int, int] = (0, 0, 0)
    # "toybox" (Android 7+: 1K-blocks table) or "toolbox" (Android <= 6: human sizes).
    df_style: str = "toybox"
    su_paths: list[str] = field(default_factory=list)
    packages: list[str] = field(default_factory=list)
    google_accounts: int = 0
    # Screen lock of user 0: "none", "pin", "password" or "pattern".
    lock_type: str = "none"
    settings: dict[str, str] = field(default_factory=dict)
    # Display: does the shell user's ``input keyevent`` work (some ROMs block injected keys unless a
    # developer option is on), does the phone doze with an always-on display instead of going dark,
    # and does its ``dumpsys power`` print the display state at all.
    input_injection: bool = True
    always_on_display: bool = False
    reports_display_state: bool = True

    @property
    def sdk(self) -> int:
        try:
            return int(self.props.get("ro.build.version.sdk", "0"))
        except ValueError:
            return 0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["data_kb"] = list(self.data_kb)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PhoneProfile:
        d = dict(data)
        d["data_kb"] = tuple(d.get("data_kb", (0, 0, 0)))
        return cls(**d)

    @classmethod
    def from_json_file(cls, path: Path) -> PhoneProfile:
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))


_COMMON_APPS = [
    "com.android.settings",
    "com.android.phone",
    "com.android.shell",
    "com.google.android.gms",
    "com.android.vending",
]


def _battery(
    level: int, health: int, temp: int, voltage: int, extra: dict[str, str] | None = None
) -> dict[str, str]:
    d = {
        "AC powered": "false",
        "USB powered": "true",
        "Wireless powered": "false",
        "Max charging current": "500000",
        "Max charging voltage": "5000000",
        "Charge counter": "3034000",
        "status": "2",
        "health": str(health),
        "present": "true",
        "level": str(level),
        "scale": "100",
        "voltage": str(voltage),
        "temperature": str(temp),
        "technology": "Li-ion",
    }
    d.update(extra or {})
    return d


def galaxy_s21() -> PhoneProfile:
    return PhoneProfile(
        name="galaxy-s21",
        description="Samsung Galaxy S21 5G, Android 14, dual SIM, locked bootloader, Google account",
        serial="R5CR10ABCDE",
        props={
            "ro.product.model": "SM-G991B",
            "ro.product.brand": "samsung",
            "ro.product.manufacturer": "samsung",
            "ro.product.name": "o1sxeea",
            "ro.product.device": "o1s",
            "ro.build.version.release": "14",
            "ro.build.version.sdk": "34",
            "ro.build.version.security_patch": "2024-09-01",
            "ro.build.fingerprint": "samsung/o1sxeea/o1s:14/UP1A.231005.007/G991BXXSBGXH1:user/release-keys",
            "ro.build.type": "user",
            "ro.build.tags": "release-keys",
            "ro.serialno": "R5CR10ABCDE",
            "ro.boot.serialno": "R5CR10ABCDE",
            "ro.boot.verifiedbootstate": "green",
            "ro.boot.flash.locked": "1",
            "ro.boot.vbmeta.device_state": "locked",
            "ro.boot.warranty_bit": "0",
            "ro.debuggable": "0",
            "ro.secure": "1",
            "ro.frp.pst": "/dev/block/persistent",
            "ro.oem_unlock_supported": "1",
            "sys.oem_unlock_allowed": "0",
            "persist.radio.multisim.config": "dsds",
            "gsm.sim.state": "READY,ABSENT",
            "ro.hardware": "exynos2100",
            "ro.product.cpu.abi": "arm64-v8a",
        },
        battery=_battery(87, 2, 284, 4205, {"mSavedBatteryAsoc": "92", "mSavedBatteryUsage": "31400"}),
        files={
            "/sys/class/power_supply/battery/battery_cycle": "314\n",
            "/proc/meminfo": "MemTotal:        7784392 kB\nMemFree:          912344 kB\n",
        },
        imeis=[luhn_complete("35291011234567"), luhn_complete("35291011234568")],
        data_kb=(110632308, 23458012, 87043224),
        packages=[*_COMMON_APPS, "com.samsung.android.app.settings"],
        google_accounts=1,
        lock_type="pin",
    )


def pixel_6() -> PhoneProfile:
    return PhoneProfile(
        name="pixel-6",
        description="Google Pixel 6, Android 13, factory reset (no account, no lock), worn battery",
        serial="1A2B3C4D5E6F7G",
        props={
            "ro.product.model": "Pixel 6",
            "ro.product.brand": "google",
            "ro.product.manufacturer": "Google",
            "ro.product.name": "oriole",
            "ro.product.device": "oriole",
            "ro.build.version.release": "13",
            "ro.build.version.sdk": "33",
            "ro.build.version.security_patch": "2023-08-05",
            "ro.build.fingerprint": "google/oriole/oriole:13/TQ3A.230805.001/10316531:user/release-keys",
            "ro.build.type": "user",
            "ro.build.tags": "release-keys",
            "ro.serialno": "1A2B3C4D5E6F7G",
            "ro.boot.verifiedbootstate": "green",
            "ro.boot.flash.locked": "1",
            "ro.boot.vbmeta.device_state": "locked",
            "ro.debuggable": "0",
            "ro.secure": "1",
            "ro.frp.pst": "/dev/block/by-name/frp",
            "ro.oem_unlock_supported": "1",
            "sys.oem_unlock_allowed": "1",
            "persist.radio.multisim.config": "ssss",
            "ro.hardware": "oriole",
            "ro.product.cpu.abi": "arm64-v8a",
        },
        battery=_battery(64, 2, 301, 3912),
        files={
            "/sys/class/power_supply/battery/cycle_count": "412\n",
            "/sys/class/power_supply/battery/charge_full": "3790000\n",
            "/sys/class/power_supply/battery/charge_full_design": "4614000\n",
            "/proc/meminfo": "MemTotal:        7810360 kB\nMemFree:         1254412 kB\n",
        },
        imeis=[luhn_complete("35674011987654")],
        data_kb=(112545404, 9120300, 103425104),
        packages=list(_COMMON_APPS),
    )


def old_rooted() -> PhoneProfile:
    return PhoneProfile(
        name="old-rooted",
        description="Samsung Galaxy S5 on Android 6.0.1, bootloader unlocked, su + Magisk, IMEI hidden",
        serial="4d00a1b2c3d4e5f6",
        props={
            "ro.product.model": "SM-G900F",
            "ro.product.brand": "samsung",
            "ro.product.manufacturer": "samsung",
            "ro.product.name": "kltexx",
            "ro.product.device": "klte",
            "ro.build.version.release": "6.0.1",
            "ro.build.version.sdk": "23",
            "ro.build.version.security_patch": "2017-01-01",
            "ro.build.fingerprint": "samsung/kltexx/klte:6.0.1/MMB29M/G900FXXU1CRH1:userdebug/test-keys",
            "ro.build.type": "userdebug",
            "ro.build.tags": "test-keys",
            "ro.serialno": "4d00a1b2c3d4e5f6",
            "ro.boot.verifiedbootstate": "orange",
            "ro.boot.flash.locked": "0",
            "ro.boot.warranty_bit": "1",
            "ro.debuggable": "1",
            "ro.secure": "0",
            "ro.hardware": "qcom",
            "ro.product.cpu.abi": "armeabi-v7a",
        },
        battery=_battery(23, 3, 402, 3650),
        files={"/proc/meminfo": "MemTotal:        1902456 kB\nMemFree:          101232 kB\n"},
        imeis=[],
        imei_service_call=False,
        data_kb=(12385456, 9120044, 3265412),
        df_style="toolbox",
        su_paths=["/system/xbin/su"],
        packages=[*_COMMON_APPS, "com.topjohnwu.magisk"],
    )


PROFILES = {p.name: p for p in (galaxy_s21(), pixel_6(), old_rooted())}


def get_profile(name: str) -> PhoneProfile:
    """A fresh copy of a built-in profile (callers may mutate it)."""
    factories = {"galaxy-s21": galaxy_s21, "pixel-6": pixel_6, "old-rooted": old_rooted}
    try:
        return factories[name]()
    except KeyError:
        raise KeyError(f"unknown phone profile {name!r}; known: {', '.join(sorted(factories))}") from None
