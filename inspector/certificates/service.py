"""Issuing, looking up, revoking and logging certificates (see the package docstring for the API)."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, text
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from inspector.certificates import humanid
from inspector.certificates.dataintegrity import add_proof, jcs, utc_timestamp
from inspector.certificates.encoding import NotIJSONError, loads_ijson
from inspector.certificates.errors import CertificatesError
from inspector.certificates.identity import (
    bind_keys_dir,
    bound_keys_dir,
    hashes_match,
    identity_key,
    is_keyed,
    normalize_identifier,
    public_identity,
)
from inspector.certificates.keys import (
    ISSUER_NAME,
    VC_CONTEXT,
    KeySet,
    find_key,
    issuer_id,
    issuer_id_at,
    keys_dir,
    root_key,
    station_signing_key,
    verification_method,
)
from inspector.certificates.merkle import MerkleTree, leaf_hash
from inspector.certificates.page_cache import drop_on_commit
from inspector.certificates.statuslist import LIST_SIZE, encode_list
from inspector.certificates.tables import Certificate, LogLeaf, SigningKey, TreeHead
from inspector.certificates.verify import Verdict, VerificationResult, verify_credential
from inspector.config import Settings, get_settings
from inspector.eventbus import EventType, publish_in
from inspector.refusal import Refused

CHECK_STATUSES = ("pass", "fail", "unknown", "skipped")
STATUS_PURPOSES = ("revocation", "suspension")
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


class CertificateError(CertificatesError):
    """A certificate request or action that cannot be carried out; the message says why."""


class CertificateNotFound(CertificateError, Refused):
    """No such certificate (or status list, tree head, photo of one): answered 404."""

    status = 404
    code = "not_found"


class LogRangeRefused(CertificateError, Refused):
    """A tree size the transparency log cannot prove against: answered 400."""

    status = 400
    code = "bad_tree_size"


class StatusChangeRefused(CertificateError, Refused):
    """A revoke, suspend or reinstate the certificate's current status does not allow: answered 409."""

    status = 409
    code = "status_change_refused"


@dataclass
class CertificateRequest:
    """What the inspection pipeline hands over when an inspection finishes.

    Every value is signed as-is, so numbers must be integers in stated units (``weight_mg``,
    ``scratch_depth_um``) or strings: floats are refused because JCS rewrites them.
    """

    inspection_id: str
    item_kind: Literal["phone", "jewelry"]
    identity: dict[
        str, Any
    ]  # phone: make, model, storage_gb, imeis, serial; jewelry: weight_mg, metal, hallmark, stones
    checks: list[dict[str, Any]]  # {name, status: pass|fail|unknown|skipped, detail, by, at}
    grade: dict[str, Any]  # {grade, scale, reasons: [str], measurements: {name: int|str}}
    photos: list[dict[str, Any]]  # {sha256, role, overlay_sha256?}
    station_id: str
    operator: str
    model_versions: dict[str, str] = field(default_factory=dict)
    warranty: dict[str, Any] = field(default_factory=dict)  # {plan_id, days}
    supersedes: str | None = None  # human id of the certificate this re-inspection relates to


@dataclass(frozen=True)
class Signer:
    """Who signs a new certificate for which issuer, when it is not this database's own issuer.

    A station enrolled with a platform signs with its own key (certified by the platform's root)
    for the platform at ``base_url``: the certificate's URL, issuer and status lists are the
    platform's, the status slot is taken from the lists the platform set aside for the station,
    and the platform (not this database) logs it when it arrives.
    """

    base_url: str
    fingerprint: str
    private_key: Ed25519PrivateKey
    status_lists: range


@dataclass(frozen=True)
class IssuedCertificate:
    human_id: str
    url: str
    credential: dict[str, Any]


@dataclass(frozen=True)
class CertificateRecord:
    human_id: str
    inspection_id: str
    item_kind: str
    issued_at: datetime  # aware, UTC
    station_id: str
    grade: dict[str, Any]
    status: Literal["valid", "revoked", "suspended"]
    status_reason: str
    key_status: Literal["active", "retired", "revoked"]
    credential: dict[str, Any]
    warranty: dict[str, Any]
    supersedes: str | None
    log_index: int | None


def _now() -> datetime:
    return datetime.now(UTC)


def certificate_url(settings: Settings, human_id: str) -> str:
    """Public verify page URL, as printed on labels and shown in the stream's QR code."""
    return _url_at(settings.public_base_url, human_id)


def _url_at(base_url: str, human_id: str) -> str:
    return f"{base_url.rstrip('/')}/c/{human_id}"


def home_url(settings: Settings, record: CertificateRecord) -> str:
    """Where the certificate says it is verified: its signed ``id`` (an enrolled station's
    certificates live on the platform), else this server's verify page."""
    signed = record.credential.get("id")
    if isinstance(signed, str) and signed.startswith(("https://", "http://")):
        return signed
    return certificate_url(settings, record.human_id)


def qr_svg(url: str, *, scale: int = 4, dark: str = "#000", light: str | None = "#fff") -> str:
    """An inline SVG QR code (error correction M) for ``url``; safe to embed in HTML."""
    qr = segno.make(url, error="m", micro=False)
    width, height = qr.symbol_size(scale=scale)
    svg = str(qr.svg_inline(scale=scale, dark=dark, light=light, omitsize=True))
    # viewBox (scales cleanly when CSS resizes it) plus a natural size for plain embedding
    return svg.replace("<svg ", f'<svg width="{width}" height="{height}" ', 1)


# ---------------------------------------------------------------- validation of the request


def _check_json(value: Any, path: str) -> None:
    if isinstance(value, float):
        raise CertificateError(
            f"{path} is a float ({value!r}); sign measured values as integers in stated units "
            "(e.g. micrometres, milligrams) or as strings"
        )
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise CertificateError(f"{path} has a non-string key {k!r}")
            _check_json(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_json(v, f"{path}[{i}]")
    elif not (value is None or isinstance(value, str | int | bool)):
        raise CertificateError(f"{path} has an unsupported type {type(value).__name__}")


def _validate(req: CertificateRequest) -> None:
    if req.item_kind not in ("phone", "jewelry"):
        raise CertificateError(f"item_kind must be 'phone' or 'jewelry', not {req.item_kind!r}")
    for name in ("inspection_id", "station_id", "operator"):
        val = getattr(req, name)
        if not isinstance(val, str) or not val.strip():
            raise CertificateError(f"{name} is required")
    for name in ("identity", "grade", "warranty", "model_versions"):
        if not isinstance(getattr(req, name), dict):
            raise CertificateError(f"{name} must be an object")
    for name in ("checks", "photos"):
        if not isinstance(getattr(req, name), list):
            raise CertificateError(f"{name} must be a list")
    for name in ("identity", "checks", "grade", "photos", "model_versions", "warranty"):
        _check_json(getattr(req, name), name)
    ident = req.identity
    if req.item_kind == "phone":
        if not ident.get("make") or not ident.get("model"):
            raise CertificateError("phone identity needs make and model")
        imeis = ident.get("imeis", [])
        if not isinstance(imeis, list) or not all(isinstance(i, str) for i in imeis):
            raise CertificateError("identity.imeis must be a list of strings")
        if not imeis and not ident.get("serial"):
            raise CertificateError("phone identity needs at least one IMEI or a serial number")
    else:
        if not isinstance(ident.get("weight_mg"), int) or isinstance(ident.get("weight_mg"), bool):
            raise CertificateError("jewelry identity needs weight_mg as an integer (milligrams)")
    for i, check in enumerate(req.checks):
        if not isinstance(check, dict) or not check.get("name"):
            raise CertificateError(f"checks[{i}] needs a name")
        if check.get("status") not in CHECK_STATUSES:
            raise CertificateError(f"checks[{i}].status must be one of {', '.join(CHECK_STATUSES)}")
    if "grade" not in req.grade:
        raise CertificateError("grade.grade is required")
    for i, photo in enumerate(req.photos):
        for key in ("sha256", "overlay_sha256"):
            if key in photo and not (isinstance(photo[key], str) and _SHA256_HEX.match(photo[key])):
                raise CertificateError(f"photos[{i}].{key} must be a lowercase SHA-256 hex digest")
        if "sha256" not in photo:
            raise CertificateError(f"photos[{i}].sha256 is required")
    days = req.warranty.get("days", 0)
    if not isinstance(days, int) or isinstance(days, bool) or days < 0:
        raise CertificateError("warranty.days must be a non-negative integer")


# ---------------------------------------------------------------- identity hashing


def _identity_key(session: Session, settings: Settings | None) -> bytes:
    """The identity key from the keys directory of ``settings`` (or the one bound to this database).

    Callers without settings (the warranty desk's identity check) get the directory that an app
    or an issuing call bound to the same database, else the configured data directory's.
    """
    if settings is not None:
        directory = keys_dir(settings)
        bind_keys_dir(session.get_bind(), directory)
    else:
        directory = bound_keys_dir(session) or keys_dir(get_settings())
    return identity_key(session, directory)


def identity_matches(session: Session, human_id: str, value: str, settings: Settings | None = None) -> bool:
    """Does ``value`` (an IMEI or serial typed by a buyer) match the certified item?

    Compared as keyed, salted scrypt hashes; the stored identifiers are never revealed. False
    for an unknown certificate or an empty value. Costs ~25 ms of CPU by design. Raises
    IdentityKeyError when the identity key file is missing or is not this database's.
    """
    record = get_certificate(session, human_id)
    if record is None or not normalize_identifier(value):
        return False
    hashes = record.credential.get("credentialSubject", {}).get("identity", {}).get("identity_hashes")
    if not isinstance(hashes, dict):
        return False
    key = _identity_key(session, settings) if is_keyed(hashes) else None
    return hashes_match(hashes, value, key)


# ---------------------------------------------------------------- status lists


def status_list_url(settings: Settings, purpose: str, list_no: int) -> str:
    return _status_url_at(settings.public_base_url, purpose, list_no)


def _status_url_at(base_url: str, purpose: str, list_no: int) -> str:
    return f"{base_url.rstrip('/')}/status/{purpose}/{list_no}"


def _allocate_status_slot(session: Session, lists: range | None = None) -> tuple[int, int]:
    """A random free slot (herd privacy); a new list starts when the current one is half full.

    ``lists``: the list numbers set aside for an enrolled station (None: this issuer's own).
    """
    if lists is None:
        count = session.exec(select(func.count()).select_from(Certificate)).one()
        list_no = 1 + count // (LIST_SIZE // 2)
    else:
        count = session.exec(
            select(func.count())
            .select_from(Certificate)
            .where(col(Certificate.status_list) >= lists.start, col(Certificate.status_list) < lists.stop)
        ).one()
        list_no = lists.start + count // (LIST_SIZE // 2)
        if list_no not in lists:
            raise CertificateError(
                "this station has used every status list the platform set aside for it; enrol it again"
            )
    for _ in range(64):
        idx = secrets.randbelow(LIST_SIZE)
        taken = session.exec(
            select(Certificate.id).where(Certificate.status_list == list_no, Certificate.status_index == idx)
        ).first()
        if taken is None:
            return list_no, idx
    raise CertificateError("could not allocate a status list slot; try again")


_status_cache: dict[tuple[str, str, tuple[int, ...]], dict[str, Any]] = {}


def status_list_credential(
    session: Session, settings: Settings, purpose: str, list_no: int
) -> dict[str, Any]:
    """The signed BitstringStatusListCredential for one list (root key signs it)."""
    if purpose not in STATUS_PURPOSES:
        raise CertificateError(f"unknown status purpose {purpose!r}")
    column = Certificate.revoked_at if purpose == "revocation" else Certificate.suspended_at
    indices = tuple(
        sorted(
            session.exec(
                select(Certificate.status_index).where(
                    Certificate.status_list == list_no,
                    column.is_not(None),  # type: ignore[union-attr]
                )
            ).all()
        )
    )
    url = status_list_url(settings, purpose, list_no)
    root_row, root_private = root_key(session, settings)
    cache_key = (url, root_row.fingerprint, indices)
    cached = _status_cache.get(cache_key)
    if cached is not None:  # same content: same signed list (validFrom = when this content began)
        return cached
    doc = {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_id(settings),
        "validFrom": utc_timestamp(),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encode_list(indices),
        },
    }
    signed = add_proof(doc, root_private, verification_method(settings, root_row.fingerprint))
    if len(_status_cache) > 256:
        _status_cache.clear()
    _status_cache[cache_key] = signed
    return signed


def _set_status(session: Session, human_id: str, action: str, reason: str) -> CertificateRecord:
    row = find_row(session, human_id)
    if row is None:
        raise CertificateNotFound(f"no certificate {human_id!r}")
    if action != "reinstate" and not reason.strip():
        raise StatusChangeRefused("give a reason (the buyer sees it on the verify page)")
    if row.revoked_at is not None:
        raise StatusChangeRefused("certificate is already revoked; revocation is final")
    if action == "revoke":
        row.revoked_at = _now()
    elif action == "suspend":
        if row.suspended_at is not None:
            raise StatusChangeRefused("certificate is already suspended")
        row.suspended_at = _now()
    else:
        if row.suspended_at is None:
            raise StatusChangeRefused("certificate is not suspended")
        row.suspended_at = None
    row.status_reason = reason.strip()[:512]
    session.add(row)
    session.flush()
    drop_on_commit(session, row.human_id)  # its verify page says the new status
    record = _record(session, row)
    publish_in(
        session,
        EventType.CERTIFICATE_STATUS_CHANGED,
        human_id=record.human_id,
        status=record.status,
        station_id=row.station_id,
    )
    return record


def revoke_certificate(session: Session, human_id: str, reason: str) -> CertificateRecord:
    """Revoke for good (e.g. item found misgraded); sets the bit on the revocation list."""
    return _set_status(session, human_id, "revoke", reason)


def suspend_certificate(session: Session, human_id: str, reason: str) -> CertificateRecord:
    """Suspend pending review (reversible with ``reinstate_certificate``)."""
    return _set_status(session, human_id, "suspend", reason)


def reinstate_certificate(session: Session, human_id: str, reason: str = "") -> CertificateRecord:
    return _set_status(session, human_id, "reinstate", reason)


# ---------------------------------------------------------------- transparency log

_trees: dict[str, MerkleTree] = {}
_trees_lock = threading.Lock()


def _log_tree(session: Session) -> MerkleTree:
    """The committed log as a Merkle tree; an in-process cache, re-synchronised with the DB each call."""
    key = str(session.get_bind().engine.url)
    # Leaves are numbered 0, 1, 2 ... without gaps (append-only, one appender at a time): the
    # highest index is a primary-key lookup, where count(*) would scan the whole log every append.
    last_idx = session.exec(select(func.max(LogLeaf.idx))).one()
    rows_count = 0 if last_idx is None else int(last_idx) + 1
    with _trees_lock:
        tree = _trees.get(key)
        if tree is not None and len(tree):
            last = session.get(LogLeaf, len(tree) - 1)
            if len(tree) > rows_count or last is None or last.leaf_hash != tree.leaves[-1].hex():
                tree = None
        if tree is None:
            tree = MerkleTree()
            _trees[key] = tree
        if len(tree) < rows_count:
            for lh in session.exec(
                select(LogLeaf.leaf_hash).where(LogLeaf.idx >= len(tree)).order_by(LogLeaf.idx)  # type: ignore[arg-type]
            ):
                tree.append(bytes.fromhex(lh))
        return tree


def log_entry_for(credential: dict[str, Any]) -> dict[str, Any]:
    """The log entry of a credential: anyone can recompute it and its leaf hash from the JSON."""
    subj = credential.get("credentialSubject", {})
    return {
        "human_id": subj.get("human_id"),
        "credential_sha256": hashlib.sha256(jcs(credential)).hexdigest(),
        "valid_from": credential.get("validFrom"),
        "station": subj.get("station", {}).get("id"),
        "key": credential.get("proof", {}).get("verificationMethod"),
    }


def _sign_tree_head(
    session: Session, settings: Settings, size: int, root: bytes, when: datetime
) -> dict[str, Any]:
    root_row, root_private = root_key(session, settings)
    body = {
        "type": "SignedTreeHead",
        "log_id": issuer_id(settings) + "/log",
        "tree_size": size,
        "root_hash": root.hex(),
        "timestamp": utc_timestamp(when),
    }
    return add_proof(body, root_private, verification_method(settings, root_row.fingerprint))


def append_to_log(session: Session, settings: Settings, credential: dict[str, Any]) -> int:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(6962)"))  # one appender at a time
    tree = _log_tree(session)
    size = len(tree)
    entry = log_entry_for(credential)
    lh = leaf_hash(jcs(entry))
    now = _now()
    session.add(
        LogLeaf(
            idx=size, human_id=entry["human_id"], leaf_hash=lh.hex(), entry=json.dumps(entry), created_at=now
        )
    )
    with _trees_lock:
        tree.append(lh)  # re-validated against the DB on next use, so a rollback cannot poison it
        root = tree.root(size + 1)
    sth = _sign_tree_head(session, settings, size + 1, root, now)
    session.add(TreeHead(tree_size=size + 1, root_hash=root.hex(), timestamp=now, signed=json.dumps(sth)))
    session.flush()
    return size


def signed_tree_head(session: Session, size: int | None = None) -> dict[str, Any] | None:
    """The STH for ``size`` (latest when None), or None if the log has no such size."""
    if size is None:
        row = session.exec(select(TreeHead).order_by(TreeHead.tree_size.desc())).first()  # type: ignore[attr-defined]
    else:
        row = session.get(TreeHead, size)
    return json.loads(row.signed) if row else None


def inclusion_proof(session: Session, human_id: str, tree_size: int | None = None) -> dict[str, Any] | None:
    """Audit path of a certificate's log entry to the STH of ``tree_size`` (latest by default)."""
    leaf = session.exec(select(LogLeaf).where(LogLeaf.human_id == human_id)).first()
    if leaf is None:
        return None
    tree = _log_tree(session)
    size = len(tree) if tree_size is None else tree_size
    if not leaf.idx < size <= len(tree):
        raise LogRangeRefused(f"tree size must be in {leaf.idx + 1}..{len(tree)}")
    with _trees_lock:
        path = tree.inclusion_proof(leaf.idx, size)
    return {
        "leaf_index": leaf.idx,
        "tree_size": size,
        "leaf_hash": leaf.leaf_hash,
        "entry": json.loads(leaf.entry),
        "audit_path": [h.hex() for h in path],
        "sth": signed_tree_head(session, size),
    }


def consistency_proof(session: Session, first: int, second: int) -> dict[str, Any]:
    tree = _log_tree(session)
    if not 0 < first <= second <= len(tree):
        raise LogRangeRefused(f"need 0 < first <= second <= {len(tree)} (current log size)")
    with _trees_lock:
        proof = tree.consistency_proof(first, second)
    return {
        "first": first,
        "second": second,
        "proof": [h.hex() for h in proof],
        "first_sth": signed_tree_head(session, first),
        "second_sth": signed_tree_head(session, second),
    }


# ---------------------------------------------------------------- issue and look up


def find_row(session: Session, human_id: str) -> Certificate | None:
    norm = humanid.normalize(human_id)
    if norm is None:
        return None
    return session.exec(select(Certificate).where(Certificate.human_id == norm)).first()


def issue_certificate(
    session: Session, request: CertificateRequest, *, settings: Settings, signer: Signer | None = None
) -> IssuedCertificate:
    """Sign, store and log a certificate for a finished inspection (in the caller's transaction).

    Raises CertificateError with a clear message on bad input; nothing is stored then. The
    station's signing key is created and certified on first use. Idempotent per
    ``inspection_id``: calling again (e.g. after a crash) returns the certificate already issued.
    With a ``signer`` (an enrolled station) the certificate is the platform's and is not logged
    here: the platform logs it when it arrives.
    """
    _validate(request)
    existing = session.exec(
        select(Certificate).where(Certificate.inspection_id == request.inspection_id)
    ).first()
    if existing is not None:  # a retried call after a crash or timeout: one inspection, one certificate
        credential = json.loads(existing.credential)
        return IssuedCertificate(
            human_id=existing.human_id,
            url=str(credential.get("id") or certificate_url(settings, existing.human_id)),
            credential=credential,
        )
    if signer is None:
        key_row, private = station_signing_key(session, settings, request.station_id)
        base, fingerprint, lists = settings.public_base_url, key_row.fingerprint, None
    else:
        base, fingerprint, private, lists = (
            signer.base_url,
            signer.fingerprint,
            signer.private_key,
            signer.status_lists,
        )
    iid = issuer_id_at(base)
    for _ in range(5):
        hid = humanid.new_human_id()
        if find_row(session, hid) is None:
            break
    else:  # pragma: no cover - 45 bits of randomness
        raise CertificateError("could not allocate a unique certificate id")
    list_no, index = _allocate_status_slot(session, lists)
    now = _now()
    url = _url_at(base, hid)
    subject: dict[str, Any] = {
        "id": f"{url}#item",
        "type": "InspectedItem",
        "human_id": hid,
        "inspection_id": request.inspection_id,
        "item_kind": request.item_kind,
        "identity": public_identity(request.identity, _identity_key(session, settings)),
        "checks": request.checks,
        "grade": request.grade,
        "photos": request.photos,
        "station": {"id": request.station_id, "operator": request.operator},
        "inspected_at": utc_timestamp(now),
        "model_versions": request.model_versions,
        "warranty": request.warranty,
    }
    if request.supersedes:
        subject["supersedes"] = request.supersedes
    status = [
        {
            "id": f"{_status_url_at(base, purpose, list_no)}#{index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": purpose,
            "statusListIndex": str(index),
            "statusListCredential": _status_url_at(base, purpose, list_no),
        }
        for purpose in STATUS_PURPOSES
    ]
    credential = {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "InspectionCertificate"],
        "name": f"Inspection certificate {humanid.pretty(hid)}",
        "issuer": {"id": iid, "name": ISSUER_NAME},
        "validFrom": utc_timestamp(now),
        "credentialSubject": subject,
        "credentialStatus": status,
    }
    signed = add_proof(credential, private, f"{iid}#{fingerprint}", created=now)
    row = Certificate(
        human_id=hid,
        inspection_id=request.inspection_id,
        item_kind=request.item_kind,
        station_id=request.station_id,
        key_fingerprint=fingerprint,
        issued_at=now,
        credential=json.dumps(signed, ensure_ascii=False),
        status_list=list_no,
        status_index=index,
        supersedes=request.supersedes,
    )
    # No SAVEPOINT here: on SQLite (pysqlite) releasing an outermost savepoint commits, which
    # would let another writer slip between this row and its log entry. The writes below keep
    # the write lock from this INSERT until the caller commits, so log appends are serialised.
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:
        raise CertificateError("certificate id or status slot collided; please retry") from exc
    if signer is None:
        row.log_index = append_to_log(session, settings, signed)
        session.add(row)
        session.flush()
    return IssuedCertificate(human_id=hid, url=url, credential=signed)


def _record(session: Session, row: Certificate) -> CertificateRecord:
    cred = json.loads(row.credential)
    key = find_key(session, row.key_fingerprint)
    key_status: Literal["active", "retired", "revoked"] = "active"
    if key is not None and key.revoked_at is not None:
        key_status = "revoked"
    elif key is not None and key.retired_at is not None:
        key_status = "retired"
    status: Literal["valid", "revoked", "suspended"] = "valid"
    if row.revoked_at is not None:
        status = "revoked"
    elif row.suspended_at is not None:
        status = "suspended"
    subj = cred.get("credentialSubject", {})
    return CertificateRecord(
        human_id=row.human_id,
        inspection_id=row.inspection_id,
        item_kind=row.item_kind,
        issued_at=row.issued_at.astimezone(UTC)
        if row.issued_at.tzinfo
        else row.issued_at.replace(tzinfo=UTC),
        station_id=row.station_id,
        grade=subj.get("grade", {}),
        status=status,
        status_reason=row.status_reason,
        key_status=key_status,
        credential=cred,
        warranty=subj.get("warranty", {}),
        supersedes=row.supersedes,
        log_index=row.log_index,
    )


def status_stamp(session: Session, human_id: str) -> tuple[object, ...] | None:
    """The certificate's status and its key's, in one query: what a kept verify page re-checks."""
    row = session.execute(
        sa_select(
            col(Certificate.revoked_at),
            col(Certificate.suspended_at),
            col(Certificate.status_reason),
            col(SigningKey.revoked_at),
            col(SigningKey.retired_at),
        )
        .join(SigningKey, col(SigningKey.fingerprint) == col(Certificate.key_fingerprint), isouter=True)
        .where(col(Certificate.human_id) == human_id)
    ).first()
    return tuple(row) if row is not None else None


def get_certificate(session: Session, human_id: str) -> CertificateRecord | None:
    """Look a certificate up by its human id (case and lookalikes forgiven); None if unknown."""
    row = find_row(session, human_id)
    return _record(session, row) if row else None


def find_by_inspection(session: Session, inspection_id: str) -> CertificateRecord | None:
    row = session.exec(select(Certificate).where(Certificate.inspection_id == inspection_id)).first()
    return _record(session, row) if row else None


def verify_stored(session: Session, settings: Settings, human_id: str) -> VerificationResult | None:
    """Full verification of a stored certificate with the same code the CLI uses offline."""
    row = find_row(session, human_id)
    if row is None:
        return None
    keys = KeySet.from_db(session, settings)
    base = settings.public_base_url.rstrip("/") + "/status/"

    def fetch(url: str) -> dict[str, Any]:
        if not url.startswith(base):
            raise ValueError(f"status list {url} is not this issuer's")
        purpose, list_no = url[len(base) :].split("/", 1)
        return status_list_credential(session, settings, purpose, int(list_no))

    try:
        credential = loads_ijson(row.credential)
    except NotIJSONError as exc:
        return VerificationResult(Verdict.malformed, f"stored credential unreadable: {exc}")
    return verify_credential(credential, keys, fetch)
