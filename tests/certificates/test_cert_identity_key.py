"""Finding 10: the identity-hash key lives in a 0600 file in the keys directory, not in the database.

A key that an older version kept in the database is moved to the file on first use and the
certificates hashed with it keep matching; a missing file is reported, never silently replaced.
"""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from inspector.certificates import IssuedCertificate, identity_matches
from inspector.certificates.identity import IDENTITY_KEY_FILE, KEY_FINGERPRINT, LEGACY_DB_KEY
from inspector.certificates.keys import keys_dir
from inspector.certificates.tables import IssuerSecret
from inspector.certificates.testing import SAMPLE_IMEIS
from inspector.config import Settings
from inspector.db import make_engine, migrate, session_scope


def _secrets(engine: Engine) -> dict[str, str]:
    with Session(engine) as session:
        return {row.name: row.value for row in session.exec(select(IssuerSecret)).all()}


def test_identity_key_is_a_0600_file_and_not_in_the_database(
    settings: Settings, engine: Engine, issued: IssuedCertificate, database_url: str
) -> None:
    """Issuing creates keys/identity-hash.key (0600); the database holds only a fingerprint of it."""
    path = keys_dir(settings) / IDENTITY_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key_hex = path.read_text().strip()
    assert len(bytes.fromhex(key_hex)) == 32
    stored = _secrets(engine)
    assert LEGACY_DB_KEY not in stored and set(stored) == {KEY_FINGERPRINT}
    assert key_hex not in stored[KEY_FINGERPRINT]
    if database_url.startswith("sqlite"):
        raw = b"".join(p.read_bytes() for p in Path(database_url.split("///", 1)[1]).parent.glob("test.db*"))
        assert key_hex.encode() not in raw


def test_key_kept_in_the_database_moves_to_the_file_and_old_hashes_still_match(
    settings: Settings, engine: Engine, issued: IssuedCertificate, client: TestClient
) -> None:
    """A station upgraded with its key still in the database: the first check moves it and matches."""
    path = keys_dir(settings) / IDENTITY_KEY_FILE
    key_hex = path.read_text().strip()
    # Put the station back as an older version left it: key in cert_secret, no file, no fingerprint.
    path.unlink()
    with session_scope(engine) as session:
        fingerprint = session.get(IssuerSecret, KEY_FINGERPRINT)
        assert fingerprint is not None
        session.delete(fingerprint)
        session.add(IssuerSecret(name=LEGACY_DB_KEY, value=key_hex, created_at=datetime.now(UTC)))

    resp = client.post(f"/c/{issued.human_id}/match", data={"value": SAMPLE_IMEIS[0]})
    assert resp.status_code == 200 and 'data-match="yes"' in resp.text
    assert path.read_text().strip() == key_hex
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert set(_secrets(engine)) == {KEY_FINGERPRINT}
    with session_scope(engine) as session:  # and without settings, as the warranty desk calls it
        assert identity_matches(session, issued.human_id, SAMPLE_IMEIS[1])


def test_missing_identity_key_file_is_reported_not_replaced(
    settings: Settings, issued: IssuedCertificate, client: TestClient
) -> None:
    """Without its key file the match form says the check is unavailable; no new key is made."""
    path = keys_dir(settings) / IDENTITY_KEY_FILE
    path.unlink()
    resp = client.post(f"/c/{issued.human_id}/match", data={"value": SAMPLE_IMEIS[0]})
    assert resp.status_code == 503 and 'data-match="unavailable"' in resp.text
    assert "identity-hash" not in resp.text and str(settings.data_dir) not in resp.text
    assert not path.exists()


def test_sqlite_database_file_is_created_owner_only(tmp_path: Path) -> None:
    """The station's SQLite file and its WAL are 0600 from the start, and an old 0644 file is tightened."""
    db = tmp_path / "station" / "inspector.db"
    url = f"sqlite:///{db}"
    migrate(url)
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            session.add(IssuerSecret(name="probe", value="x", created_at=datetime.now(UTC)))
        for f in (db, Path(f"{db}-wal")):
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    finally:
        engine.dispose()

    old = tmp_path / "old.db"
    old.touch(mode=0o644)
    old.chmod(0o644)
    make_engine(f"sqlite:///{old}").dispose()
    assert stat.S_IMODE(old.stat().st_mode) == 0o600


def test_a_different_key_left_in_the_database_is_reported_not_overwritten(
    settings: Settings, engine: Engine, issued: IssuedCertificate, client: TestClient
) -> None:
    """If an older version put another key in the database, checks stop (503) and both keys are kept."""
    path = keys_dir(settings) / IDENTITY_KEY_FILE
    key_hex = path.read_text().strip()
    other = "ab" * 32
    with session_scope(engine) as session:
        session.add(IssuerSecret(name=LEGACY_DB_KEY, value=other, created_at=datetime.now(UTC)))
    resp = client.post(f"/c/{issued.human_id}/match", data={"value": SAMPLE_IMEIS[0]})
    assert resp.status_code == 503 and 'data-match="unavailable"' in resp.text
    assert path.read_text().strip() == key_hex
    assert _secrets(engine)[LEGACY_DB_KEY] == other
