# ruff: noqa: RUF001  (Chinese text is written with its own full-width punctuation)
"""The review of the marked defects on the operator console, in Debian's headless Chromium on a
390 px phone screen, in English and in Chinese. Screenshots: test-artifacts/screens/station-review-*.png
and certificate-review-*.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import chromium, look_at, reader_page
from page_language import untranslated
from station_helpers import running_sqlite_station
from test_station_review import REASON, finish_checks, start_cracked_phone, wait_review

pytestmark = pytest.mark.browser
TIMEOUT_MS = 60_000


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_operator_rejects_the_marked_cracks_from_the_keyboard(tmp_path: Path, locale: str) -> None:
    """The waiting review lists each finding beside the marked photo with Confirm/Reject and the
    keys said on screen; the operator types a reason, rejects every finding with N (focus moves to
    the next one) and submits with Enter: the console goes on to the next check and the grade is
    decided again (D -> A) with the reason recorded; the buyer's page of the certificate says it was
    adjusted by the operator. Both pages fit 390 px in both languages."""
    with running_sqlite_station(tmp_path, "review.db") as st, chromium() as browser:
        iid = start_cracked_phone(st)
        found = wait_review(st, iid)["result"]["findings"]
        with reader_page(browser, locale, 390) as page:
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(f"{st.base}/station/console#token={st.token}")
            page.wait_for_url(f"{st.base}/station/console")
            page.wait_for_selector("#findings li.focused")
            page.wait_for_selector("#preview[src^='blob:']")
            page.wait_for_function(
                "() => [...document.querySelectorAll('.review-photo img')].every(i => i.complete)"
            )
            assert page.locator("#findings li").count() == len(found)
            assert page.locator(".review-photo svg g").count() == sum(1 for f in found if f.get("box"))
            prompt = page.inner_text("#prompt")
            if locale == "en":
                assert "Y confirms, N rejects" in prompt and "Confirm" in prompt and "Reject" in prompt
            else:
                assert "Y 确认，N 驳回" in prompt and "裂痕" in prompt
                assert untranslated(page.inner_html("#prompt")) == []
            look = look_at(page, f"station-review-{locale}-390")
            assert look.problems() == []

            page.fill("#findings li:first-child .reason", REASON)
            page.keyboard.press("Escape")  # leaves the reason field; the first finding keeps the focus
            for _ in found:
                page.keyboard.press("n")
            assert page.locator("#findings li[data-decision='reject']").count() == len(found)
            look = look_at(page, f"station-review-decided-{locale}-390")
            assert look.overflow_px <= 0
            page.keyboard.press("Enter")
            page.wait_for_selector("#prompt[data-step='check_buttons']")

            view = finish_checks(st, iid)
            page.goto(str(view["certificate_url"]))
            note = page.inner_text("[data-review='adjusted']")
            assert ("Adjusted by the operator" if locale == "en" else "已由检测员调整") in note
            look = look_at(page, f"certificate-review-adjusted-{locale}-390")
            assert look.problems() == []
    review = next(s for s in view["steps"] if s["key"] == "review")
    assert view["grade"] == "A" and review["result"]["review"] == "adjusted"
    first = review["result"]["decisions"][0]
    assert first["finding"] == found[0]["id"] and first["reason"] == REASON
