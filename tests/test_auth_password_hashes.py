"""Password hashes at rest: Argon2id with its parameters in the hash, old scrypt hashes upgraded."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from inspector.auth import Role, create_user, get_user
from inspector.config import Settings
from inspector.db import session_scope
from inspector.web.app import create_app

PASSWORD = "correct horse battery"


def _legacy_scrypt_hash(password: str) -> str:
    """A hash exactly as the station wrote them before Argon2 (scrypt N=2^14, no parameters stored)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt${salt.hex()}${digest.hex()}"


@pytest.fixture
def client(engine: Engine, database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(Settings(data_dir=tmp_path, database_url=database_url), engine=engine)
    with TestClient(app) as c:
        yield c


def _stored_hash(engine: Engine, username: str) -> str:
    with session_scope(engine) as s:
        user = get_user(s, username)
        assert user is not None
        return user.password_hash


def test_new_passwords_are_argon2id_with_parameters_in_the_hash(engine: Engine) -> None:
    """A new user's hash is an Argon2id PHC string carrying memory, time and parallelism (>= OWASP)."""
    with session_scope(engine) as s:
        create_user(s, "new-staff", Role.staff, PASSWORD)
    stored = _stored_hash(engine, "new-staff")
    assert stored.startswith("$argon2id$v=19$m=")
    params = dict(kv.split("=") for kv in stored.split("$")[3].split(","))
    assert int(params["m"]) >= 19 * 1024 and int(params["t"]) >= 2
    assert PASSWORD not in stored


def test_old_scrypt_user_signs_in_and_is_rehashed_to_argon2(client: TestClient, engine: Engine) -> None:
    """A user whose hash predates Argon2 signs in with the same password and leaves with an Argon2 hash."""
    with session_scope(engine) as s:
        user = create_user(s, "old-staff", Role.staff)
        user.password_hash = _legacy_scrypt_hash(PASSWORD)
        s.add(user)
    assert _stored_hash(engine, "old-staff").startswith("scrypt$")

    r = client.post(
        "/auth/login", data={"username": "old-staff", "password": PASSWORD}, follow_redirects=False
    )
    assert r.status_code in (302, 303) and "inspector_session" in r.cookies
    upgraded = _stored_hash(engine, "old-staff")
    assert upgraded.startswith("$argon2id$")

    client.cookies.clear()
    again = client.post(
        "/auth/login", data={"username": "old-staff", "password": PASSWORD}, follow_redirects=False
    )
    assert again.status_code in (302, 303) and "inspector_session" in again.cookies
    assert _stored_hash(engine, "old-staff") == upgraded  # current parameters: no needless rehash


def test_wrong_password_fails_for_scrypt_and_argon2_users(client: TestClient, engine: Engine) -> None:
    """A wrong password is refused whichever scheme the stored hash uses, and nothing is rehashed."""
    with session_scope(engine) as s:
        create_user(s, "argon-user", Role.staff, PASSWORD)
        legacy = create_user(s, "scrypt-user", Role.staff)
        legacy.password_hash = _legacy_scrypt_hash(PASSWORD)
        s.add(legacy)
    before = {name: _stored_hash(engine, name) for name in ("argon-user", "scrypt-user")}
    for name in before:
        r = client.post("/auth/login", data={"username": name, "password": "wrong password"})
        assert "inspector_session" not in r.cookies
        assert r.status_code in (400, 401, 403, 429)
        assert _stored_hash(engine, name) == before[name]
