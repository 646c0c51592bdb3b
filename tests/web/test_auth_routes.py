"""Browser sign-in over real HTTP: attempts limited in the database per client and user name, no
user-name timing signal, redirects that stay on this site, Secure cookies behind a TLS proxy and
sign-in links whose token never reaches the server in a URL."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

import inspector.auth.service as auth_service
from inspector.auth import Role, create_user, issue_token
from inspector.auth.signin import PER_CLIENT_AND_USER
from inspector.config import Settings
from inspector.db import session_scope
from inspector.web.app import create_app

PASSWORD = "right-password-1"
ATTACKER = ("203.0.113.66", 40000)
COLLEAGUE = ("198.51.100.7", 40000)


def _app(engine: Engine, database_url: str, tmp_path: Path, **settings: object) -> FastAPI:
    return create_app(Settings(data_dir=tmp_path, database_url=database_url, **settings), engine=engine)


def _user(engine: Engine, name: str = "anna", role: Role = Role.staff) -> str:
    with session_scope(engine) as s:
        return issue_token(s, create_user(s, name, role, PASSWORD))


def _login(c: TestClient, username: str, password: str, next_: str = "/") -> int:
    r = c.post(
        "/auth/login",
        data={"username": username, "password": password, "next": next_},
        follow_redirects=False,
    )
    return r.status_code


@pytest.fixture
def client_for(engine: Engine, database_url: str, tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    """TestClients of one app as seen from different client addresses."""
    app = _app(engine, database_url, tmp_path)
    clients: list[TestClient] = []

    def make(address: tuple[str, int] = ATTACKER) -> TestClient:
        c = TestClient(app, client=address)
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()


def test_guessing_client_is_locked_out_but_the_user_can_still_sign_in_elsewhere(
    engine: Engine, client_for: Callable[..., TestClient]
) -> None:
    """After 5 wrong passwords from one address even the right one is refused (429, Retry-After,
    no cookie); the same user from another address signs in at once."""
    _user(engine)
    attacker = client_for(ATTACKER)
    limit = PER_CLIENT_AND_USER.limit
    assert [_login(attacker, "anna", f"guess-{i}") for i in range(limit)] == [401] * limit
    r = attacker.post("/auth/login", data={"username": "anna", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert "Too many sign-in attempts" in r.text and "inspector_session" not in r.headers.get(
        "set-cookie", ""
    )
    assert _login(client_for(COLLEAGUE), "anna", PASSWORD) == 303


def test_unknown_user_names_are_limited_like_real_ones(
    engine: Engine, client_for: Callable[..., TestClient]
) -> None:
    """The lock-out does not tell which user names exist: an unknown one is locked out the same way."""
    attacker = client_for(ATTACKER)
    limit = PER_CLIENT_AND_USER.limit
    assert [_login(attacker, "nobody", "x") for _ in range(limit)] == [401] * limit
    assert _login(attacker, "nobody", "x") == 429


def test_sign_in_lockout_survives_a_restart(
    engine: Engine, database_url: str, tmp_path: Path, client_for: Callable[..., TestClient]
) -> None:
    """The count is in the database: a new app process on the same database still refuses."""
    _user(engine)
    attacker = client_for(ATTACKER)
    for i in range(PER_CLIENT_AND_USER.limit):
        _login(attacker, "anna", f"guess-{i}")
    with TestClient(_app(engine, database_url, tmp_path), client=ATTACKER) as restarted:
        assert _login(restarted, "anna", PASSWORD) == 429


def test_successful_sign_in_clears_the_clients_count(
    engine: Engine, client_for: Callable[..., TestClient]
) -> None:
    """Typos followed by the right password do not add up to a lock-out over the day."""
    _user(engine)
    c = client_for(COLLEAGUE)
    for _ in range(3):
        for i in range(PER_CLIENT_AND_USER.limit - 1):
            assert _login(c, "anna", f"typo-{i}") == 401
        assert _login(c, "anna", PASSWORD) == 303
        c.cookies.clear()  # signed in: a further sign-in form would need that session's CSRF token


def test_unknown_user_costs_the_same_password_hash_as_a_known_one(
    engine: Engine, client_for: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No user-name oracle: a wrong password for an unknown user runs one password hash with the
    same scheme and cost parameters as for a real user (timings are printed, not asserted)."""
    _user(engine)
    calls: list[str] = []
    real_verify = auth_service.verify_password

    def counting_verify(password: str, stored: str) -> bool:
        calls.append(stored.rsplit("$", 2)[0])  # the scheme and its parameters, without salt and digest
        return real_verify(password, stored)

    monkeypatch.setattr(auth_service, "verify_password", counting_verify)
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    for i in range(8):
        for kind, name in (("known", "anna"), ("unknown", f"ghost{i}")):
            c = client_for((f"192.0.2.{i}", 1000))
            calls.clear()
            t0 = time.perf_counter()
            assert _login(c, name, "wrong-password") == 401
            times[kind].append(time.perf_counter() - t0)
            assert len(calls) == 1, (kind, calls)
            if kind == "known":
                known_params = calls[0]
            else:
                assert calls[0] == known_params
    print({k: f"{statistics.fmean(v) * 1000:.1f} ms" for k, v in times.items()})


@pytest.mark.parametrize(
    "target",
    [
        "///evil.example",
        "//evil.example",
        "/\\evil.example",
        "/\\/evil.example",
        "%2F%2Fevil.example",
        "https:evil.example",
        "https://evil.example/",
        "/\t/evil.example",
        "javascript:alert(1)",
        " /evil",
    ],
)
def test_sign_in_redirect_stays_on_site(
    engine: Engine, client_for: Callable[..., TestClient], target: str
) -> None:
    """Every open-redirect form of ``next`` lands on ``/`` after signing in, and the sign-in page
    does not echo it into its form."""
    _user(engine)
    c = client_for(COLLEAGUE)
    r = c.post(
        "/auth/login",
        data={"username": "anna", "password": PASSWORD, "next": target},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert "evil" not in c.get("/auth/login", params={"next": target}).text


def test_sign_in_redirect_keeps_a_path_on_this_site(
    engine: Engine, client_for: Callable[..., TestClient]
) -> None:
    """The ordinary case still works: back to the page that asked for the sign-in."""
    _user(engine)
    r = client_for(COLLEAGUE).post(
        "/auth/login",
        data={"username": "anna", "password": PASSWORD, "next": "/staff/claims?state=received"},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/staff/claims?state=received"


def test_secure_cookie_can_be_forced_behind_a_tls_proxy(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    """Over plain HTTP the cookie is Secure only with INSPECTOR_SECURE_COOKIES; always HttpOnly, Lax."""
    _user(engine)
    for forced, expect_secure in ((False, False), (True, True)):
        app = _app(engine, database_url, tmp_path, secure_cookies=forced)
        with TestClient(app, client=(f"192.0.2.{int(forced)}", 1)) as c:
            r = c.post("/auth/login", data={"username": "anna", "password": PASSWORD}, follow_redirects=False)
            cookie = r.headers["set-cookie"].lower()
            assert "httponly" in cookie and "samesite=lax" in cookie
            assert ("; secure" in cookie) is expect_secure


def test_secure_cookies_setting_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The deployment switch is the documented environment variable."""
    monkeypatch.setenv("INSPECTOR_SECURE_COOKIES", "true")
    assert Settings().secure_cookies is True


def test_sign_in_link_trades_a_bearer_token_for_a_session(
    engine: Engine, client_for: Callable[..., TestClient]
) -> None:
    """``POST /auth/session`` with a Bearer token sets a session cookie; a query-string token or
    none gets 401 and no cookie."""
    token = _user(engine, "op", Role.operator)
    c = client_for(COLLEAGUE)
    assert c.post(f"/auth/session?token={token}").status_code == 401
    assert c.post("/auth/session").status_code == 401
    assert not c.cookies
    r = c.post("/auth/session", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 204 and "inspector_session" in r.headers["set-cookie"]
    assert c.get("/station/console", follow_redirects=False).status_code == 200
