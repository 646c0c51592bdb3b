"""The same-origin check behind a TLS proxy: the public origin counts as this site even when the
proxy rewrites the Host header; any other origin does not."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from inspector.config import Settings
from inspector.db import make_engine, migrate
from inspector.web.app import create_app

PUBLIC = "https://platform.example"


def test_public_origin_behind_a_proxy_is_same_origin_and_others_are_not(tmp_path: Path) -> None:
    """Sign-in posted from the public https origin to a proxied http://127.0.0.1 reaches the
    password check (401); from another origin, or another port of the public host, it is refused (403)."""
    url = f"sqlite:///{tmp_path / 'c.db'}"
    migrate(url)
    engine = make_engine(url)
    settings = Settings(data_dir=tmp_path, database_url=url, public_base_url=PUBLIC, secure_cookies=True)
    form = {"username": "nobody", "password": "wrong-password"}
    with TestClient(create_app(settings, engine=engine), base_url="http://127.0.0.1:8000") as c:
        same = {"Origin": PUBLIC, "Sec-Fetch-Site": "same-origin"}
        assert c.post("/auth/login", data=form, headers=same).status_code == 401
        for origin in ("https://evil.example", "https://platform.example:8443", "null"):
            r = c.post("/auth/login", data=form, headers={"Origin": origin})
            assert r.status_code == 403, origin
    engine.dispose()
