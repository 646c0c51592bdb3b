"""The signed credential: spec conformance, round trip, and every way of tampering or forging it.

These tests verify offline, as a buyer's tool would: with the exported issuer key document
and the signed status list credentials, not with database access.
"""

from __future__ import annotations

import atexit
import copy
import json
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from inspector.certificates import CertificateError, Verdict
from inspector.certificates.dataintegrity import add_proof, verify_proof
from inspector.certificates.encoding import ed25519_from_multikey, multibase_decode
from inspector.certificates.keys import KeySet, issuer_document, register_station_key, verification_method
from inspector.certificates.service import status_list_credential
from inspector.certificates.statuslist import LIST_SIZE, decode_list
from inspector.certificates.testing import issue_sample_certificate, sample_request
from inspector.certificates.verify import verify_credential
from inspector.config import Settings
from inspector.db import make_engine, migrate, session_scope

# W3C "Data Integrity EdDSA Cryptosuites v1.0", eddsa-jcs-2022 test vector (spec appendix).
W3C_VECTOR = {
    "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": ["VerifiableCredential", "AlumniCredential"],
    "name": "Alumni Credential",
    "description": "A minimum viable example of an Alumni Credential.",
    "issuer": "https://vc.example/issuers/5678",
    "validFrom": "2023-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
}
W3C_PUBLIC = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
W3C_SECRET = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
W3C_PROOF_VALUE = "z63t83Y53KfzJ5ZosfKTnqfMcKB2dmTrfjSaQjeNNjAD5srBowQfmWqeRb8rRjmeEuCBEsddF9LsVogtuTsijJKh4"


def _make_world() -> dict[str, Any]:
    """One issued certificate plus what an offline verifier needs; built once per module."""
    tmp = Path(tempfile.mkdtemp(prefix="certtest-"))
    atexit.register(shutil.rmtree, tmp, True)
    settings = Settings(data_dir=tmp, public_base_url="https://certs.example")
    url = settings.resolved_database_url
    migrate(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        issued = issue_sample_certificate(session, settings)
        other_fp = register_station_key(session, settings, "station-2").fingerprint
    with session_scope(engine) as session:
        doc = issuer_document(session, settings)
        lists = {
            f"https://certs.example/status/{p}/1": status_list_credential(session, settings, p, 1)
            for p in ("revocation", "suspension")
        }
    engine.dispose()
    other_private = (tmp / "keys" / f"station-{other_fp}.pem").read_bytes()
    return {
        "settings": settings,
        "credential": issued.credential,
        "doc": doc,
        "lists": lists,
        "other_fp": other_fp,
        "other_pem": other_private,
    }


WORLD = _make_world()


def _verify(credential: Any, doc: dict[str, Any] | None = None) -> Verdict:
    keys = KeySet.from_document(doc or WORLD["doc"])
    return verify_credential(credential, keys, WORLD["lists"].__getitem__).verdict


def _leaf_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaf_paths(v, (*prefix, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaf_paths(v, (*prefix, i))]
    return [prefix]


def _mutate(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value[:-1] + ("A" if value[-1:] != "A" else "B") if value else "x"
    return "x"


LEAF_PATHS = _leaf_paths(WORLD["credential"])


def test_w3c_test_vector_verifies_and_signs_identically() -> None:
    """Our eddsa-jcs-2022 reproduces the W3C spec's published proofValue byte for byte."""
    secret = Ed25519PrivateKey.from_private_bytes(multibase_decode(W3C_SECRET)[2:])
    vm = "https://vc.example/issuers/5678#" + W3C_PUBLIC
    signed = add_proof(W3C_VECTOR, secret, vm, created=datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC))
    assert signed["proof"]["proofValue"] == W3C_PROOF_VALUE
    public = Ed25519PublicKey.from_public_bytes(ed25519_from_multikey(W3C_PUBLIC))
    assert verify_proof(signed, lambda _vm: public)["proofValue"] == W3C_PROOF_VALUE


def test_round_trip_is_valid_through_json() -> None:
    """A certificate serialised to JSON and read back verifies as valid offline."""
    cred = json.loads(json.dumps(WORLD["credential"]))
    assert _verify(cred) is Verdict.valid
    assert cred["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert cred["proof"]["proofValue"].startswith("z")
    assert cred["@context"][0] == "https://www.w3.org/ns/credentials/v2"


def test_raw_identifiers_are_not_in_the_credential() -> None:
    """IMEIs and serial appear only as keyed, salted hashes: not in clear, not even their last digits."""
    text = json.dumps(WORLD["credential"])
    for secret in ("356938035643809", "356938035643817", "R58N12ABCDE"):
        assert secret not in text
    ident = WORLD["credential"]["credentialSubject"]["identity"]
    assert "imeis_masked" not in ident and "serial_masked" not in ident
    shown = json.dumps({k: v for k, v in ident.items() if k != "identity_hashes"})
    assert "3809" not in shown and "3817" not in shown and "BCDE" not in shown
    assert len(ident["identity_hashes"]["imeis"]) == 2


@pytest.mark.parametrize("path", LEAF_PATHS, ids=["/".join(map(str, p)) for p in LEAF_PATHS])
def test_every_field_tampered_is_caught(path: tuple[Any, ...]) -> None:
    """Changing any single value anywhere in the credential makes verification fail."""
    cred = copy.deepcopy(WORLD["credential"])
    node = cred
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = _mutate(node[path[-1]])
    verdict = _verify(cred)
    assert verdict is not Verdict.valid
    trusted_routing = path[0] in ("proof", "issuer", "type") or path[:2] == ("credentialSubject", "station")
    if not trusted_routing:
        assert verdict is Verdict.tampered


def test_added_and_removed_fields_are_caught() -> None:
    """Adding a claim or deleting one (e.g. a failed check) breaks the signature."""
    added = copy.deepcopy(WORLD["credential"])
    added["credentialSubject"]["grade"]["reasons"].append("like new")
    assert _verify(added) is Verdict.tampered
    removed = copy.deepcopy(WORLD["credential"])
    del removed["credentialSubject"]["checks"][0]
    assert _verify(removed) is Verdict.tampered
    no_status = copy.deepcopy(WORLD["credential"])
    del no_status["credentialStatus"]
    assert _verify(no_status) is Verdict.tampered


def test_forged_signature_with_claimed_station_key() -> None:
    """A forger signs with their own key but names the station's key: tampered."""
    cred = {k: v for k, v in WORLD["credential"].items() if k != "proof"}
    cred["credentialSubject"] = {**cred["credentialSubject"], "grade": {"grade": "A", "reasons": []}}
    forged = add_proof(cred, Ed25519PrivateKey.generate(), WORLD["credential"]["proof"]["verificationMethod"])
    assert _verify(forged) is Verdict.tampered


def test_signature_by_unregistered_key_is_unknown_key() -> None:
    """A well-formed proof by a key the issuer never certified: unknown key."""
    cred = {k: v for k, v in WORLD["credential"].items() if k != "proof"}
    key = Ed25519PrivateKey.generate()
    from inspector.certificates.keys import public_fingerprint

    forged = add_proof(cred, key, verification_method(WORLD["settings"], public_fingerprint(key)))
    assert _verify(forged) is Verdict.unknown_key


def test_key_from_another_station_is_rejected() -> None:
    """Station 2's genuine key signing a certificate that names station 1: unknown key."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(WORLD["other_pem"], password=None)
    assert isinstance(key, Ed25519PrivateKey)
    cred = {k: v for k, v in WORLD["credential"].items() if k != "proof"}
    resigned = add_proof(cred, key, verification_method(WORLD["settings"], WORLD["other_fp"]))
    assert _verify(resigned) is Verdict.unknown_key


def test_doctored_issuer_document_is_refused() -> None:
    """An issuer key document edited to hide a revocation or add a key no longer verifies."""
    doc = copy.deepcopy(WORLD["doc"])
    doc["verificationMethod"][1]["revoked"] = "2020-01-01T00:00:00Z"
    with pytest.raises(ValueError):
        KeySet.from_document(doc)
    with pytest.raises(ValueError):
        KeySet.from_document(WORLD["doc"], pinned_root="z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")


@pytest.mark.parametrize(
    "payload", [None, [], "text", 42, {"type": "VerifiableCredential"}, {"type": ["VerifiableCredential"]}]
)
def test_malformed_inputs(payload: Any) -> None:
    """Things that are not credentials get the 'malformed' verdict, not an exception."""
    assert _verify(payload) is Verdict.malformed


def test_status_list_is_large_and_gzipped() -> None:
    """Status lists carry at least 131,072 entries, GZIP + base64url multibase, signed by the root."""
    for doc in WORLD["lists"].values():
        bits = decode_list(doc["credentialSubject"]["encodedList"])
        assert len(bits) * 8 >= LIST_SIZE
        assert doc["credentialSubject"]["encodedList"].startswith("u")
        assert doc["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]


def test_floats_are_refused_with_a_clear_message() -> None:
    """Measured values must be integers in units or strings (JCS would rewrite floats)."""
    req = sample_request()
    req.grade["measurements"]["scratch_mm"] = 0.5
    tmp = Path(tempfile.mkdtemp(prefix="certtest-"))
    try:
        settings = Settings(data_dir=tmp)
        migrate(settings.resolved_database_url)
        engine = make_engine(settings.resolved_database_url)
        from inspector.certificates import issue_certificate

        with session_scope(engine) as session, pytest.raises(CertificateError, match="scratch_mm"):
            issue_certificate(session, req, settings=settings)
        engine.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
