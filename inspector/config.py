"""Station configuration, read from the environment and an optional settings file.

Every setting can be given as an environment variable prefixed with ``INSPECTOR_``
(``DATABASE_URL`` also works bare, as most deployment tools set it that way) or in
``inspector.env`` in the working directory.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from inspector.i18n import DEFAULT_LOCALE, AppLocale, parse_locale


class ServerRole(StrEnum):
    """What one process is: a station beside a camera, or the platform its stations sync to."""

    STATION = "station"
    """Drives the hardware, grades, signs with its own key; SQLite by default; works offline."""
    PLATFORM = "platform"
    """No hardware: the public verify pages and JSON, the transparency log, the sync API."""


class PhotoBackend(StrEnum):
    """Where photos are kept."""

    FS = "fs"
    """Files under the data directory (``photos/``, ``uploads/``): one machine."""
    DATABASE = "database"
    """Chunks in PostgreSQL: every platform worker on every machine sees the same photos."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="INSPECTOR_",
        env_file="inspector.env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    role: ServerRole = Field(
        default=ServerRole.STATION,
        description="station (default: hardware, grading, signing) or platform (verify pages, "
        "transparency log and the API stations sync to; PostgreSQL in production).",
    )
    data_dir: Path = Field(
        default=Path("var"),
        description="Where the station keeps its database, photos and signing keys.",
    )
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("INSPECTOR_DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy URL; SQLite file in the data directory when unset.",
    )
    photo_store: PhotoBackend = Field(
        default=PhotoBackend.FS,
        description="Where photos are kept: fs (files in the data directory) or database (in the "
        "PostgreSQL database, shared by platform workers on several machines).",
    )
    simulate: bool = Field(default=True, description="Run on simulated hardware.")
    rig_port: str | None = Field(default=None, description="Serial port of the rig controller.")
    scale_port: str | None = Field(default=None, description="Serial port of the balance (MT-SICS).")
    scale_baud: int = Field(default=9600, description="Baud rate of the balance.")
    rig_baud: int = Field(default=115200, description="Baud rate of the rig controller.")
    adb_serial: str | None = Field(default=None, description="ADB serial of the phone to inspect.")
    camera_source: str = Field(
        default="0",
        description="The top camera (it sees the item from above): OpenCV VideoCapture source, a "
        "device index, file path or stream URL.",
    )
    camera_width: int = Field(
        default=3840, ge=64, le=8192, description="Frame width asked of the top camera (4K: 3840)."
    )
    camera_height: int = Field(
        default=2160, ge=64, le=8192, description="Frame height asked of the top camera (4K: 2160)."
    )
    side_camera_source: str | None = Field(
        default=None,
        description="The low-angle side camera (it sees the phone's frame edge by edge as the turntable "
        "turns): OpenCV VideoCapture source. Unset: no side camera, and the phone flow's edge photos "
        "stop with that reason.",
    )
    side_camera_width: int = Field(
        default=1920, ge=64, le=8192, description="Frame width asked of the side camera."
    )
    side_camera_height: int = Field(
        default=1080, ge=64, le=8192, description="Frame height asked of the side camera."
    )
    sim_camera_width: int = Field(
        default=1280,
        ge=64,
        le=8192,
        description="Simulated station: width the top camera renders at. 3840 (with height 2160) renders "
        "what the real 4K camera delivers but takes about 5 s a frame; the demo and tests use less.",
    )
    sim_camera_height: int = Field(
        default=720, ge=64, le=8192, description="Simulated station: height the top camera renders at."
    )
    sim_side_camera_width: int = Field(
        default=1280, ge=64, le=8192, description="Simulated station: width the side camera renders at."
    )
    sim_side_camera_height: int = Field(
        default=720, ge=64, le=8192, description="Simulated station: height the side camera renders at."
    )
    db_connect_timeout_s: int = Field(
        default=5, ge=2, le=120, description="Give up connecting to a server database after this."
    )
    db_statement_timeout_s: float = Field(
        default=10.0,
        ge=0,
        le=3600,
        description="The server cancels a statement after this (0: never); the station stops waiting "
        "for any answer 2 s later.",
    )
    db_pool_size: int = Field(
        default=5, ge=1, le=100, description="Connections kept open to a server database."
    )
    db_max_overflow: int = Field(default=5, ge=0, le=100, description="Extra connections allowed under load.")
    db_pool_timeout_s: float = Field(
        default=3.0,
        gt=0,
        le=60,
        description="A request waits this long for a free connection, then gets 503.",
    )
    db_retry_after_s: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="After the database failed to answer, requests fail at once for this long.",
    )
    station_id: str = Field(default="station-1", description="This station's registered id.")
    host: str = Field(
        default="127.0.0.1",
        description="Address to listen on; 0.0.0.0 listens on every interface (behind a firewall or proxy).",
    )
    port: int = Field(default=8000, ge=0, le=65535, description="Port to listen on (0: any free port).")
    public_base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The address buyers open: signed into every certificate, status-list URL and QR "
        "code. A station on real hardware refuses to start while it is a loopback or unspecified address.",
    )
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Comma-separated addresses of reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed: per-client limits then count the real client, not the proxy. "
        "'*' trusts every peer (only when nothing else can reach the port).",
    )
    secure_cookies: bool = Field(
        default=False,
        description="Mark the sign-in cookie Secure even when the request arrived over plain HTTP "
        "(behind a TLS-terminating proxy); HTTPS requests always get Secure cookies.",
    )

    sync_max_backoff_s: float = Field(
        default=30.0,
        ge=1,
        le=3600,
        description="Station: the longest wait between two tries to reach an unreachable platform.",
    )
    verify_cache_entries: int = Field(
        default=1000,
        ge=0,
        le=1_000_000,
        description="Verify pages and verify.json responses each web process keeps rendered (one per "
        "certificate and language; 0: verify and render every request).",
    )
    verify_cache_max_age_s: float = Field(
        default=5.0,
        ge=0,
        le=3600,
        description="A kept verify page is verified and rendered again once older than this (readers "
        "get the kept one, at most twice as old, while that runs); browsers and CDNs may keep it as "
        "long (max-age). Other web processes show a revocation within about this time.",
    )
    verify_stale_while_revalidate_s: int = Field(
        default=30,
        ge=0,
        le=86400,
        description="A CDN may serve an expired verify page this much longer while it fetches a fresh one.",
    )
    access_log: bool = Field(
        default=False, description="Log every HTTP request (client, method, path, status) at level info."
    )
    locale: AppLocale = Field(
        default=DEFAULT_LOCALE,
        description="The station's language (zh-CN or en): the stream overlay, printed labels, and "
        "pages for readers whose browser asks for neither language.",
    )
    timezone: str = Field(default="Asia/Shanghai", description="IANA time zone dates and times are shown in.")

    @field_validator("locale", mode="before")
    @classmethod
    def _locale_tag(cls, value: object) -> object:
        if isinstance(value, str) and not isinstance(value, AppLocale):
            locale = parse_locale(value)
            if locale is None:
                raise ValueError(f"unsupported locale {value!r}; use zh-CN or en")
            return locale
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name like Asia/Shanghai") from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'inspector.db').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
