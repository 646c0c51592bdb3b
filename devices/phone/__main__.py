"""Command line for the phone driver: list phones, probe one, print its report as JSON.

python -m devices.phone list [--adb-port 5037]
python -m devices.phone probe --serial SERIAL [--adb-port 5037]
python -m devices.phone probe --tcp HOST:PORT
"""

from __future__ import annotations

import argparse
import json
import sys

from .errors import PhoneError
from .probe import probe_phone
from .transport import AdbServerTransport, AdbTcpTransport, AdbTransport, list_adb_devices


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devices.phone", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    ls = sub.add_parser("list", help="phones the adb server knows, with state and model")
    ls.add_argument("--adb-port", type=int, help="adb server port (default $ANDROID_ADB_SERVER_PORT or 5037)")
    pr = sub.add_parser("probe", help="inspect one phone and print the report as JSON")
    target = pr.add_mutually_exclusive_group(required=True)
    target.add_argument("--serial", help="ADB serial (through the adb server)")
    target.add_argument("--tcp", metavar="HOST:PORT", help="direct ADB over TCP, no adb server needed")
    pr.add_argument("--adb-port", type=int, help="adb server port for --serial")
    pr.add_argument("--timeout", type=float, default=10.0, help="seconds allowed per command")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "list":
            for e in list_adb_devices(port=args.adb_port):
                print(f"{e.serial}\t{e.state}\t{e.model or '-'}")
            return 0
        transport: AdbTransport
        if args.tcp:
            host, _, port = args.tcp.rpartition(":")
            if not host or not port.isdigit():
                parser.error("--tcp takes HOST:PORT")
            transport = AdbTcpTransport(host, int(port), timeout=args.timeout)
        else:
            transport = AdbServerTransport(args.serial, port=args.adb_port, timeout=args.timeout)
        try:
            report = probe_phone(transport)
        finally:
            transport.close()
        print(json.dumps(report.to_dict(), indent=2, sort_keys=True))
        return 0
    except PhoneError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
