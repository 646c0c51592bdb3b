"""Is what a fault left behind consistent? Read from the database and through the HTTP API.

An inspection is consistent when it is in a recorded state a person can act on (never
``running`` once the station has settled), its steps agree with it, a completed one has
exactly one certificate that verifies and an unfinished one has none, and every photo a step
references is stored intact and served. A claim is consistent when its audit log is an
unbroken chain from ``submitted`` to the claim's state and its version counts the log.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from inspector.certificates.tables import Certificate
from inspector.photostore import PhotoStore, PhotoStoreError
from inspector.station.tables import Inspection, InspectionStep
from warranty.service import STATES
from warranty.tables import Claim, ClaimEvent

INSPECTION_STATES = ("running", "waiting_operator", "interrupted", "completed", "aborted")
STEP_STATES = ("pending", "running", "waiting", "passed", "warning", "failed", "error", "skipped")
DONE_STEP = ("passed", "warning", "failed", "skipped")


def inspection_status(engine: Engine, iid: int) -> str | None:
    with Session(engine) as s:
        insp = s.get(Inspection, iid)
        return insp.status if insp is not None else None


def check_inspection(
    engine: Engine, client: httpx.Client, photos: PhotoStore, station_id: str, iid: int
) -> list[str]:
    """Every way inspection ``iid`` is inconsistent now (empty: consistent)."""
    issues: list[str] = []
    with Session(engine) as s:
        insp = s.get(Inspection, iid)
        if insp is None:
            return [f"inspection {iid} is not in the database"]
        steps = list(
            s.exec(
                select(InspectionStep)
                .where(InspectionStep.inspection_id == iid)
                .order_by(col(InspectionStep.position))
            )
        )
        certs = list(s.exec(select(Certificate).where(Certificate.inspection_id == f"{station_id}:{iid}")))
        status, cert_id, flow_len = insp.status, insp.certificate_id, len(insp.flow)
    if status not in INSPECTION_STATES:
        issues.append(f"unknown status {status!r}")
    if status == "running":
        issues.append("still 'running' after the station settled (no worker is advancing it)")
    if len(steps) != flow_len:
        issues.append(f"{len(steps)} step rows for a flow of {flow_len}")
    by_status: dict[str, int] = {}
    for st in steps:
        by_status[st.status] = by_status.get(st.status, 0) + 1
        if st.status not in STEP_STATES:
            issues.append(f"step {st.key} has unknown status {st.status!r}")
        if st.status in DONE_STEP and st.finished_at is None:
            issues.append(f"step {st.key} is {st.status} without a finish time")
        for photo in (st.result or {}).get("photos") or []:
            issues.extend(_photo_issues(client, photos, st.key, str(photo.get("sha256", ""))))
    if by_status.get("running") and status != "running":
        issues.append(f"a step is 'running' while the inspection is {status}")
    if status == "waiting_operator" and by_status.get("waiting", 0) != 1:
        issues.append(f"waiting for the operator with {by_status.get('waiting', 0)} waiting steps")
    if status == "completed":
        undone = [st.key for st in steps if st.status not in DONE_STEP]
        if undone:
            issues.append(f"completed with unfinished steps {undone}")
        if len(certs) != 1:
            issues.append(f"completed with {len(certs)} certificates (expected exactly one)")
        if not cert_id:
            issues.append("completed without a certificate id")
        elif certs and certs[0].human_id != cert_id:
            issues.append(f"names certificate {cert_id} but its certificate is {certs[0].human_id}")
        else:
            issues.extend(_verify_issues(client, cert_id))
    elif certs or cert_id:
        issues.append(f"{status} but holds certificate(s) {[c.human_id for c in certs] or [cert_id]}")
    try:
        r = client.get(f"/api/station/inspections/{iid}")
        if r.status_code != 200:
            issues.append(f"GET /api/station/inspections/{iid} answered {r.status_code}")
        elif r.json().get("status") != status:
            issues.append(f"the API says {r.json().get('status')!r}, the database {status!r}")
    except httpx.HTTPError as exc:
        issues.append(f"the API did not answer for inspection {iid}: {type(exc).__name__}")
    return issues


def _photo_issues(client: httpx.Client, photos: PhotoStore, step: str, sha: str) -> list[str]:
    try:
        photos.get(sha)
    except PhotoStoreError as exc:
        return [f"step {step} references photo {sha[:12]} which is not stored intact ({exc})"]
    try:
        r = client.get(f"/photos/{sha}")
    except httpx.HTTPError as exc:
        return [f"photo {sha[:12]} of step {step} not served: {type(exc).__name__}"]
    if r.status_code != 200:
        return [f"photo {sha[:12]} of step {step} is stored but served with {r.status_code}"]
    return []


def _verify_issues(client: httpx.Client, cert_id: str) -> list[str]:
    try:
        r = client.get(f"/c/{cert_id}/verify.json")
    except httpx.HTTPError as exc:
        return [f"certificate {cert_id} could not be verified: {type(exc).__name__}"]
    if r.status_code != 200:
        return [f"verify.json of certificate {cert_id} answered {r.status_code}"]
    body: dict[str, Any] = r.json()
    out = []
    if body.get("verdict") != "valid":
        out.append(f"certificate {cert_id} verifies as {body.get('verdict')!r}: {body.get('message')}")
    if not (body.get("transparency") or {}).get("ok"):
        out.append(f"certificate {cert_id} has no verified transparency-log inclusion")
    return out


def check_claim(engine: Engine, staff: httpx.Client, photos: PhotoStore, ref: str) -> list[str]:
    """Every way claim ``ref`` is inconsistent now (empty: consistent)."""
    issues: list[str] = []
    with Session(engine) as s:
        claim = s.exec(select(Claim).where(Claim.ref == ref)).first()
        if claim is None:
            return [f"claim {ref} is not in the database"]
        log = list(
            s.exec(select(ClaimEvent).where(ClaimEvent.claim_id == claim.id).order_by(col(ClaimEvent.id)))
        )
        state, version, open_cert, cert = claim.state, claim.version, claim.open_cert, claim.cert_human_id
        buyer_photos = claim.buyer_photos
    if state not in STATES:
        issues.append(f"unknown state {state!r}")
    if not log:
        issues.append("no audit log at all")
    else:
        if log[0].action != "open" or log[0].from_state is not None or log[0].to_state != "submitted":
            issues.append(f"the log starts with {log[0].action} {log[0].from_state}->{log[0].to_state}")
        for prev, ev in itertools.pairwise(log):
            if ev.from_state != prev.to_state:
                issues.append(f"log gap: {prev.to_state} then {ev.action} from {ev.from_state}")
        if log[-1].to_state != state:
            issues.append(f"state {state} but the log ends in {log[-1].to_state}")
    if version != len(log):
        issues.append(f"version {version} but {len(log)} log entries")
    if (state == "closed") != (open_cert is None) or (open_cert is not None and open_cert != cert):
        issues.append(f"{state} with open_cert {open_cert!r}")
    for sha in json.loads(buyer_photos or "[]"):
        try:
            photos.get(str(sha))
        except PhotoStoreError as exc:
            issues.append(f"buyer photo {str(sha)[:12]} not stored intact ({exc})")
    try:
        r = staff.get(f"/api/warranty/claims/{ref}")
        if r.status_code != 200:
            issues.append(f"GET /api/warranty/claims/{ref} answered {r.status_code}")
        else:
            body = r.json()
            if body.get("state") != state or len(body.get("events", [])) != len(log):
                issues.append(
                    f"the API says {body.get('state')} with {len(body.get('events', []))} events, "
                    f"the database {state} with {len(log)}"
                )
    except httpx.HTTPError as exc:
        issues.append(f"the API did not answer for claim {ref}: {type(exc).__name__}")
    return issues


def all_inspection_ids(engine: Engine) -> list[int]:
    with Session(engine) as s:
        return [i for i in s.exec(select(Inspection.id).order_by(col(Inspection.id))) if i is not None]


def all_claim_refs(engine: Engine) -> list[str]:
    with Session(engine) as s:
        return list(s.exec(select(Claim.ref).order_by(col(Claim.id))))
