"""Request-scoped dependencies shared by every router."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session

from inspector.config import Settings
from inspector.photostore import PhotoStore, Shelf


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def photo_stores(request: Request) -> dict[Shelf, PhotoStore]:
    """The configured store of each shelf, made once by ``create_app``."""
    stores: dict[Shelf, PhotoStore] = request.app.state.photo_stores
    return stores


def get_station_photos(request: Request) -> PhotoStore:
    return photo_stores(request)[Shelf.STATION]


def get_uploaded_photos(request: Request) -> PhotoStore:
    return photo_stores(request)[Shelf.UPLOADS]


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; committed by the handler, rolled back on error."""
    with Session(get_engine(request)) as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise


# What a route names once instead of repeating ``Depends(...)`` (FastAPI's ``Annotated`` aliases).
SessionDep = Annotated[Session, Depends(get_session)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
