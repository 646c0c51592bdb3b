"""A warehouse station's re-inspection certificate updates the claim on the platform it supersedes."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.engine import Engine
from wty_helpers import STAFF

from inspector.auth.tenancy import EVERYTHING
from inspector.certificates.testing import SAMPLE_IMEIS, issue_sample_certificate
from inspector.config import Settings
from inspector.db import session_scope
from warranty.returns import record_returned_certificate
from warranty.service import Actor, find_open_claim, open_claim, record_sale, transition


def _claim_waiting_for_its_item(engine: Engine, settings: Settings) -> tuple[str, str]:
    """A sold phone certificate whose claim has its item back at the warehouse ("received")."""
    with session_scope(engine) as s:
        original = issue_sample_certificate(s, settings).human_id
    with session_scope(engine) as s:
        record_sale(s, STAFF, cert_human_id=original, order_ref="LIVE-7", price_minor=99900, currency="CNY")
    with session_scope(engine) as s:
        claim, _ = open_claim(
            s, Actor.buyer(), cert_human_id=original, order_ref="live-7", problem="functional_fault"
        )
        ref = claim.ref
        transition(s, ref, "accept", STAFF)
    with session_scope(engine) as s:
        transition(s, ref, "receive", STAFF, identity_value=SAMPLE_IMEIS[1])
    return original, ref


def test_a_reinspection_certificate_arriving_moves_its_claim_on(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    """The claim takes the new grade, the photos and each measured defect where it was found, and
    says which certificate recorded it; staff then decide on it as on any re-inspection."""
    settings = Settings(data_dir=tmp_path, database_url=database_url)
    original, ref = _claim_waiting_for_its_item(engine, settings)
    with session_scope(engine) as s:
        returned = issue_sample_certificate(s, settings, supersedes=original, station_id="warehouse-1")
        said = record_returned_certificate(s, returned.credential)
    assert said == f"recorded on claim {ref}"
    with session_scope(engine) as s:
        claim = find_open_claim(s, original, EVERYTHING)
        assert claim is not None and claim.state == "reinspected"
        found = json.loads(claim.reinspection or "{}")
    assert found["certificate_human_id"] == returned.human_id
    assert found["photos"] == ["cd" * 32, "ab" * 32]
    assert [(d["kind"], d["region"], d["photo"]) for d in found["defects"]] == [("scratch", "back", 1)] * 2
    assert "warehouse-1" in found["notes"]


def test_a_certificate_for_a_claim_not_waiting_changes_nothing(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    """An ordinary certificate, or one whose claim is not at the re-inspection step, leaves every
    claim as it was (the certificate itself is still stored by the caller)."""
    settings = Settings(data_dir=tmp_path, database_url=database_url)
    with session_scope(engine) as s:
        plain = issue_sample_certificate(s, settings)
        assert record_returned_certificate(s, plain.credential) is None
        again = issue_sample_certificate(s, settings, supersedes=plain.human_id)
        assert record_returned_certificate(s, again.credential) == f"no open claim on {plain.human_id}"
