"""``INSPECTOR_PHOTO_STORE`` picks the store; a combination that cannot work is refused at start."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import create_engine

from inspector.config import Settings
from inspector.photostore import FileSystemPhotoStore, Shelf, photo_store


def test_by_default_photos_are_files_where_they_always_were(tmp_path: Path) -> None:
    """Unset, the setting keeps today's layout: ``photos/`` and ``uploads/`` in the data directory."""
    settings = Settings(data_dir=tmp_path)
    engine = create_engine(settings.resolved_database_url)
    stores = {shelf: photo_store(settings, engine, shelf) for shelf in Shelf}
    assert stores == {
        Shelf.STATION: FileSystemPhotoStore(tmp_path / "photos"),
        Shelf.UPLOADS: FileSystemPhotoStore(tmp_path / "uploads"),
    }


def test_the_database_store_on_sqlite_is_refused_naming_the_fix(tmp_path: Path) -> None:
    """``database`` without a PostgreSQL URL fails at start-up, saying what to set instead."""
    with pytest.raises(ValidationError, match="needs a PostgreSQL DATABASE_URL"):
        Settings(data_dir=tmp_path, photo_store="database", database_url=None)
