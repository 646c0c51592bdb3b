"""The pusher against a platform that is not there: bounded waits, one log line, nothing given up."""

from __future__ import annotations

import json
import logging
from itertools import pairwise
from pathlib import Path

import pytest
from browser import free_port
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session
from sync_processes import issue, station_engine, station_settings

from inspector.certificates.dataintegrity import add_proof
from inspector.certificates.encoding import ed25519_multikey
from inspector.certificates.keys import new_station_private_key
from inspector.db import session_scope
from inspector.sync.outbox import backlog
from inspector.sync.pusher import Backoff, Condition, Pusher
from inspector.sync.tables import Enrolment


def _enrolled_offline(data: Path, station_id: str, platform_url: str) -> None:
    """An enrolment row as the platform would have granted it, for a platform that is gone."""
    settings = station_settings(data, station_id)
    fingerprint, _ = new_station_private_key(settings)
    root = Ed25519PrivateKey.generate()
    root_fp = ed25519_multikey(
        root.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    issuer = f"{platform_url}/issuer"
    certification = add_proof(
        {"credentialSubject": {"publicKeyMultibase": fingerprint}}, root, f"{issuer}#{root_fp}"
    )
    with session_scope(station_engine(data)) as s:
        s.add(
            Enrolment(
                station_id=station_id,
                platform_url=platform_url,
                issuer_id=issuer,
                root_key=root_fp,
                key_fingerprint=fingerprint,
                key_certification=json.dumps(certification),
                status_list_first=1_000_000,
                status_list_count=64,
            )
        )


def test_backoff_doubles_up_to_its_cap_and_starts_again_after_success() -> None:
    """Waits between tries grow (so a dead platform is not hammered) but never beyond the cap
    (so a platform that is back is noticed soon); a success resets them."""
    backoff = Backoff(0.5, 4.0)
    waits = [backoff.next() for _ in range(8)]
    assert 0.4 <= waits[0] <= 0.5 and all(3.2 <= w <= 4.0 for w in waits[4:])
    assert all(later >= 1.25 * earlier for earlier, later in pairwise(waits[:4]))
    backoff.reset()
    assert backoff.next() <= 0.5


def test_an_unreachable_platform_is_retried_with_bounded_waits_and_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Certificates wait while the platform's port refuses connections: every try ends in a wait
    between 0.4 s and the configured cap, the sync state says why in words, the warning is
    logged once however many tries, and nothing leaves the outbox."""
    data = tmp_path / "station"
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    _enrolled_offline(data, "st-off", url)
    engine = station_engine(data)
    for _ in range(2):
        issue(engine, data, "st-off", photos=1)
    settings = station_settings(data, "st-off").model_copy(update={"sync_max_backoff_s": 2.0})
    pusher = Pusher(engine, settings)
    with caplog.at_level(logging.INFO, logger="inspector.sync"):
        waits = [pusher.run_once() for _ in range(6)]
    assert all(0.4 <= w <= 2.0 for w in waits) and max(waits) >= 1.6
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "unreachable" in warnings[0].getMessage()
    with Session(engine) as s:
        enrolment = s.get(Enrolment, "st-off")
        assert enrolment is not None and enrolment.condition == Condition.OFFLINE.value
        assert url in enrolment.last_error and "Connect" in enrolment.last_error
        left = backlog(s, "st-off")
    assert left.waiting == {"certificate": 2, "photo": 2} and left.refused == {"certificate": 0, "photo": 0}
    engine.dispose()


def test_a_photo_gone_from_the_station_is_set_aside_and_the_queue_goes_on(tmp_path: Path) -> None:
    """A photo file lost from the station's disk cannot ever be sent: it is set aside with the
    reason in words (kept in the outbox, shown in the sync state) instead of blocking the
    certificates behind it."""
    data = tmp_path / "station"
    url = f"http://127.0.0.1:{free_port()}"
    _enrolled_offline(data, "st-lost", url)
    engine = station_engine(data)
    _, digests = issue(engine, data, "st-lost", photos=1)
    lost = data / "photos" / digests[0][:2] / digests[0]
    lost.unlink()
    pusher = Pusher(engine, station_settings(data, "st-lost"))
    assert pusher.run_once() == 0.0  # set aside: the next item goes at once
    with Session(engine) as s:
        left = backlog(s, "st-lost")
        enrolment = s.get(Enrolment, "st-lost")
        assert enrolment is not None
        assert f"photo {digests[0][:12]} is no longer on this station" in enrolment.last_error
    assert left.refused == {"certificate": 0, "photo": 1} and left.waiting == {"certificate": 1, "photo": 0}
    engine.dispose()
