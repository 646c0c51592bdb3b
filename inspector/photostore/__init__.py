"""Content-addressed photo stores: one interface, a filesystem and a database backend.

``photo_store(settings, engine, shelf)`` gives the configured one; everything else talks to the
``PhotoStore`` interface (``interface.py``).
"""

from inspector.photostore.choice import photo_store
from inspector.photostore.database import DatabasePhotoStore
from inspector.photostore.fs import FileSystemPhotoStore
from inspector.photostore.interface import (
    CHUNK_BYTES,
    MAX_PHOTO_BYTES,
    PHOTOS_DIR,
    UPLOADS_DIR,
    IncomingPhoto,
    PhotoReader,
    PhotoStore,
    PhotoStoreError,
    PhotoStoreUnavailable,
    Shelf,
    StoredFile,
    check_digest,
)

__all__ = [
    "CHUNK_BYTES",
    "MAX_PHOTO_BYTES",
    "PHOTOS_DIR",
    "UPLOADS_DIR",
    "DatabasePhotoStore",
    "FileSystemPhotoStore",
    "IncomingPhoto",
    "PhotoReader",
    "PhotoStore",
    "PhotoStoreError",
    "PhotoStoreUnavailable",
    "Shelf",
    "StoredFile",
    "check_digest",
    "photo_store",
]
