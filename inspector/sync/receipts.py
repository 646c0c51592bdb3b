"""Check the platform's answer for a certificate: its log really holds this very certificate.

The inclusion proof must lead from the certificate's own log entry (recomputed here from the
credential the station signed) to a tree head signed by the platform's root key, the one
the station learnt at enrolment. A station keeps a receipt only when it checks.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from inspector.certificates.dataintegrity import ProofError, TamperedProof, jcs, verify_proof
from inspector.certificates.encoding import ed25519_from_multikey
from inspector.certificates.merkle import leaf_hash, verify_inclusion
from inspector.certificates.service import log_entry_for
from inspector.sync.tables import Enrolment


class BadReceipt(ValueError):
    """The platform's inclusion proof does not prove this certificate is in its log."""


def check_inclusion(enrolment: Enrolment, credential: dict[str, Any], proof: dict[str, Any]) -> None:
    root = Ed25519PublicKey.from_public_bytes(ed25519_from_multikey(enrolment.root_key))

    def only_root(vm: str) -> Ed25519PublicKey:
        if vm != f"{enrolment.issuer_id}#{enrolment.root_key}":
            raise TamperedProof("the tree head is not signed by the platform's root key")
        return root

    try:
        sth = proof["sth"]
        verify_proof(sth, only_root)
        ok = verify_inclusion(
            leaf_hash(jcs(log_entry_for(credential))),
            int(proof["leaf_index"]),
            int(proof["tree_size"]),
            [bytes.fromhex(h) for h in proof["audit_path"]],
            bytes.fromhex(sth["root_hash"]),
        )
    except (ProofError, KeyError, TypeError, ValueError) as exc:
        raise BadReceipt(f"the platform's inclusion proof is unusable: {exc}") from exc
    if not ok or int(sth.get("tree_size", -1)) != int(proof["tree_size"]):
        raise BadReceipt("the platform's inclusion proof does not lead to its signed tree head")
