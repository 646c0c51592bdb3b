"""Verification of a certificate credential, shared by the web page, the JSON API and the CLI.

One function decides the verdict so every channel says the same thing. Verdicts, in the
order they are checked, and the CLI exit code of each:

=====================  ====  ===========================================================
verdict                exit  meaning
=====================  ====  ===========================================================
valid                   0    signature verifies, key trusted, certificate not revoked
malformed               3    not JSON / not an inspection credential / no usable proof
tampered                4    the signature does not match the content (edited or forged)
unknown_key             5    signed by a key the issuer never certified, or another
                             station's key, or a different issuer, or by a rotated-out
                             key after its retirement
key_revoked             6    signed by a key that was later revoked (compromised)
revoked                 7    the certificate itself was revoked (status list bit set)
suspended               8    the certificate is suspended (status list bit set)
status_unavailable      9    signature fine but the status list could not be checked
not_logged             10    (online) the issuer's transparency log does not hold it, or
                             proves a different certificate under its id
=====================  ====  ===========================================================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from inspector.certificates.dataintegrity import MalformedProof, ProofError, TamperedProof, verify_proof
from inspector.certificates.encoding import EncodingError
from inspector.certificates.keys import KeySet, RevokedKeyError, UnknownKeyError
from inspector.certificates.statuslist import bit_at, decode_list
from inspector.i18n import N_


class Verdict(StrEnum):
    valid = "valid"
    malformed = "malformed"
    tampered = "tampered"
    unknown_key = "unknown_key"
    key_revoked = "key_revoked"
    revoked = "revoked"
    suspended = "suspended"
    status_unavailable = "status_unavailable"
    not_logged = "not_logged"


EXIT_CODES: dict[Verdict, int] = {
    Verdict.valid: 0,
    Verdict.malformed: 3,
    Verdict.tampered: 4,
    Verdict.unknown_key: 5,
    Verdict.key_revoked: 6,
    Verdict.revoked: 7,
    Verdict.suspended: 8,
    Verdict.status_unavailable: 9,
    Verdict.not_logged: 10,
}

# English here (CLI, JSON); the verify page translates them.
HEADLINES: dict[Verdict, str] = {
    Verdict.valid: N_("Genuine certificate"),
    Verdict.malformed: N_("Not a readable certificate"),
    Verdict.tampered: N_("Signature does not match: this certificate was altered or forged"),
    Verdict.unknown_key: N_("Signed by an unknown key: not issued by this platform's stations"),
    Verdict.key_revoked: N_("Signed by a revoked station key: do not trust this certificate"),
    Verdict.revoked: N_("This certificate has been revoked"),
    Verdict.suspended: N_("This certificate is suspended pending review"),
    Verdict.status_unavailable: N_("Signature valid, but revocation status could not be checked"),
    Verdict.not_logged: N_("Not in the issuer's public log: it may be shown to you alone; do not trust it"),
}


@dataclass
class VerificationResult:
    verdict: Verdict
    message: str
    human_id: str | None = None
    station_id: str | None = None
    key_fingerprint: str | None = None
    signature_valid: bool = False
    checks: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.valid

    @property
    def headline(self) -> str:
        return HEADLINES[self.verdict]

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "headline": self.headline,
            "message": self.message,
            "human_id": self.human_id,
            "station_id": self.station_id,
            "key": self.key_fingerprint,
            "signature_valid": self.signature_valid,
            "checks": self.checks,
        }


RETIRED_GRACE = timedelta(minutes=5)  # clock skew between a station and the issuer


def _parse_created(value: Any) -> datetime | None:
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


StatusFetcher = Callable[[str], Any]  # status list credential URL -> parsed JSON (or raises)


def _subject(credential: dict[str, Any]) -> dict[str, Any]:
    subj = credential.get("credentialSubject")
    if not isinstance(subj, dict):
        raise MalformedProof("credentialSubject is not an object")
    return subj


def verify_credential(
    credential: Any, keys: KeySet, fetch_status: StatusFetcher | None
) -> VerificationResult:
    """Verify an inspection certificate against trusted issuer keys and its status lists.

    ``fetch_status`` returns the status list credential for a URL (raise on failure); None
    skips status checking (verdict ``status_unavailable`` when the credential has a status).
    """
    res = VerificationResult(Verdict.malformed, "")
    try:
        if not isinstance(credential, dict):
            raise MalformedProof("not a JSON object")
        types = credential.get("type")
        if not isinstance(types, list) or "VerifiableCredential" not in types:
            raise MalformedProof("not a Verifiable Credential (type list lacks VerifiableCredential)")
        subj = _subject(credential)
        raw_station = subj.get("station")
        station: dict[str, Any] = raw_station if isinstance(raw_station, dict) else {}
        res.human_id = subj.get("human_id") if isinstance(subj.get("human_id"), str) else None
        res.station_id = station.get("id") if isinstance(station.get("id"), str) else None
        issuer = credential.get("issuer")
        issuer_ref = issuer.get("id") if isinstance(issuer, dict) else issuer
        if issuer_ref != keys.issuer_id:
            raise UnknownKeyError(f"issued by {issuer_ref!r}, not by {keys.issuer_id}")
        revoked: list[RevokedKeyError] = []
        strict = keys.resolver(station_id=res.station_id)

        def resolve(vm: str) -> Any:
            try:
                return strict(vm)
            except RevokedKeyError as exc:  # still check the signature: forged beats revoked
                revoked.append(exc)
                return keys.keys[vm.rsplit("#", 1)[-1]].public_key

        proof = verify_proof(credential, resolve)
        if revoked:
            raise revoked[0]
        res.key_fingerprint = str(proof["verificationMethod"]).rsplit("#", 1)[-1]
        res.signature_valid = True
        info = keys.keys.get(res.key_fingerprint)
        if info is not None and info.retired_at is not None:
            created = _parse_created(proof.get("created"))
            if created is None or created > info.retired_at + RETIRED_GRACE:
                raise UnknownKeyError(
                    "signed with a station key after it was retired (rotated out); only certificates "
                    "signed before the rotation are valid"
                )
        res.checks.append("signature verified (eddsa-jcs-2022)")
        res.checks.append(f"signing key certified for station {res.station_id}")
    except MalformedProof as exc:
        res.verdict, res.message = Verdict.malformed, str(exc)
        return res
    except TamperedProof as exc:
        res.verdict = Verdict.tampered
        res.message = str(exc)
        return res
    except UnknownKeyError as exc:
        res.verdict, res.message = Verdict.unknown_key, str(exc)
        return res
    except RevokedKeyError as exc:
        res.signature_valid = True
        res.verdict, res.message = Verdict.key_revoked, str(exc)
        return res
    except (TypeError, ValueError, AttributeError) as exc:
        res.verdict, res.message = Verdict.malformed, f"unreadable credential: {exc}"
        return res

    entries = credential.get("credentialStatus", [])
    entries = [entries] if isinstance(entries, dict) else entries
    if not isinstance(entries, list):
        return _done(res, Verdict.malformed, "credentialStatus is not a list")
    for entry in entries:
        purpose = entry.get("statusPurpose") if isinstance(entry, dict) else None
        if purpose not in ("revocation", "suspension"):
            continue
        if fetch_status is None:
            return _done(res, Verdict.status_unavailable, "status list not available offline")
        try:
            list_url = str(entry["statusListCredential"])
            list_vc = fetch_status(list_url)
            verify_proof(list_vc, keys.resolver(allow_root=True))
            if list_vc.get("id") != list_url:  # another signed list (or list number) swapped in
                raise TamperedProof("the status list is not the one the certificate names")
            lsubj = _subject(list_vc)
            if lsubj.get("statusPurpose") != purpose:
                raise TamperedProof("status list purpose mismatch")
            bits = decode_list(str(lsubj["encodedList"]))
            flagged = bit_at(bits, int(entry["statusListIndex"]))
            dated = _list_date(list_vc)
        except (
            ProofError,
            UnknownKeyError,
            RevokedKeyError,
            EncodingError,
            KeyError,
            ValueError,
            TypeError,
            OSError,
        ) as exc:
            return _done(res, Verdict.status_unavailable, f"{purpose} status list unusable: {exc}")
        if flagged:
            verdict = Verdict.revoked if purpose == "revocation" else Verdict.suspended
            return _done(res, verdict, f"the issuer's {purpose} list {dated} marks this certificate")
        res.checks.append(f"not on the signed {purpose} list {dated}")
    return _done(res, Verdict.valid, "signature valid, key trusted, certificate in force")


def _list_date(list_vc: dict[str, Any]) -> str:
    """When the status list was signed: a saved (offline) list says nothing of later changes."""
    when = _parse_created(list_vc.get("validFrom"))
    if when is None:
        return "(undated)"
    return f"dated {when.astimezone(UTC).strftime('%Y-%m-%d %H:%M:%S')} UTC"


def _done(res: VerificationResult, verdict: Verdict, message: str) -> VerificationResult:
    res.verdict, res.message = verdict, message
    return res
