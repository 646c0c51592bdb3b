"""Find the station's devices: serial ports, balances, rig controllers, phones and cameras.

USB VID:PID only says which *chip* sits behind a port (a CH340 is on cheap Arduino clones
and on many balance cables alike), so the table below only marks *candidates*; a device
counts as found once it answers its own identify: the rig's IDENTIFY frame or MT-SICS I4.
Ports without a USB id (built-in UARTs) are only probed when configured explicitly,
because writing probes into an unknown device is not harmless.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from serial.tools import list_ports

if TYPE_CHECKING:
    from devices.camera.base import Camera
    from devices.phone.transport import AdbTransport
    from inspector.config import Settings

# (vid, pid) -> (chip/board, candidate roles in the order they are probed). Candidates only:
# identify decides. Mettler Toledo's own USB devices use vendor id 0x0EB8 (any product id).
KNOWN_USB_IDS: dict[tuple[int, int], tuple[str, tuple[str, ...]]] = {
    (0x2341, 0x0043): ("Arduino Uno R3 (ATmega16U2)", ("rig",)),
    (0x2341, 0x0001): ("Arduino Uno (ATmega8U2)", ("rig",)),
    (0x2A03, 0x0043): ("Arduino Uno R3 (arduino.org)", ("rig",)),
    (0x2341, 0x0042): ("Arduino Mega 2560 R3", ("rig",)),
    (0x1A86, 0x7523): ("WCH CH340 USB-serial", ("rig", "scale")),
    (0x1A86, 0x55D4): ("WCH CH9102 USB-serial", ("rig", "scale")),
    (0x0403, 0x6001): ("FTDI FT232R USB-serial", ("scale", "rig")),
    (0x0403, 0x6015): ("FTDI FT231X USB-serial", ("scale", "rig")),
    (0x10C4, 0xEA60): ("Silicon Labs CP210x USB-serial", ("scale", "rig")),
    (0x067B, 0x2303): ("Prolific PL2303 USB-serial", ("scale",)),
}
METTLER_TOLEDO_VID = 0x0EB8


@dataclass(frozen=True)
class SerialPortInfo:
    """One serial port as the OS lists it."""

    device: str
    description: str | None = None
    vid: int | None = None
    pid: int | None = None
    serial_number: str | None = None
    manufacturer: str | None = None
    chip: str | None = None
    candidates: tuple[str, ...] = ()

    @property
    def usb_id(self) -> str | None:
        if self.vid is None or self.pid is None:
            return None
        return f"{self.vid:04x}:{self.pid:04x}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "description": self.description,
            "usb_id": self.usb_id,
            "serial_number": self.serial_number,
            "manufacturer": self.manufacturer,
            "chip": self.chip,
            "candidates": list(self.candidates),
        }


@dataclass
class DeviceRecord:
    """A device that is (or should be) on the station, as ``inspector devices`` lists it.

    ``status``: "ok" (identified), "unidentified" (a port with no known answer) or "error".
    """

    kind: str  # "rig", "scale", "phone", "camera" or "serial"
    address: str
    identity: dict[str, Any] = field(default_factory=dict)
    simulated: bool = False
    status: str = "ok"
    detail: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "address": self.address,
            "simulated": self.simulated,
            "status": self.status,
            "identity": self.identity,
            "detail": self.detail,
        }


def usb_candidates(vid: int | None, pid: int | None) -> tuple[str | None, tuple[str, ...]]:
    """Chip name and candidate roles for a USB id; unknown USB-serial chips may be either."""
    if vid is None or pid is None:
        return None, ()
    if vid == METTLER_TOLEDO_VID:
        return "Mettler Toledo", ("scale",)
    known = KNOWN_USB_IDS.get((vid, pid))
    if known:
        return known
    return None, ("scale", "rig")


def list_serial_ports() -> list[SerialPortInfo]:
    """Every serial port the OS reports, with its USB identity and candidate roles."""
    ports = []
    for p in sorted(list_ports.comports(), key=lambda p: p.device):
        chip, roles = usb_candidates(p.vid, p.pid)
        ports.append(
            SerialPortInfo(
                device=p.device,
                description=p.description if p.description != "n/a" else None,
                vid=p.vid,
                pid=p.pid,
                serial_number=p.serial_number,
                manufacturer=p.manufacturer,
                chip=chip,
                candidates=roles,
            )
        )
    return ports


def mask_imei(imei: str) -> str:
    """Show only the last 4 digits: enough to match the item in hand, not to clone it."""
    digits = re.sub(r"\D", "", imei)
    return "*" * max(0, len(digits) - 4) + digits[-4:]


# -- probes ----------------------------------------------------------------------------------
def probe_scale(
    port: str, *, baudrate: int = 9600, timeout: float = 0.5, simulated: bool = False
) -> DeviceRecord:
    """Ask ``port`` for MT-SICS I4 (and I2/I3); raises ``ScaleError`` if no balance answers."""
    from devices.scale import MtSicsScale

    with MtSicsScale(port, baudrate=baudrate, timeout=timeout, retries=1) as scale:
        ident = scale.identify()
        reading = None
        with contextlib.suppress(Exception):  # a reading is a bonus; identity is what counts
            w = scale.immediate_weight()
            reading = {"mg": w.mg, "stable": w.stable, "unit": w.unit}
    identity: dict[str, Any] = {"vendor": "Mettler Toledo (MT-SICS)", **ident.as_dict()}
    if reading is not None:
        identity["reading"] = reading
    return DeviceRecord("scale", port, identity, simulated=simulated)


def probe_rig(
    port: str, *, baudrate: int = 115200, timeout: float = 1.0, simulated: bool = False
) -> DeviceRecord:
    """IDENTIFY the rig controller on ``port``; raises ``RigError`` if none answers."""
    from devices.rig import RigDriver

    rig = RigDriver(port, baud=baudrate, timeout=timeout, retries=1, auto_reconnect=False)
    try:
        ident = rig.connect()
    finally:
        rig.close()
    identity = {
        "model": ident.model,
        "firmware": ident.firmware_version,
        "serial": ident.serial,
        "protocol_version": ident.protocol_version,
    }
    return DeviceRecord("rig", port, identity, simulated=simulated)


def identify_serial_port(
    port: str,
    roles: Iterable[str] = ("scale", "rig"),
    *,
    scale_baud: int = 9600,
    rig_baud: int = 115200,
    timeout: float = 0.5,
    simulated: bool = False,
) -> DeviceRecord:
    """Try each candidate role's identify on ``port``; the first that answers wins."""
    errors = []
    for role in roles:
        try:
            if role == "scale":
                return probe_scale(port, baudrate=scale_baud, timeout=timeout, simulated=simulated)
            if role == "rig":
                return probe_rig(port, baudrate=rig_baud, timeout=max(timeout, 0.5), simulated=simulated)
        except Exception as exc:  # any driver error just means "not this kind of device"
            errors.append(f"{role}: {exc}")
    return DeviceRecord(
        "serial", port, {}, simulated=simulated, status="unidentified", detail="; ".join(errors) or None
    )


def probe_phone_transport(transport: AdbTransport, *, simulated: bool = False) -> DeviceRecord:
    """Identity of a phone over an open ADB transport: model, brand, serial, Android, IMEIs masked."""
    from devices.phone.probe import probe_phone

    report = probe_phone(transport).to_dict()

    def val(name: str) -> Any:
        fact = report.get(name)
        return fact.get("value") if isinstance(fact, dict) else None

    imeis = val("imeis") or []
    identity = {
        "model": val("model"),
        "brand": val("brand"),
        "serial": val("device_serial"),
        "android": val("android_version"),
        "imei": [mask_imei(i) for i in imeis] if imeis else None,
        "battery_pct": val("battery_level_pct"),
    }
    return DeviceRecord("phone", transport.serial, identity, simulated=simulated)


def list_phones(
    *, host: str = "127.0.0.1", port: int | None = None, start_server: bool = True, timeout: float = 5.0
) -> list[DeviceRecord]:
    """Phones the adb server knows; ready ones are probed for their identity."""
    from devices.phone import AdbServerTransport, PhoneError, list_adb_devices

    records = []
    for entry in list_adb_devices(host, port, timeout=timeout, start_server=start_server):
        if entry.state != "device":
            hint = " (unlock it and allow USB debugging)" if entry.state == "unauthorized" else ""
            records.append(
                DeviceRecord(
                    "phone",
                    entry.serial,
                    {"model": entry.model},
                    status="error",
                    detail=f"adb state {entry.state}{hint}",
                )
            )
            continue
        try:
            transport = AdbServerTransport(entry.serial, host=host, port=port, timeout=timeout)
            try:
                records.append(probe_phone_transport(transport))
            finally:
                transport.close()
        except PhoneError as exc:
            records.append(
                DeviceRecord("phone", entry.serial, {"model": entry.model}, status="error", detail=str(exc))
            )
    return records


def probe_camera(camera: Camera, *, simulated: bool = False) -> DeviceRecord:
    """Open a camera and grab one frame, reporting the resolution it really delivers."""
    info = camera.info()
    frame = camera.capture()
    identity = {
        "source": info.source,
        "type": info.kind,
        "width": frame.width,
        "height": frame.height,
        "backend": info.backend,
    }
    return DeviceRecord("camera", info.source, identity, simulated=simulated)


def video_device_indexes() -> list[int]:
    """Indexes of ``/dev/videoN`` nodes (Linux); probing only these avoids OpenCV noise."""
    found = []
    for path in glob.glob("/dev/video*"):
        m = re.fullmatch(r"/dev/video(\d+)", path)
        if m:
            found.append(int(m.group(1)))
    return sorted(found)


def list_cameras(sources: Iterable[str | int] | None = None) -> list[DeviceRecord]:
    """Camera sources that open and deliver a frame (default: every ``/dev/videoN``).

    Capture nodes that do not deliver frames (UVC metadata nodes) are skipped silently.
    """
    from devices.camera import CameraError, OpenCVCamera

    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    explicit = sources is not None
    records = []
    for src in video_device_indexes() if sources is None else sources:
        cam = OpenCVCamera(src)
        try:
            records.append(probe_camera(cam))
        except CameraError as exc:
            if explicit:
                records.append(DeviceRecord("camera", str(src), {}, status="error", detail=str(exc)))
        finally:
            cam.close()
    return records


def discover(
    settings: Settings | None = None,
    *,
    probe: bool = True,
    adb: bool = True,
    cameras: bool = True,
    timeout: float = 0.5,
) -> list[DeviceRecord]:
    """Everything attached to this machine (real hardware), identified where possible."""
    from inspector.config import get_settings

    settings = settings or get_settings()
    records: list[DeviceRecord] = []
    configured = {p: r for p, r in ((settings.rig_port, "rig"), (settings.scale_port, "scale")) if p}
    listed = {p.device: p for p in list_serial_ports()}
    for device in sorted(set(listed) | set(configured)):
        info = listed.get(device)
        roles: tuple[str, ...] = info.candidates if info else ()
        if device in configured:
            roles = (configured[device],)
        usb = info.as_dict() if info else {}
        if not probe or not roles:
            if info is not None and info.vid is not None:
                records.append(
                    DeviceRecord("serial", device, {"usb": usb}, status="unidentified", detail="not probed")
                )
            continue
        rec = identify_serial_port(
            device, roles, scale_baud=settings.scale_baud, rig_baud=settings.rig_baud, timeout=timeout
        )
        if usb:
            rec.identity["usb"] = usb
        if rec.status != "ok" and device in configured:
            rec.kind, rec.status = configured[device], "error"
        records.append(rec)
    if adb:
        try:
            records.extend(list_phones(start_server=True))
        except Exception as exc:  # no adb installed / server unreachable: say so, keep the rest
            records.append(DeviceRecord("phone", "adb", {}, status="error", detail=f"adb unavailable: {exc}"))
    if cameras:
        source = settings.camera_source
        sources: list[str | int] = list(video_device_indexes())
        if not source.strip().isdigit():
            sources.append(source)
        elif int(source) not in sources and str(source) != "0":
            sources.append(int(source))
        side = settings.side_camera_source
        if side is not None and side.strip() and not side.strip().isdigit():
            sources.append(side)
        elif side is not None and side.strip().isdigit() and int(side) not in sources:
            sources.append(int(side))
        records.extend(list_cameras(sources) if sources else [])
    return records
