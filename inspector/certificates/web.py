"""Public certificate pages and JSON: verify page, credential, label, issuer keys, status lists, log.

Everything here is public (buyers never log in) except the admin status actions under
``/api/certificates``. Unknown or mistyped ids get a friendly 404 page, never a traceback.

The verify page and ``verify.json`` are what buyers load most: they are verified and rendered
once and served from this process's ``VerifyCache`` (``inspector.certificates.page_cache``) on
the event loop, with no database session, and carry an ETag and ``Cache-Control`` for CDNs.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from inspector.auth import Role, User, require_roles
from inspector.auth.tenancy import scope_of
from inspector.auth.web import SESSION_COOKIE
from inspector.certificates import humanid
from inspector.certificates.buyer_page import buyer_page
from inspector.certificates.coverage_view import warranty_status
from inspector.certificates.dataintegrity import ProofError, jcs, verify_proof
from inspector.certificates.keys import KeySet, issuer_document
from inspector.certificates.label import label_pdf, label_text
from inspector.certificates.matching import MatchAnswer, MatchState, OrderRefCheck, check_match, no_sales
from inspector.certificates.merkle import leaf_hash, verify_inclusion
from inspector.certificates.page_cache import CachedBody, SingleFlight, VerifyCache, cached_body
from inspector.certificates.service import (
    STATUS_PURPOSES,
    CertificateNotFound,
    CertificateRecord,
    consistency_proof,
    find_row,
    get_certificate,
    home_url,
    inclusion_proof,
    log_entry_for,
    qr_svg,
    reinstate_certificate,
    revoke_certificate,
    signed_tree_head,
    status_list_credential,
    status_stamp,
    suspend_certificate,
    verify_stored,
)
from inspector.certificates.thumbnails import NoThumbnail, thumbnail
from inspector.certificates.verify import VerificationResult
from inspector.config import Settings
from inspector.i18n import translate
from inspector.photostore import PhotoStore, PhotoStoreError
from inspector.ratelimit import client_address
from inspector.web import http_cache
from inspector.web.deps import (
    EngineDep,
    SessionDep,
    SettingsDep,
    get_engine,
    get_station_photos,
)
from inspector.web.language import request_locale, station_locale
from inspector.web.params import MAX_INT32, SafeStr
from inspector.web.responses import body_of, redirect, refusals
from inspector.web.templating import templates

router = APIRouter(tags=["certificates"])


VC_MEDIA = "application/vc+ld+json"
JSON_VARIANT = "verify.json"
# The page's language comes from the ``lang`` cookie, else Accept-Language.
PAGE_VARY = "Accept-Language, Cookie"
# Where a certificate that this server only keeps a copy of is verified (None: here). A station
# enrolled with a platform wires one in (``app.state.certificate_elsewhere``); by default: here.
Elsewhere = Callable[[Session, CertificateRecord], str | None]
ON_PLATFORM = redirect("To the platform's copy, on a station enrolled with a platform (signed for it)")


def _here(_session: Session, _record: CertificateRecord) -> str | None:
    return None


def get_elsewhere(request: Request) -> Elsewhere:
    found: Elsewhere = getattr(request.app.state, "certificate_elsewhere", _here)
    return found


def _sent_on(
    session: Session, record: CertificateRecord, elsewhere: Elsewhere, suffix: str = ""
) -> RedirectResponse | None:
    """303 to the certificate's home when it is verified elsewhere (its signed URL + ``suffix``)."""
    there = elsewhere(session, record)
    return RedirectResponse(there + suffix, status_code=303) if there else None


def _not_found(request: Request, ref: str) -> HTMLResponse:
    typo = humanid.normalize(ref) is None
    title = translate(request_locale(request), "Certificate not found")
    return templates.TemplateResponse(
        request,
        "certificates/not_found.html",
        {"ref": ref[:40], "typo": typo, "title": title},
        status_code=404,
    )


def _json_not_found(ref: str) -> JSONResponse:
    return JSONResponse(
        {"error": "not_found", "detail": f"no certificate {ref[:40]!r}"},
        status_code=404,
        headers={"Cache-Control": http_cache.NOT_KEPT},  # it may be uploaded a second later
    )


def verify_cache(request: Request) -> VerifyCache:
    """This app's verify cache (``create_app`` makes it from the settings)."""
    cache: VerifyCache = request.app.state.verify_cache
    return cache


def _fills(request: Request) -> SingleFlight[CachedBody | Response]:
    fills: SingleFlight[CachedBody | Response] = request.app.state.verify_fills
    return fills


def transparency(session: Session, settings: Settings, record: CertificateRecord) -> dict[str, Any]:
    """Recompute the log leaf from the credential and check its inclusion proof and the STH signature."""
    proof = inclusion_proof(session, record.human_id)
    if proof is None:
        return {"ok": False, "message": "not found in the transparency log"}
    leaf = leaf_hash(jcs(log_entry_for(record.credential)))
    sth = proof["sth"]
    ok = verify_inclusion(
        leaf,
        proof["leaf_index"],
        proof["tree_size"],
        [bytes.fromhex(h) for h in proof["audit_path"]],
        bytes.fromhex(sth["root_hash"]),
    )
    try:
        verify_proof(sth, KeySet.from_db(session, settings).resolver(allow_root=True))
    except (ProofError, ValueError):
        ok = False
    return {
        "ok": ok,
        "leaf_index": proof["leaf_index"],
        "tree_size": proof["tree_size"],
        "root_hash": sth["root_hash"],
        "timestamp": sth["timestamp"],
        "message": "inclusion proof verified against the signed tree head"
        if ok
        else "inclusion proof FAILED",
    }


def _page(
    request: Request, session: Session, settings: Settings, ref: str, match: MatchAnswer | None = None
) -> HTMLResponse:
    record = get_certificate(session, ref)
    if record is None:
        return _not_found(request, ref)
    result = verify_stored(session, settings, record.human_id)
    assert result is not None
    session.commit()  # the first visit may register the issuer root key
    url = home_url(settings, record)
    locale = request_locale(request)
    log = transparency(session, settings, record)
    pretty = humanid.pretty(record.human_id)
    return templates.TemplateResponse(
        request,
        "certificates/verify.html",
        {
            "title": translate(locale, "Certificate %(id)s", id=pretty),
            "record": record,
            "page": buyer_page(record, result, log, locale),
            "s": record.credential.get("credentialSubject", {}),
            "pretty_id": pretty,
            "issuer": record.credential.get("issuer", {}),
            "warranty": warranty_status(session, record),
            "log": log,
            "qr": qr_svg(url, scale=3),
            "url": url,
            "match": match,
            "retry_in": match.retry_in(locale) if match is not None else "",
        },
    )


@router.get("/issuer", summary="Issuer keys document (signed by the root key)")
@router.get("/.well-known/inspector-issuer.json", include_in_schema=False)
def get_issuer(session: SessionDep, settings: SettingsDep) -> Response:
    doc = issuer_document(session, settings)
    session.commit()
    return JSONResponse(doc, headers={"Cache-Control": "public, max-age=60"})


@router.get(
    "/status/{purpose}/{list_no}",
    summary="Signed Bitstring Status List credential",
    responses={**body_of(VC_MEDIA), **refusals(404)},
)
def get_status_list(
    purpose: str,
    list_no: int,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    if purpose not in STATUS_PURPOSES or not 1 <= list_no <= MAX_INT32:
        raise CertificateNotFound("no such status list")
    doc = status_list_credential(session, settings, purpose, list_no)
    session.commit()
    return JSONResponse(doc, media_type=VC_MEDIA, headers={"Cache-Control": "no-cache"})


@router.get("/log/sth", summary="Latest signed tree head of the transparency log", responses=refusals(404))
def get_sth(session: SessionDep) -> Response:
    sth = signed_tree_head(session)
    if sth is None:
        raise CertificateNotFound("the log is empty")
    return JSONResponse(sth)


@router.get("/log/sth/{size}", summary="Signed tree head for a given tree size", responses=refusals(404))
def get_sth_at(size: int, session: SessionDep) -> Response:
    sth = signed_tree_head(session, size) if 0 < size <= MAX_INT32 else None
    if sth is None:
        raise CertificateNotFound(f"no tree head of size {size}")
    return JSONResponse(sth)


@router.get(
    "/log/proof/{ref}", summary="Inclusion proof of a certificate in the log", responses=refusals(400, 404)
)
def get_inclusion(ref: str, session: SessionDep, tree_size: int | None = None) -> Response:
    hid = humanid.normalize(ref)
    proof = inclusion_proof(session, hid, tree_size) if hid else None
    if proof is None:
        raise CertificateNotFound("no such certificate in the log")
    return JSONResponse(proof)


@router.get("/log/consistency", summary="Consistency proof between two tree sizes", responses=refusals(400))
def get_consistency(first: int, second: int, session: SessionDep) -> Response:
    return JSONResponse(consistency_proof(session, first, second))


@router.get("/c/", include_in_schema=False)
def lookup(q: str = "") -> Response:
    """The not-found page's look-up form without JavaScript."""
    return RedirectResponse(f"/c/{quote(q.strip()[:40], safe='')}", status_code=303)


@router.get(
    "/c/{ref}.json",
    summary="The certificate as a W3C Verifiable Credential",
    responses={**body_of(VC_MEDIA), **ON_PLATFORM, **refusals(404)},
)
def get_credential(ref: str, session: SessionDep, elsewhere: Elsewhere = Depends(get_elsewhere)) -> Response:
    record = get_certificate(session, ref)
    if record is None:
        return _json_not_found(ref)
    if moved := _sent_on(session, record, elsewhere, ".json"):
        return moved
    return JSONResponse(record.credential, media_type=VC_MEDIA)


@router.get(
    "/c/{ref}/verify.json",
    summary="Verification result (signature, key, status, log)",
    responses={**ON_PLATFORM, **refusals(404)},
)
async def get_verification(ref: str, request: Request) -> Response:
    hid = humanid.normalize(ref)
    if hid is None:
        return _json_not_found(ref)
    made = await _through_cache(request, hid, JSON_VARIANT, lambda: _fill_verification(request, ref))
    return made if isinstance(made, Response) else _kept(request, made)


Fill = Callable[[], CachedBody | Response]


async def _through_cache(request: Request, hid: str, variant: str, fill: Fill) -> CachedBody | Response:
    """The kept entry (checked again in the background once past its max age), else one fill."""
    found, fresh = verify_cache(request).lookup(hid, variant)
    if found is None:
        return await _fills(request).run((hid, variant), lambda: run_in_threadpool(fill))
    if not fresh:
        kept = found
        _fills(request).refresh(
            (hid, variant), lambda: run_in_threadpool(_check_again, request, hid, variant, kept, fill)
        )
    return found


# What else a kept verify page shows that can change, in a query or two; a platform or station
# wires in its warranty's (``app.state.verify_stamp``): its sale date and plan.
ExtraStamp = Callable[[Session, str], Hashable]


def _no_extra(_session: Session, _human_id: str) -> Hashable:
    return None


def _stamp(request: Request, session: Session, human_id: str) -> Hashable:
    """The state a kept page shows that can change while it is kept (status, keys, sale); the
    warranty days left and the log's size change with time and are caught by the full refill."""
    extra: ExtraStamp = getattr(request.app.state, "verify_stamp", _no_extra)
    return (status_stamp(session, human_id), extra(session, human_id))


def _check_again(
    request: Request, hid: str, variant: str, kept: CachedBody, fill: Fill
) -> CachedBody | Response:
    """Keep ``kept`` if its stamp still holds (a few queries), else verify and render again."""
    cache = verify_cache(request)
    generation = cache.generation
    if not cache.needs_refill(kept):
        with Session(get_engine(request)) as session:
            if _stamp(request, session, hid) == kept.stamp:
                return cache.confirm(hid, variant, kept, generation)
    return fill()


def _fill_verification(request: Request, ref: str) -> CachedBody | Response:
    """Verify once (in a worker thread, with its own session) and keep the JSON."""
    cache = verify_cache(request)
    generation = cache.generation
    settings: Settings = request.app.state.settings
    with Session(get_engine(request)) as session:
        record = get_certificate(session, ref)
        if record is None:
            return _json_not_found(ref)
        if moved := _sent_on(session, record, get_elsewhere(request), "/verify.json"):
            return moved
        result: VerificationResult | None = verify_stored(session, settings, record.human_id)
        assert result is not None
        body = result.as_dict()
        body["status"] = record.status
        body["status_reason"] = record.status_reason
        body["transparency"] = transparency(session, settings, record)
        stamp = _stamp(request, session, record.human_id)
        session.commit()
    made = cached_body(bytes(JSONResponse(body).body), "application/json", stamp)
    cache.put(record.human_id, JSON_VARIANT, made, generation)
    return made


@router.get(
    "/c/{ref}/qr.svg",
    summary="QR code of the certificate URL",
    responses={**body_of("image/svg+xml"), **refusals(404)},
)
def get_qr(ref: str, session: SessionDep, settings: SettingsDep) -> Response:
    record = get_certificate(session, ref)
    if record is None:
        raise CertificateNotFound("no such certificate")
    svg = qr_svg(home_url(settings, record), scale=8)
    # A standalone document needs the SVG namespace, or <img src> (the stream overlay) shows nothing.
    svg = svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})


@router.get(
    "/c/{ref}/photos/{index}/thumb.jpg",
    summary="A small copy of one of the certificate's photos (its defects outlined, when marked)",
    responses={**body_of("image/jpeg"), **refusals(404)},
)
def get_thumbnail(
    ref: str,
    index: int,
    session: SessionDep,
    store: PhotoStore = Depends(get_station_photos),
) -> Response:
    record = get_certificate(session, ref)
    photos = record.credential.get("credentialSubject", {}).get("photos", []) if record else []
    if not 0 <= index < len(photos) or not isinstance(photos[index], dict):
        raise CertificateNotFound("no such photo on this certificate")
    digest = str(photos[index].get("overlay_sha256") or photos[index].get("sha256", ""))
    try:
        data = thumbnail(store, digest)
    except (PhotoStoreError, NoThumbnail) as exc:
        raise CertificateNotFound(str(exc)) from exc
    headers = {"Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"}
    return Response(data, media_type="image/jpeg", headers=headers)


@router.get(
    "/c/{ref}/label",
    response_class=HTMLResponse,
    summary="Printable parcel label",
    responses={**ON_PLATFORM, **refusals(404, html=True)},
)
def get_label(
    ref: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    elsewhere: Elsewhere = Depends(get_elsewhere),
) -> Response:
    record = get_certificate(session, ref)
    if record is None:
        return _not_found(request, ref)
    if moved := _sent_on(session, record, elsewhere, "/label"):
        return moved
    url = home_url(settings, record)
    locale = station_locale(request)  # printed for whoever holds the parcel
    text = label_text(record, url, locale, settings.zone)
    return templates.TemplateResponse(
        request,
        "certificates/label.html",
        {
            "title": f"{text.heading} {text.pretty_id}",
            "locale": locale,
            "record": record,
            "label": text,
            "qr": qr_svg(url, scale=6),
            "url": url,
        },
    )


@router.get(
    "/c/{ref}/label.pdf",
    summary="Printable parcel label as PDF (62 x 100 mm)",
    responses={**body_of("application/pdf"), **ON_PLATFORM, **refusals(404, 503, html=True)},
)
def get_label_pdf(
    ref: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    elsewhere: Elsewhere = Depends(get_elsewhere),
) -> Response:
    record = get_certificate(session, ref)
    if record is None:
        return _not_found(request, ref)
    if moved := _sent_on(session, record, elsewhere, "/label.pdf"):
        return moved
    pdf = label_pdf(record, home_url(settings, record), station_locale(request), settings.zone)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="label-{record.human_id}.pdf"'},
    )


@router.get(
    "/c/{ref}",
    response_class=HTMLResponse,
    summary="Public verify page",
    # 303: an id that is only a line break reaches the look-up form's route (Starlette's "$")
    responses={**redirect(), **refusals(404, html=True)},
)
async def get_page(ref: str, request: Request) -> Response:
    hid = humanid.normalize(ref)
    if hid is None:
        return _not_found(request, ref)
    if SESSION_COOKIE in request.cookies:  # signed in: the page carries this reader's CSRF token
        made = await run_in_threadpool(_fill_page, request, ref, None)
        if isinstance(made, Response):
            return made
        return _personal(made)
    # The language links lead back to the path as typed: part of the key. A query string (which
    # they carry too) is rendered each time, so made-up queries cannot push real pages out.
    if request.url.query:
        made = await run_in_threadpool(_fill_page, request, ref, None)
        return made if isinstance(made, Response) else _kept(request, made, vary=PAGE_VARY)
    variant = f"page:{request_locale(request).tag}:{request.url.path}"
    made = await _through_cache(request, hid, variant, lambda: _fill_page(request, ref, variant))
    return made if isinstance(made, Response) else _kept(request, made, vary=PAGE_VARY)


def _fill_page(request: Request, ref: str, variant: str | None) -> CachedBody | Response:
    """Verify and render once (in a worker thread); kept as ``variant`` unless that is None."""
    cache = verify_cache(request)
    generation = cache.generation
    with Session(get_engine(request)) as session:
        record = get_certificate(session, ref)
        if record is not None and (moved := _sent_on(session, record, get_elsewhere(request))):
            return moved
        page = _page(request, session, request.app.state.settings, ref)
        stamp = _stamp(request, session, record.human_id) if record is not None else None
    if record is None or page.status_code != 200:
        page.headers["Cache-Control"] = http_cache.NOT_KEPT
        return page
    made = cached_body(bytes(page.body), "text/html", stamp)
    if variant is not None:
        cache.put(record.human_id, variant, made, generation)
    return made


def _kept(request: Request, made: CachedBody, vary: str | None = None) -> Response:
    """A public response from the cache: 304 when the client holds these bytes already."""
    settings: Settings = request.app.state.settings
    headers = {
        "ETag": made.etag,
        "Cache-Control": http_cache.public(
            settings.verify_cache_max_age_s, settings.verify_stale_while_revalidate_s
        ),
    }
    if vary:
        headers["Vary"] = vary
    if http_cache.none_match(request.headers.get("if-none-match"), made.etag):
        return Response(status_code=304, headers=headers)
    return Response(made.body, media_type=made.media_type, headers=headers)


def _personal(made: CachedBody) -> Response:
    headers = {"Cache-Control": http_cache.PERSONAL, "Vary": PAGE_VARY}
    return Response(made.body, media_type=made.media_type, headers=headers)


def get_order_ref_check(request: Request) -> OrderRefCheck:
    """The sales register's order-reference check, as the app was wired (none: nothing proven)."""
    check: OrderRefCheck = getattr(request.app.state, "order_ref_matches", no_sales)
    return check


@router.post(
    "/c/{ref}/match",
    response_class=HTMLResponse,
    summary="Does the item in hand match?",
    responses={**ON_PLATFORM, **refusals(404, 429, 503, html=True)},
)
def post_match(
    ref: str,
    request: Request,
    session: SessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    value: Annotated[SafeStr, Form()] = "",
    order_ref: Annotated[SafeStr, Form()] = "",
    order_ref_matches: OrderRefCheck = Depends(get_order_ref_check),
    elsewhere: Elsewhere = Depends(get_elsewhere),
) -> Response:
    """Answers match / no match; 429 with when to try again once a limit is reached."""
    found = get_certificate(session, ref)
    if found is not None and (moved := _sent_on(session, found, elsewhere)):
        return moved  # the platform's page, where the buyer can ask again
    record, answer = check_match(
        engine,
        session,
        settings,
        ref=ref,
        value=value,
        order_ref=order_ref,
        client=client_address(request),
        order_ref_matches=order_ref_matches,
    )
    if record is None:
        return _not_found(request, ref)
    page = _page(request, session, settings, record.human_id, match=answer)
    if answer.state in (MatchState.limited, MatchState.limited_cert):
        page.status_code = 429
        page.headers["Retry-After"] = str(answer.retry_after_s)
    elif answer.state is MatchState.unavailable:
        page.status_code = 503
    return page


class StatusAction(BaseModel):
    reason: str = ""


@router.post(
    "/api/certificates/{ref}/{action}",
    summary="Revoke, suspend or reinstate (supervisor/admin)",
    responses=refusals(400, 401, 403, 404, 409),
)
def post_status(
    ref: str,
    action: str,
    body: StatusAction,
    session: SessionDep,
    user: User = Depends(require_roles(Role.supervisor, Role.admin)),
) -> Response:
    actions = {
        "revoke": revoke_certificate,
        "suspend": suspend_certificate,
        "reinstate": reinstate_certificate,
    }
    if action not in actions:
        raise CertificateNotFound(f"unknown action {action!r}; use revoke, suspend or reinstate")
    row = find_row(session, ref)
    if row is not None and not scope_of(user).covers(session, row.station_id):
        raise CertificateNotFound(f"no certificate {ref!r}")  # another seller's: as if there were none
    record = actions[action](session, ref, body.reason)
    session.commit()
    return JSONResponse(
        {"human_id": record.human_id, "status": record.status, "reason": record.status_reason}
    )
