"""W3C Data Integrity proofs with the ``eddsa-jcs-2022`` cryptosuite.

Follows "Data Integrity EdDSA Cryptosuites v1.0" section 3.3 exactly:

* transformation: RFC 8785 (JCS) canonical form of the document without ``proof``;
* proof configuration: the proof options without ``proofValue``; when they carry
  ``@context`` it is the document's ``@context``; canonicalised with JCS;
* hashing: ``SHA-256(canonical proof config) || SHA-256(canonical document)`` (config first);
* signature: Ed25519 over those 64 bytes; ``proofValue`` = multibase base58btc (``z...``).

Any JSON document can be secured this way (credentials, status lists, key documents).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from inspector.certificates.encoding import EncodingError, multibase_b58, multibase_decode
from inspector.certificates.errors import CertificatesError

CRYPTOSUITE = "eddsa-jcs-2022"


class ProofError(CertificatesError):
    """The proof is missing, malformed, or does not verify; a caller that shows a verdict catches
    the two subclasses, which say which."""


class MalformedProof(ProofError):
    """The document or its proof is not shaped as a secured document: nothing was checked."""


class TamperedProof(ProofError):
    """The proof is well formed but does not verify: wrong purpose, context or signature."""


def jcs(value: Any) -> bytes:
    """RFC 8785 canonical bytes; floats are rewritten by JCS, so callers keep integers/strings."""
    return rfc8785.dumps(value)


def utc_timestamp(when: datetime | None = None) -> str:
    """XML Schema dateTimeStamp in UTC, second precision, ``Z`` suffix (as VC examples use)."""
    when = (when or datetime.now(UTC)).astimezone(UTC)
    return when.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _hash_data(document: dict[str, Any], proof_config: dict[str, Any]) -> bytes:
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    return hashlib.sha256(jcs(proof_config)).digest() + hashlib.sha256(jcs(unsecured)).digest()


def add_proof(
    document: dict[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    *,
    created: datetime | None = None,
    proof_purpose: str = "assertionMethod",
) -> dict[str, Any]:
    """Return a copy of ``document`` with an ``eddsa-jcs-2022`` DataIntegrityProof added."""
    unsecured = {k: copy.deepcopy(v) for k, v in document.items() if k != "proof"}
    proof: dict[str, Any] = {
        "type": "DataIntegrityProof",
        "cryptosuite": CRYPTOSUITE,
        "created": utc_timestamp(created),
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }
    if "@context" in unsecured:
        proof["@context"] = copy.deepcopy(unsecured["@context"])
    signature = private_key.sign(_hash_data(unsecured, proof))
    proof["proofValue"] = multibase_b58(signature)
    unsecured["proof"] = proof
    return unsecured


def proof_of(document: Any) -> dict[str, Any]:
    """The single eddsa-jcs-2022 proof of a secured document, or MalformedProof."""
    if not isinstance(document, dict):
        raise MalformedProof("document is not a JSON object")
    proof = document.get("proof")
    if not isinstance(proof, dict):
        raise MalformedProof("document has no single proof object")
    if proof.get("type") != "DataIntegrityProof" or proof.get("cryptosuite") != CRYPTOSUITE:
        raise MalformedProof(
            f"unsupported proof {proof.get('type')!r}/{proof.get('cryptosuite')!r}; "
            f"expected DataIntegrityProof/{CRYPTOSUITE}"
        )
    for field in ("verificationMethod", "proofValue", "proofPurpose"):
        if not isinstance(proof.get(field), str):
            raise MalformedProof(f"proof.{field} is missing")
    return proof


def verify_proof(
    document: Any,
    resolve_key: Callable[[str], Ed25519PublicKey],
    *,
    expected_purpose: str = "assertionMethod",
) -> dict[str, Any]:
    """Verify the document's proof; return the proof. ``resolve_key`` maps verificationMethod to a key.

    Raises MalformedProof or TamperedProof; resolve_key may raise its own errors
    (unknown or revoked key), which propagate unchanged so callers can give distinct verdicts.
    """
    proof = proof_of(document)
    if proof["proofPurpose"] != expected_purpose:
        raise TamperedProof(f"proof purpose is {proof['proofPurpose']!r}, not {expected_purpose!r}")
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    if "@context" in config:
        doc_ctx = unsecured.get("@context")
        proof_ctx = config["@context"]
        if not isinstance(doc_ctx, list) or not isinstance(proof_ctx, list):
            raise TamperedProof("@context must be a list")
        if doc_ctx[: len(proof_ctx)] != proof_ctx:
            raise TamperedProof("document @context does not start with the proof's @context")
        unsecured["@context"] = proof_ctx
    try:
        signature = multibase_decode(proof["proofValue"])
    except EncodingError as exc:
        raise TamperedProof(f"proofValue is not multibase: {exc}") from exc
    if not proof["proofValue"].startswith("z") or len(signature) != 64:
        raise TamperedProof("proofValue is not a base58btc 64-byte Ed25519 signature")
    key = resolve_key(proof["verificationMethod"])
    try:
        data = _hash_data(unsecured, config)
    except (TypeError, ValueError) as exc:  # JCS refuses NaN, huge ints, non-str keys
        raise MalformedProof(f"document cannot be canonicalised: {exc}") from exc
    try:
        key.verify(signature, data)
    except InvalidSignature as exc:
        raise TamperedProof("signature does not match the document (tampered or forged)") from exc
    return proof
