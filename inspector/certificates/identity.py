"""Item identifiers (IMEIs, serials) in certificates: keyed hashes only, and the key that makes them.

A credential is public, and an IMEI has little entropy (the model gives the 8-digit TAC, the
Luhn digit is computed, 10^6 serial numbers remain), so identifiers are signed only as
``scrypt(HMAC-SHA256(identity key, identifier))`` with a per-certificate salt: without the
issuer's identity key nobody can test a guess offline, and the verify page's match form is the
only oracle (rate-limited there). Certificates issued from now on carry no digit of an
identifier; older ones keep their signed ``imeis_masked`` / ``serial_masked`` values (changing
them would break their signatures), and the pages no longer show them.

The identity key is a 32-byte secret in ``<data_dir>/keys/identity-hash.key`` (mode 0600, next
to the signing keys), never in the database. A key created by an older version in the
``cert_secret`` table is moved to that file on first use, and the database keeps only its
fingerprint, so a process that lacks the file says so instead of silently hashing with a new key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from inspector.certificates.encoding import b64url_decode, b64url_encode
from inspector.certificates.tables import IssuerSecret

# Identity hashes: scrypt so that even a leaked identity key does not give IMEIs away cheaply.
SCRYPT_PARAMS = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
_MAX_SCRYPT_N = 2**17  # parameters are read from the (signed) credential; never more work than this
KEYED_ALGORITHM = "scrypt(HMAC-SHA256(issuer key, id))"

IDENTITY_KEY_FILE = "identity-hash.key"
LEGACY_DB_KEY = "identity-hash-key"  # where older versions kept the key itself
KEY_FINGERPRINT = "identity-hash-key-fingerprint"


class IdentityKeyError(RuntimeError):
    """The identity key file is missing or does not match the key this database's certificates use."""


def normalize_identifier(value: str) -> str:
    """IMEIs and serials as printed vary in spacing, dashes and case; compare on this form."""
    return re.sub(r"[\s\-/.]", "", value or "").upper()


def _now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- the key


def key_fingerprint(key: bytes) -> str:
    """A public name for the key (safe to store anywhere): it does not help to guess the key."""
    return "sha256:" + hashlib.sha256(b"inspector identity key\x00" + key).hexdigest()


def _write_key_file(path: Path, key: bytes) -> bytes:
    """Write ``key`` to a new 0600 file; if another process wrote one first, return theirs."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key_file(path)
    with os.fdopen(fd, "w") as fh:
        fh.write(key.hex() + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return key


def _read_key_file(path: Path) -> bytes:
    try:
        key = bytes.fromhex(path.read_text().strip())
    except ValueError as exc:
        raise IdentityKeyError(f"keys/{IDENTITY_KEY_FILE} is damaged; restore it from a backup") from exc
    if len(key) != 32:
        raise IdentityKeyError(f"keys/{IDENTITY_KEY_FILE} is damaged; restore it from a backup")
    return key


def _remember_fingerprint(session: Session, fingerprint: str) -> None:
    row = session.get(IssuerSecret, KEY_FINGERPRINT)
    if row is not None:
        if not hmac.compare_digest(row.value, fingerprint):
            raise IdentityKeyError(
                f"keys/{IDENTITY_KEY_FILE} is not the identity key this database's certificates "
                "were hashed with; restore the original file"
            )
        return
    try:
        with session.begin_nested():
            session.add(IssuerSecret(name=KEY_FINGERPRINT, value=fingerprint, created_at=_now()))
            session.flush()
    except IntegrityError:  # another process recorded it first: it must be the same key
        _remember_fingerprint(session, fingerprint)


def identity_key(session: Session, directory: Path) -> bytes:
    """The issuer's identity key from ``directory`` (the keys directory), created on first use.

    A key still in the database (older versions) is moved to the file and deleted from the
    database in the caller's transaction. Raises IdentityKeyError when the file is missing
    but certificates were already hashed with a key (restore the file: a new key would make
    every existing certificate's identity check fail).
    """
    path = directory / IDENTITY_KEY_FILE
    legacy = session.get(IssuerSecret, LEGACY_DB_KEY)
    if path.exists():
        key = _read_key_file(path)
        if legacy is not None and not hmac.compare_digest(bytes.fromhex(legacy.value), key):
            raise IdentityKeyError(
                f"keys/{IDENTITY_KEY_FILE} differs from the identity key an older version keeps in the "
                "database (is an older version still running on this database?); stop it and keep both "
                "keys: certificates may have been hashed with either"
            )
    elif legacy is not None:
        key = _write_key_file(path, bytes.fromhex(legacy.value))
    elif session.get(IssuerSecret, KEY_FINGERPRINT) is not None:
        raise IdentityKeyError(
            f"keys/{IDENTITY_KEY_FILE} is missing from the data directory; restore it (or copy it "
            "from the machine that issued the certificates)"
        )
    else:
        key = _write_key_file(path, secrets.token_bytes(32))
    _remember_fingerprint(session, key_fingerprint(key))
    if legacy is not None:
        session.delete(legacy)
        session.flush()
    return key


def adopt_identity_key(session: Session, directory: Path, key: bytes, *, issued: int) -> None:
    """Hash identifiers with ``key`` from now on (a station enrolling with its platform, which
    checks the buyers' IMEIs with the same key).

    Refused (``IdentityKeyError``) when this database already holds ``issued`` certificates
    hashed with another key: replacing it would make their identity checks fail.
    """
    if len(key) != 32:
        raise IdentityKeyError("the platform's identity key is not 32 bytes")
    path = directory / IDENTITY_KEY_FILE
    known = session.get(IssuerSecret, KEY_FINGERPRINT)
    current = known.value if known is not None else None
    if path.exists():
        current = key_fingerprint(_read_key_file(path))
    if current == key_fingerprint(key):
        return
    if current is not None and issued:
        raise IdentityKeyError(
            f"this station already issued {issued} certificate(s) of its own, hashed with its own identity "
            "key; enrol a fresh data directory so that those stay checkable here"
        )
    tmp = directory / f".{IDENTITY_KEY_FILE}.new"
    tmp.unlink(missing_ok=True)
    _write_key_file(tmp, key)
    os.replace(tmp, path)
    if known is None:
        session.add(IssuerSecret(name=KEY_FINGERPRINT, value=key_fingerprint(key), created_at=_now()))
    else:
        known.value = key_fingerprint(key)
        session.add(known)
    session.flush()


_bound_dirs: dict[str, Path] = {}
_bound_lock = threading.Lock()


def _db_name(bind: Engine | Connection) -> str:
    return bind.engine.url.render_as_string(hide_password=True)


def bind_keys_dir(bind: Engine | Connection, directory: Path) -> None:
    """Remember where this database's identity key lives, for callers that have no settings."""
    with _bound_lock:
        _bound_dirs[_db_name(bind)] = directory


def bound_keys_dir(session: Session) -> Path | None:
    """The keys directory bound to the session's database, if any."""
    bind = session.get_bind()
    with _bound_lock:
        return _bound_dirs.get(_db_name(bind))


# ---------------------------------------------------------------- hashes


def _id_hash(value: str, salt: bytes, key: bytes | None, params: dict[str, int]) -> str:
    material = normalize_identifier(value).encode()
    if key is not None:
        material = hmac.new(key, material, hashlib.sha256).digest()
    digest = hashlib.scrypt(material, salt=salt, maxmem=256 * 2**20, **params)
    return b64url_encode(digest)


def public_identity(identity: dict[str, Any], key: bytes) -> dict[str, Any]:
    """Identity as signed: identifiers become keyed, salted scrypt hashes and nothing else.

    No digit of an IMEI or serial is kept: the last four digits plus the model's TAC and the
    Luhn check digit would leave only 100 candidates for the match form to confirm.
    """
    out = {k: v for k, v in identity.items() if k not in ("imeis", "serial")}
    salt = secrets.token_bytes(16)
    hashes: dict[str, Any] = {}
    imeis = [i for i in identity.get("imeis", []) if normalize_identifier(i)]
    if imeis:
        hashes["imeis"] = [_id_hash(i, salt, key, SCRYPT_PARAMS) for i in imeis]
    serial = identity.get("serial")
    if isinstance(serial, str) and normalize_identifier(serial):
        hashes["serial"] = _id_hash(serial, salt, key, SCRYPT_PARAMS)
    if hashes:
        hashes["algorithm"] = KEYED_ALGORITHM
        hashes["params"] = {
            "N": SCRYPT_PARAMS["n"],
            "r": SCRYPT_PARAMS["r"],
            "p": SCRYPT_PARAMS["p"],
            "dkLen": SCRYPT_PARAMS["dklen"],
        }
        hashes["normalization"] = "remove spaces, dashes, slashes and dots; uppercase"
        hashes["salt"] = b64url_encode(salt)
        out["identity_hashes"] = hashes
    return out


def _params(hashes: dict[str, Any]) -> dict[str, int]:
    given = hashes.get("params")
    if not isinstance(given, dict):
        return SCRYPT_PARAMS
    try:
        params = {
            "n": int(given["N"]),
            "r": int(given["r"]),
            "p": int(given["p"]),
            "dklen": int(given["dkLen"]),
        }
    except (KeyError, TypeError, ValueError):
        return SCRYPT_PARAMS
    if not (1 < params["n"] <= _MAX_SCRYPT_N and params["r"] <= 16 and params["p"] <= 4):
        return SCRYPT_PARAMS
    return params


def is_keyed(hashes: dict[str, Any]) -> bool:
    return str(hashes.get("algorithm", "")).startswith("scrypt(HMAC")


def hashes_match(hashes: dict[str, Any], value: str, key: bytes | None) -> bool:
    """Does ``value`` hash to one of the stored identifier hashes (``key`` when they are keyed)?"""
    if not normalize_identifier(value):
        return False
    try:
        salt = b64url_decode(str(hashes.get("salt", "")))
    except ValueError:
        return False
    candidate = _id_hash(value, salt, key, _params(hashes))
    stored = [*hashes.get("imeis", []), *([hashes["serial"]] if hashes.get("serial") else [])]
    return any(hmac.compare_digest(candidate, str(s)) for s in stored)


def shows_digits(identity: dict[str, Any]) -> bool:
    """Was this credential signed with masked identifiers (last digits shown)? Older ones were."""
    return bool(identity.get("imeis_masked") or identity.get("serial_masked"))
