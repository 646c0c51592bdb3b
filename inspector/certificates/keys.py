"""Signing keys: the issuer root key and per-station Ed25519 keys certified by it.

Private keys live only in ``<data_dir>/keys/`` (directory 0700, files 0600, PKCS#8 PEM),
are created on first use, and are never printed, logged or served. The database holds
public keys, their certification (a credential signed by the root key binding the key to
one station) and their life cycle:

* **retired** (rotation): the key signs nothing new; certificates it signed before the
  rotation stay valid, proofs dated after it (beyond 5 minutes of clock skew) are refused.
* **revoked** (compromise): every certificate the key ever signed shows "key revoked",
  whatever its signing time, because that time is asserted by the very key that is no
  longer trusted. Affected items must be re-inspected and re-certified with a new key.

``issuer_document`` is the public controller document (W3C Controlled Identifiers shape)
served at ``/issuer``: every key with its status, each station key's certification, and a
proof by the root key over the whole document, so it can be saved and used offline.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlmodel import Session, select

from inspector.certificates.dataintegrity import ProofError, add_proof, utc_timestamp, verify_proof
from inspector.certificates.encoding import EncodingError, ed25519_from_multikey, ed25519_multikey
from inspector.certificates.errors import CertificatesError
from inspector.certificates.page_cache import drop_on_commit
from inspector.certificates.tables import SigningKey
from inspector.config import Settings
from inspector.eventbus import EventType, publish_in

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
CID_CONTEXT = "https://www.w3.org/ns/cid/v1"
ISSUER_NAME = "Inspector platform"
ROOT_KEY_FILE = "issuer-root.pem"


class SigningKeyError(CertificatesError):
    """A key problem the operator can act on (missing file, unknown key, already revoked)."""


class RootKeyMissing(SigningKeyError):
    """This issuer has no root key yet; ``inspector keys init`` makes it (never a page visit)."""


class UnknownKeyError(CertificatesError):
    """The verification method is not a key of this issuer, or belongs to another station."""


class RevokedKeyError(CertificatesError):
    """The verification method is a revoked key."""

    def __init__(self, message: str, revoked_at: datetime | None) -> None:
        super().__init__(message)
        self.revoked_at = revoked_at


def _now() -> datetime:
    return datetime.now(UTC)


def issuer_id_at(base_url: str) -> str:
    """The issuer id of the platform at ``base_url`` (an enrolled station signs for its platform)."""
    return base_url.rstrip("/") + "/issuer"


def issuer_id(settings: Settings) -> str:
    return issuer_id_at(settings.public_base_url)


def verification_method(settings: Settings, fingerprint: str) -> str:
    return f"{issuer_id(settings)}#{fingerprint}"


def keys_dir(settings: Settings) -> Path:
    path = Path(settings.data_dir) / "keys"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def public_fingerprint(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return ed25519_multikey(pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def _write_new_key(path: Path) -> Ed25519PrivateKey:
    """Create a key file atomically with mode 0600; if another process won the race, load theirs."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
        fh.flush()
        os.fsync(fh.fileno())
    return key


_key_cache: dict[Path, tuple[int, Ed25519PrivateKey]] = {}


def _read_key(path: Path) -> Ed25519PrivateKey:
    """Load a PEM key; cached per file modification time (verification signs status lists often)."""
    mtime = path.stat().st_mtime_ns
    cached = _key_cache.get(path)
    if cached and cached[0] == mtime:
        return cached[1]
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path.name} is not an Ed25519 private key")
    _key_cache[path] = (mtime, key)
    return key


def _station_key_path(settings: Settings, fingerprint: str) -> Path:
    return keys_dir(settings) / f"station-{fingerprint}.pem"


def new_station_private_key(settings: Settings) -> tuple[str, Ed25519PrivateKey]:
    """Make a station key in this data directory (for enrolment with a platform): its fingerprint
    and private half. The file is ``keys/station-<fingerprint>.pem``, mode 0600."""
    tmp = keys_dir(settings) / f".new-{os.getpid()}-{_now().timestamp():.6f}.pem"
    private = _write_new_key(tmp)
    fp = public_fingerprint(private)
    tmp.rename(_station_key_path(settings, fp))
    return fp, private


def station_private_key(settings: Settings, fingerprint: str) -> Ed25519PrivateKey:
    """The private half of a station key kept in this data directory."""
    path = _station_key_path(settings, fingerprint)
    if not path.exists():
        raise SigningKeyError(
            f"the private half of station key {fingerprint[:12]} is not in this data directory "
            f"({path}); restore it, or enrol the station again"
        )
    return _read_key(path)


def forget_station_private_key(settings: Settings, fingerprint: str) -> None:
    """Delete a station key the platform never certified (an enrolment that failed)."""
    _station_key_path(settings, fingerprint).unlink(missing_ok=True)


def root_key_exists(settings: Settings) -> bool:
    return (keys_dir(settings) / ROOT_KEY_FILE).exists()


def root_key(
    session: Session, settings: Settings, *, create: bool = False
) -> tuple[SigningKey, Ed25519PrivateKey]:
    """The issuer root key. Only ``create`` makes it: ``inspector keys init``, and a stand-alone
    station signing its first certificate (an operator's act). Pages and status lists never do:
    on an issuer without keys they raise ``RootKeyMissing``."""
    path = keys_dir(settings) / ROOT_KEY_FILE
    if not path.exists() and not create:
        raise RootKeyMissing(f"no issuer root key in {path.parent}: run 'inspector keys init'")
    private = _read_key(path) if path.exists() else _write_new_key(path)
    fp = public_fingerprint(private)
    row = session.exec(select(SigningKey).where(SigningKey.role == "root")).first()
    if row is None:
        row = SigningKey(fingerprint=fp, role="root", created_at=_now())
        session.add(row)
        session.flush()
    elif row.fingerprint != fp:
        raise SigningKeyError(
            "the issuer root key in the data directory does not match the one registered in the "
            "database; restore the original keys/issuer-root.pem"
        )
    return row, private


def _certify(session: Session, settings: Settings, row: SigningKey) -> None:
    _, root_private = root_key(session, settings, create=True)  # registering a station key is explicit
    statement = {
        "@context": [VC_CONTEXT],
        "type": ["VerifiableCredential", "StationKeyCertificate"],
        "issuer": issuer_id(settings),
        "validFrom": utc_timestamp(row.created_at),
        "credentialSubject": {
            "id": verification_method(settings, row.fingerprint),
            "type": "Multikey",
            "controller": issuer_id(settings),
            "publicKeyMultibase": row.fingerprint,
            "station": row.station_id,
        },
    }
    root_row = session.exec(select(SigningKey).where(SigningKey.role == "root")).one()
    signed = add_proof(statement, root_private, verification_method(settings, root_row.fingerprint))
    row.certification = json.dumps(signed, separators=(",", ":"), sort_keys=True)


def register_station_key(
    session: Session, settings: Settings, station_id: str, public_key_multibase: str | None = None
) -> SigningKey:
    """Register (and certify) a new key for a station; generates it locally unless one is given.

    Any current key of that station is retired (rotation): a station signs with one key at a time.
    """
    station_id = station_id.strip()
    if not station_id or len(station_id) > 64:
        raise SigningKeyError("station id must be 1-64 characters")
    if public_key_multibase is None:
        tmp = keys_dir(settings) / f".new-{os.getpid()}-{_now().timestamp():.6f}.pem"
        private = _write_new_key(tmp)
        fp = public_fingerprint(private)
        tmp.rename(_station_key_path(settings, fp))
    else:
        try:
            ed25519_from_multikey(public_key_multibase)
        except EncodingError as exc:
            raise SigningKeyError(f"not an Ed25519 publicKeyMultibase: {exc}") from exc
        fp = public_key_multibase
    if session.exec(select(SigningKey).where(SigningKey.fingerprint == fp)).first():
        raise SigningKeyError("this key is already registered")
    for old in active_station_keys(session, station_id):
        old.retired_at = _now()
        session.add(old)
        drop_on_commit(session)  # pages of its certificates say "signing key replaced since"
    row = SigningKey(fingerprint=fp, role="station", station_id=station_id, created_at=_now())
    _certify(session, settings, row)
    session.add(row)
    session.flush()
    return row


def active_station_keys(session: Session, station_id: str) -> list[SigningKey]:
    return list(
        session.exec(
            select(SigningKey).where(
                SigningKey.role == "station",
                SigningKey.station_id == station_id,
                SigningKey.retired_at.is_(None),  # type: ignore[union-attr]
                SigningKey.revoked_at.is_(None),  # type: ignore[union-attr]
            )
        )
    )


def station_signing_key(
    session: Session, settings: Settings, station_id: str
) -> tuple[SigningKey, Ed25519PrivateKey]:
    """The key this station signs with now; generated, registered and certified on first use."""
    rows = active_station_keys(session, station_id)
    row = rows[-1] if rows else register_station_key(session, settings, station_id)
    path = _station_key_path(settings, row.fingerprint)
    if not path.exists():
        raise SigningKeyError(
            f"station {station_id!r} is registered with a key whose private half is not in this data "
            "directory; rotate the key with 'inspector keys rotate'"
        )
    return row, _read_key(path)


def signing_key_problem(session: Session, settings: Settings, station_id: str) -> str | None:
    """Why this station could not sign now (a key file missing, unreadable or not the registered
    one), or None when it can. Creates nothing: keys made on first use are not a problem."""
    root_path = keys_dir(settings) / ROOT_KEY_FILE
    root_row = session.exec(select(SigningKey).where(SigningKey.role == "root")).first()
    try:
        if root_path.exists():
            if root_row is not None and public_fingerprint(_read_key(root_path)) != root_row.fingerprint:
                return "the issuer root key file does not match the one registered in the database"
        elif root_row is not None:
            return f"the issuer root key is registered but {ROOT_KEY_FILE} is not in the data directory"
        for row in active_station_keys(session, station_id)[-1:]:
            path = _station_key_path(settings, row.fingerprint)
            if not path.exists():
                return f"the private half of station key {row.fingerprint[:12]} is not in the data directory"
            _read_key(path)
    except (OSError, ValueError) as exc:
        return f"a signing key could not be read: {exc}"
    return None


def rotate_station_key(session: Session, settings: Settings, station_id: str) -> SigningKey:
    return register_station_key(session, settings, station_id)


def find_key(session: Session, fingerprint: str) -> SigningKey | None:
    return session.exec(select(SigningKey).where(SigningKey.fingerprint == fingerprint)).first()


def revoke_key(session: Session, fingerprint: str, reason: str) -> SigningKey:
    row = find_key(session, fingerprint)
    if row is None:
        raise SigningKeyError(f"no key {fingerprint!r}; see 'inspector keys list'")
    if row.role == "root":
        raise SigningKeyError("the issuer root key cannot be revoked here; it anchors every verification")
    if row.revoked_at is not None:
        raise SigningKeyError("key is already revoked")
    if not reason.strip():
        raise SigningKeyError("give a reason for the revocation")
    row.revoked_at = _now()
    row.revoke_reason = reason.strip()[:256]
    session.add(row)
    session.flush()
    if row.role == "station":
        publish_in(session, EventType.STATION_REVOKED, station_id=row.station_id, key=row.fingerprint)
    drop_on_commit(session)  # every page of a certificate it signed now says "key revoked"
    return row


def all_keys(session: Session) -> list[SigningKey]:
    return list(session.exec(select(SigningKey).order_by(SigningKey.id)))  # type: ignore[arg-type]


def issuer_document(session: Session, settings: Settings) -> dict[str, Any]:
    """The issuer's public keys with their status, signed by the root key (offline trust bundle)."""
    root_row, root_private = root_key(session, settings)
    iid = issuer_id(settings)
    methods = []
    certs = []
    for row in all_keys(session):
        vm: dict[str, Any] = {
            "id": verification_method(settings, row.fingerprint),
            "type": "Multikey",
            "controller": iid,
            "publicKeyMultibase": row.fingerprint,
            "role": row.role,
        }
        if row.station_id:
            vm["station"] = row.station_id
        if row.retired_at:
            vm["retired"] = utc_timestamp(row.retired_at)
        if row.revoked_at:
            vm["revoked"] = utc_timestamp(row.revoked_at)
            vm["revocationReason"] = row.revoke_reason
        methods.append(vm)
        if row.certification:
            certs.append(json.loads(row.certification))
    doc = {
        "@context": [CID_CONTEXT],
        "id": iid,
        "name": ISSUER_NAME,
        "rootKey": verification_method(settings, root_row.fingerprint),
        "verificationMethod": methods,
        "assertionMethod": [m["id"] for m in methods],
        "stationKeyCertificates": certs,
        "updated": utc_timestamp(),
    }
    return add_proof(doc, root_private, verification_method(settings, root_row.fingerprint))


@dataclass(frozen=True)
class KeyInfo:
    fingerprint: str
    role: str
    station_id: str | None
    public_key: Ed25519PublicKey
    retired_at: datetime | None = None
    revoked_at: datetime | None = None
    revoke_reason: str = ""


def _fragment(vm: str) -> str:
    return vm.rsplit("#", 1)[-1]


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


@dataclass
class KeySet:
    """Trusted public keys of one issuer, from the local database or a verified issuer document."""

    issuer_id: str
    root: KeyInfo
    keys: dict[str, KeyInfo]

    def resolver(
        self, *, station_id: str | None = None, allow_root: bool = False
    ) -> Callable[[str], Ed25519PublicKey]:
        """A ``resolve_key`` for verify_proof that enforces issuer, station binding and revocation."""

        def resolve(vm: str) -> Ed25519PublicKey:
            if "#" not in vm or vm.rsplit("#", 1)[0] != self.issuer_id:
                raise UnknownKeyError(f"signed by {vm!r}, which is not a key of issuer {self.issuer_id}")
            info = self.keys.get(_fragment(vm))
            if info is None:
                raise UnknownKeyError("signed by a key the issuer never registered")
            if info.role == "root" and not allow_root:
                raise UnknownKeyError("certificates must be signed by a station key, not the root key")
            if info.role == "station" and station_id is not None and info.station_id != station_id:
                raise UnknownKeyError(
                    f"signed with the key of station {info.station_id!r}, but the certificate names "
                    f"station {station_id!r}"
                )
            if info.revoked_at is not None:
                raise RevokedKeyError(
                    f"the signing key was revoked on {utc_timestamp(info.revoked_at)}"
                    + (f" ({info.revoke_reason})" if info.revoke_reason else ""),
                    info.revoked_at,
                )
            return info.public_key

        return resolve

    @classmethod
    def from_db(cls, session: Session, settings: Settings) -> KeySet:
        if root_key_exists(settings):
            root_key(session, settings)  # the file and the registered root must agree
        keys: dict[str, KeyInfo] = {}
        root: KeyInfo | None = None
        for row in all_keys(session):
            info = KeyInfo(
                fingerprint=row.fingerprint,
                role=row.role,
                station_id=row.station_id,
                public_key=Ed25519PublicKey.from_public_bytes(ed25519_from_multikey(row.fingerprint)),
                retired_at=row.retired_at,
                revoked_at=row.revoked_at,
                revoke_reason=row.revoke_reason,
            )
            keys[row.fingerprint] = info
            if row.role == "root":
                root = info
        assert root is not None
        return cls(issuer_id=issuer_id(settings), root=root, keys=keys)

    @classmethod
    def from_document(cls, doc: Any, pinned_root: str | None = None) -> KeySet:
        """Trust a saved issuer document: its root proof and every station certification must verify."""
        if not isinstance(doc, dict) or not isinstance(doc.get("verificationMethod"), list):
            raise ValueError("not an issuer key document (no verificationMethod list)")
        iid = doc.get("id")
        root_vm = doc.get("rootKey")
        if not isinstance(iid, str) or not isinstance(root_vm, str):
            raise ValueError("issuer key document lacks id/rootKey")
        root_fp = _fragment(root_vm)
        if pinned_root is not None and root_fp != pinned_root:
            raise ValueError("issuer document's root key is not the pinned root key")
        try:
            root_pub = Ed25519PublicKey.from_public_bytes(ed25519_from_multikey(root_fp))
        except (EncodingError, ValueError) as exc:
            raise ValueError(f"bad root key: {exc}") from exc

        def only_root(vm: str) -> Ed25519PublicKey:
            if _fragment(vm) != root_fp:
                raise UnknownKeyError("issuer document is not signed by its root key")
            return root_pub

        verify_proof(doc, only_root)
        certified: dict[str, str] = {}
        certs = doc.get("stationKeyCertificates", [])
        if not isinstance(certs, list):
            raise ValueError("issuer key document's stationKeyCertificates is not a list")
        for cert in certs:
            try:
                verify_proof(cert, only_root)
            except (ProofError, UnknownKeyError) as exc:
                raise ValueError(f"a station key certification does not verify: {exc}") from exc
            subj = cert.get("credentialSubject")
            if not isinstance(subj, dict):
                raise ValueError("a station key certification has no credentialSubject object")
            certified[str(subj.get("publicKeyMultibase", ""))] = str(subj.get("station", ""))
        keys: dict[str, KeyInfo] = {}
        for vm in doc["verificationMethod"]:
            if not isinstance(vm, dict):
                raise ValueError("issuer key document lists a verificationMethod that is not an object")
            fp = vm.get("publicKeyMultibase", "")
            role = "root" if fp == root_fp else "station"
            if role == "station" and fp not in certified:
                continue  # never trust an uncertified key
            keys[fp] = KeyInfo(
                fingerprint=fp,
                role=role,
                station_id=certified.get(fp) if role == "station" else None,
                public_key=Ed25519PublicKey.from_public_bytes(ed25519_from_multikey(fp)),
                retired_at=_parse_time(vm.get("retired")),
                revoked_at=_parse_time(vm.get("revoked")),
                revoke_reason=str(vm.get("revocationReason", "")),
            )
        root = KeyInfo(fingerprint=root_fp, role="root", station_id=None, public_key=root_pub)
        keys[root_fp] = root
        return cls(issuer_id=iid, root=root, keys=keys)
