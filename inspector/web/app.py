"""FastAPI application factory.

Each component contributes an ``APIRouter`` named ``router`` in its own module; they are
listed once in ``ROUTER_MODULES`` so the app's surface is visible in one place.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from inspector import __version__
from inspector.auth.csrf import csrf_protect
from inspector.certificates.identity import bind_keys_dir
from inspector.certificates.keys import RootKeyMissing, keys_dir
from inspector.certificates.page_cache import SingleFlight, VerifyCache
from inspector.config import ServerRole, Settings, get_settings
from inspector.db import DatabaseLimits, make_engine, migrate
from inspector.eventbus import PlatformEvents
from inspector.photostore import PhotoStoreUnavailable, Shelf, photo_store
from inspector.platform.live import streams_closed_on_signal
from inspector.platform.page_invalidation import drop_changed_pages
from inspector.station.publication import announce_published
from inspector.sync.copies import platform_home
from inspector.sync.pusher import Pusher
from inspector.web.availability import add_database_error_handlers
from inspector.web.errors import validation_refused
from inspector.web.input_guard import refuse_unstorable_input
from inspector.web.metrics import install_metrics
from inspector.web.page_not_found import not_found
from inspector.web.refused import install as install_refusals
from inspector.web.responses import keys_not_set_up, photo_store_unavailable
from inspector.web.security_headers import SecurityHeadersMiddleware
from warranty.coverage import sale_for, sale_stamp
from warranty.uploads import sweep_periodically

# One entry per component that serves HTTP. Add yours here.
ROUTER_MODULES: list[str] = [
    "inspector.web.auth_routes",
    "inspector.web.language",
    "inspector.web.metrics",
    "inspector.web.readiness",
    "inspector.web.docs_routes",
    "inspector.web.photo_routes",
    "inspector.web.site_routes",
    "inspector.certificates.web",
    "inspector.station.routes",
    "inspector.sync.routes",
    "inspector.platform.routes",
    "inspector.platform.live",
    "inspector.platform.pages",
    "warranty.web",
    "inspector.web.availability",
]
# Routers that belong to one role only: a platform drives no hardware, a station takes no uploads.
ONLY_ON: dict[str, ServerRole] = {
    "inspector.station.routes": ServerRole.STATION,
    "inspector.sync.routes": ServerRole.STATION,
    "inspector.platform.routes": ServerRole.PLATFORM,
    "inspector.platform.live": ServerRole.PLATFORM,
    "inspector.platform.pages": ServerRole.PLATFORM,
}

STATIC_DIR = Path(__file__).parent / "static"
# Every request body, counted as it arrives (chunked or not); photo uploads set a larger limit
# on their own routes (``max_body_size=`` in warranty's forms).
MAX_BODY_BYTES = 1024 * 1024


def order_ref_matches(session: Session, human_id: str, order_ref: str) -> bool:
    """Is ``order_ref`` the order reference of the recorded sale of certificate ``human_id``?

    The certificate page's match form uses it to tell the buyer from other people; spacing and
    case are forgiven as on the warranty claim form.
    """
    sale = sale_for(session, human_id)
    given, recorded = ("".join(v.split()).upper() for v in (order_ref, sale.order_ref if sale else ""))
    return bool(given and recorded) and hmac.compare_digest(given.encode(), recorded.encode())


def _announce(app: FastAPI, human_id: str) -> None:
    """A certificate reached the platform: the station's stream may offer its QR code now."""
    station = getattr(app.state, "station", None)
    if station is not None:
        announce_published(station, human_id)


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Build the app; migrates the database on start-up so a fresh station just works."""
    settings = settings or get_settings()
    url = settings.resolved_database_url
    limits = DatabaseLimits.from_settings(settings)
    own_engine = engine is None
    if engine is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(url, limits)

    stores = {shelf: photo_store(settings, engine, shelf) for shelf in Shelf}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        sweeper = asyncio.create_task(sweep_periodically(engine, stores[Shelf.UPLOADS]))
        pusher = None
        if settings.role is ServerRole.STATION:  # certificates go to the platform once enrolled
            pusher = Pusher(engine, settings, on_sent=lambda human_id: _announce(app, human_id)).start()
        events = app.state.platform_events
        if events is not None:
            await events.start()
        with streams_closed_on_signal(events) if events is not None else contextlib.nullcontext():
            yield
        if events is not None:
            await events.stop()
        sweeper.cancel()
        if pusher is not None:
            await asyncio.to_thread(pusher.stop)
        if own_engine:
            engine.dispose()

    migrate(url, limits) if own_engine else None  # DatabaseUnavailable within seconds when down or hanging
    app = FastAPI(
        title=f"Inspector {settings.role.value}",
        version=__version__,
        lifespan=lifespan,
        max_body_size=MAX_BODY_BYTES,
        docs_url=None,  # served by inspector.web.docs_routes from local files, not a CDN
        redoc_url=None,
        dependencies=[
            Depends(csrf_protect),  # every unsafe cookie request: same origin + token
            Depends(refuse_unstorable_input),  # NUL, lone surrogates, 1e400: a 422 everywhere
        ],
    )
    app.add_middleware(SecurityHeadersMiddleware)
    install_metrics(app)
    app.add_exception_handler(PhotoStoreUnavailable, photo_store_unavailable)
    app.add_exception_handler(RootKeyMissing, keys_not_set_up)
    install_refusals(app)  # every package's Refused: its status, English, the reader's words, a code
    app.state.settings = settings
    app.state.engine = engine
    app.state.photo_stores = stores
    app.state.order_ref_matches = order_ref_matches
    # What changes on the platform, heard by every worker (LISTEN/NOTIFY on PostgreSQL).
    app.state.platform_events = PlatformEvents(engine) if settings.role is ServerRole.PLATFORM else None
    if app.state.platform_events is not None:
        drop_changed_pages(app.state.platform_events.bus)
    app.state.verify_cache = VerifyCache(settings.verify_cache_entries, settings.verify_cache_max_age_s)
    app.state.verify_fills = SingleFlight()
    app.state.verify_stamp = sale_stamp  # a kept verify page is made again once its item is sold
    if settings.role is ServerRole.STATION:  # an enrolled station's certificates are verified on the platform
        app.state.certificate_elsewhere = platform_home(settings.station_id)
    bind_keys_dir(engine, keys_dir(settings))  # for identity checks called without settings
    app.add_exception_handler(RequestValidationError, validation_refused)
    app.add_exception_handler(StarletteHTTPException, not_found)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    add_database_error_handlers(app)
    for name in ROUTER_MODULES:
        if ONLY_ON.get(name, settings.role) is settings.role:
            app.include_router(importlib.import_module(name).router)
    if settings.simulate and settings.role is ServerRole.STATION:  # debug-only cable pulls (bench/faults.py)
        app.include_router(importlib.import_module("inspector.station.simulator_routes").router)
    return app
