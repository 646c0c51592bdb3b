"""Sign-in, tokens and role checks that every console and API relies on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from inspector.auth import Role, User, create_user, issue_token, require_roles
from inspector.auth.csrf import csrf_token_for
from inspector.cli import main
from inspector.config import Settings
from inspector.db import session_scope
from inspector.web.app import create_app


@pytest.fixture
def client(engine: Engine, database_url: str, tmp_path) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    app: FastAPI = create_app(Settings(data_dir=tmp_path, database_url=database_url), engine=engine)

    @app.get("/_staff_only")
    def staff_only(user: User = Depends(require_roles(Role.staff))) -> dict[str, str]:
        return {"user": user.username}

    with TestClient(app) as c:
        yield c


def _user(engine: Engine, name: str, role: Role, password: str = "correct horse") -> str:
    with session_scope(engine) as s:
        user = create_user(s, name, role, password)
        return issue_token(s, user)


def test_anonymous_caller_gets_401_with_hint(client: TestClient) -> None:
    """A viewer with only a URL is told to sign in, not shown the page."""
    r = client.get("/_staff_only")
    assert r.status_code == 401
    assert "sign in" in r.json()["detail"]


def test_wrong_role_gets_403_naming_the_needed_role(client: TestClient, engine: Engine) -> None:
    """An operator token cannot drive a staff-only action, and is told why."""
    token = _user(engine, "op", Role.operator)
    r = client.get("/_staff_only", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403
    assert "staff" in r.json()["detail"]


def test_staff_token_and_admin_token_pass(client: TestClient, engine: Engine) -> None:
    """The right role passes; admins may do everything."""
    for name, role in (("st", Role.staff), ("ad", Role.admin)):
        token = _user(engine, name, role)
        r = client.get("/_staff_only", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.json() == {"user": name}


def test_browser_login_sets_cookie_and_logout_ends_it(client: TestClient, engine: Engine) -> None:
    """Staff sign in with a password; the session cookie then works until they sign out."""
    _user(engine, "anna", Role.staff, password="s3cret-pass")
    bad = client.post("/auth/login", data={"username": "anna", "password": "nope", "next": "/x"})
    assert bad.status_code == 401 and "Wrong username or password" in bad.text
    ok = client.post(
        "/auth/login",
        data={"username": "anna", "password": "s3cret-pass", "next": "https://evil.example/"},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/"
    assert client.get("/_staff_only").status_code == 200
    session_token = client.cookies["inspector_session"]
    form = {"csrf_token": csrf_token_for(session_token)}
    out = client.post("/auth/logout", data=form, follow_redirects=False)
    assert out.status_code == 303
    client.cookies.clear()
    client.cookies.set("inspector_session", session_token)  # the old cookie no longer works
    assert client.get("/_staff_only").status_code == 401


def test_cli_creates_user_and_prints_token(tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    """An admin can create a staff account and a station token from the command line."""
    monkeypatch.setenv("INSPECTOR_DATA_DIR", str(tmp_path))
    from inspector.config import get_settings

    get_settings.cache_clear()
    try:
        assert main(["users", "add", "bob", "--role", "staff", "--password", "longenough"]) == 0
        assert main(["users", "add", "bob", "--role", "staff", "--password", "longenough"]) == 1
        assert "already exists" in capsys.readouterr().err
        assert main(["users", "token", "bob"]) == 0
        assert len(capsys.readouterr().out.strip()) >= 40
        assert main(["users", "token", "nobody"]) == 1
    finally:
        get_settings.cache_clear()


def test_cli_resets_lists_disables_and_revokes(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """A forgotten demo password can be reset from the CLI; disabling and revoking take effect at once."""
    from sqlmodel import Session

    from inspector.auth import authenticate_password, authenticate_token
    from inspector.db import make_engine

    data = ["--data-dir", str(tmp_path)]
    assert main(["users", "add", "op", "--role", "operator", "--password", "first-pass", *data]) == 0
    assert main(["users", "token", "op", "--name", "obs", *data]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["users", "reset-password", "op", "--generate", *data]) == 0
    out = capsys.readouterr().out
    new_password = out.split("new password: ")[1].strip()
    engine = make_engine(f"sqlite:///{tmp_path / 'inspector.db'}")
    with Session(engine) as s:
        assert authenticate_password(s, "op", "first-pass") is None
        assert authenticate_password(s, "op", new_password) is not None
        assert authenticate_token(s, token) is not None  # an API token survives a password reset
    assert main(["users", "list", *data]) == 0
    listing = capsys.readouterr().out.split()
    assert listing[:3] == ["op", "operator", "active"]
    assert main(["users", "disable", "op", *data]) == 0
    with Session(engine) as s:
        assert authenticate_password(s, "op", new_password) is None
        assert authenticate_token(s, token) is None
    assert main(["users", "enable", "op", *data]) == 0
    assert main(["users", "revoke-token", "op", "--name", "obs", *data]) == 0
    assert "revoked 1 token" in capsys.readouterr().out
    with Session(engine) as s:
        assert authenticate_token(s, token) is None
    assert main(["users", "passwd", "nobody", "--password", "whatever-long", *data]) == 1
    assert "no user 'nobody'" in capsys.readouterr().err
    engine.dispose()
