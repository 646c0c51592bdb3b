"""A reader gets pages in their language and can switch it; the choice sticks."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from page_language import untranslated, visible_text
from sqlalchemy.engine import Engine

from inspector.config import Settings
from inspector.station.ports import StationHardware
from inspector.station.service import StationService
from inspector.web.app import create_app


@pytest.fixture
def client(tmp_path: Path, sqlite_url: str, sqlite_engine: Engine) -> TestClient:
    settings = Settings(data_dir=tmp_path / "data", database_url=sqlite_url, locale="zh-CN")
    app = create_app(settings, engine=sqlite_engine)
    app.state.station = StationService(sqlite_engine, settings, StationHardware())
    return TestClient(app)


def test_a_chinese_browser_gets_the_sign_in_page_in_chinese(client: TestClient) -> None:
    page = client.get("/auth/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}).text
    assert '<html lang="zh-CN">' in page
    assert "登录" in visible_text(page) and "用户名" in visible_text(page)
    assert untranslated(page) == []


def test_an_english_browser_gets_english_and_a_wrong_password_is_explained_in_it(client: TestClient) -> None:
    english = {"Accept-Language": "en-GB,en;q=0.9"}
    page = client.get("/auth/login", headers=english).text
    assert '<html lang="en">' in page and "Username" in page
    r = client.post("/auth/login", data={"username": "nobody", "password": "x" * 12}, headers=english)
    assert r.status_code == 401 and "Wrong username or password." in visible_text(r.text)
    r = client.post(
        "/auth/login", data={"username": "nobody", "password": "x" * 12}, headers={"Accept-Language": "zh"}
    )
    assert r.status_code == 401 and "用户名或密码错误。" in visible_text(r.text)


def test_a_browser_in_neither_language_gets_the_station_language(client: TestClient) -> None:
    page = client.get("/auth/login", headers={"Accept-Language": "fr-FR"}).text
    assert '<html lang="zh-CN">' in page


def test_the_switch_sticks_and_only_sends_the_reader_back_to_this_site(client: TestClient) -> None:
    """The reader's choice beats their browser's language on every later page."""
    r = client.get("/lang/en?next=/auth/login", headers={"Accept-Language": "zh-CN"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/auth/login"
    assert "lang=en" in r.headers["set-cookie"] and "HttpOnly" in r.headers["set-cookie"]
    page = client.get("/auth/login", headers={"Accept-Language": "zh-CN"}).text
    assert '<html lang="en">' in page and "Sign in" in page
    r = client.get("/lang/zh-CN?next=//evil.example/", follow_redirects=False)
    assert r.headers["location"] == "/"
    r = client.get("/lang/klingon?next=/auth/login", follow_redirects=False)  # unknown: the station's
    assert "lang=zh-CN" in r.headers["set-cookie"]


def test_every_page_offers_the_switch_back_to_the_same_page(client: TestClient) -> None:
    page = client.get("/auth/login?next=/warranty/queue", headers={"Accept-Language": "zh-CN"}).text
    assert 'href="/lang/en?next=%2Fauth%2Flogin%3Fnext%3D%2Fwarranty%2Fqueue"' in page
    assert 'aria-current="true">中文' in page


def test_a_browser_at_an_address_that_is_no_page_gets_a_page_in_its_language(client: TestClient) -> None:
    """A mistyped link or an old QR code shows a page with a way home, not a JSON error; API
    clients keep the JSON body."""
    page = client.get("/no/such/page", headers={"Accept": "text/html", "Accept-Language": "zh-CN"})
    assert page.status_code == 404 and "页面不存在" in visible_text(page.text)
    assert untranslated(page.text) == []
    api = client.get("/api/station/inspections/999999", headers={"Accept": "text/html"})
    assert api.status_code in (401, 404) and api.headers["content-type"].startswith("application/json")
    plain = client.get("/no/such/page")
    assert plain.status_code == 404 and plain.json() == {"detail": "Not Found"}
