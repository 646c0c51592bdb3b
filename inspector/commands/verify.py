"""``inspector verify``: check a certificate offline (or online) with the issuer's public keys.

Trust: the command pins this platform's issuer, ``<INSPECTOR_PUBLIC_BASE_URL>/issuer``. A
certificate that names another issuer is refused (exit 5) and the command says which issuer it
names; trust that issuer explicitly with ``--issuer URL``, or pin an issuer by its root key with
``--root-key z6Mk...`` (then any issuer URL whose key document that root key signs is accepted).
The issuer, how it came to be trusted and its root key fingerprint are always printed, so they
can be compared with the fingerprint the platform publishes. Every file is read as I-JSON
(RFC 7493): duplicate member names, out-of-range numbers or non-UTF-8 bytes make it malformed.

Exit codes: 0 valid, 3 malformed, 4 tampered/forged, 5 unknown or other station's key or another
issuer, 6 revoked key, 7 revoked certificate, 8 suspended, 9 status list not checkable,
1 usage error (file missing, URL unreachable or not a certificate URL, unusable key document).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from inspector.certificates.dataintegrity import ProofError, jcs, verify_proof
from inspector.certificates.encoding import NotIJSONError, loads_ijson
from inspector.certificates.keys import KeySet, RevokedKeyError, UnknownKeyError
from inspector.certificates.merkle import leaf_hash, verify_consistency, verify_inclusion
from inspector.certificates.service import log_entry_for
from inspector.certificates.verify import Verdict, VerificationResult, verify_credential
from inspector.cli import CommandError
from inspector.config import get_settings

TIMEOUT = httpx.Timeout(10.0)
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024  # a credential, key document or status list is a few kB
MAX_SHOWN = 300  # characters of any text from a document that is printed
ISSUER_PATH = "/issuer"
# A certificate URL ends in /c/<id>, /c/<id>.json or /c/<id>/ (the platform may sit under a prefix).
CERTIFICATE_PATH = re.compile(r"^(?P<prefix>(?:/[^/]+)*)/c/(?P<id>[A-Za-z0-9_-]{1,64})(?:\.json|/)?$")
CERTIFICATE_URL_HINT = "give the certificate's page URL, e.g. https://HOST/c/7KQ2M9X4TR"


@dataclass(frozen=True)
class Trust:
    """Which issuer this run trusts, and why (printed with every verdict)."""

    issuer: str | None  # pinned issuer id; None when only the root key is pinned
    root_key: str | None  # pinned root key fingerprint (publicKeyMultibase)
    reason: str  # how the pin was chosen, for the reader


@dataclass
class Outcome:
    """A verdict together with the issuer and root key it was reached with."""

    result: VerificationResult
    issuer: str | None = None
    root_key: str | None = None
    trusted_because: str = ""
    hint: str = ""  # what the reader can do about a refusal


def _shown(value: object) -> str:
    """Text from a document made safe for a terminal: no control characters, bounded length."""
    text = "".join(c if c.isprintable() else "?" for c in str(value))
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "..."


def _is_url(ref: str) -> bool:
    return ref.lower().startswith(("http://", "https://"))


class NotFoundError(CommandError):
    """The server answered that the document does not exist (not that it could not answer)."""


class LogCheck(StrEnum):
    LOGGED = "logged"
    NOT_LOGGED = "not_logged"  # the issuer's own log does not have it, or proves something else
    UNCHECKED = "unchecked"  # the log could not be asked; the certificate itself may be fine


def _fetch(url: str, what: str) -> bytes:
    """GET a JSON document (bounded size); every failure is a CommandError naming ``what``."""
    try:
        with httpx.stream(
            "GET", url, timeout=TIMEOUT, follow_redirects=True, headers={"Accept": "application/json"}
        ) as resp:
            if resp.status_code == 404:
                raise NotFoundError(f"the {what} was not found (HTTP 404)")
            if resp.status_code != 200:
                raise CommandError(f"the {what} could not be fetched (HTTP {resp.status_code})")
            body = bytearray()
            for chunk in resp.iter_bytes():
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise CommandError(f"the {what} is larger than {MAX_DOCUMENT_BYTES} bytes")
            return bytes(body)
    except httpx.InvalidURL as exc:
        raise CommandError(f"the {what} URL is not a valid URL") from exc
    except httpx.ConnectError as exc:
        raise CommandError(f"the {what} could not be fetched: cannot connect to the server") from exc
    except httpx.TimeoutException as exc:
        raise CommandError(f"the {what} could not be fetched: the server did not answer in time") from exc
    except httpx.HTTPError as exc:
        raise CommandError(f"the {what} could not be fetched: network error ({type(exc).__name__})") from exc


def _read(ref: str, what: str) -> bytes:
    """Bytes of a local file, standard input ('-') or a URL."""
    if ref == "-":
        return sys.stdin.buffer.read(MAX_DOCUMENT_BYTES + 1)
    if _is_url(ref):
        return _fetch(ref, what)
    try:
        with Path(ref).open("rb") as fh:
            return fh.read(MAX_DOCUMENT_BYTES + 1)
    except FileNotFoundError as exc:
        raise CommandError(f"the {what} file does not exist") from exc
    except OSError as exc:
        raise CommandError(f"the {what} file cannot be read: {exc.strerror}") from exc


def _load(ref: str, what: str) -> Any:
    """Read and parse a document that is not the certificate; anything unusable is a usage error."""
    try:
        return loads_ijson(_read(ref, what))
    except NotIJSONError as exc:
        raise CommandError(f"the {what} is not usable: {exc}") from exc


def credential_url(ref: str) -> str:
    """The JSON URL of a certificate page URL (``.../c/ID`` -> ``.../c/ID.json``)."""
    try:
        url = httpx.URL(ref)
    except httpx.InvalidURL as exc:
        raise CommandError(f"not a valid URL; {CERTIFICATE_URL_HINT}") from exc
    match = CERTIFICATE_PATH.match(url.path)
    if not url.host or match is None:
        raise CommandError(f"the URL has no certificate path; {CERTIFICATE_URL_HINT}")
    path = f"{match['prefix']}/c/{match['id']}.json"
    return str(url.copy_with(path=path, query=None, fragment=None))


def issuer_id_of(url: str) -> str:
    """An issuer id from a base URL or an issuer URL (``https://h`` -> ``https://h/issuer``)."""
    if not _is_url(url):
        raise CommandError("an issuer must be an http(s) URL, e.g. https://HOST/issuer")
    base = url.split("#", 1)[0].split("?", 1)[0].rstrip("/")
    return base if base.endswith(ISSUER_PATH) else base + ISSUER_PATH


def _platform_issuer() -> str:
    try:
        base = get_settings().public_base_url
    except ValidationError as exc:
        raise CommandError("the configuration (INSPECTOR_* settings) is invalid; fix it first") from exc
    return issuer_id_of(base)


def _trust(args: argparse.Namespace) -> Trust:
    if args.issuer:
        given = issuer_id_of(args.issuer)
        platform = _platform_issuer()
        if given == platform:
            return Trust(given, args.root_key, "this platform's issuer, given with --issuer")
        return Trust(given, args.root_key, f"trusted with --issuer; this platform's issuer is {platform}")
    if args.root_key:
        return Trust(None, args.root_key, "trusted because --root-key pins its root key")
    return Trust(_platform_issuer(), None, "this platform's issuer, from INSPECTOR_PUBLIC_BASE_URL")


def _named_issuer(credential: dict[str, Any]) -> str | None:
    issuer = credential.get("issuer")
    named = issuer.get("id") if isinstance(issuer, dict) else issuer
    return named if isinstance(named, str) else None


def _print(outcome: Outcome, as_json: bool) -> None:
    result = outcome.result
    if as_json:
        body = {
            **result.as_dict(),
            "issuer": outcome.issuer,
            "issuer_trust": outcome.trusted_because,
            "root_key": outcome.root_key,
            "hint": outcome.hint or None,
            "exit_code": result.exit_code,
        }
        print(json.dumps(body, indent=2))
        return
    label = "VALID" if result.ok else result.verdict.value.upper().replace("_", " ")
    print(f"{label}: {result.headline}")
    if result.human_id:
        print(f"  certificate: {_shown(result.human_id)}  station: {_shown(result.station_id)}")
    print(f"  issuer: {_shown(outcome.issuer or '-')} ({outcome.trusted_because})")
    print(f"  issuer root key: {_shown(outcome.root_key or '- (key document not read)')}")
    print(f"  {_shown(result.message)}")
    for check in result.checks:
        print(f"  ok: {_shown(check)}")
    if outcome.hint:
        print(f"  {_shown(outcome.hint)}")


def _refused(result: VerificationResult, trust: Trust, issuer: str | None, why: str) -> Outcome:
    return Outcome(result, issuer=issuer, root_key=trust.root_key, trusted_because=why)


def _verify(args: argparse.Namespace, trust: Trust) -> Outcome:
    """The verdict for one certificate; CommandError for what the user must fix."""
    source: str = args.source
    try:
        credential = loads_ijson(_read(credential_url(source) if _is_url(source) else source, "certificate"))
    except NotIJSONError as exc:
        return _refused(VerificationResult(Verdict.malformed, str(exc)), trust, trust.issuer, trust.reason)
    if not isinstance(credential, dict):
        result = VerificationResult(Verdict.malformed, "the JSON is not an object")
        return _refused(result, trust, trust.issuer, trust.reason)
    named = _named_issuer(credential)
    if named is None:
        result = VerificationResult(Verdict.malformed, "the certificate names no issuer")
        return _refused(result, trust, trust.issuer, trust.reason)
    if trust.issuer is not None and named != trust.issuer:
        message = f"issued by {named!r}, not by the trusted issuer {trust.issuer} ({trust.reason})"
        outcome = _refused(VerificationResult(Verdict.unknown_key, message), trust, named, "NOT trusted")
        outcome.hint = (
            f"to trust that issuer, run again with --issuer {named} once you have compared its root key "
            "with the one it publishes"
        )
        return outcome

    if args.keys:
        keys_doc = _load(args.keys, "issuer key document (--keys)")
    elif args.offline:
        raise CommandError("offline verification needs --keys FILE (save it from the issuer's /issuer URL)")
    elif not _is_url(named):
        raise CommandError("the certificate names no http(s) issuer; pass --keys FILE")
    else:
        keys_doc = _load(named, "issuer key document")
    try:
        keyset = KeySet.from_document(keys_doc)
    except (ValueError, TypeError) as exc:  # ProofError, UnknownKeyError and EncodingError are ValueErrors
        raise CommandError(f"issuer key document rejected: {_shown(exc)}") from exc
    outcome = Outcome(
        VerificationResult(Verdict.malformed, ""),
        issuer=keyset.issuer_id,
        root_key=keyset.root.fingerprint,
        trusted_because=trust.reason,
    )
    if trust.root_key is not None and keyset.root.fingerprint != trust.root_key:
        outcome.result = VerificationResult(
            Verdict.unknown_key, f"the issuer's root key is not the pinned root key {trust.root_key}"
        )
        outcome.trusted_because = "NOT trusted: root key differs from --root-key"
        return outcome
    if trust.issuer is not None and keyset.issuer_id != trust.issuer:
        outcome.result = VerificationResult(
            Verdict.unknown_key,
            f"the issuer key document is for {keyset.issuer_id!r}, not for the trusted issuer {trust.issuer}",
        )
        outcome.trusted_because = "NOT trusted"
        return outcome

    local_lists: dict[str, Any] = {}
    for path in args.status_list or []:
        doc = _load(path, "status list (--status-list)")
        if not isinstance(doc, dict) or not isinstance(doc.get("id"), str):
            raise CommandError("a --status-list file is not a status list credential")
        local_lists[doc["id"]] = doc

    def fetch_status(url: str) -> Any:
        if url in local_lists:
            return local_lists[url]
        if args.offline:
            raise OSError("not given with --status-list (offline)")
        if not _is_url(url):
            raise OSError("the status list address is not an http(s) URL")
        try:
            return loads_ijson(_fetch(url, "status list"))
        except CommandError as exc:
            raise OSError(str(exc)) from exc

    result = verify_credential(credential, keyset, fetch_status)
    if isinstance(keys_doc.get("updated"), str) and args.keys:
        result.checks.append(
            f"issuer keys as of {_shown(keys_doc['updated'])} (key revocations after that are unknown)"
        )
    if result.signature_valid and not args.offline:
        logged, note = _check_logged(credential, keyset)
        if logged is LogCheck.LOGGED:
            result.checks.append(note)
        elif logged is LogCheck.NOT_LOGGED and result.ok:
            result.verdict, result.message = Verdict.not_logged, note
        else:
            print(f"warning: {_shown(note)}")
    outcome.result = result
    return outcome


def _handle(args: argparse.Namespace) -> int:
    outcome = _verify(args, _trust(args))
    _print(outcome, args.json)
    return outcome.result.exit_code


def _log_base(keyset: KeySet) -> str:
    return keyset.issuer_id.rsplit(ISSUER_PATH, 1)[0]


def _hashes(values: Any) -> list[bytes]:
    if not isinstance(values, list):
        raise ValueError("audit path is not a list")
    return [bytes.fromhex(str(h)) for h in values]


def _check_logged(credential: dict[str, Any], keyset: KeySet) -> tuple[LogCheck, str]:
    """Fetch and check the certificate's inclusion proof against a root-signed tree head.

    A certificate the issuer's own log does not hold (or holds as something else) is one the
    issuer may be showing to this buyer alone: that is a verdict, not a warning.
    """
    subject = credential.get("credentialSubject")
    human_id = subject.get("human_id") if isinstance(subject, dict) else None
    if not isinstance(human_id, str):
        return LogCheck.UNCHECKED, "transparency log inclusion not checked: the certificate has no id"
    try:
        proof = _load(f"{_log_base(keyset)}/log/proof/{quote(human_id, safe='')}", "log inclusion proof")
        sth = proof["sth"]
        verify_proof(sth, keyset.resolver(allow_root=True))
        leaf = leaf_hash(jcs(log_entry_for(credential)))
        ok = verify_inclusion(
            leaf,
            int(proof["leaf_index"]),
            int(sth["tree_size"]),
            _hashes(proof["audit_path"]),
            bytes.fromhex(str(sth["root_hash"])),
        )
    except NotFoundError:
        return LogCheck.NOT_LOGGED, f"certificate {human_id} is not in the issuer's transparency log"
    except (
        CommandError,
        ProofError,
        UnknownKeyError,
        RevokedKeyError,
        KeyError,
        ValueError,
        TypeError,
    ) as exc:
        return LogCheck.UNCHECKED, f"transparency log inclusion not checked: {exc}"
    if not ok:
        return LogCheck.NOT_LOGGED, "the transparency log's inclusion proof does NOT match this certificate"
    logged = f"in the transparency log: entry #{proof['leaf_index']} of {sth['tree_size']}, proof verified"
    return LogCheck.LOGGED, logged


def _tree_head(doc: Any) -> tuple[int, bytes]:
    """Size and root hash of a signed tree head, or ValueError."""
    if not isinstance(doc, dict):
        raise ValueError("a tree head is not a JSON object")
    try:
        return int(doc["tree_size"]), bytes.fromhex(str(doc["root_hash"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError("a tree head lacks a tree_size or a hex root_hash") from exc


def _handle_log(args: argparse.Namespace) -> int:
    """Check that the issuer's log only ever grew since a tree head you saved (RFC 9162 consistency)."""
    if not _is_url(args.base_url):
        raise CommandError("BASE_URL must be the issuer's http(s) site, e.g. https://certs.example")
    base = args.base_url.rstrip("/")
    keys_doc = _load(args.keys, "issuer key document (--keys)") if args.keys else None
    if keys_doc is None:
        keys_doc = _load(f"{base}{ISSUER_PATH}", "issuer key document")
    try:
        keyset = KeySet.from_document(keys_doc, pinned_root=args.root_key)
    except (ValueError, TypeError) as exc:
        raise CommandError(f"issuer key document rejected: {_shown(exc)}") from exc
    print(f"issuer: {_shown(keyset.issuer_id)}  root key: {keyset.root.fingerprint}")
    root_only = keyset.resolver(allow_root=True)
    current = _load(f"{base}/log/sth", "signed tree head")
    try:
        verify_proof(current, root_only)
        second, second_root = _tree_head(current)
    except (ProofError, UnknownKeyError, RevokedKeyError) as exc:
        print(f"BAD TREE HEAD: the log's current tree head is not signed by the issuer: {_shown(exc)}")
        return 4
    except ValueError as exc:
        raise CommandError(f"the log's tree head is unusable: {exc}") from exc
    print(f"current tree head: size {second}, root {second_root.hex()}, {_shown(current.get('timestamp'))}")
    code = 0
    if args.trusted_sth:
        saved = _load(args.trusted_sth, "saved tree head (--trusted-sth)")
        try:
            verify_proof(saved, root_only)
            first, first_root = _tree_head(saved)
        except (ProofError, UnknownKeyError, RevokedKeyError, ValueError) as exc:
            raise CommandError(f"saved tree head unusable: {_shown(exc)}") from exc
        if first > second:
            print(f"INCONSISTENT: the log shrank from {first} to {second} entries")
            return 4
        body = _load(f"{base}/log/consistency?first={first}&second={second}", "consistency proof")
        try:
            proof = _hashes(body["proof"] if isinstance(body, dict) else None)
        except (KeyError, ValueError) as exc:
            raise CommandError("the log's consistency proof is unusable") from exc
        if verify_consistency(first, second, first_root, second_root, proof):
            print(f"CONSISTENT: the log of {second} entries extends your saved head of {first} entries")
        else:
            print(f"INCONSISTENT: the log was rewritten since your saved head of {first} entries")
            code = 4
    if args.save and code == 0:
        try:
            Path(args.save).write_text(json.dumps(current, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot save the tree head: {exc.strerror}") from exc
        print("saved the current tree head (--save)")
    return code


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "verify",
        help="verify a certificate (file, '-' or URL) with the issuer's public keys",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "source", metavar="FILE_OR_URL", help="credential JSON file, '-' for stdin, or certificate URL"
    )
    p.add_argument(
        "--keys", metavar="FILE_OR_URL", help="issuer key document (GET /issuer); default: fetch it"
    )
    p.add_argument(
        "--issuer",
        metavar="URL",
        help="trust this issuer instead of this platform's (INSPECTOR_PUBLIC_BASE_URL)/issuer",
    )
    p.add_argument(
        "--root-key",
        metavar="z6Mk...",
        help="pin the issuer's root public key (publicKeyMultibase); alone, it trusts any issuer URL "
        "whose key document this root key signs",
    )
    p.add_argument(
        "--status-list", metavar="FILE", action="append", help="saved status list credential (repeatable)"
    )
    p.add_argument("--offline", action="store_true", help="never use the network")
    p.add_argument("--json", action="store_true", help="machine-readable result")
    p.set_defaults(handler=_handle)
    lg = sub.add_parser(
        "verify-log",
        help="check the issuer's transparency log is append-only since a tree head you saved",
        description=_handle_log.__doc__,
    )
    lg.add_argument("base_url", metavar="BASE_URL", help="the issuer's site, e.g. https://certs.example")
    lg.add_argument("--trusted-sth", metavar="FILE", help="a signed tree head saved earlier (with --save)")
    lg.add_argument("--save", metavar="FILE", help="save the current signed tree head for next time")
    lg.add_argument("--keys", metavar="FILE_OR_URL", help="issuer key document (default: BASE_URL/issuer)")
    lg.add_argument("--root-key", metavar="z6Mk...", help="pin the issuer's root public key")
    lg.set_defaults(handler=_handle_log)
