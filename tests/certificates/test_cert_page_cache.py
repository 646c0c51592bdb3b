"""The verify page and verify.json from the per-process cache: fresh after a change, per language,
bounded, revalidated with ETags, and never carrying one reader's state into another's page."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col

from inspector.auth import Role, create_user, issue_token
from inspector.auth.csrf import csrf_token_for
from inspector.certificates import IssuedCertificate
from inspector.certificates.humanid import new_human_id
from inspector.certificates.keys import revoke_key
from inspector.certificates.page_cache import SingleFlight, VerifyCache, cached_body
from inspector.certificates.tables import Certificate
from inspector.config import Settings
from inspector.db import session_scope
from inspector.web.app import create_app
from warranty.service import Actor, record_sale

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


def _cache(client: TestClient) -> VerifyCache:
    cache: VerifyCache = client.app.state.verify_cache  # type: ignore[attr-defined]
    return cache


def _supervisor_token(engine: Engine) -> str:
    with session_scope(engine) as session:
        return issue_token(session, create_user(session, "sup", Role.supervisor, "supervisor-pass"))


def test_revocation_through_the_admin_api_shows_on_the_next_request(
    client: TestClient, engine: Engine, issued: IssuedCertificate
) -> None:
    """A page and JSON served from the cache say "revoked" on the very next request after a
    supervisor revokes the certificate, in this process, without waiting for the max age."""
    page_url, json_url = f"/c/{issued.human_id}", f"/c/{issued.human_id}/verify.json"
    for _ in range(2):  # the second pair comes from the cache
        assert 'data-verdict="valid"' in client.get(page_url).text
        assert client.get(json_url).json()["verdict"] == "valid"
    assert len(_cache(client)) == 2
    auth = {"Authorization": f"Bearer {_supervisor_token(engine)}"}
    revoked = client.post(
        f"/api/certificates/{issued.human_id}/revoke", json={"reason": "misgraded"}, headers=auth
    )
    assert revoked.json()["status"] == "revoked"
    page = client.get(page_url)
    assert 'data-verdict="revoked"' in page.text and "misgraded" in page.text
    assert client.get(json_url).json()["verdict"] == "revoked"


def test_key_revocation_and_a_recorded_sale_refresh_cached_pages(
    client: TestClient, engine: Engine, issued: IssuedCertificate
) -> None:
    """Recording the sale (the warranty now runs from it) and revoking the station's key both
    reach a page this process had kept."""
    url = f"/c/{issued.human_id}"
    assert "Counted from the inspection date" in client.get(url, headers={"Accept-Language": "en"}).text
    with session_scope(engine) as session:
        record_sale(
            session,
            Actor("staff", "staff"),
            cert_human_id=issued.human_id,
            order_ref="ORDER-1",
            price_minor=100_00,
            currency="CNY",
        )
    page = client.get(url, headers={"Accept-Language": "en"}).text
    assert "Counted from the inspection date" not in page and 'data-verdict="valid"' in page
    fingerprint = issued.credential["proof"]["verificationMethod"].split("#")[1]
    with session_scope(engine) as session:
        revoke_key(session, fingerprint, "laptop stolen")
    assert 'data-verdict="key_revoked"' in client.get(url, headers={"Accept-Language": "en"}).text


def test_matching_if_none_match_gets_304(client: TestClient, issued: IssuedCertificate) -> None:
    """A browser or CDN holding the current bytes gets 304 with the same ETag; the headers let a
    CDN keep the page briefly and keep languages apart."""
    for url in (f"/c/{issued.human_id}", f"/c/{issued.human_id}/verify.json"):
        first = client.get(url)
        etag = first.headers["etag"]
        assert etag.startswith('"') and not etag.startswith("W/")
        assert first.headers["cache-control"].startswith("public, max-age=")
        assert "stale-while-revalidate=" in first.headers["cache-control"]
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
        assert client.get(url, headers={"If-None-Match": '"something-else"'}).status_code == 200
    assert client.get(f"/c/{issued.human_id}").headers["vary"] == "Accept-Language, Cookie"


def test_chinese_and_english_pages_are_kept_apart(client: TestClient, issued: IssuedCertificate) -> None:
    """A reader who chose Chinese (cookie) or whose browser asks for it never gets the English page
    kept for someone else, and the other way round; each language keeps its own ETag."""
    url = f"/c/{issued.human_id}"
    english = client.get(url, headers={"Accept-Language": "en-US,en;q=0.9"})
    chinese = client.get(url, headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert '<html lang="en">' in english.text and '<html lang="zh-CN">' in chinese.text
    assert english.headers["etag"] != chinese.headers["etag"]
    client.cookies.set("lang", "zh-CN")
    chosen = client.get(url, headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="zh-CN">' in chosen.text and chosen.headers["etag"] == chinese.headers["etag"]
    client.cookies.set("lang", "en")
    assert '<html lang="en">' in client.get(url, headers={"Accept-Language": "zh-CN"}).text


def test_unknown_ids_do_not_fill_the_cache(client: TestClient, issued: IssuedCertificate) -> None:
    """Hundreds of made-up ids (well-formed or not) get 404s that no cache keeps, and leave the
    cache as it was; a real certificate's page is still served."""
    client.get(f"/c/{issued.human_id}")
    client.get(f"/c/{issued.human_id}/verify.json")
    before = len(_cache(client))
    for n in range(300):
        made_up = new_human_id() if n % 2 else f"ZZ{n:06d}"  # a well-formed id, or a typo
        page = client.get(f"/c/{made_up}")
        data = client.get(f"/c/{made_up}/verify.json")
        assert page.status_code == data.status_code == 404
        assert data.headers["cache-control"] == "no-store"
    assert client.get(f"/c/{issued.human_id}?utm_source=qr").status_code == 200  # rendered, not kept
    assert len(_cache(client)) == before == 2
    assert 'data-verdict="valid"' in client.get(f"/c/{issued.human_id}").text


def test_the_cache_keeps_no_more_than_its_size() -> None:
    """Past its size the least recently used entry goes; an entry older than the max age is not served."""
    cache = VerifyCache(max_entries=3, max_age_s=60)
    for n in range(10):
        cache.put(f"ID{n}", "json", cached_body(b"{}", "application/json"), cache.generation)
    assert len(cache) == 3 and cache.get("ID9", "json") is not None and cache.get("ID0", "json") is None
    expired = VerifyCache(max_entries=3, max_age_s=10)
    made = cached_body(b"{}", "application/json", made_at=time.monotonic() - 11)
    expired.put("ID", "json", made, expired.generation)
    assert expired.get("ID", "json") is None


def test_a_page_never_carries_one_readers_sign_in_into_anothers(
    client: TestClient, engine: Engine, issued: IssuedCertificate
) -> None:
    """A signed-in reader's page holds their own CSRF token and is marked private; an anonymous
    reader before and after gets a page with no token at all, from the cache."""
    url = f"/c/{issued.human_id}"
    anonymous_before = client.get(url)
    with session_scope(engine) as session:
        create_user(session, "anna", Role.supervisor, "supervisor-pass")
    signed_in = TestClient(client.app)
    assert (
        signed_in.post(
            "/auth/login", data={"username": "anna", "password": "supervisor-pass"}, follow_redirects=False
        ).status_code
        == 303
    )
    mine = signed_in.get(url)
    token = CSRF_META.search(mine.text)
    assert token is not None and token.group(1) == csrf_token_for(signed_in.cookies["inspector_session"])
    assert mine.headers["cache-control"] == "private, no-store" and "etag" not in mine.headers
    anonymous_after = client.get(url)
    for page in (anonymous_before, anonymous_after):
        found = CSRF_META.search(page.text)
        assert found is not None and found.group(1) == ""
        assert token.group(1) not in page.text
    assert anonymous_after.headers["etag"] == anonymous_before.headers["etag"]


def test_many_readers_of_one_expired_page_cause_one_verification() -> None:
    """Readers arriving while a page is being made wait for that one fill; past its max age a kept
    page is still served (at most twice as old) while one refill runs, never beyond that."""
    fills = 0

    async def fill() -> str:
        nonlocal fills
        fills += 1
        await asyncio.sleep(0.05)
        return "page"

    async def readers() -> list[str]:
        flight: SingleFlight[str] = SingleFlight()
        return await asyncio.gather(*(flight.run(("ID", "json"), fill) for _ in range(20)))

    assert asyncio.run(readers()) == ["page"] * 20 and fills == 1
    cache = VerifyCache(max_entries=3, max_age_s=60)
    cache.put("NEW", "json", cached_body(b"{}", "application/json"), cache.generation)
    assert cache.lookup("NEW", "json")[1] is True
    aged = cached_body(b"{}", "application/json", made_at=time.monotonic() - 90)
    cache.put("AGED", "json", aged, cache.generation)
    assert cache.lookup("AGED", "json") == (aged, False) and cache.get("AGED", "json") is None
    old = cached_body(b"{}", "application/json", made_at=time.monotonic() - 121)
    cache.put("OLD", "json", old, cache.generation)
    assert cache.lookup("OLD", "json") == (None, False)


def test_a_change_made_by_another_process_shows_after_the_max_age(
    settings: Settings, engine: Engine, issued: IssuedCertificate
) -> None:
    """Another web process suspends the certificate (this one is not told): the page kept here
    says so once its max age has passed, without anyone dropping it."""
    quick = settings.model_copy(update={"verify_cache_max_age_s": 0.3})
    url = f"/c/{issued.human_id}/verify.json"
    with TestClient(create_app(quick, engine=engine)) as client:
        assert client.get(url).json()["verdict"] == "valid"
        with engine.begin() as conn:  # as another process would: no commit hook of this one runs
            conn.execute(
                update(Certificate)
                .where(col(Certificate.human_id) == issued.human_id)
                .values(suspended_at=datetime.now(UTC), status_reason="review")
            )
        assert client.get(url).json()["verdict"] == "valid"  # kept: nobody told this process
        verdicts = []
        for _ in range(100):  # checked again in the background once 0.3 s old
            time.sleep(0.1)
            verdicts.append(client.get(url).json()["verdict"])
            if verdicts[-1] == "suspended":
                break
        assert verdicts[-1] == "suspended", verdicts
