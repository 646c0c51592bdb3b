# ruff: noqa: RUF001  (Chinese text is written with its own full-width punctuation)
"""A certificate the platform refuses for good, with a station process and a platform process.

What the operator and the audience notice: the certificate does not stay "being published"
forever; the console and the CLI say it was refused and why, and the stream never shows its QR
code; the station keeps it and goes on sending the rest.
"""

from __future__ import annotations

from pathlib import Path

import httpx
from browser import free_port
from sqlalchemy.engine import Engine
from sync_processes import (
    ServeProcess,
    cli,
    enrol_in_process,
    inspect_phone,
    operator_auth,
    station_process,
    tamper_certificate,
    wait_until,
)


def test_a_certificate_refused_for_good_is_shown_refused_with_the_reason_and_never_as_a_qr_code(
    platform: ServeProcess, platform_engine: Engine, tmp_path: Path
) -> None:
    """A phone inspected while the platform is down, its stored certificate then altered: once the
    platform is back it refuses it as tampered. The station records it as refused (not waiting),
    the console's sync card says "1 certificate refused by the platform: ..." in English and in
    Chinese, the API keeps the platform's words, the inspection says refused with the reason, the stream
    shows neither its QR code nor "being published", ``inspector sync status`` lists it, and the
    queue is empty: nothing waits behind it."""
    data = tmp_path / "station"
    engine = enrol_in_process(platform, platform_engine, data, "st-refused")
    auth = operator_auth(engine)
    platform.stop()
    station = station_process(data, "st-refused", free_port()).start()
    try:
        view = inspect_phone(station.base, auth)
        hid = view["certificate_id"]
        assert view["certificate_publication"] == "waiting"
        tamper_certificate(engine, hid)
        platform.start()

        def sync(language: str) -> dict[str, object]:
            headers = {**auth, "Accept-Language": language}
            state: dict[str, object] = httpx.get(
                f"{station.base}/api/station/sync", headers=headers, timeout=10
            ).json()
            return state

        state = wait_until(
            "the station recording the refusal", lambda: (s := sync("en"))["refused"] == {
                "certificate": 1, "photo": 0
            } and s
        )  # fmt: skip
        assert state["waiting"] == {"certificate": 0, "photo": 0}
        assert state["condition"] != "refused"  # the station itself is not refused
        last = state["last_refused_certificate"]
        assert isinstance(last, dict)
        assert last["human_id"] == hid and last["refusal"] == "tampered" and last["reason"]
        shown = state["shown"]
        assert isinstance(shown, dict)
        assert shown["headline"] == "Nothing is waiting for the platform"
        assert shown["refused"] == "1 certificate refused by the platform: it was changed after it was signed"
        assert hid in shown["refused_detail"]
        zh = sync("zh-CN")["shown"]
        assert isinstance(zh, dict) and zh["refused"] == "1 份证书被平台拒收：签名后内容被改动过"

        operator = httpx.get(f"{station.base}/api/station/inspections/{view['id']}", headers=auth, timeout=10)
        seen = operator.json()
        assert seen["certificate_publication"] == "refused" and seen["certificate_on_platform"] is False
        assert seen["certificate_refusal"] == last["reason"]
        live = httpx.get(f"{station.base}/api/station/live", timeout=10).json()["inspection"]
        assert live["id"] == view["id"] and live["certificate_publication"] == "refused"
        assert live["certificate_url"] is None and live["certificate_id"] is None
        assert "certificate_refusal" not in live  # the platform's words are not for the stream
        assert httpx.get(f"{platform.base}/c/{hid}/verify.json", timeout=10).status_code == 404
    finally:
        station.stop()
    printed = cli("sync", "status", "--data-dir", str(data), env={"INSPECTOR_STATION_ID": "st-refused"})
    assert "1 certificate(s), 0 photo(s) refused by the platform for good" in printed
    assert f"certificate {hid}" in printed and "[tampered]" in printed
    engine.dispose()
