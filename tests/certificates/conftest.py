"""Fixtures for certificate tests: settings in a temp data dir, an app client, sample certificates.

Other components' tests can use ``inspector.certificates.testing.issue_sample_certificate``
directly; these fixtures wrap it for the database-facing tests here (SQLite and PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from inspector.certificates import IssuedCertificate
from inspector.certificates.testing import issue_sample_certificate
from inspector.config import Settings, get_settings
from inspector.db import session_scope
from inspector.web.app import create_app

BASE_URL = "http://testserver"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, public_base_url=BASE_URL)


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine=engine), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def issued(settings: Settings, engine: Engine) -> IssuedCertificate:
    with session_scope(engine) as session:
        return issue_sample_certificate(session, settings)


CliEnv = Callable[..., None]


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[CliEnv]:
    """Configure the ``inspector`` CLI as its environment would (``INSPECTOR_<NAME>`` variables)."""

    def configure(**values: object) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"INSPECTOR_{name.upper()}", str(value))
        get_settings.cache_clear()

    yield configure
    get_settings.cache_clear()
