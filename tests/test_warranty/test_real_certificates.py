"""Warranty against real signed certificates from the certificate service (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from wty_helpers import STAFF

from inspector.certificates import revoke_certificate
from inspector.certificates.testing import SAMPLE_IMEIS, issue_sample_certificate
from inspector.config import Settings
from inspector.db import session_scope
from warranty import coverage_for, default_plan_for
from warranty.errors import Conflict
from warranty.service import Actor, open_claim, record_sale, transition


def _issue(engine: Engine, settings: Settings, kind: str = "phone") -> str:
    with session_scope(engine) as s:
        return issue_sample_certificate(s, settings, kind=kind).human_id  # type: ignore[arg-type]


def test_real_certificate_claim_from_sale_to_receipt(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    """A signed phone certificate: coverage from the sale, buyer claim, IMEI checked on receipt."""
    settings = Settings(data_dir=tmp_path, database_url=database_url)
    hid = _issue(engine, settings)
    with session_scope(engine) as s:
        cov = coverage_for(s, hid)
        assert cov.basis == "issue" and cov.active and cov.plan == default_plan_for("phone")
        record_sale(
            s,
            STAFF,
            cert_human_id=hid,
            order_ref="LIVE-42",
            price_minor=129900,
            currency="CNY",
            buyer_contact="+86 138 0000 0000",
        )
    with session_scope(engine) as s:
        assert coverage_for(s, hid).basis == "sale"
        claim, _ = open_claim(
            s, Actor.buyer(), cert_human_id=hid, order_ref="live-42", problem="functional_fault"
        )
        ref = claim.ref
        transition(s, ref, "accept", STAFF)
    with session_scope(engine) as s, pytest.raises(Conflict, match="identity mismatch"):
        transition(s, ref, "receive", STAFF, identity_value="490154203237518")
    with session_scope(engine) as s:
        assert transition(s, ref, "receive", STAFF, identity_value=SAMPLE_IMEIS[1]).state == "received"


def test_real_revoked_certificate_refuses_claims(engine: Engine, database_url: str, tmp_path: Path) -> None:
    """Once the platform revokes a certificate, its coverage is inactive and claims are refused."""
    settings = Settings(data_dir=tmp_path, database_url=database_url)
    hid = _issue(engine, settings)
    with session_scope(engine) as s:
        revoke_certificate(s, hid, "key compromise")
    with session_scope(engine) as s:
        assert not coverage_for(s, hid).active
        with pytest.raises(Conflict, match="revoked"):
            open_claim(s, STAFF, cert_human_id=hid, problem="functional_fault")


def test_real_jewelry_certificate_weight_identity(engine: Engine, database_url: str, tmp_path: Path) -> None:
    """Jewelry identity on receipt is the certified weight (5230 mg) within the plan's 20 mg tolerance."""
    settings = Settings(data_dir=tmp_path, database_url=database_url)
    hid = _issue(engine, settings, "jewelry")
    with session_scope(engine) as s:
        record_sale(
            s,
            STAFF,
            cert_human_id=hid,
            order_ref="J-1",
            price_minor=80000,
            currency="CNY",
            sold_at=datetime.now(UTC) - timedelta(minutes=1),
        )
        claim, _ = open_claim(s, Actor.buyer(), cert_human_id=hid, order_ref="J-1", problem="authenticity")
        transition(s, claim.ref, "accept", STAFF)
        ref = claim.ref
    with session_scope(engine) as s, pytest.raises(Conflict, match="5230 mg"):
        transition(s, ref, "receive", STAFF, weight_mg=4900)
    with session_scope(engine) as s:
        assert transition(s, ref, "receive", STAFF, weight_mg=5241).state == "received"
