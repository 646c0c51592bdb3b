"""The issuer root key is made on purpose (`inspector keys init`), never by someone opening a page."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from inspector.config import ServerRole, Settings
from inspector.web.app import create_app

ROOT = Path(__file__).resolve().parents[2]


def _inspector(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INSPECTOR_") and k != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "inspector", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_public_key_pages_of_an_issuer_without_keys_make_none(tmp_path: Path) -> None:
    """/issuer and the status lists answer 503 saying what the operator runs; no key file appears."""
    app = create_app(Settings(data_dir=tmp_path, role=ServerRole.PLATFORM))
    with TestClient(app) as client:
        for path in ("/issuer", "/status/revocation/1"):
            answer = client.get(path)
            assert answer.status_code == 503, (path, answer.text)
            assert "inspector keys init" in answer.json()["detail"]
    assert not (tmp_path / "keys" / "issuer-root.pem").exists()


def test_a_platform_without_keys_refuses_to_start_until_keys_init(tmp_path: Path) -> None:
    """`serve --role platform` names the step; `keys init --role platform` makes the root key only
    (a platform signs no certificates itself), says to back it up, and is safe to run again."""
    where = ("--data-dir", str(tmp_path), "--database-url", f"sqlite:///{tmp_path / 'p.db'}")
    refused = _inspector("serve", "--role", "platform", "--port", "0", *where)
    assert refused.returncode == 1 and "inspector keys init --role platform" in refused.stderr
    made = _inspector("keys", "init", "--role", "platform", *where)
    assert made.returncode == 0, made.stderr
    assert "issuer root key" in made.stdout and "back up" in made.stdout and "station" not in made.stdout
    assert (tmp_path / "keys" / "issuer-root.pem").stat().st_mode & 0o777 == 0o600
    again = _inspector("keys", "init", "--role", "platform", *where)
    assert again.returncode == 0 and made.stdout.split()[3] == again.stdout.split()[3]  # the same key
    assert "back up" not in again.stdout
