"""``inspector serve``: run the station service (pages, API, event stream) on real or simulated hardware."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path
from typing import Any

from inspector.cli import CommandError
from inspector.config import ServerRole, Settings, get_settings
from inspector.db import TRANSIENT_DATABASE_ERRORS, DatabaseLimits, unavailable
from inspector.logsetup import add_logging_options, configure_from_args


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Environment/settings file first, then the command line on top."""
    base = get_settings()
    updates: dict[str, Any] = {}
    if args.data_dir is not None:
        updates["data_dir"] = Path(args.data_dir)
    if args.database_url is not None:
        updates["database_url"] = args.database_url
    if args.host is not None:
        updates["host"] = args.host
    if args.port is not None:
        updates["port"] = args.port
    if getattr(args, "simulate", None) is not None:
        updates["simulate"] = args.simulate
    if getattr(args, "access_log", None) is not None:
        updates["access_log"] = args.access_log
    if getattr(args, "role", None) is not None:
        updates["role"] = ServerRole(args.role)
    settings = base.model_copy(update=updates)
    if "public_base_url" not in base.model_fields_set and (args.host is not None or args.port is not None):
        settings = settings.model_copy(update={"public_base_url": f"http://{settings.host}:{settings.port}"})
    return settings


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", help="database, photos and keys live here (default: settings, ./var)")
    p.add_argument("--database-url", help="SQLAlchemy URL (default: SQLite file in the data dir)")
    p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to listen on (default 8000)")
    add_logging_options(p)


def _serve_platform(args: argparse.Namespace, settings: Settings) -> int:
    from inspector.platform.runtime import PlatformSetupError, serve_platform

    try:
        serve_platform(settings, workers=args.workers, log_level=args.log_level, log_format=args.log_format)
    except PlatformSetupError as exc:
        raise CommandError(f"could not start the platform: {exc}") from exc
    except TRANSIENT_DATABASE_ERRORS as exc:
        down = unavailable(settings.resolved_database_url, exc, DatabaseLimits.from_settings(settings))
        raise CommandError(f"could not start the platform: {down}") from exc
    return 0


def _serve(args: argparse.Namespace) -> int:
    from inspector.station.runtime import RunningStation

    configure_from_args(args)
    settings = settings_from_args(args)
    if settings.role is ServerRole.PLATFORM:
        return _serve_platform(args, settings)
    if args.workers != 1:
        raise CommandError("--workers is for the platform; a station runs one process")
    try:
        running = RunningStation(settings, port=settings.port).start()
    except TRANSIENT_DATABASE_ERRORS as exc:  # the driver's text holds SQL: say what to check instead
        down = unavailable(settings.resolved_database_url, exc, DatabaseLimits.from_settings(settings))
        raise CommandError(f"could not start the station: {down}") from exc
    except Exception as exc:  # hardware/port/database problems are reported, not dumped
        raise CommandError(f"could not start the station: {exc}") from exc
    assert running.hardware is not None
    mode = "simulated hardware" if settings.simulate else "real hardware"
    print(f"station {settings.station_id} on {mode}; data in {settings.data_dir.resolve()}")
    for name, why in running.hardware.missing.items():
        print(f"  unavailable: {name}: {why}")
    if running.recovered:
        print(f"  interrupted by the last shutdown (resume or abort them): {running.recovered}")
    base = running.base_url
    print(f"  console  {base}/station/console   (sign in as an operator)")
    print(f"  overlay  {base}/station/overlay")
    print(f"  API docs {base}/docs")
    try:
        wait_until_stopped("Ctrl-C stops the station.")
    finally:
        running.stop()
    return 0


def wait_until_stopped(hint: str) -> None:
    """Block until Ctrl-C or SIGTERM, so a service manager can stop the station cleanly."""
    print(hint, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="run the station service (console, overlay, API) or, with --role platform, the platform",
        description="Run the station web service. Uses simulated hardware when INSPECTOR_SIMULATE is true "
        "(default) or --simulate; --real uses the configured serial ports, ADB phone and camera. Inspections "
        "a crash left running are marked interrupted at start and can be resumed from the console. "
        "--role platform runs the platform instead: no hardware; the public verify pages and JSON, the "
        "transparency log and the API enrolled stations send their certificates to (PostgreSQL in "
        "production; SQLite only for a one-machine demo, one worker).",
    )
    add_common(p)
    p.add_argument(
        "--role",
        choices=[r.value for r in ServerRole],
        help="station (default; INSPECTOR_ROLE) or platform",
    )
    p.add_argument(
        "--workers", type=int, default=1, help="platform only: web processes on the port (PostgreSQL for >1)"
    )
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--simulate",
        dest="simulate",
        action="store_true",
        default=None,
        help="run on simulated devices (pty rig and balance, ADB phone, rendered camera)",
    )
    g.add_argument("--real", dest="simulate", action="store_false", help="run on the configured hardware")
    p.set_defaults(handler=_serve)
