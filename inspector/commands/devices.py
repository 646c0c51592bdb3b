"""``inspector devices``: what is connected to this station, and who it says it is."""

from __future__ import annotations

import argparse
import json
from typing import Any

from devices.discovery import DeviceRecord

_ORDER = {"rig": 0, "scale": 1, "phone": 2, "camera": 3, "serial": 4}


def _summary(rec: DeviceRecord) -> str:
    i = rec.identity
    if rec.status != "ok":
        return rec.detail or rec.status
    if rec.kind == "rig":
        return f"{i.get('model')}  firmware {i.get('firmware')}  serial {i.get('serial')}"
    if rec.kind == "scale":
        parts = [str(i.get("model") or "balance"), f"serial {i.get('serial')}"]
        if i.get("capacity"):
            parts.append(f"max {i['capacity']}")
        if i.get("firmware"):
            parts.append(f"firmware {i['firmware']}")
        return "  ".join(parts)
    if rec.kind == "phone":
        imeis = i.get("imei") or []
        imei = ", ".join(imeis) if imeis else "unknown"
        return (
            f"{i.get('brand') or ''} {i.get('model') or 'unknown model'}".strip()
            + f"  serial {i.get('serial') or 'unknown'}  Android {i.get('android') or 'unknown'}"
            + f"  IMEI {imei}"
        )
    if rec.kind == "camera":
        return f"{i.get('type')}  {i.get('width')}x{i.get('height')}"
    usb = i.get("usb") or {}
    return f"{usb.get('usb_id') or ''} {usb.get('description') or ''}".strip()


def render_table(records: list[DeviceRecord]) -> str:
    rows = [("KIND", "STATUS", "ADDRESS", "IDENTITY")]
    for rec in records:
        kind = rec.kind + (" (sim)" if rec.simulated else "")
        rows.append((kind, rec.status, rec.address, _summary(rec)))
    widths = [max(len(r[c]) for r in rows) for c in range(3)]
    lines = [f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}".rstrip() for r in rows]
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    records: list[DeviceRecord]
    mode = "simulated" if args.simulate else "hardware"
    if args.simulate:
        from devices.simulated_station import SimulatedStation

        with SimulatedStation() as station:
            records = station.inventory(timeout=args.timeout)
    else:
        from devices.discovery import discover

        records = discover(
            probe=not args.no_probe, adb=not args.no_adb, cameras=not args.no_camera, timeout=args.timeout
        )
    records.sort(key=lambda r: (_ORDER.get(r.kind, 9), r.address))
    if args.json:
        doc: dict[str, Any] = {"mode": mode, "devices": [r.as_dict() for r in records]}
        print(json.dumps(doc, indent=2, default=str))
        return 0
    if not records:
        print(
            "No station devices found: no rig, balance, phone or camera is connected.\n"
            "Plug them in (check cables and that the phone allows USB debugging), set "
            "INSPECTOR_RIG_PORT / INSPECTOR_SCALE_PORT / INSPECTOR_CAMERA_SOURCE, "
            "or run `inspector devices --simulate`."
        )
        return 0
    print(render_table(records))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "devices",
        help="list the connected station devices and their identities",
        description="List what is connected to this station (rig controller, balance, phone, camera) "
        "with the identity each device reports. Serial ports are matched by USB VID:PID and then "
        "confirmed by asking the device to identify itself. IMEIs are masked to the last 4 digits.",
    )
    p.add_argument(
        "--simulate",
        action="store_true",
        help="start a simulated station (rig, balance, phone, camera) and list it",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--no-probe", action="store_true", help="list serial ports without sending identify commands to them"
    )
    p.add_argument("--no-adb", action="store_true", help="do not ask the adb server for phones")
    p.add_argument("--no-camera", action="store_true", help="do not open cameras")
    p.add_argument(
        "--timeout", type=float, default=1.0, help="seconds to wait for each device's answer (default: 1.0)"
    )
    p.set_defaults(handler=_run)
