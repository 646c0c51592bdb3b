"""Security headers on every response, and API docs served without a CDN, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from inspector.config import Settings
from inspector.db import make_engine, migrate
from inspector.web.app import create_app
from inspector.web.security_headers import SECURITY_HEADERS


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    migrate(url)
    engine = make_engine(url)
    with TestClient(create_app(Settings(data_dir=tmp_path, database_url=url), engine=engine)) as c:
        yield c
    engine.dispose()


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/auth/login",
        "/station/overlay",
        "/staff/claims",
        "/claims/new",
        "/c/NOSUCHCERT",
        "/static/base.css",
        "/station/static/overlay.js",
        "/api/station/flows",
        "/openapi.json",
        "/docs",
        "/no/such/page",
    ],
)
def test_every_response_carries_csp_frame_ancestors_nosniff_and_referrer_policy(
    client: TestClient, path: str
) -> None:
    """Pages, redirects, static files, JSON and 404s all carry the headers; the policy allows
    no inline script and no framing (the stream overlay included)."""
    r = client.get(path, follow_redirects=False)
    for name, value in SECURITY_HEADERS.items():
        assert r.headers.get(name) == value, (path, name)
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self';" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert r.headers["x-content-type-options"] == "nosniff"


def test_pages_have_no_inline_script(client: TestClient) -> None:
    """What the policy forbids is not in the pages: no inline handlers, no javascript: links."""
    for path in ("/", "/auth/login", "/station/overlay", "/claims/new", "/c/NOSUCHCERT", "/docs"):
        html = client.get(path).text.lower()
        assert "javascript:" not in html and " onclick=" not in html and " onsubmit=" not in html
        for chunk in html.split("<script")[1:]:
            tag, _, body = chunk.partition(">")
            assert "src=" in tag or 'type="application/json"' in tag, (path, tag)
            assert "src=" not in tag or not body.split("</script")[0].strip()


def test_api_docs_load_swagger_ui_from_this_server(client: TestClient) -> None:
    """/docs names no other host; its script and style are served here; ReDoc (CDN only) is off."""
    html = client.get("/docs").text
    assert "http://" not in html and "https://" not in html and "cdn" not in html.lower()
    js = client.get("/docs/assets/swagger-ui-bundle.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert "SwaggerUIBundle" in js.text[:200_000]
    assert client.get("/docs/assets/swagger-ui.css").status_code == 200
    assert client.get("/static/docs.js").status_code == 200
    assert client.get("/docs/assets/index.html").status_code == 404
    assert client.get("/docs/assets/..%2F..%2F__init__.py").status_code == 404
    assert client.get("/redoc").status_code == 404
    assert client.get("/openapi.json").json()["info"]["title"]
