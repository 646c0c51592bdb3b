"""Supervisor figures: claim rate per group is claims / items sold; resolution time in hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from wty_helpers import IMEI, STAFF, make_cert, sell

from inspector.auth.tenancy import EVERYTHING
from inspector.db import session_scope
from warranty.reports import claim_rates, rates_csv, time_to_resolution
from warranty.service import Actor, open_claim, transition


def test_claim_rate_and_time_to_resolution(sqlite_engine: Engine) -> None:
    """4 sold at station-1 (1 claim), 2 sold at station-2 (2 claims, one withdrawn): 25 % and 100 %."""
    certs = [make_cert(station="station-1", grade="A") for _ in range(4)]
    certs += [make_cert(station="station-2", grade="C") for _ in range(2)]
    for c in certs:
        sell(sqlite_engine, c)
    t0 = datetime.now(UTC) - timedelta(hours=1)
    refs = []
    for c in (certs[0], certs[4], certs[5]):
        with session_scope(sqlite_engine) as s:
            refs.append(
                open_claim(
                    s,
                    Actor.buyer(),
                    cert_human_id=c.human_id,
                    order_ref="ORD-1001",
                    problem="functional_fault",
                    now=t0,
                )[0].ref
            )
    with session_scope(sqlite_engine) as s:
        transition(s, refs[0], "accept", STAFF, now=t0 + timedelta(hours=1))
        transition(s, refs[0], "receive", STAFF, identity_value=IMEI, now=t0 + timedelta(hours=2))
        transition(s, refs[0], "deny", STAFF, reason_code="water", note="wet", now=t0 + timedelta(hours=3))
        transition(s, refs[0], "resolve", STAFF, note="sent back", now=t0 + timedelta(hours=10))
        transition(s, refs[2], "withdraw", Actor.buyer(), now=t0 + timedelta(hours=1))
    with session_scope(sqlite_engine) as s:
        rows = {r.value: r for r in claim_rates(s, "station_id", EVERYTHING)}
        assert (rows["station-1"].sold, rows["station-1"].claims, rows["station-1"].denied) == (4, 1, 1)
        assert rows["station-1"].rate == 0.25 and rows["station-2"].rate == 1.0
        assert {r.value for r in claim_rates(s, "grade", EVERYTHING)} == {"A", "C"}
        assert {r.value for r in claim_rates(s, "device_model", EVERYTHING)} == {"Pixel 7"}
        ttr = time_to_resolution(s, EVERYTHING)
        assert ttr.resolved == 1 and ttr.median_hours == 10.0 and ttr.open == 1  # withdrawn is not open
        assert "station_id,station-1,4,1,0,1,0.2500" in rates_csv(s, EVERYTHING)
