"""Run the platform: the web app without hardware, one worker or several on one port.

Several workers need a database that many processes write at once: PostgreSQL. SQLite is allowed
for a demo on one machine, with one worker and a warning saying so. The schema is migrated once,
before any worker starts, so workers never race to migrate.
"""

from __future__ import annotations

import logging
import os

import uvicorn
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from inspector.certificates.keys import root_key_exists
from inspector.config import ServerRole, Settings
from inspector.db import DatabaseLimits, describe_database, migrate
from inspector.logsetup import LogFormat, configure_logging
from inspector.web.app import create_app

log = logging.getLogger("inspector.platform")

WORKER_LOG_ENV = "INSPECTOR_WORKER_LOG"  # "<level>:<format>", for workers started by uvicorn
SQLITE_WARNING = (
    "the platform runs on SQLite: fine for a demo on one machine with one worker; in production "
    "point DATABASE_URL at PostgreSQL"
)


class PlatformSetupError(ValueError):
    """The platform cannot run as asked; the message says what to change."""


def check_database(settings: Settings, workers: int) -> None:
    """Refuse several workers on SQLite; warn that SQLite is for demos."""
    if workers < 1:
        raise PlatformSetupError("--workers must be at least 1")
    if make_url(settings.resolved_database_url).get_backend_name() == "sqlite":
        if workers > 1:
            raise PlatformSetupError(
                "several workers need PostgreSQL (SQLite takes one writer at a time): set DATABASE_URL, "
                "or run one worker"
            )
        log.warning(SQLITE_WARNING)


def _export(settings: Settings, level: str, fmt: str) -> None:
    """Hand the settings to worker processes, which read them from the environment."""
    for name, value in settings.model_dump(mode="json").items():
        if value is not None:
            os.environ[f"INSPECTOR_{name.upper()}"] = str(value)
    os.environ[WORKER_LOG_ENV] = f"{level}:{fmt}"


def worker_app() -> FastAPI:
    """The app of one worker process (``uvicorn --factory``); settings from the environment."""
    level, _, fmt = os.environ.get(WORKER_LOG_ENV, "info:text").partition(":")
    configure_logging(level, LogFormat(fmt or "text"))
    settings = Settings()
    if settings.role is not ServerRole.PLATFORM:
        raise PlatformSetupError("worker_app runs the platform; INSPECTOR_ROLE must be platform")
    return create_app(settings)


def serve_platform(
    settings: Settings, *, workers: int = 1, log_level: str = "info", log_format: str = "text"
) -> None:
    """Serve until Ctrl-C or SIGTERM. Raises ``PlatformSetupError`` or ``DatabaseUnavailable``."""
    check_database(settings, workers)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.resolved_database_url, DatabaseLimits.from_settings(settings))
    if not root_key_exists(settings):  # the issuer's root is made on purpose, once, and backed up
        raise PlatformSetupError(
            f"no issuer root key in {(settings.data_dir / 'keys').resolve()}: run 'inspector keys init "
            "--role platform' with the same --data-dir and --database-url first, then back up keys/"
        )
    where = f"http://{settings.host}:{settings.port}"
    print(
        f"platform on {where} ({workers} worker{'s' if workers > 1 else ''}); "
        f"data in {settings.data_dir.resolve()}"
    )
    print(f"  database       {describe_database(settings.resolved_database_url)}")
    print(f"  public address {settings.public_base_url} (signed into every certificate)")
    print(f"  verify pages   {settings.public_base_url.rstrip('/')}/c/<certificate id>")
    print(
        "  enrol a station: inspector platform enrol-code STATION_ID, then on the station: inspector enrol",
        flush=True,
    )
    common = {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,
        "access_log": settings.access_log,
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        "timeout_graceful_shutdown": 2,
    }
    if workers == 1:
        uvicorn.run(create_app(settings), **common)  # type: ignore[arg-type]
        return
    _export(settings, log_level, log_format)
    uvicorn.run("inspector.platform.runtime:worker_app", factory=True, workers=workers, **common)  # type: ignore[arg-type]
