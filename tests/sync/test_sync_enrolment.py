"""Enrolling stations with a real platform process: one-time codes, refusals a person can act on."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session
from sync_processes import ServeProcess, enrol_in_process, issue, signed_put, station_engine, station_settings

from inspector.certificates.keys import station_private_key
from inspector.certificates.service import find_row
from inspector.certificates.testing import issue_sample_certificate
from inspector.db import session_scope
from inspector.platform.enrolment import make_code
from inspector.sync.enrolment import EnrolmentFailed, enrol
from inspector.sync.tables import Enrolment
from inspector.sync.wire import CERTIFICATE_PATH


def _code(platform_engine: Engine, station_id: str, ttl: timedelta = timedelta(hours=1)) -> str:
    with session_scope(platform_engine) as s:
        return make_code(s, station_id, ttl).code


def test_a_code_works_once_for_its_station_until_it_expires(
    platform: ServeProcess, platform_engine: Engine, tmp_path: Path
) -> None:
    """A code made for one station does not enrol another (and stays usable), works once, and not
    after it expires; a code nobody made is refused. Each refusal says why, and no key is left
    behind by a failed attempt."""
    data = tmp_path / "station"
    engine = station_engine(data)
    code = _code(platform_engine, "st-one")
    with pytest.raises(EnrolmentFailed, match="made for station 'st-one'"):
        enrol(engine, station_settings(data, "st-other"), platform.base, code)
    row = enrol(engine, station_settings(data, "st-one"), platform.base, code.lower().replace("-", " "))
    assert row.station_id == "st-one" and row.issuer_id == f"{platform.base}/issuer"
    with pytest.raises(EnrolmentFailed, match="used already"):
        enrol(engine, station_settings(data, "st-one"), platform.base, code)
    short = _code(platform_engine, "st-one", timedelta(milliseconds=1))
    time.sleep(0.05)
    with pytest.raises(EnrolmentFailed, match="expired"):
        enrol(engine, station_settings(data, "st-one"), platform.base, short)
    with pytest.raises(EnrolmentFailed, match="not known here"):
        enrol(engine, station_settings(data, "st-one"), platform.base, "AAAA-BBBB-CCCC-DDDD-EEEE")
    with pytest.raises(EnrolmentFailed, match="could not reach the platform"):
        enrol(engine, station_settings(data, "st-one"), "http://127.0.0.1:9", code)
    assert [p.name for p in (data / "keys").glob("station-*.pem")] == [f"station-{row.key_fingerprint}.pem"]
    engine.dispose()


def test_a_station_with_certificates_of_its_own_does_not_enrol(
    platform: ServeProcess, platform_engine: Engine, tmp_path: Path
) -> None:
    """A stand-alone station that already signed certificates under its own root is refused before
    the code is spent (its certificates stay verifiable where they are); it keeps issuing."""
    data = tmp_path / "station"
    engine = station_engine(data)
    settings = station_settings(data, "st-alone")
    with session_scope(engine) as s:
        issue_sample_certificate(s, settings, station_id="st-alone")
    code = _code(platform_engine, "st-alone")
    with pytest.raises(EnrolmentFailed, match="already issued 1 certificate"):
        enrol(engine, settings, platform.base, code)
    with session_scope(engine) as s:
        again = issue_sample_certificate(s, settings, station_id="st-alone")
    assert again.url.startswith(settings.public_base_url)  # still its own
    with platform_engine.connect() as conn:
        used = conn.execute(
            text("select used_at from platform_enrol_code where station_id = 'st-alone'")
        ).scalar()
    assert used is None
    engine.dispose()


def test_enrolling_again_keeps_the_status_lists_and_what_the_old_key_signed(
    platform: ServeProcess, platform_engine: Engine, tmp_path: Path
) -> None:
    """A station enrolled again (a new key; the old one retired) keeps its status lists, and a
    certificate its old key signed before still goes to the platform, sent with the new key."""
    data = tmp_path / "station"
    engine = enrol_in_process(platform, platform_engine, data, "st-again")
    with Session(engine) as s:
        old = s.get(Enrolment, "st-again")
        assert old is not None
        old_key, lists = old.key_fingerprint, old.status_list_first
    signed_before, _ = issue(engine, data, "st-again")
    new = enrol(engine, station_settings(data, "st-again"), platform.base, _code(platform_engine, "st-again"))
    assert new.key_fingerprint != old_key and new.status_list_first == lists
    with Session(engine) as s:
        row = find_row(s, signed_before)
        assert row is not None and row.key_fingerprint == old_key
        body = row.credential.encode()
    private = station_private_key(station_settings(data, "st-again"), new.key_fingerprint)
    sent, _ = signed_put(
        platform.base,
        CERTIFICATE_PATH.format(human_id=signed_before),
        body,
        station_id="st-again",
        key=new.key_fingerprint,
        private=private,
    )
    assert sent.status_code == 200, sent.text
    old_private = station_private_key(station_settings(data, "st-again"), old_key)
    refused, _ = signed_put(
        platform.base,
        CERTIFICATE_PATH.format(human_id=signed_before),
        body,
        station_id="st-again",
        key=old_key,
        private=old_private,
    )
    assert refused.status_code == 403 and refused.json()["error"] == "station_key_retired"
    engine.dispose()
