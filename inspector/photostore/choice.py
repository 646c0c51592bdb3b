"""Which photo store a process uses: the one setting, read once by the composition roots."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from inspector.config import PhotoBackend, Settings
from inspector.photostore.database import DatabasePhotoStore
from inspector.photostore.fs import FileSystemPhotoStore
from inspector.photostore.interface import PhotoStore, Shelf


def photo_store(settings: Settings, engine: Engine, shelf: Shelf) -> PhotoStore:
    """The ``shelf`` store of the configured backend (``INSPECTOR_PHOTO_STORE``)."""
    if settings.photo_store is PhotoBackend.DATABASE:
        return DatabasePhotoStore(engine, shelf)
    return FileSystemPhotoStore(settings.data_dir / shelf.value)
