"""``INSPECTOR_PHOTO_STORE`` picks the store; a combination that cannot work is refused at start."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine

from inspector.config import Settings
from inspector.photostore import FileSystemPhotoStore, Shelf, photo_store
from inspector.web.app import create_app


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
    """``database`` on a SQLite database is refused when the app is built, saying what to set."""
    settings = Settings(data_dir=tmp_path, photo_store="database")
    with pytest.raises(ValueError, match="needs a PostgreSQL DATABASE_URL"):
        create_app(settings)
