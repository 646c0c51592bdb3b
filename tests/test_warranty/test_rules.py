"""Warranty rules enforced by the system: plans, coverage windows, claim opening, every transition."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from wty_helpers import IMEI, STAFF, SUPERVISOR, WEIGHT_MG, buyer_claim, make_cert, sell

from inspector.auth.tenancy import EVERYTHING
from inspector.db import session_scope
from warranty import coverage_for, default_plan_for
from warranty.errors import Conflict, Forbidden, Invalid, NotFound
from warranty.evidence import Reinspection
from warranty.plans import PlanError, load_plans, parse_plan
from warranty.service import Actor, events, open_claim, record_sale, transition

BUYER = Actor.buyer()


def _open(
    engine: Engine, cert_id: str, problem: str = "functional_fault", order_ref: str = "ORD-1001"
) -> str:
    return buyer_claim(engine, cert_id, order_ref=order_ref, problem=problem)[0]


def _do(engine: Engine, ref: str, action: str, actor: Actor = STAFF, **kw: object) -> str:
    with session_scope(engine) as s:
        return transition(s, ref, action, actor, **kw).state  # type: ignore[arg-type]


# ---------------------------------------------------------------- plans


def test_shipped_plans_load_with_one_default_per_kind() -> None:
    """The shipped plan files are valid; phones default to 180 days, jewelry pays back 10x a fake."""
    plans = load_plans()
    assert default_plan_for("phone").days == 180
    jewelry = default_plan_for("jewelry")
    assert jewelry.authenticity_multiple == 10
    for plan in plans.values():
        assert {"damage_after_sale", "water", "tampering", "identity_mismatch"} <= {
            e.code for e in plan.exclusions
        }


def test_bad_plan_file_is_refused_naming_file_and_field(tmp_path: Path) -> None:
    """A plan with a missing exclusion or a bad number is refused with a message naming what is wrong."""
    good = json.loads((Path(__file__).parents[2] / "warranty/plans/phone-180.json").read_text())
    bad = dict(good, days=-3)
    with pytest.raises(PlanError, match=r"bad\.json: days"):
        parse_plan(json.dumps(bad), "bad.json")
    no_water = dict(good, exclusions=[e for e in good["exclusions"] if e["code"] != "water"])
    with pytest.raises(PlanError, match="water"):
        parse_plan(json.dumps(no_water), "x.json")
    with pytest.raises(PlanError, match="not valid JSON"):
        parse_plan("{", "broken.json")
    (tmp_path / "a.json").write_text(json.dumps(good))
    with pytest.raises(PlanError, match="default plan for jewelry"):
        load_plans(tmp_path)


# ---------------------------------------------------------------- coverage


def test_coverage_runs_from_sale_date_else_issue_date(sqlite_engine: Engine) -> None:
    """Coverage starts at the sale when one is recorded, at the certificate's issue otherwise."""
    cert = make_cert(issued_days_ago=30)
    with session_scope(sqlite_engine) as s:
        cov = coverage_for(s, cert.human_id)
        assert cov.basis == "issue" and cov.active and cov.days_left == 150
    sell(sqlite_engine, cert, days_ago=10)
    with session_scope(sqlite_engine) as s:
        cov = coverage_for(s, cert.human_id)
        assert cov.basis == "sale" and cov.days_left == 170
        assert cov.end - cov.start == timedelta(days=180)
        assert "buyer" not in json.dumps(cov.public_dict())
        later = coverage_for(s, cert.human_id, now=cov.end + timedelta(seconds=1))
        assert not later.active and later.days_left == 0 and "ended" in later.inactive_reason


def test_revoked_certificate_has_no_active_coverage(sqlite_engine: Engine) -> None:
    """A revoked certificate shows its window but no active coverage."""
    cert = make_cert(status="revoked")
    with session_scope(sqlite_engine) as s:
        cov = coverage_for(s, cert.human_id)
        assert not cov.active and "revoked" in cov.inactive_reason


# ---------------------------------------------------------------- sales


def test_sale_validation(sqlite_engine: Engine) -> None:
    """Sales need a known certificate, integer price, ISO currency, a plausible date, and only one sale."""
    cert = make_cert()
    with session_scope(sqlite_engine) as s:

        def sale(actor: Actor = STAFF, **changes: Any) -> None:
            fields: dict[str, Any] = {
                "cert_human_id": cert.human_id,
                "order_ref": "o",
                "price_minor": 5,
                "currency": "CNY",
            }
            record_sale(s, actor, **{**fields, **changes})

        with pytest.raises(NotFound):
            sale(cert_human_id="NOPE", price_minor=1)
        with pytest.raises(Invalid, match="minor units"):
            sale(price_minor=-5)
        with pytest.raises(Invalid, match="currency"):
            sale(currency="yuan")
        with pytest.raises(Invalid, match="future"):
            sale(sold_at=datetime.now(UTC) + timedelta(days=2))
        with pytest.raises(Invalid, match="covers jewelry"):
            sale(plan_id="jewelry-authenticity")
        with pytest.raises(Forbidden):
            sale(Actor("op", "operator"))
    sell(sqlite_engine, cert)
    with pytest.raises(Conflict, match="already recorded"):
        sell(sqlite_engine, cert)


# ---------------------------------------------------------------- opening claims


def test_buyer_claim_needs_matching_order_ref(sqlite_engine: Engine) -> None:
    """Only someone holding the order reference can open a claim as a buyer."""
    cert = make_cert()
    with pytest.raises(Forbidden, match="no sale"):
        _open(sqlite_engine, cert.human_id)
    sell(sqlite_engine, cert)
    with pytest.raises(Forbidden, match="does not match"):
        _open(sqlite_engine, cert.human_id, order_ref="ORD-9999")
    with pytest.raises(NotFound, match="no certificate"):
        _open(sqlite_engine, "ZZZ999")
    assert _open(sqlite_engine, cert.human_id, order_ref=" ord-1001 ").startswith("WC-")


def test_no_claim_outside_window_or_on_revoked(sqlite_engine: Engine) -> None:
    """Expired windows and revoked or suspended certificates refuse claims with the reason."""
    old = make_cert(issued_days_ago=400)
    sell(sqlite_engine, old, days_ago=200)
    with pytest.raises(Conflict, match="ended on"):
        _open(sqlite_engine, old.human_id)
    for status in ("revoked", "suspended"):
        cert = make_cert(status=status)
        sell(sqlite_engine, cert)
        with pytest.raises(Conflict, match=status):
            _open(sqlite_engine, cert.human_id)


def test_no_reason_return_only_inside_return_window(sqlite_engine: Engine) -> None:
    """The 7-day no-reason return is refused on day 8, while a fault claim is still accepted."""
    cert = make_cert(issued_days_ago=20)
    sell(sqlite_engine, cert, days_ago=8)
    with pytest.raises(Conflict, match="return window closed"):
        _open(sqlite_engine, cert.human_id, problem="no_reason_return")
    with pytest.raises(Invalid, match="unknown problem"):
        _open(sqlite_engine, cert.human_id, problem="authenticity")
    _open(sqlite_engine, cert.human_id, problem="functional_fault")
    fresh = make_cert()
    sell(sqlite_engine, fresh, days_ago=2)
    _open(sqlite_engine, fresh.human_id, problem="no_reason_return")


def test_one_open_claim_per_certificate(sqlite_engine: Engine) -> None:
    """A second claim is refused while one is open, and allowed once the first is closed."""
    cert = make_cert()
    sell(sqlite_engine, cert)
    ref = _open(sqlite_engine, cert.human_id)
    with pytest.raises(Conflict, match=f"{ref} is already open"):
        _open(sqlite_engine, cert.human_id)
    _do(sqlite_engine, ref, "withdraw", BUYER)
    _open(sqlite_engine, cert.human_id)


def test_staff_may_open_on_behalf_without_order_ref(sqlite_engine: Engine) -> None:
    """Staff open a claim for a buyer who phoned in, even before a sale is recorded; operators may not."""
    cert = make_cert()
    with session_scope(sqlite_engine) as s:
        claim, _ = open_claim(s, STAFF, cert_human_id=cert.human_id, problem="functional_fault")
        assert claim.opened_via == "staff" and claim.opened_by == "sam"
    other = make_cert()
    with session_scope(sqlite_engine) as s, pytest.raises(Forbidden, match="operator"):
        open_claim(s, Actor("op", "operator"), cert_human_id=other.human_id, problem="functional_fault")


# ---------------------------------------------------------------- transitions


def _reinspection(grade: str = "B") -> Reinspection:
    return Reinspection(
        inspection_id="insp-re-1",
        grade=grade,
        photos=["a" * 64],
        defects=[{"kind": "scratch", "region": "back"}],
    )  # type: ignore[list-item]


def test_full_phone_path_with_audit_log(sqlite_engine: Engine) -> None:
    """submitted -> awaiting_item -> received -> reinspected -> approved -> resolved -> closed, all logged."""
    cert = make_cert()
    sell(sqlite_engine, cert)
    ref = _open(sqlite_engine, cert.human_id)
    assert _do(sqlite_engine, ref, "accept") == "awaiting_item"
    assert _do(sqlite_engine, ref, "receive", identity_value=IMEI) == "received"
    assert (
        _do(sqlite_engine, ref, "reinspect", Actor("op", "operator"), reinspection=_reinspection())
        == "reinspected"
    )
    assert _do(sqlite_engine, ref, "approve", SUPERVISOR, outcome="refund", note="screen dead") == "approved"
    assert _do(sqlite_engine, ref, "resolve", note="refund paid") == "resolved"
    assert _do(sqlite_engine, ref, "close") == "closed"
    with session_scope(sqlite_engine) as s:
        from warranty.service import get_claim

        claim = get_claim(s, ref, EVERYTHING)
        assert claim.open_cert is None and claim.payout_minor == 199900 + 1000  # price + shipping
        log = events(s, claim)
        assert [e.action for e in log] == [
            "open",
            "accept",
            "receive",
            "reinspect",
            "approve",
            "resolve",
            "close",
        ]
        assert [e.actor for e in log] == ["buyer", "sam", "sam", "op", "sue", "sam", "sam"]
        assert log[4].reason == "screen dead" and all(e.at is not None for e in log)
        assert log[2].to_state == "received" and log[2].from_state == "awaiting_item"


def test_audit_log_is_append_only_in_the_database(engine: Engine) -> None:
    """Even a direct SQL UPDATE or DELETE of an audit row is refused by the database itself."""
    cert = make_cert()
    sell(engine, cert)
    _open(engine, cert.human_id)
    for sql in ("UPDATE warranty_claim_event SET actor = 'x'", "DELETE FROM warranty_claim_event"):
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text(sql))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT actor FROM warranty_claim_event")).scalar_one() == "buyer"


@pytest.mark.parametrize(
    ("state_path", "action"),
    [
        ([], "receive"),
        ([], "approve"),
        ([], "resolve"),
        ([], "close"),
        ([], "reinspect"),
        (["accept"], "accept"),
        (["accept"], "approve"),
        (["accept", "receive"], "approve"),
        (["accept", "receive"], "withdraw"),
        (["accept", "receive", "reinspect"], "resolve"),
        (["accept", "receive", "reinspect", "approve"], "deny"),
        (["accept", "receive", "reinspect", "approve", "resolve"], "approve"),
        (["withdraw"], "accept"),
    ],
)
def test_illegal_transitions_refused_with_explanation(
    sqlite_engine: Engine, state_path: list[str], action: str
) -> None:
    """Every action outside its allowed states is refused (409), naming the state and what is possible."""
    cert = make_cert()
    sell(sqlite_engine, cert)
    ref = _open(sqlite_engine, cert.human_id)
    args = {
        "receive": {"identity_value": IMEI},
        "reinspect": {"reinspection": _reinspection()},
        "approve": {"outcome": "repair", "note": "ok"},
        "deny": {"reason_code": "water", "note": "wet"},
        "resolve": {"note": "done"},
    }
    for step in state_path:
        _do(sqlite_engine, ref, step, **args.get(step, {}))  # type: ignore[arg-type]
    with pytest.raises(Conflict, match=rf"cannot {action} claim {ref}: it is"):
        _do(sqlite_engine, ref, action, **args.get(action, {}))  # type: ignore[arg-type]


def test_identity_must_match_on_receipt(sqlite_engine: Engine) -> None:
    """A phone whose IMEI differs from the certificate is not accepted; the claim stays awaiting the item."""
    cert = make_cert()
    sell(sqlite_engine, cert)
    ref = _open(sqlite_engine, cert.human_id)
    _do(sqlite_engine, ref, "accept")
    with pytest.raises(Conflict, match=r"identity mismatch: \*+3808"):
        _do(sqlite_engine, ref, "receive", identity_value="356938035643808")
    with pytest.raises(Invalid, match="IMEI"):
        _do(sqlite_engine, ref, "receive", identity_value="  ")
    assert (
        _do(sqlite_engine, ref, "deny", reason_code="identity_mismatch", note="different phone") == "denied"
    )


def test_jewelry_weight_tolerance_and_fake_pays_back_ten_times(sqlite_engine: Engine) -> None:
    """Jewelry is identified by weight within the plan's tolerance; a proven fake refunds 10x the price."""
    cert = make_cert("jewelry")
    sell(sqlite_engine, cert, price=50000)
    ref = _open(sqlite_engine, cert.human_id, problem="authenticity")
    _do(sqlite_engine, ref, "accept")
    with pytest.raises(Conflict, match="weighs 5300 mg"):
        _do(sqlite_engine, ref, "receive", weight_mg=WEIGHT_MG + 70)
    _do(sqlite_engine, ref, "receive", weight_mg=WEIGHT_MG + 15)
    _do(sqlite_engine, ref, "reinspect", reinspection=_reinspection())
    _do(sqlite_engine, ref, "approve", SUPERVISOR, outcome="refund", note="plated brass, not 18K")
    with session_scope(sqlite_engine) as s:
        from warranty.service import get_claim

        assert get_claim(s, ref, EVERYTHING).payout_minor == 50000 * 10 + 1500


def test_deny_needs_plan_reason_code_and_note(sqlite_engine: Engine) -> None:
    """A denial needs a reason code from the claim's plan and a note; decisions need an outcome."""
    cert = make_cert()
    sell(sqlite_engine, cert)
    ref = _open(sqlite_engine, cert.human_id)
    with pytest.raises(Invalid, match="deny reason from plan phone-180"):
        _do(sqlite_engine, ref, "deny", reason_code="authentic", note="x")
    with pytest.raises(Invalid, match="note is required"):
        _do(sqlite_engine, ref, "deny", reason_code="water")
    _do(sqlite_engine, ref, "accept")
    _do(sqlite_engine, ref, "receive", identity_value=IMEI)
    _do(sqlite_engine, ref, "reinspect", reinspection=_reinspection())
    with pytest.raises(Invalid, match="outcome"):
        _do(sqlite_engine, ref, "approve", outcome="cash", note="x")
    assert _do(sqlite_engine, ref, "deny", reason_code="damage_after_sale", note="new crack") == "denied"


def test_decisions_only_by_staff(sqlite_engine: Engine) -> None:
    """Operators may record a re-inspection but never approve or deny; buyers may only withdraw."""
    cert = make_cert()
    sell(sqlite_engine, cert)
    ref = _open(sqlite_engine, cert.human_id)
    for actor in (Actor("op", "operator"), BUYER):
        for action in ("accept", "deny"):
            with pytest.raises(Forbidden):
                _do(sqlite_engine, ref, action, actor, reason_code="water", note="x")


def test_stale_version_is_a_conflict(sqlite_engine: Engine) -> None:
    """Acting on a page loaded before someone else's action is refused instead of overwriting it."""
    cert = make_cert()
    sell(sqlite_engine, cert)
    ref = _open(sqlite_engine, cert.human_id)
    _do(sqlite_engine, ref, "accept", expected_version=1)
    with pytest.raises(Conflict, match="changed by someone else"):
        _do(sqlite_engine, ref, "withdraw", expected_version=1)
