"""The buyer's view in a real browser at phone size, and the CLI verifying a live URL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import LiveServer, chromium

from inspector.certificates import IssuedCertificate, revoke_certificate
from inspector.certificates.testing import SAMPLE_IMEIS, issue_sample_certificate
from inspector.cli import main
from inspector.db import session_scope
from inspector.photostore import FileSystemPhotoStore

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LIVE: dict[str, Any] = {}


def _photo(color: tuple[int, int, int]) -> bytes:
    import cv2
    import numpy as np

    img = np.full((300, 400, 3), color, dtype=np.uint8)
    cv2.rectangle(img, (60, 40), (340, 260), (40, 40, 40), 6)
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    return bytes(buf)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, IssuedCertificate, str]]:
    """A real uvicorn server on loopback with one phone certificate that has real photos."""
    server = LiveServer(tmp_path_factory.mktemp("live"))
    settings, engine = server.settings, server.engine
    store = FileSystemPhotoStore(settings.data_dir / "photos")
    photos = [
        {"sha256": store.put(_photo((180, 200, 220))), "role": "back"},
        {"sha256": store.put(_photo((90, 160, 90))), "role": "screen"},
    ]
    with session_scope(engine) as session:
        issued = issue_sample_certificate(session, settings, photos=photos)
        revoked = issue_sample_certificate(session, settings, kind="jewelry").human_id
        revoke_certificate(session, revoked, "stone found to be glass on re-inspection")
    with server.running() as base:
        LIVE["settings"], LIVE["engine"] = settings, engine
        yield base, issued, revoked


def test_cli_verifies_a_live_url(
    live: tuple[str, IssuedCertificate, str],
    capsys: pytest.CaptureFixture[str],
    cli_env: Callable[..., None],
) -> None:
    """`inspector verify <page URL>` fetches credential, keys and status lists: exit 0 / 7 revoked."""
    base, issued, revoked = live
    cli_env(public_base_url=base)  # the platform this CLI belongs to
    assert main(["verify", f"{base}/c/{issued.human_id}"]) == 0
    out = capsys.readouterr().out
    assert "VALID" in out and "in the transparency log: entry #0" in out
    assert main(["verify", f"{base}/c/{revoked}"]) == 7
    assert "REVOKED" in capsys.readouterr().out
    assert main(["verify", f"{base}/c/ZZZZZZZZZZ"]) == 1


@pytest.mark.browser
def test_verify_page_on_a_phone_screen(live: tuple[str, IssuedCertificate, str]) -> None:
    """At 390x844 the verdict is visible without scrolling, the IMEI check works, the label's QR scans."""
    base, issued, revoked = live
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        page.set_default_timeout(15000)
        page.goto(f"{base}/c/{issued.human_id}")
        verdict = page.locator("[data-verdict]")
        assert verdict.get_attribute("data-verdict") == "valid"
        box = verdict.bounding_box()
        assert box is not None and box["y"] + box["height"] <= 844
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        for image in page.locator("img").all():  # the photos load lazily, as they come into view
            image.scroll_into_view_if_needed()
        page.wait_for_load_state("networkidle")
        assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
        page.screenshot(path=str(ARTIFACTS / "certificate-verify-phone.png"), full_page=True)
        page.fill("input[name=value]", SAMPLE_IMEIS[0])
        page.click("text=Check it matches")
        page.wait_for_selector("[data-match=yes]")
        page.screenshot(path=str(ARTIFACTS / "certificate-match-phone.png"))
        page.goto(f"{base}/c/{revoked}")
        assert page.locator("[data-verdict]").get_attribute("data-verdict") == "revoked"
        page.screenshot(path=str(ARTIFACTS / "certificate-revoked-phone.png"))
        page.goto(f"{base}/c/{issued.human_id}/label")
        page.screenshot(path=str(ARTIFACTS / "certificate-label.png"))
        import cv2

        printed = cv2.imread(str(ARTIFACTS / "certificate-label.png"))
        assert cv2.QRCodeDetector().detectAndDecode(printed)[0] == issued.url  # the label scans
        page.goto(f"{base}/c/NOPE")
        assert "Certificate not found" in page.content()
        page.screenshot(path=str(ARTIFACTS / "certificate-404-phone.png"))


def test_log_monitor_detects_growth_and_rewrites(
    live: tuple[str, IssuedCertificate, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`inspector verify-log` accepts an append-only log and flags one whose history was rewritten."""
    from sqlmodel import select

    from inspector.certificates import service
    from inspector.certificates.tables import LogLeaf

    base = live[0]
    saved = tmp_path / "sth.json"
    assert main(["verify-log", base, "--save", str(saved)]) == 0
    with session_scope(LIVE["engine"]) as session:
        issue_sample_certificate(session, LIVE["settings"])
    assert main(["verify-log", base, "--trusted-sth", str(saved)]) == 0
    assert "CONSISTENT" in capsys.readouterr().out
    with session_scope(LIVE["engine"]) as session:  # an insider quietly replaces the first entry
        first = session.exec(select(LogLeaf).where(LogLeaf.idx == 0)).one()
        first.leaf_hash = "00" * 32
        session.add(first)
    service._trees.clear()  # as after a restart: the log is rebuilt from the database
    with session_scope(LIVE["engine"]) as session:  # ...and the next tree head is signed over it
        issue_sample_certificate(session, LIVE["settings"])
    assert main(["verify-log", base, "--trusted-sth", str(saved)]) == 4
    assert "INCONSISTENT" in capsys.readouterr().out
