"""Sales and the claim workflow: every rule is enforced here, whoever calls (web, API, CLI).

Concurrency: a transition is one conditional ``UPDATE ... WHERE id = ? AND version = ?``.
Two staff acting on the same claim at once both read version *v*; the database serialises
their updates (row lock on PostgreSQL, the write lock on SQLite), the second one matches no
row and is told someone else acted first. "One open claim per certificate" is a unique index
on ``open_cert`` (NULL once closed), so it also holds under concurrent submissions.
Callers own the transaction: they commit after a successful call and roll back on error.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from warranty.certificate_lookup import CertificateView, identity_matches, lookup
from warranty.coverage import Coverage, coverage_of, plan_for_certificate, sale_for
from warranty.errors import Conflict, Forbidden, Invalid, NotFound
from warranty.evidence import Reinspection
from warranty.plans import Plan, PlanError, all_plans, get_plan
from warranty.tables import Claim, ClaimEvent, Sale

STATES = (
    "submitted",
    "awaiting_item",
    "received",
    "reinspected",
    "approved",
    "denied",
    "resolved",
    "closed",
)
OPEN_STATES = STATES[:-1]
OUTCOMES = ("repair", "replace", "refund")
NO_REASON_RETURN = "no_reason_return"
STAFF = ("staff", "supervisor")


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str
    roles: tuple[str, ...]
    label: str
    needs_note: bool = False


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("accept", ("submitted",), "awaiting_item", STAFF, "Accept, ask for the item"),
        Transition("receive", ("awaiting_item",), "received", STAFF, "Item received"),
        Transition("reinspect", ("received",), "reinspected", ("operator", *STAFF), "Record re-inspection"),
        Transition("approve", ("reinspected",), "approved", STAFF, "Approve", needs_note=True),
        Transition(
            "deny",
            ("submitted", "awaiting_item", "received", "reinspected"),
            "denied",
            STAFF,
            "Deny",
            needs_note=True,
        ),
        Transition("resolve", ("approved", "denied"), "resolved", STAFF, "Resolved", needs_note=True),
        Transition("close", ("resolved",), "closed", STAFF, "Close"),
        Transition("withdraw", ("submitted", "awaiting_item"), "closed", ("buyer", *STAFF), "Withdraw"),
    )
}
# Who may do the non-transition actions (checked by the web layer with the same words).
ACTION_ROLES: dict[str, tuple[str, ...]] = {
    "open": ("buyer", *STAFF),
    "record_sale": STAFF,
    "view_queue": STAFF,
    "view_claim": STAFF,
    "label": STAFF,
    "reports": ("supervisor",),
    **{a: t.roles for a, t in TRANSITIONS.items()},
}


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user (by role) or the buyer (proved by a secret or order ref)."""

    name: str
    role: str

    @classmethod
    def buyer(cls) -> Actor:
        return cls("buyer", "buyer")

    @classmethod
    def of(cls, user: Any) -> Actor:
        return cls(str(user.username), str(user.role))

    def may(self, action: str) -> bool:
        return self.role == "admin" or self.role in ACTION_ROLES[action]


def require(actor: Actor, action: str) -> None:
    if not actor.may(action):
        who = "a buyer" if actor.role == "buyer" else f"role '{actor.role}'"
        needs = ", ".join(ACTION_ROLES[action])
        raise Forbidden(f"{who} may not {action.replace('_', ' ')}; it needs: {needs}")


def _now() -> datetime:
    return datetime.now(UTC)


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _norm_ref(value: str) -> str:
    return "".join(value.split()).upper()


def mask_identity(value: str) -> str:
    value = value.strip()
    return ("*" * max(0, len(value) - 4) + value[-4:])[:64] if value else ""


def _new_ref() -> str:
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    return "WC-" + "".join(secrets.choice(alphabet) for _ in range(8))


# --------------------------------------------------------------------------- sales


# A sale's price times the largest refund multiple (10x for a fake) must still fit the BIGINT
# payout column: 10**15 fen is ten trillion yuan, far above any item, far below 2**63 / 10.
MAX_PRICE_MINOR = 10**15


def _sale_plan(plan_id: str) -> Plan:
    """The plan a sale names; an unknown id is the caller's mistake (422), not a server error."""
    try:
        return get_plan(plan_id)
    except PlanError as exc:
        raise Invalid(
            f"there is no warranty plan with that id; plans: {', '.join(sorted(all_plans()))}"
        ) from exc


def record_sale(
    session: Session,
    actor: Actor,
    *,
    cert_human_id: str,
    order_ref: str,
    price_minor: int,
    currency: str,
    sold_at: datetime | None = None,
    buyer_contact: str = "",
    plan_id: str | None = None,
    now: datetime | None = None,
) -> Sale:
    """Record the sale of a certified item; its coverage then runs from ``sold_at``."""
    require(actor, "record_sale")
    now = now or _now()
    cert = _cert(session, cert_human_id)
    order_ref = order_ref.strip()
    if not 1 <= len(order_ref) <= 64:
        raise Invalid("order reference must be 1-64 characters")
    if not isinstance(price_minor, int) or isinstance(price_minor, bool) or price_minor < 0:
        raise Invalid("price must be a non-negative whole number of minor units (e.g. cents)")
    if price_minor > MAX_PRICE_MINOR:
        raise Invalid(f"price must be at most {MAX_PRICE_MINOR} minor units")
    currency = currency.strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise Invalid(f"currency must be a 3-letter ISO 4217 code, got {currency!r}")
    sold_at = sold_at or now
    if sold_at.tzinfo is None:
        raise Invalid("sale date needs a time zone (use UTC)")
    if sold_at > now + timedelta(minutes=5):
        raise Invalid("sale date is in the future")
    if sold_at < cert.issued_at - timedelta(minutes=5):
        raise Invalid(f"sale date is before the certificate was issued ({cert.issued_at:%Y-%m-%d %H:%M} UTC)")
    plan = _sale_plan(plan_id) if plan_id else plan_for_certificate(cert, None)
    if plan.item_kind != cert.item_kind:
        raise Invalid(f"plan {plan.plan_id} covers {plan.item_kind}, the certificate is for {cert.item_kind}")
    if sale_for(session, cert.human_id) is not None:
        raise Conflict(f"a sale is already recorded for certificate {cert.human_id}")
    sale = Sale(
        cert_human_id=cert.human_id,
        order_ref=order_ref,
        price_minor=price_minor,
        currency=currency,
        sold_at=sold_at,
        buyer_contact=buyer_contact.strip()[:256],
        plan_id=plan.plan_id,
        recorded_by=actor.name,
        created_at=now,
        item_kind=cert.item_kind,
        station_id=cert.station_id,
        grade=cert.grade,
        device_model=cert.device_model[:96],
        grader_version=cert.grader_version[:48],
    )
    session.add(sale)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(f"a sale is already recorded for certificate {cert.human_id}") from exc
    return sale


# --------------------------------------------------------------------------- claims


def _cert(session: Session, human_id: str) -> CertificateView:
    human_id = (human_id or "").strip().upper()
    if not human_id:
        raise Invalid("enter the certificate id printed on the certificate (e.g. from its QR code)")
    cert = lookup(session, human_id)
    if cert is None:
        raise NotFound(f"there is no certificate {human_id}; check the id on the certificate")
    return cert


def problems_for(plan: Plan) -> list[tuple[str, str]]:
    """The problems a buyer can claim under ``plan`` (code, label)."""
    out = [(c.code, c.text) for c in plan.covers]
    if plan.return_window_days:
        out.append((NO_REASON_RETURN, f"Return without a reason (within {plan.return_window_days} days)"))
    return out


def check_claimable(cov: Coverage, problem: str) -> None:
    if cov.certificate_status != "valid":
        raise Conflict(f"no claim can be opened: certificate {cov.human_id} is {cov.certificate_status}")
    if not cov.active:
        raise Conflict(f"no claim can be opened: {cov.inactive_reason}")
    codes = [c for c, _ in problems_for(cov.plan)]
    if problem not in codes:
        raise Invalid(f"unknown problem {problem!r}; this plan covers: {', '.join(codes)}")
    if problem == NO_REASON_RETURN and not cov.return_window_open:
        end = cov.return_window_end
        raise Conflict(
            "the no-reason return window "
            + (f"closed on {end:%Y-%m-%d}" if end else "is not part of this plan")
            + "; you can still claim a covered fault"
        )


def open_claim(
    session: Session,
    actor: Actor,
    *,
    cert_human_id: str,
    order_ref: str = "",
    problem: str,
    description: str = "",
    photos: Sequence[str] = (),
    now: datetime | None = None,
) -> tuple[Claim, str]:
    """Open a claim; returns the claim and the buyer's secret status token (shown once).

    Buyers must give the sale's order reference; staff opening on a buyer's behalf may omit it.
    """
    require(actor, "open")
    now = now or _now()
    cert = _cert(session, cert_human_id)
    sale = sale_for(session, cert.human_id)
    given = _norm_ref(order_ref)
    if actor.role == "buyer" or given:
        if not given:
            raise Invalid("enter the order reference of your purchase")
        if sale is None:
            raise Forbidden(
                f"no sale is recorded for certificate {cert.human_id}, so the order reference cannot be "
                "checked; contact the seller's support to open the claim for you"
            )
        if not hmac.compare_digest(given.encode(), _norm_ref(sale.order_ref).encode()):
            raise Forbidden("the order reference does not match this certificate's sale")
    cov = coverage_of(cert, sale, now)
    check_claimable(cov, problem)
    if len(description) > 4000:
        raise Invalid("description is too long (4000 characters at most)")
    existing = session.exec(select(Claim).where(Claim.open_cert == cert.human_id)).first()
    if existing is not None:
        raise Conflict(
            f"claim {existing.ref} is already open for certificate {cert.human_id} ({existing.state}); "
            "only one open claim per certificate"
        )
    secret = secrets.token_urlsafe(24)
    claim = Claim(
        ref=_new_ref(),
        cert_human_id=cert.human_id,
        open_cert=cert.human_id,
        sale_id=sale.id if sale else None,
        order_ref=sale.order_ref if sale else "",
        plan_id=cov.plan.plan_id,
        item_kind=cert.item_kind,
        station_id=cert.station_id,
        grade=cert.grade,
        device_model=cert.device_model[:96],
        grader_version=cert.grader_version[:48],
        problem=problem,
        description=description.strip(),
        buyer_photos=json.dumps(list(photos)),
        buyer_secret_hash=_hash_secret(secret),
        opened_via="buyer" if actor.role == "buyer" else "staff",
        opened_by=actor.name,
        state="submitted",
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(claim)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(
            f"another claim was just opened for certificate {cert.human_id}; "
            "only one open claim per certificate"
        ) from exc
    assert claim.id is not None
    _log(session, claim.id, actor, "open", None, "submitted", description.strip()[:500] or problem, now)
    return claim, secret


def _log(
    session: Session,
    claim_id: int,
    actor: Actor,
    action: str,
    source: str | None,
    target: str,
    reason: str,
    now: datetime,
    data: dict[str, Any] | None = None,
) -> None:
    session.add(
        ClaimEvent(
            claim_id=claim_id,
            at=now,
            actor=actor.name[:64],
            actor_role=actor.role,
            action=action,
            from_state=source,
            to_state=target,
            reason=reason,
            data=json.dumps(data or {}, sort_keys=True),
        )
    )
    session.flush()


def get_claim(session: Session, ref: str) -> Claim:
    claim = session.exec(select(Claim).where(Claim.ref == ref.strip().upper())).first()
    if claim is None:
        raise NotFound(f"there is no claim {ref}")
    return claim


def claim_by_secret(session: Session, secret: str) -> Claim:
    claim = session.exec(select(Claim).where(Claim.buyer_secret_hash == _hash_secret(secret))).first()
    if claim is None:
        raise NotFound("this claim link is not valid; use the link you received when you opened the claim")
    return claim


def find_open_claim(session: Session, cert_human_id: str) -> Claim | None:
    """The open claim of a certificate (e.g. the one a returned item belongs to)."""
    return session.exec(select(Claim).where(Claim.open_cert == cert_human_id.strip().upper())).first()


def allowed_actions(claim: Claim, actor: Actor) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if claim.state in t.sources and actor.may(t.action)]


def transition(
    session: Session,
    claim_ref: str,
    action: str,
    actor: Actor,
    *,
    expected_version: int | None = None,
    note: str = "",
    outcome: str | None = None,
    reason_code: str | None = None,
    identity_value: str | None = None,
    weight_mg: int | None = None,
    reinspection: Reinspection | None = None,
    now: datetime | None = None,
) -> Claim:
    """Move a claim along its workflow, or refuse with a clear error (409 for illegal moves)."""
    now = now or _now()
    t = TRANSITIONS.get(action)
    if t is None:
        raise Invalid(f"unknown action {action!r}; actions: {', '.join(TRANSITIONS)}")
    claim = get_claim(session, claim_ref)
    require(actor, action)
    if expected_version is not None and expected_version != claim.version:
        raise Conflict(
            f"claim {claim.ref} was changed by someone else (now {claim.state.replace('_', ' ')}); "
            "reload it and decide again"
        )
    if claim.state not in t.sources:
        nexts = [x.action for x in TRANSITIONS.values() if claim.state in x.sources]
        raise Conflict(
            f"cannot {action} claim {claim.ref}: it is {claim.state.replace('_', ' ')}; "
            f"{action} is only possible when {' or '.join(s.replace('_', ' ') for s in t.sources)}. "
            + (f"Possible now: {', '.join(nexts)}." if nexts else "The claim is closed.")
        )
    note = (note or "").strip()
    if t.needs_note and not note:
        raise Invalid(f"say why: a note is required to {action} a claim")
    plan = get_plan(claim.plan_id)
    changes: dict[str, Any] = {}
    data: dict[str, Any] = {}
    if action == "receive":
        changes, data, note = _receive(session, claim, plan, identity_value, weight_mg, note)
        changes["received_at"] = now
    elif action == "reinspect":
        if reinspection is None:
            raise Invalid("a re-inspection result is required (grade, photos, defects)")
        changes["reinspection"] = reinspection.model_dump_json()
        data = {"inspection_id": reinspection.inspection_id, "grade": reinspection.grade}
        note = note or f"re-inspected: grade {reinspection.grade}, {len(reinspection.defects)} defect(s)"
    elif action == "approve":
        if outcome not in OUTCOMES:
            raise Invalid(f"choose an outcome: {', '.join(OUTCOMES)}")
        changes.update(outcome=outcome, decided_at=now)
        payout = _payout(session, claim, plan, outcome)
        if payout is not None:
            changes.update(payout_minor=payout[0], payout_currency=payout[1])
        data = {"outcome": outcome, "payout_minor": changes.get("payout_minor")}
    elif action == "deny":
        if reason_code not in plan.deny_codes:
            raise Invalid(
                f"choose a deny reason from plan {plan.plan_id}: {', '.join(plan.deny_codes)}"
                + (f" (got {reason_code!r})" if reason_code else "")
            )
        changes.update(deny_reason=reason_code, decided_at=now)
        data = {"reason_code": reason_code}
    elif action == "resolve":
        changes["resolved_at"] = now
    if t.target == "closed":
        changes.update(open_cert=None, closed_at=now)
        note = note or ("withdrawn by the buyer" if action == "withdraw" else "closed")
    if action in ("accept",):
        note = note or "accepted; waiting for the item"
    result = session.execute(
        update(Claim)
        .where(col(Claim.id) == claim.id, col(Claim.version) == claim.version)
        .values(state=t.target, version=claim.version + 1, updated_at=now, **changes)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise Conflict(f"claim {claim.ref} was changed by someone else just now; reload it and decide again")
    assert claim.id is not None
    _log(session, claim.id, actor, action, claim.state, t.target, note, now, data)
    session.refresh(claim)
    return claim


def _receive(
    session: Session,
    claim: Claim,
    plan: Plan,
    identity_value: str | None,
    weight_mg: int | None,
    note: str,
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Identity must match the certificate before an item is accepted as the claimed one."""
    cert = _cert(session, claim.cert_human_id)
    if plan.identity.kind == "imei_or_serial":
        value = (identity_value or "").strip()
        if not value:
            raise Invalid("enter the IMEI or serial number of the item received")
        if not identity_matches(session, cert.human_id, value):
            raise Conflict(
                f"identity mismatch: {mask_identity(value)} is not the IMEI/serial certified on "
                f"{cert.human_id}; do not accept the item (deny with reason identity_mismatch)"
            )
        return (
            {"received_identity": mask_identity(value)},
            {"identity": mask_identity(value)},
            (note or "item received; IMEI/serial matches the certificate"),
        )
    if weight_mg is None or weight_mg <= 0:
        raise Invalid("weigh the item and enter its weight in milligrams")
    certified = cert.weight_mg
    if certified is None:
        raise Conflict(f"certificate {cert.human_id} states no weight; cannot identify the item by weight")
    tol = plan.identity.weight_tolerance_mg or 0
    if abs(weight_mg - certified) > tol:
        raise Conflict(
            f"identity mismatch: the item weighs {weight_mg} mg, the certificate states {certified} mg "
            f"(tolerance {tol} mg); do not accept the item (deny with reason identity_mismatch)"
        )
    return (
        {"received_weight_mg": weight_mg},
        {"weight_mg": weight_mg, "certified_mg": certified},
        (note or f"item received; weight {weight_mg} mg matches {certified} mg"),
    )


def _payout(session: Session, claim: Claim, plan: Plan, outcome: str) -> tuple[int, str] | None:
    """Refund amount: the price, times the plan's multiple for a proven fake, plus shipping."""
    if outcome != "refund" or claim.sale_id is None:
        return None
    sale = session.get(Sale, claim.sale_id)
    if sale is None:
        return None
    amount = sale.price_minor
    if claim.problem == "authenticity" and plan.authenticity_multiple:
        amount = sale.price_minor * plan.authenticity_multiple
    comp = plan.return_shipping_compensation
    if comp is not None and comp.currency == sale.currency:
        amount += comp.amount_minor
    return amount, sale.currency


def record_reinspection(
    session: Session,
    claim_ref: str,
    reinspection: Reinspection | dict[str, Any],
    actor: Actor,
    expected_version: int | None = None,
) -> Claim:
    """The station pipeline reports a re-inspection of a received item (see module docs)."""
    if isinstance(reinspection, dict):
        try:
            reinspection = Reinspection.model_validate(reinspection)
        except ValueError as exc:
            raise Invalid(f"bad re-inspection: {exc}") from exc
    return transition(
        session, claim_ref, "reinspect", actor, expected_version=expected_version, reinspection=reinspection
    )


def events(session: Session, claim: Claim) -> list[ClaimEvent]:
    stmt = select(ClaimEvent).where(ClaimEvent.claim_id == claim.id).order_by(col(ClaimEvent.id))
    return list(session.exec(stmt))


# --------------------------------------------------------------------------- queue


@dataclass(frozen=True)
class QueueFilter:
    state: str = ""  # a state, "open" (default: every open state) or "all"
    station: str = ""
    kind: str = ""
    q: str = ""
    limit: int = 50
    offset: int = 0


def queue(session: Session, f: QueueFilter) -> tuple[list[Claim], int]:
    """Claims for the staff queue, oldest first (that is the order work is owed in)."""
    stmt = select(Claim)
    count = select(func.count()).select_from(Claim)
    conds: list[Any] = []
    if f.state in ("", "open"):
        conds.append(col(Claim.open_cert).is_not(None))
    elif f.state != "all":
        if f.state not in STATES:
            raise Invalid(f"unknown state {f.state!r}; states: {', '.join(STATES)}")
        conds.append(col(Claim.state) == f.state)
    if f.station:
        conds.append(col(Claim.station_id) == f.station)
    if f.kind:
        conds.append(col(Claim.item_kind) == f.kind)
    if f.q.strip():
        q = f.q.strip()
        conds.append(
            or_(
                col(Claim.cert_human_id) == q.upper(),
                col(Claim.order_ref) == q,
                col(Claim.ref) == q.upper(),
            )
        )
    for c in conds:
        stmt = stmt.where(c)
        count = count.where(c)
    stmt = stmt.order_by(col(Claim.created_at), col(Claim.id))
    stmt = stmt.limit(max(1, min(f.limit, 500))).offset(max(0, f.offset))
    return list(session.exec(stmt)), int(session.exec(count).one())
