"""FastAPI application factory.

Each component contributes an ``APIRouter`` named ``router`` in its own module; they are
listed once in ``ROUTER_MODULES`` so the app's surface is visible in one place.
"""

from __future__ import annotations

import asyncio
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
from inspector.certificates.keys import keys_dir
from inspector.config import Settings, get_settings
from inspector.db import DatabaseLimits, make_engine, migrate
from inspector.photostore import PhotoStoreUnavailable
from inspector.web.availability import add_database_error_handlers
from inspector.web.errors import validation_refused
from inspector.web.input_guard import refuse_unstorable_input
from inspector.web.metrics import install_metrics
from inspector.web.page_not_found import not_found
from inspector.web.responses import photo_store_unavailable
from inspector.web.security_headers import SecurityHeadersMiddleware
from warranty.coverage import sale_for
from warranty.uploads import sweep_periodically, upload_store

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
    "warranty.web",
    "inspector.web.availability",
]

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


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Build the app; migrates the database on start-up so a fresh station just works."""
    settings = settings or get_settings()
    url = settings.resolved_database_url
    limits = DatabaseLimits.from_settings(settings)
    own_engine = engine is None
    if engine is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(url, limits)

    uploads = upload_store(settings.data_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        sweeper = asyncio.create_task(sweep_periodically(engine, uploads))
        yield
        sweeper.cancel()
        if own_engine:
            engine.dispose()

    migrate(url, limits) if own_engine else None  # DatabaseUnavailable within seconds when down or hanging
    app = FastAPI(
        title="Inspector station",
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
    app.state.settings = settings
    app.state.engine = engine
    app.state.order_ref_matches = order_ref_matches
    bind_keys_dir(engine, keys_dir(settings))  # for identity checks called without settings
    app.add_exception_handler(RequestValidationError, validation_refused)
    app.add_exception_handler(StarletteHTTPException, not_found)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    add_database_error_handlers(app)
    for name in ROUTER_MODULES:
        app.include_router(importlib.import_module(name).router)
    if settings.simulate:  # debug-only cable pulls for the fault campaign (bench/faults.py)
        app.include_router(importlib.import_module("inspector.station.simulator_routes").router)
    return app
