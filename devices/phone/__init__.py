"""Phone over USB: Android phones through the ADB protocol, and a simulated phone.

Public API (stable; used by ``devices/discovery.py`` and the inspection pipeline):

Discovery
    ``list_adb_devices(host="127.0.0.1", port=None, timeout=5.0, start_server=True)
    -> list[AdbDeviceEntry]`` -- phones the adb server knows (``adb devices -l``); ``model`` is
    adb's rendering (``SM-G991B`` appears as ``SM_G991B``).
    ``AdbDeviceEntry(serial, state, model, product, device, transport_id, tags)``; ``state`` is
    adb's: ``device`` (ready), ``unauthorized``, ``offline``, ... ``port`` defaults to
    ``$ANDROID_ADB_SERVER_PORT`` or 5037. Raises ``PhoneError`` when no server can be reached.
    ``adb_connect("host:port", ...)`` attaches a TCP phone (e.g. the simulator) to the server.

Transports (``AdbTransport`` protocol: ``serial``, ``run(cmd, timeout) -> ShellResult``,
``shell(cmd, timeout) -> str``, ``list_devices()``, ``close()``)
    ``AdbServerTransport(serial, host="127.0.0.1", port=None, timeout=10.0)`` -- via the adb server.
    ``AdbTcpTransport(host, port=5555, timeout=10.0, rsa_keys=None)`` -- direct ADB over TCP.

Probe
    ``probe_phone(transport, timeout=None) -> PhoneReport`` -- see :mod:`devices.phone.probe`.
    ``PhoneReport``: ``serial``, ``transport``, ``probed_at``, ``duration_ms``, ``warnings`` and one
    ``Fact(value, source, unknown)`` per measurement (model, brand, manufacturer, android_version,
    sdk, imeis, battery_level_pct, battery_health, battery_temperature_dc, battery_voltage_mv,
    battery_cycle_count, battery_capacity_pct, storage_total_bytes, storage_free_bytes,
    verified_boot_state, bootloader_locked, rooted, frp_locked, screen_lock, ...).
    ``to_dict()`` / ``to_json()`` / ``PhoneReport.from_dict()``. Only PhoneDisconnected,
    PhoneUnauthorized and PhoneProbeError (no answer to ``getprop``) abort a probe.

Display
    ``read_display(transport) -> DisplayReading(state, source, unknown)`` -- ``DisplayState`` ON / OFF /
    DOZING (always-on display) from ``dumpsys power``, or unknown with the reason;
    ``screen_off(transport)`` / ``screen_on(transport)`` send KEYCODE_SLEEP / KEYCODE_WAKEUP and return
    the state the phone then reports (PhoneRefused when the phone blocks injected keys).

Simulator
    ``PhoneSimulator(profile="pixel-6", host="127.0.0.1", port=0, faults=PhoneFaults())``
    with ``start() -> (host, port)``, ``unplug()``, ``replug()``, ``stop()``; profiles in
    ``PROFILES`` / ``get_profile(name)``.

Errors: ``PhoneError`` > ``PhoneNotFound``, ``PhoneUnauthorized``, ``PhoneDisconnected``,
``PhoneProbeError``, ``PhoneRefused``.
"""

from __future__ import annotations

from .display import DisplayReading, DisplayState, read_display, screen_off, screen_on
from .errors import (
    PhoneDisconnected,
    PhoneError,
    PhoneNotFound,
    PhoneProbeError,
    PhoneRefused,
    PhoneUnauthorized,
)
from .luhn import is_valid_imei, luhn_valid
from .probe import Fact, PhoneReport, probe_phone
from .profiles import PROFILES, PhoneProfile, get_profile
from .simulator import PhoneFaults, PhoneSimulator
from .transport import (
    AdbDeviceEntry,
    AdbServerTransport,
    AdbTcpTransport,
    AdbTransport,
    ShellResult,
    adb_connect,
    ensure_adb_server,
    list_adb_devices,
)

__all__ = [
    "PROFILES",
    "AdbDeviceEntry",
    "AdbServerTransport",
    "AdbTcpTransport",
    "AdbTransport",
    "DisplayReading",
    "DisplayState",
    "Fact",
    "PhoneDisconnected",
    "PhoneError",
    "PhoneFaults",
    "PhoneNotFound",
    "PhoneProbeError",
    "PhoneProfile",
    "PhoneRefused",
    "PhoneReport",
    "PhoneSimulator",
    "PhoneUnauthorized",
    "ShellResult",
    "adb_connect",
    "ensure_adb_server",
    "get_profile",
    "is_valid_imei",
    "list_adb_devices",
    "luhn_valid",
    "probe_phone",
    "read_display",
    "screen_off",
    "screen_on",
]
