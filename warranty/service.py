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

from inspector.auth.tables import User
from inspector.auth.tenancy import EVERYTHING, Scope, scope_of
from inspector.certificates.page_cache import drop_on_commit
from inspector.eventbus import EventType, publish_in
from inspector.i18n import N_
from warranty.certificate_lookup import CertificateView, identity_matches, lookup
from warranty.coverage import Coverage, coverage_of, plan_for_certificate, sale_for
from warranty.errors import Conflict, Forbidden, Invalid, NotFound
from warranty.evidence import Reinspection
from warranty.messages import Message
from warranty.plans import Plan, PlanError, all_plans, get_plan
from warranty.tables import Claim, ClaimEvent, Sale
from warranty.words import (
    CERTIFICATE_STATUS_WORDS,
    KIND_WORDS,
    PERMISSION_WORDS,
    PROBLEM_WORDS,
    ROLE_WORDS,
    VERB_WORDS,
    state_word,
    states_words,
    word,
)

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
    """One move of the workflow; ``label`` is the English words of its button (a catalogue message)."""

    action: str
    sources: tuple[str, ...]
    target: str
    roles: tuple[str, ...]
    label: str
    needs_note: bool = False


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("accept", ("submitted",), "awaiting_item", STAFF, N_("Accept, ask for the item")),
        Transition("receive", ("awaiting_item",), "received", STAFF, N_("Item received")),
        Transition(
            "reinspect", ("received",), "reinspected", ("operator", *STAFF), N_("Record re-inspection")
        ),
        Transition("approve", ("reinspected",), "approved", STAFF, N_("Approve"), needs_note=True),
        Transition(
            "deny",
            ("submitted", "awaiting_item", "received", "reinspected"),
            "denied",
            STAFF,
            N_("Deny"),
            needs_note=True,
        ),
        Transition("resolve", ("approved", "denied"), "resolved", STAFF, N_("Resolve"), needs_note=True),
        Transition("close", ("resolved",), "closed", STAFF, N_("Close")),
        Transition("withdraw", ("submitted", "awaiting_item"), "closed", ("buyer", *STAFF), N_("Withdraw")),
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


# What the audit log says when staff give no note (English, as stored; pages show it translated).
NOTE_ACCEPTED = N_("accepted; waiting for the item")
NOTE_RECEIVED_IDENTITY = N_("item received; IMEI/serial matches the certificate")
NOTE_RECEIVED_WEIGHT = N_("item received; weight %(weight)s mg matches %(certified)s mg")
NOTE_REINSPECTED = N_("re-inspected: grade %(grade)s, %(count)s defect(s)")
NOTE_WITHDRAWN = N_("withdrawn by the buyer")
NOTE_CLOSED = N_("closed")
NOTES = (
    NOTE_ACCEPTED,
    NOTE_RECEIVED_IDENTITY,
    NOTE_RECEIVED_WEIGHT,
    NOTE_REINSPECTED,
    NOTE_WITHDRAWN,
    NOTE_CLOSED,
)


def unknown_action(action: str) -> Invalid:
    return Invalid(
        N_("unknown action %(action)s; actions: %(actions)s"), action=repr(action), actions=tuple(TRANSITIONS)
    )


def _refuse_from_here(claim: Claim, t: Transition) -> None:
    """409 for a move the claim's state does not allow, saying what is possible instead."""
    nexts = tuple(word(VERB_WORDS, x.action) for x in TRANSITIONS.values() if claim.state in x.sources)
    values = {
        "action": word(VERB_WORDS, t.action),
        "ref": claim.ref,
        "state": state_word(claim.state),
        "sources": states_words(t.sources),
    }
    if nexts:
        raise Conflict(
            N_(
                "cannot %(action)s claim %(ref)s: it is %(state)s; %(action)s is only possible when "
                "%(sources)s. Possible now: %(nexts)s."
            ),
            nexts=nexts,
            **values,
        )
    raise Conflict(
        N_(
            "cannot %(action)s claim %(ref)s: it is %(state)s; %(action)s is only possible when "
            "%(sources)s. The claim is closed."
        ),
        **values,
    )


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user (by role) or the buyer (proved by a secret or order ref).

    ``scope`` is which stations' claims and sales the actor may see (``inspector.auth.tenancy``);
    a buyer reaches one claim through its secret and is not scoped.
    """

    name: str
    role: str
    scope: Scope = EVERYTHING

    @classmethod
    def buyer(cls) -> Actor:
        return cls("buyer", "buyer")

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(str(user.username), str(user.role), scope_of(user))

    def may(self, action: str) -> bool:
        return self.role == "admin" or self.role in ACTION_ROLES[action]


def require(actor: Actor, action: str) -> None:
    if not actor.may(action):
        what = word(PERMISSION_WORDS, action)
        needs = tuple(word(ROLE_WORDS, r) for r in ACTION_ROLES[action])
        if actor.role == "buyer":
            raise Forbidden(N_("a buyer may not %(what)s; it needs: %(needs)s"), what=what, needs=needs)
        raise Forbidden(
            N_("the role %(role)s may not %(what)s; it needs: %(needs)s"),
            role=word(ROLE_WORDS, actor.role),
            what=what,
            needs=needs,
        )


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
            N_("there is no warranty plan with that id; plans: %(plans)s"), plans=tuple(sorted(all_plans()))
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
    cert = _cert(session, cert_human_id, actor.scope)
    order_ref = order_ref.strip()
    if not 1 <= len(order_ref) <= 64:
        raise Invalid(N_("order reference must be 1-64 characters"))
    if not isinstance(price_minor, int) or isinstance(price_minor, bool) or price_minor < 0:
        raise Invalid(N_("price must be a non-negative whole number of minor units (e.g. cents)"))
    if price_minor > MAX_PRICE_MINOR:
        raise Invalid(N_("price must be at most %(most)s minor units"), most=MAX_PRICE_MINOR)
    currency = currency.strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise Invalid(N_("currency must be a 3-letter ISO 4217 code, got %(got)s"), got=repr(currency))
    sold_at = sold_at or now
    if sold_at.tzinfo is None:
        raise Invalid(N_("sale date needs a time zone (use UTC)"))
    if sold_at > now + timedelta(minutes=5):
        raise Invalid(N_("sale date is in the future"))
    if sold_at < cert.issued_at - timedelta(minutes=5):
        raise Invalid(
            N_("sale date is before the certificate was issued (%(issued)s UTC)"),
            issued=f"{cert.issued_at:%Y-%m-%d %H:%M}",
        )
    plan = _sale_plan(plan_id) if plan_id else plan_for_certificate(cert, None)
    if plan.item_kind != cert.item_kind:
        raise Invalid(
            N_("plan %(plan)s covers %(covers)s, the certificate is for %(kind)s"),
            plan=plan.plan_id,
            covers=word(KIND_WORDS, plan.item_kind),
            kind=word(KIND_WORDS, cert.item_kind),
        )
    if sale_for(session, cert.human_id) is not None:
        raise Conflict(N_("a sale is already recorded for certificate %(cert)s"), cert=cert.human_id)
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
        raise Conflict(N_("a sale is already recorded for certificate %(cert)s"), cert=cert.human_id) from exc
    drop_on_commit(session, cert.human_id)  # the verify page counts the warranty from the sale now
    return sale


# --------------------------------------------------------------------------- claims


def _cert(session: Session, human_id: str, scope: Scope) -> CertificateView:
    """The certificate ``human_id``; one of a station outside ``scope`` is not found either."""
    human_id = (human_id or "").strip().upper()
    if not human_id:
        raise Invalid(N_("enter the certificate id printed on the certificate (e.g. from its QR code)"))
    cert = lookup(session, human_id)
    if cert is None or not scope.covers(session, cert.station_id):
        raise NotFound(N_("there is no certificate %(cert)s; check the id on the certificate"), cert=human_id)
    return cert


def problems_for(plan: Plan) -> list[tuple[str, Message]]:
    """The problems a buyer can claim under ``plan`` (code, label)."""
    out = [(c.code, Message(PROBLEM_WORDS.get(c.code, c.text))) for c in plan.covers]
    if plan.return_window_days:
        label = Message(
            N_("Return without a reason (within %(days)s days)"), {"days": plan.return_window_days}
        )
        out.append((NO_REASON_RETURN, label))
    return out


def check_claimable(cov: Coverage, problem: str) -> None:
    if cov.certificate_status != "valid":
        raise Conflict(
            N_("no claim can be opened: certificate %(cert)s is %(status)s"),
            cert=cov.human_id,
            status=word(CERTIFICATE_STATUS_WORDS, cov.certificate_status),
        )
    if not cov.active:
        raise Conflict(N_("no claim can be opened: %(reason)s"), reason=cov.inactive_text)
    codes = tuple(c for c, _ in problems_for(cov.plan))
    if problem not in codes:
        raise Invalid(
            N_("unknown problem %(problem)s; this plan covers: %(codes)s"), problem=repr(problem), codes=codes
        )
    if problem == NO_REASON_RETURN and not cov.return_window_open:
        end = cov.return_window_end
        if end is None:
            raise Conflict(
                N_(
                    "the no-reason return window is not part of this plan; "
                    "you can still claim a covered fault"
                )
            )
        raise Conflict(
            N_("the no-reason return window closed on %(end)s; you can still claim a covered fault"), end=end
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
    cert = _cert(session, cert_human_id, actor.scope)
    sale = sale_for(session, cert.human_id)
    given = _norm_ref(order_ref)
    if actor.role == "buyer" or given:
        if not given:
            raise Invalid(N_("enter the order reference of your purchase"))
        if sale is None:
            raise Forbidden(
                N_(
                    "no sale is recorded for certificate %(cert)s, so the order reference cannot be "
                    "checked; contact the seller's support to open the claim for you"
                ),
                cert=cert.human_id,
            )
        if not hmac.compare_digest(given.encode(), _norm_ref(sale.order_ref).encode()):
            raise Forbidden(N_("the order reference does not match this certificate's sale"))
    cov = coverage_of(cert, sale, now)
    check_claimable(cov, problem)
    if len(description) > 4000:
        raise Invalid(N_("description is too long (4000 characters at most)"))
    existing = session.exec(select(Claim).where(Claim.open_cert == cert.human_id)).first()
    if existing is not None:
        raise Conflict(
            N_(
                "claim %(ref)s is already open for certificate %(cert)s (%(state)s); "
                "only one open claim per certificate"
            ),
            ref=existing.ref,
            cert=cert.human_id,
            state=state_word(existing.state),
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
            N_("another claim was just opened for certificate %(cert)s; only one open claim per certificate"),
            cert=cert.human_id,
        ) from exc
    assert claim.id is not None
    _log(session, claim.id, actor, "open", None, "submitted", description.strip()[:500] or problem, now)
    publish_in(
        session,
        EventType.CLAIM_OPENED,
        ref=claim.ref,
        cert_human_id=claim.cert_human_id,
        state=claim.state,
        station_id=claim.station_id,
    )
    drop_on_commit(session, cert.human_id)  # the verify page shows the certificate's warranty
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


def get_claim(session: Session, ref: str, scope: Scope) -> Claim:
    """The claim ``ref``; a claim of a station outside ``scope`` is "not found" (its existence is
    not confirmed to another seller's staff)."""
    claim = session.exec(
        select(Claim).where(Claim.ref == ref.strip().upper(), scope.stations(Claim.station_id))
    ).first()
    if claim is None:
        raise NotFound(N_("there is no claim %(ref)s"), ref=ref)
    return claim


def claim_by_secret(session: Session, secret: str) -> Claim:
    claim = session.exec(select(Claim).where(Claim.buyer_secret_hash == _hash_secret(secret))).first()
    if claim is None:
        raise NotFound(
            N_("this claim link is not valid; use the link you received when you opened the claim")
        )
    return claim


def find_open_claim(session: Session, cert_human_id: str, scope: Scope) -> Claim | None:
    """The open claim of a certificate (e.g. the one a returned item belongs to), within ``scope``."""
    return session.exec(
        select(Claim).where(
            Claim.open_cert == cert_human_id.strip().upper(), scope.stations(Claim.station_id)
        )
    ).first()


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
        raise unknown_action(action)
    claim = get_claim(session, claim_ref, actor.scope)
    require(actor, action)
    if expected_version is not None and expected_version != claim.version:
        raise Conflict(
            N_("claim %(ref)s was changed by someone else (now %(state)s); reload it and decide again"),
            ref=claim.ref,
            state=state_word(claim.state),
        )
    if claim.state not in t.sources:
        _refuse_from_here(claim, t)
    note = (note or "").strip()
    if t.needs_note and not note:
        raise Invalid(N_("say why: a note is required to %(what)s"), what=word(PERMISSION_WORDS, action))
    plan = get_plan(claim.plan_id)
    changes: dict[str, Any] = {}
    data: dict[str, Any] = {}
    if action == "receive":
        changes, data, note = _receive(session, claim, plan, identity_value, weight_mg, note)
        changes["received_at"] = now
    elif action == "reinspect":
        if reinspection is None:
            raise Invalid(N_("a re-inspection result is required (grade, photos, defects)"))
        changes["reinspection"] = reinspection.model_dump_json()
        data = {"inspection_id": reinspection.inspection_id, "grade": reinspection.grade}
        note = note or NOTE_REINSPECTED % {"grade": reinspection.grade, "count": len(reinspection.defects)}
    elif action == "approve":
        if outcome not in OUTCOMES:
            raise Invalid(N_("choose an outcome: %(outcomes)s"), outcomes=OUTCOMES)
        changes.update(outcome=outcome, decided_at=now)
        payout = _payout(session, claim, plan, outcome)
        if payout is not None:
            changes.update(payout_minor=payout[0], payout_currency=payout[1])
        data = {"outcome": outcome, "payout_minor": changes.get("payout_minor")}
    elif action == "deny":
        if reason_code not in plan.deny_codes:
            raise Invalid(
                N_("choose a deny reason from plan %(plan)s: %(codes)s (got %(got)s)"),
                plan=plan.plan_id,
                codes=plan.deny_codes,
                got=repr(reason_code or ""),
            )
        changes.update(deny_reason=reason_code, decided_at=now)
        data = {"reason_code": reason_code}
    elif action == "resolve":
        changes["resolved_at"] = now
    if t.target == "closed":
        changes.update(open_cert=None, closed_at=now)
        note = note or (NOTE_WITHDRAWN if action == "withdraw" else NOTE_CLOSED)
    if action in ("accept",):
        note = note or NOTE_ACCEPTED
    result = session.execute(
        update(Claim)
        .where(col(Claim.id) == claim.id, col(Claim.version) == claim.version)
        .values(state=t.target, version=claim.version + 1, updated_at=now, **changes)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise Conflict(
            N_("claim %(ref)s was changed by someone else just now; reload it and decide again"),
            ref=claim.ref,
        )
    assert claim.id is not None
    _log(session, claim.id, actor, action, claim.state, t.target, note, now, data)
    publish_in(
        session,
        EventType.CLAIM_CHANGED,
        ref=claim.ref,
        action=action,
        from_state=claim.state,
        state=t.target,
        version=claim.version + 1,
        station_id=claim.station_id,
        cert_human_id=claim.cert_human_id,
    )
    drop_on_commit(session, claim.cert_human_id)
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
    cert = _cert(session, claim.cert_human_id, EVERYTHING)  # the claim itself was found in scope
    if plan.identity.kind == "imei_or_serial":
        value = (identity_value or "").strip()
        if not value:
            raise Invalid(N_("enter the IMEI or serial number of the item received"))
        if not identity_matches(session, cert.human_id, value):
            raise Conflict(
                N_(
                    "identity mismatch: %(given)s is not the IMEI/serial certified on %(cert)s; "
                    "do not accept the item (deny with reason identity_mismatch)"
                ),
                given=mask_identity(value),
                cert=cert.human_id,
            )
        return (
            {"received_identity": mask_identity(value)},
            {"identity": mask_identity(value)},
            (note or NOTE_RECEIVED_IDENTITY),
        )
    if weight_mg is None or weight_mg <= 0:
        raise Invalid(N_("weigh the item and enter its weight in milligrams"))
    certified = cert.weight_mg
    if certified is None:
        raise Conflict(
            N_("certificate %(cert)s states no weight; cannot identify the item by weight"),
            cert=cert.human_id,
        )
    tol = plan.identity.weight_tolerance_mg or 0
    if abs(weight_mg - certified) > tol:
        raise Conflict(
            N_(
                "identity mismatch: the item weighs %(weight)s mg, the certificate states %(certified)s mg "
                "(tolerance %(tolerance)s mg); do not accept the item (deny with reason identity_mismatch)"
            ),
            weight=weight_mg,
            certified=certified,
            tolerance=tol,
        )
    return (
        {"received_weight_mg": weight_mg},
        {"weight_mg": weight_mg, "certified_mg": certified},
        (note or NOTE_RECEIVED_WEIGHT % {"weight": weight_mg, "certified": certified}),
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
            raise Invalid(N_("bad re-inspection: %(problem)s"), problem=str(exc)) from exc
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


def queue(session: Session, f: QueueFilter, scope: Scope) -> tuple[list[Claim], int]:
    """Claims in ``scope`` for the staff queue, oldest first (that is the order work is owed in)."""
    stmt = select(Claim)
    count = select(func.count()).select_from(Claim)
    conds: list[Any] = [scope.stations(Claim.station_id)]
    if f.state in ("", "open"):
        conds.append(col(Claim.open_cert).is_not(None))
    elif f.state != "all":
        if f.state not in STATES:
            raise Invalid(
                N_("unknown state %(state)s; states: %(states)s"), state=repr(f.state), states=STATES
            )
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
