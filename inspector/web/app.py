"""FastAPI application factory.

Each component contributes an ``APIRouter`` named ``router`` in its own module; they are
listed once in ``ROUTER_MODULES`` so the app's surface is visible in one place.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine

from inspector import __version__
from inspector.config import Settings, get_settings
from inspector.db import make_engine, migrate

# One entry per component that serves HTTP. Add yours here.
ROUTER_MODULES: list[str] = [
    "inspector.web.auth_routes",
    "inspector.web.photo_routes",
    "inspector.certificates.web",
    "inspector.station.routes",
    "warranty.web",
]

STATIC_DIR = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Build the app; migrates the database on start-up so a fresh station just works."""
    settings = settings or get_settings()
    url = settings.resolved_database_url
    own_engine = engine is None
    if engine is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if own_engine:
            engine.dispose()

    migrate(url) if own_engine else None
    app = FastAPI(title="Inspector station", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = engine
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for name in ROUTER_MODULES:
        app.include_router(importlib.import_module(name).router)
    if settings.simulate:  # debug-only cable pulls for the fault campaign (bench/faults.py)
        app.include_router(importlib.import_module("inspector.station.simulator_routes").router)
    return app
