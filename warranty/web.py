"""Warranty pages and API: the buyer's claim form and status page, the staff console, reports.

Buyers never sign in: they prove a claim with the certificate id and the order reference, then
follow a secret status link (only its hash is stored). Staff pages use the browser session from
``/auth/login``; the JSON API takes ``Authorization: Bearer``. Every rule is enforced in
``warranty.service``; this module only translates its errors to HTTP (409 for refusals by
state, 403 for roles, 404 unknown, 422 bad input, 413 too large).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel, Field, ValidationError
from sqlmodel import Session
from starlette.datastructures import FormData, UploadFile

from inspector.auth import User, optional_user
from inspector.config import Settings
from inspector.photostore import PhotoStore
from inspector.web.deps import get_session, get_settings_dep
from inspector.web.templating import templates
from warranty.certificate_lookup import lookup
from warranty.coverage import coverage_of, sale_for
from warranty.errors import Forbidden, Invalid, NotFound, TooLarge, WarrantyError
from warranty.evidence import Reinspection, compare_defects, parse_defects
from warranty.plans import get_plan
from warranty.reports import DIMENSIONS, claim_rates, claims_csv, rates_csv, time_to_resolution
from warranty.service import (
    ACTION_ROLES,
    OUTCOMES,
    STATES,
    TRANSITIONS,
    Actor,
    QueueFilter,
    allowed_actions,
    claim_by_secret,
    events,
    find_open_claim,
    get_claim,
    open_claim,
    problems_for,
    queue,
    record_sale,
    require,
    transition,
)
from warranty.tables import Claim, Sale

router = APIRouter(tags=["warranty"])

MAX_CLAIM_PHOTO_BYTES = 8 * 1024 * 1024
MAX_CLAIM_PHOTOS = 4
# Whole request limit, checked from Content-Length before the body is parsed.
MAX_FORM_BYTES = MAX_CLAIM_PHOTOS * MAX_CLAIM_PHOTO_BYTES + 256 * 1024


# --------------------------------------------------------------------------- helpers


def _actor(user: User | None) -> Actor:
    return Actor.of(user) if user is not None else Actor.buyer()


def _api_error(exc: WarrantyError) -> JSONResponse:
    return JSONResponse({"detail": exc.message}, status_code=exc.status)


def _api_actor(user: User | None, action: str) -> Actor:
    """401 for an anonymous caller of a signed-in action; the role check follows in the service."""
    if user is None and "buyer" not in _roles(action):
        raise HTTPException(
            401, "sign in first: send 'Authorization: Bearer <token>' or log in at /auth/login"
        )
    return _actor(user)


def _roles(action: str) -> tuple[str, ...]:
    return ACTION_ROLES[action]


def _page_actor(request: Request, user: User | None, action: str) -> Actor:
    """Staff pages: anonymous visitors are sent to the sign-in page, wrong roles get 403."""
    if user is None:
        raise HTTPException(
            303, "sign in", headers={"Location": f"/auth/login?next={quote(str(request.url.path))}"}
        )
    actor = Actor.of(user)
    require(actor, action)
    return actor


def _page_error(request: Request, exc: WarrantyError, user: User | None = None) -> Response:
    return templates.TemplateResponse(
        request,
        "warranty/error.html",
        {"title": "Not possible", "message": exc.message, "status": exc.status, "user": user},
        status_code=exc.status,
    )


def _money(minor: int | None, currency: str | None) -> str:
    if minor is None:
        return "-"
    return f"{minor / 100:,.2f} {currency or ''}".strip()


templates.env.filters["w_money"] = lambda c: _money(
    getattr(c, "payout_minor", None), getattr(c, "payout_currency", "")
)
templates.env.filters["w_human_state"] = lambda s: (s or "").replace("_", " ")
templates.env.filters["w_ts"] = lambda d: d.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if d else "-"
templates.env.filters["w_day"] = lambda d: d.astimezone(UTC).strftime("%Y-%m-%d") if d else "-"


async def _read_form(request: Request) -> FormData:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_FORM_BYTES:
        raise TooLarge(
            f"the upload is {int(length) / 1e6:.1f} MB; photos may be at most "
            f"{MAX_CLAIM_PHOTO_BYTES // (1024 * 1024)} MB each, {MAX_CLAIM_PHOTOS} photos"
        )
    return await request.form(max_files=MAX_CLAIM_PHOTOS + 8, max_fields=64)


async def _store_photos(form: FormData, field: str, settings: Settings) -> list[str]:
    """Store uploaded photos; refuse (413) any over the limit, and anything that is not an image."""
    files = [f for f in form.getlist(field) if isinstance(f, UploadFile) and f.filename]
    if len(files) > MAX_CLAIM_PHOTOS:
        raise Invalid(f"at most {MAX_CLAIM_PHOTOS} photos")
    blobs: list[bytes] = []
    for f in files:
        data = await f.read(MAX_CLAIM_PHOTO_BYTES + 1)
        if len(data) > MAX_CLAIM_PHOTO_BYTES:
            raise TooLarge(
                f"photo {f.filename!r} is larger than {MAX_CLAIM_PHOTO_BYTES // (1024 * 1024)} MB; "
                "send a smaller photo"
            )
        if not (data.startswith(b"\x89PNG") or data.startswith(b"\xff\xd8") or data[8:12] == b"WEBP"):
            raise Invalid(f"{f.filename!r} is not a JPEG, PNG or WebP photo")
        blobs.append(data)
    store = PhotoStore(settings.data_dir / "photos")
    return [store.put(b) for b in blobs]


def _str(form: FormData, key: str) -> str:
    v = form.get(key)
    return v if isinstance(v, str) else ""


def _int_or_none(value: str, what: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise Invalid(f"{what} must be a whole number, got {value!r}") from exc


# --------------------------------------------------------------------------- public: coverage + claim form


@router.get("/api/warranty/coverage/{human_id}", summary="Public warranty coverage of a certificate")
def api_coverage(human_id: str, session: Session = Depends(get_session)) -> Response:
    cert = lookup(session, human_id)
    if cert is None:
        return JSONResponse({"detail": f"there is no certificate {human_id}"}, status_code=404)
    return JSONResponse(coverage_of(cert, sale_for(session, cert.human_id)).public_dict())


def _claim_form(
    request: Request, session: Session, cert_id: str, *, error: str = "", status: int = 200, form: Any = None
) -> Response:
    cert = lookup(session, cert_id) if cert_id.strip() else None
    cov = coverage_of(cert, sale_for(session, cert.human_id)) if cert else None
    if cert_id.strip() and cert is None and not error:
        error, status = (
            f"There is no certificate {cert_id.strip().upper()}; check the id on the certificate.",
            404,
        )
    return templates.TemplateResponse(
        request,
        "warranty/claim_new.html",
        {
            "title": "Open a warranty claim",
            "cert_id": cert.human_id if cert else cert_id.strip().upper(),
            "cert": cert,
            "cov": cov,
            "problems": problems_for(cov.plan) if cov else [],
            "error": error,
            "form": form or {},
            "max_mb": MAX_CLAIM_PHOTO_BYTES // (1024 * 1024),
            "max_photos": MAX_CLAIM_PHOTOS,
        },
        status_code=status,
    )


@router.get("/claims/new", response_class=HTMLResponse, summary="Buyer: claim form for a certificate")
def claim_new_page(request: Request, cert: str = "", session: Session = Depends(get_session)) -> Response:
    return _claim_form(request, session, cert)


@router.post("/claims/new", response_class=HTMLResponse, summary="Buyer or staff: open a claim")
async def claim_new_submit(
    request: Request,
    session: Session = Depends(get_session),
    settings: Settings = Depends(get_settings_dep),
    user: User | None = Depends(optional_user),
) -> Response:
    cert_id = request.query_params.get("cert", "")
    form: dict[str, str] = {}
    try:
        data = await _read_form(request)
        form = {k: _str(data, k) for k in ("cert", "order_ref", "problem", "description")}
        cert_id = form["cert"] or cert_id
        photos = await _store_photos(data, "photos", settings)
        # The public form always acts as the buyer: staff use the console to open on a buyer's behalf.
        claim, secret = open_claim(
            session,
            Actor.buyer(),
            cert_human_id=cert_id,
            order_ref=form["order_ref"],
            problem=form["problem"],
            description=form["description"],
            photos=photos,
        )
        session.commit()
    except WarrantyError as exc:
        session.rollback()
        return _claim_form(request, session, cert_id, error=exc.message, status=exc.status, form=form)
    del user, claim
    return RedirectResponse(f"/claims/s/{secret}?new=1", status_code=303)


class OpenClaimIn(BaseModel):
    cert: str = Field(max_length=32)
    order_ref: str = Field(default="", max_length=64)
    problem: str = Field(max_length=40)
    description: str = Field(default="", max_length=4000)


@router.post("/api/warranty/claims", status_code=201, summary="Open a claim (buyer with order ref, or staff)")
def api_open_claim(
    body: OpenClaimIn,
    request: Request,
    session: Session = Depends(get_session),
    user: User | None = Depends(optional_user),
) -> Response:
    try:
        claim, secret = open_claim(
            session,
            _actor(user),
            cert_human_id=body.cert,
            order_ref=body.order_ref,
            problem=body.problem,
            description=body.description,
        )
        session.commit()
    except WarrantyError as exc:
        session.rollback()
        return _api_error(exc)
    base = str(request.base_url).rstrip("/")
    return JSONResponse(
        {"ref": claim.ref, "state": claim.state, "status_url": f"{base}/claims/s/{secret}"}, status_code=201
    )


# --------------------------------------------------------------------------- buyer status page


def _public_events(session: Session, claim: Claim) -> list[dict[str, Any]]:
    """The buyer sees what happened and why, not which staff member did it."""
    return [
        {
            "at": e.at,
            "to_state": e.to_state,
            "who": "you" if e.actor_role == "buyer" else ("support" if e.action == "open" else "warehouse"),
            "reason": e.reason if e.action in ("approve", "deny", "resolve", "withdraw") else "",
        }
        for e in events(session, claim)
    ]


@router.get("/claims/s/{secret}", response_class=HTMLResponse, summary="Buyer: claim status (secret link)")
def claim_status_page(request: Request, secret: str, session: Session = Depends(get_session)) -> Response:
    try:
        claim = claim_by_secret(session, secret)
    except WarrantyError as exc:
        return _page_error(request, exc)
    plan = get_plan(claim.plan_id)
    return templates.TemplateResponse(
        request,
        "warranty/claim_status.html",
        {
            "title": f"Claim {claim.ref}",
            "claim": claim,
            "plan": plan,
            "secret": secret,
            "events": _public_events(session, claim),
            "deny_text": plan.deny_text(claim.deny_reason) if claim.deny_reason else "",
            "can_withdraw": claim.state in TRANSITIONS["withdraw"].sources,
            "new": request.query_params.get("new") == "1",
            "steps": [
                "submitted",
                "awaiting_item",
                "received",
                "reinspected",
                "decided",
                "resolved",
                "closed",
            ],
        },
    )


@router.get("/api/warranty/claims/status/{secret}", summary="Buyer: claim status as JSON")
def api_claim_status(secret: str, session: Session = Depends(get_session)) -> Response:
    try:
        claim = claim_by_secret(session, secret)
    except WarrantyError as exc:
        return _api_error(exc)
    return JSONResponse(
        {
            "ref": claim.ref,
            "state": claim.state,
            "outcome": claim.outcome,
            "deny_reason": claim.deny_reason,
            "events": [
                {"at": e["at"].isoformat(), "state": e["to_state"], "reason": e["reason"]}
                for e in _public_events(session, claim)
            ],
        }
    )


@router.post("/claims/s/{secret}/withdraw", summary="Buyer: withdraw a claim")
def claim_withdraw(request: Request, secret: str, session: Session = Depends(get_session)) -> Response:
    try:
        claim = claim_by_secret(session, secret)
        transition(session, claim.ref, "withdraw", Actor.buyer())
        session.commit()
    except WarrantyError as exc:
        session.rollback()
        return _page_error(request, exc)
    return RedirectResponse(f"/claims/s/{secret}", status_code=303)


def _label(request: Request, claim: Claim, back: str) -> Response:
    return templates.TemplateResponse(
        request,
        "warranty/label.html",
        {"title": f"Return label {claim.ref}", "claim": claim, "back": back, "printed": datetime.now(UTC)},
    )


@router.get("/claims/s/{secret}/label", response_class=HTMLResponse, summary="Buyer: printable return label")
def claim_status_label(request: Request, secret: str, session: Session = Depends(get_session)) -> Response:
    try:
        claim = claim_by_secret(session, secret)
    except WarrantyError as exc:
        return _page_error(request, exc)
    return _label(request, claim, f"/claims/s/{secret}")


# --------------------------------------------------------------------------- staff console


def _queue_filter(request: Request) -> QueueFilter:
    qp = request.query_params
    try:
        offset = max(0, int(qp.get("offset", "0") or 0))
    except ValueError:
        offset = 0
    return QueueFilter(
        state=qp.get("state", ""),
        station=qp.get("station", "").strip(),
        kind=qp.get("kind", ""),
        q=qp.get("q", "").strip(),
        offset=offset,
    )


@router.get("/staff/claims", response_class=HTMLResponse, summary="Staff: claim queue")
def staff_queue(
    request: Request, session: Session = Depends(get_session), user: User | None = Depends(optional_user)
) -> Response:
    try:
        _page_actor(request, user, "view_queue")
        f = _queue_filter(request)
        claims, total = queue(session, f)
    except WarrantyError as exc:
        return _page_error(request, exc, user)
    params = {k: v for k, v in request.query_params.items() if k != "offset"}
    return templates.TemplateResponse(
        request,
        "warranty/queue.html",
        {
            "title": "Claim queue",
            "user": user,
            "claims": claims,
            "total": total,
            "f": f,
            "states": STATES,
            "next_url": f"/staff/claims?{urlencode({**params, 'offset': f.offset + f.limit})}"
            if f.offset + f.limit < total
            else "",
            "prev_url": f"/staff/claims?{urlencode({**params, 'offset': max(0, f.offset - f.limit)})}"
            if f.offset
            else "",
            "error": request.query_params.get("error", ""),
        },
    )


@router.post("/staff/claims", summary="Staff: open a claim on a buyer's behalf")
async def staff_open(
    request: Request, session: Session = Depends(get_session), user: User | None = Depends(optional_user)
) -> Response:
    try:
        actor = _page_actor(request, user, "open")
        data = await _read_form(request)
        claim, _secret = open_claim(
            session,
            actor,
            cert_human_id=_str(data, "cert"),
            order_ref=_str(data, "order_ref"),
            problem=_str(data, "problem") or "functional_fault",
            description=_str(data, "description"),
        )
        session.commit()
    except WarrantyError as exc:
        session.rollback()
        return _page_error(request, exc, user)
    return RedirectResponse(f"/staff/claims/{claim.ref}", status_code=303)


def _evidence(session: Session, claim: Claim) -> dict[str, Any]:
    """Original certificate evidence vs re-inspection, with defects labelled new/worse/unchanged."""
    cert = lookup(session, claim.cert_human_id)
    original_defects = parse_defects(cert.defects) if cert else []
    re = Reinspection.model_validate_json(claim.reinspection) if claim.reinspection else None
    diffs = compare_defects(original_defects, re.defects) if re else []
    return {
        "cert": cert,
        "orig_photos": cert.photos if cert else [],
        "orig_defects": original_defects,
        "re": re,
        "diffs": diffs,
        "new_count": sum(1 for d in diffs if d.highlighted),
        "grade_changed": bool(re and cert and re.grade != cert.grade),
    }


def _claim_page(
    request: Request,
    session: Session,
    claim: Claim,
    user: User,
    *,
    error: str = "",
    status: int = 200,
    done: str = "",
) -> Response:
    actor = Actor.of(user)
    plan = get_plan(claim.plan_id)
    sale = session.get(Sale, claim.sale_id) if claim.sale_id else None
    return templates.TemplateResponse(
        request,
        "warranty/claim.html",
        {
            "title": f"Claim {claim.ref}",
            "user": user,
            "claim": claim,
            "plan": plan,
            "sale": sale,
            "events": events(session, claim),
            "actions": allowed_actions(claim, actor),
            "outcomes": OUTCOMES,
            "ev": _evidence(session, claim),
            "buyer_photos": json.loads(claim.buyer_photos or "[]"),
            "error": error,
            "done": done,
            "identity_kind": plan.identity.kind,
        },
        status_code=status,
    )


@router.get("/staff/claims/{ref}", response_class=HTMLResponse, summary="Staff: a claim with its evidence")
def staff_claim(
    request: Request,
    ref: str,
    session: Session = Depends(get_session),
    user: User | None = Depends(optional_user),
) -> Response:
    try:
        _page_actor(request, user, "view_claim")
        claim = get_claim(session, ref)
    except WarrantyError as exc:
        return _page_error(request, exc, user)
    assert user is not None
    return _claim_page(request, session, claim, user, done=request.query_params.get("done", ""))


async def _reinspection_from_form(session: Session, data: FormData, settings: Settings) -> Reinspection:
    """Staff enter a re-inspection by the new certificate's id (its grade, photos and defects are
    taken from it) and/or by hand: grade, defects one per line ``kind region [size_mm]``, photos."""
    new_cert_id = _str(data, "new_cert").strip().upper()
    grade = _str(data, "grade").strip()
    photos = await _store_photos(data, "photos", settings)
    defects: list[dict[str, Any]] = []
    for line in _str(data, "defects").splitlines():
        parts = line.split()
        if not parts:
            continue
        d: dict[str, Any] = {"kind": parts[0][:40], "region": (parts[1] if len(parts) > 1 else "")[:40]}
        if len(parts) > 2:
            try:
                d["size_mm"] = float(parts[2])
            except ValueError as exc:
                raise Invalid(f"defect line {line!r}: size must be a number of millimetres") from exc
        defects.append(d)
    if new_cert_id:
        new = lookup(session, new_cert_id)
        if new is None:
            raise NotFound(f"there is no certificate {new_cert_id} (the re-inspection's certificate)")
        grade = grade or new.grade
        photos = photos or new.photos
        defects = defects or new.defects
    try:
        return Reinspection(
            inspection_id=_str(data, "inspection_id").strip() or (new_cert_id and f"cert:{new_cert_id}"),
            certificate_human_id=new_cert_id,
            grade=grade,
            photos=photos,
            defects=parse_defects(defects),
            notes=_str(data, "note")[:2000],
        )
    except ValidationError as exc:
        raise Invalid("re-inspection needs a grade (or the re-inspection certificate id)") from exc


@router.post("/staff/claims/{ref}/act", response_class=HTMLResponse, summary="Staff: act on a claim")
async def staff_act(
    request: Request,
    ref: str,
    session: Session = Depends(get_session),
    settings: Settings = Depends(get_settings_dep),
    user: User | None = Depends(optional_user),
) -> Response:
    try:
        if user is None:
            _page_actor(request, user, "view_claim")
        assert user is not None
        actor = Actor.of(user)
        data = await _read_form(request)
        action = _str(data, "action")
        claim = get_claim(session, ref)
    except WarrantyError as exc:
        return _page_error(request, exc, user)
    try:
        version = _int_or_none(_str(data, "version"), "version")
        reinspection = (
            await _reinspection_from_form(session, data, settings) if action == "reinspect" else None
        )
        transition(
            session,
            claim.ref,
            action,
            actor,
            expected_version=version,
            note=_str(data, "note"),
            outcome=_str(data, "outcome") or None,
            reason_code=_str(data, "reason_code") or None,
            identity_value=_str(data, "identity_value") or None,
            weight_mg=_int_or_none(_str(data, "weight_mg"), "weight (mg)"),
            reinspection=reinspection,
        )
        session.commit()
    except WarrantyError as exc:
        session.rollback()
        if isinstance(exc, Forbidden):
            return _page_error(request, exc, user)
        fresh = get_claim(session, ref)
        return _claim_page(request, session, fresh, user, error=exc.message, status=exc.status)
    return RedirectResponse(f"/staff/claims/{claim.ref}?done={action}", status_code=303)


@router.get("/staff/claims/{ref}/label", response_class=HTMLResponse, summary="Staff: printable return label")
def staff_label(
    request: Request,
    ref: str,
    session: Session = Depends(get_session),
    user: User | None = Depends(optional_user),
) -> Response:
    try:
        _page_actor(request, user, "label")
        claim = get_claim(session, ref)
    except WarrantyError as exc:
        return _page_error(request, exc, user)
    return _label(request, claim, f"/staff/claims/{claim.ref}")


# --------------------------------------------------------------------------- reports


@router.get("/staff/reports", response_class=HTMLResponse, summary="Supervisor: claim reports")
def staff_reports(
    request: Request, session: Session = Depends(get_session), user: User | None = Depends(optional_user)
) -> Response:
    try:
        _page_actor(request, user, "reports")
    except WarrantyError as exc:
        return _page_error(request, exc, user)
    return templates.TemplateResponse(
        request,
        "warranty/reports.html",
        {
            "title": "Claim reports",
            "user": user,
            "tables": [(dim, label, claim_rates(session, dim)) for dim, label in DIMENSIONS.items()],
            "ttr": [(k or "all", time_to_resolution(session, k)) for k in ("", "phone", "jewelry")],
        },
    )


@router.get("/staff/reports/claims.csv", summary="Supervisor: every claim as CSV")
def staff_claims_csv(
    request: Request, session: Session = Depends(get_session), user: User | None = Depends(optional_user)
) -> Response:
    try:
        _page_actor(request, user, "reports")
    except WarrantyError as exc:
        return _page_error(request, exc, user)
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    return StreamingResponse(
        claims_csv(session),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="claims-{stamp}.csv"'},
    )


@router.get("/staff/reports/rates.csv", summary="Supervisor: claim rates as CSV")
def staff_rates_csv(
    request: Request, session: Session = Depends(get_session), user: User | None = Depends(optional_user)
) -> Response:
    try:
        _page_actor(request, user, "reports")
    except WarrantyError as exc:
        return _page_error(request, exc, user)
    return Response(
        rates_csv(session),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="claim-rates.csv"'},
    )


# --------------------------------------------------------------------------- JSON API for staff and stations


def _claim_json(claim: Claim) -> dict[str, Any]:
    return {
        "ref": claim.ref,
        "cert_human_id": claim.cert_human_id,
        "order_ref": claim.order_ref,
        "state": claim.state,
        "version": claim.version,
        "item_kind": claim.item_kind,
        "station_id": claim.station_id,
        "grade": claim.grade,
        "problem": claim.problem,
        "outcome": claim.outcome,
        "deny_reason": claim.deny_reason,
        "payout_minor": claim.payout_minor,
        "payout_currency": claim.payout_currency,
        "created_at": claim.created_at.isoformat(),
        "updated_at": claim.updated_at.isoformat(),
    }


@router.get("/api/warranty/claims", summary="Staff: claim queue as JSON")
def api_queue(
    request: Request, session: Session = Depends(get_session), user: User | None = Depends(optional_user)
) -> Response:
    try:
        require(_api_actor(user, "view_queue"), "view_queue")
        claims, total = queue(session, _queue_filter(request))
    except WarrantyError as exc:
        return _api_error(exc)
    return JSONResponse({"total": total, "claims": [_claim_json(c) for c in claims]})


@router.get("/api/warranty/claims/{ref}", summary="Staff: one claim with its audit log")
def api_claim(
    ref: str, session: Session = Depends(get_session), user: User | None = Depends(optional_user)
) -> Response:
    try:
        require(_api_actor(user, "view_claim"), "view_claim")
        claim = get_claim(session, ref)
    except WarrantyError as exc:
        return _api_error(exc)
    out = _claim_json(claim)
    out["events"] = [
        {
            "at": e.at.isoformat(),
            "actor": e.actor,
            "role": e.actor_role,
            "action": e.action,
            "from": e.from_state,
            "to": e.to_state,
            "reason": e.reason,
        }
        for e in events(session, claim)
    ]
    return JSONResponse(out)


class TransitionIn(BaseModel):
    action: str = Field(max_length=24)
    version: int | None = None
    note: str = Field(default="", max_length=2000)
    outcome: str | None = None
    reason_code: str | None = None
    identity_value: str | None = Field(default=None, max_length=64)
    weight_mg: int | None = None


@router.post(
    "/api/warranty/claims/{ref}/transitions", summary="Staff: move a claim (409 when not allowed now)"
)
def api_transition(
    ref: str,
    body: TransitionIn,
    session: Session = Depends(get_session),
    user: User | None = Depends(optional_user),
) -> Response:
    try:
        if body.action not in TRANSITIONS:
            raise Invalid(f"unknown action {body.action!r}; actions: {', '.join(TRANSITIONS)}")
        actor = _api_actor(user, body.action)
        if user is None:  # buyers act through their secret link, not this endpoint
            raise HTTPException(401, "sign in first, or use the claim's status link")
        claim = transition(
            session,
            ref,
            body.action,
            actor,
            expected_version=body.version,
            note=body.note,
            outcome=body.outcome,
            reason_code=body.reason_code,
            identity_value=body.identity_value,
            weight_mg=body.weight_mg,
        )
        session.commit()
    except WarrantyError as exc:
        session.rollback()
        return _api_error(exc)
    return JSONResponse(_claim_json(claim))


class ReinspectionIn(Reinspection):
    version: int | None = None


@router.post(
    "/api/warranty/claims/{ref}/reinspection",
    summary="Station pipeline or staff: record the re-inspection of a received item",
)
def api_reinspection(
    ref: str,
    body: ReinspectionIn,
    session: Session = Depends(get_session),
    user: User | None = Depends(optional_user),
) -> Response:
    try:
        actor = _api_actor(user, "reinspect")
        data = body.model_dump(exclude={"version"})
        claim = transition(
            session,
            ref,
            "reinspect",
            actor,
            expected_version=body.version,
            reinspection=Reinspection.model_validate(data),
        )
        session.commit()
    except WarrantyError as exc:
        session.rollback()
        return _api_error(exc)
    return JSONResponse(_claim_json(claim))


@router.post(
    "/api/warranty/certificates/{human_id}/reinspection",
    summary="Station pipeline: record a re-inspection against the original certificate's open claim",
)
def api_reinspection_by_certificate(
    human_id: str,
    body: ReinspectionIn,
    session: Session = Depends(get_session),
    user: User | None = Depends(optional_user),
) -> Response:
    """For a station that re-inspected a returned item and knows only the original certificate
    (its new certificate ``supersedes`` it): finds the certificate's open claim and records it."""
    try:
        actor = _api_actor(user, "reinspect")
        require(actor, "reinspect")
        claim = find_open_claim(session, human_id)
        if claim is None:
            raise NotFound(f"certificate {human_id} has no open claim to record a re-inspection for")
        data = body.model_dump(exclude={"version"})
        claim = transition(
            session,
            claim.ref,
            "reinspect",
            actor,
            expected_version=body.version,
            reinspection=Reinspection.model_validate(data),
        )
        session.commit()
    except WarrantyError as exc:
        session.rollback()
        return _api_error(exc)
    return JSONResponse(_claim_json(claim))


class SaleIn(BaseModel):
    cert: str = Field(max_length=32)
    order_ref: str = Field(max_length=64)
    price_minor: int
    currency: str = Field(max_length=3)
    sold_at: datetime | None = None
    buyer_contact: str = Field(default="", max_length=256)
    plan_id: str | None = None


@router.post("/api/warranty/sales", status_code=201, summary="Staff: record the sale of a certified item")
def api_record_sale(
    body: SaleIn, session: Session = Depends(get_session), user: User | None = Depends(optional_user)
) -> Response:
    try:
        sale = record_sale(
            session,
            _api_actor(user, "record_sale"),
            cert_human_id=body.cert,
            order_ref=body.order_ref,
            price_minor=body.price_minor,
            currency=body.currency,
            sold_at=body.sold_at,
            buyer_contact=body.buyer_contact,
            plan_id=body.plan_id,
        )
        session.commit()
    except WarrantyError as exc:
        session.rollback()
        return _api_error(exc)
    return JSONResponse(
        {"cert": sale.cert_human_id, "order_ref": sale.order_ref, "plan_id": sale.plan_id}, status_code=201
    )
