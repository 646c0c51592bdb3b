"""Helpers for warranty tests: stand-in certificates, sales and users."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from inspector.auth import Role, create_user, issue_token
from inspector.db import session_scope
from warranty.certificate_lookup import CertificateView, register_stub
from warranty.service import Actor, open_claim, record_sale

_ids = itertools.count(1)
IMEI = "356938035643809"
WEIGHT_MG = 5230
STAFF = Actor("sam", "staff")
SUPERVISOR = Actor("sue", "supervisor")


def make_cert(
    kind: str = "phone",
    *,
    issued_days_ago: float = 10,
    status: str = "valid",
    grade: str = "B",
    station: str = "station-1",
    defects: list[dict[str, Any]] | None = None,
    photos: list[str] | None = None,
) -> CertificateView:
    """A certificate as the certificate service would return it."""
    human_id = f"T{next(_ids):07d}"
    cred: dict[str, Any] = {
        "credentialSubject": {
            "item": {"kind": kind, "device_model": "Pixel 7" if kind == "phone" else "Ring 18K"},
            "grading": {"grade": grade, "grader_version": "grader-1.2", "defects": defects or []},
            "photos": [{"sha256": p} for p in (photos or [])],
            "warranty": {"plan_id": "phone-180" if kind == "phone" else "jewelry-authenticity"},
        }
    }
    if kind == "jewelry":
        cred["credentialSubject"]["measurements"] = {"weight_mg": WEIGHT_MG}
    view = CertificateView(
        human_id=human_id,
        item_kind=kind,
        issued_at=datetime.now(UTC) - timedelta(days=issued_days_ago),
        station_id=station,
        grade=grade,
        status=status,
        credential=cred,
        inspection_id=f"insp-{human_id}",
        identity_value=IMEI if kind == "phone" else "",
    )
    register_stub(view)
    return view


def sell(
    engine: Engine,
    cert: CertificateView,
    *,
    days_ago: float = 5,
    order_ref: str = "ORD-1001",
    price: int = 199900,
) -> None:
    with session_scope(engine) as s:
        record_sale(
            s,
            STAFF,
            cert_human_id=cert.human_id,
            order_ref=order_ref,
            price_minor=price,
            currency="CNY",
            sold_at=datetime.now(UTC) - timedelta(days=days_ago),
            buyer_contact="buyer@example.com",
        )


def add_user(engine: Engine, name: str, role: str, password: str = "correct-horse") -> str:
    with session_scope(engine) as s:
        user = create_user(s, name, Role(role), password)
        return issue_token(s, user)


def buyer_claim(
    engine: Engine, cert_id: str, *, order_ref: str = "ORD-1001", problem: str = "functional_fault"
) -> tuple[str, str]:
    """A claim opened by the buyer (committed): its ref and the secret of its status link."""
    with session_scope(engine) as s:
        claim, secret = open_claim(
            s, Actor.buyer(), cert_human_id=cert_id, order_ref=order_ref, problem=problem
        )
        return claim.ref, secret


def phone_photo(crack: bool) -> bytes:
    """A phone back seen from above; the re-inspection photo has a new crack in the lower half."""
    import cv2
    import numpy as np

    img = np.full((500, 400, 3), (225, 228, 232), dtype=np.uint8)
    cv2.rectangle(img, (90, 40), (310, 460), (60, 60, 70), -1)
    cv2.circle(img, (130, 90), 18, (20, 20, 20), -1)
    cv2.line(img, (140, 150), (250, 165), (200, 200, 210), 2)  # the certified light scratch
    if crack:
        pts = [(150, 330), (190, 350), (205, 390), (250, 405), (270, 440)]
        for a, b in itertools.pairwise(pts):
            cv2.line(img, a, b, (235, 235, 240), 3)
    ok, buf = cv2.imencode(".png", img)
    assert ok
    return bytes(buf)
