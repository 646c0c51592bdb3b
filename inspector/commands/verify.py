"""``inspector verify``: check a certificate offline (or online) with the issuer's public keys.

Exit codes: 0 valid, 3 malformed, 4 tampered/forged, 5 unknown or other station's key,
6 revoked key, 7 revoked certificate, 8 suspended, 9 status list not checkable, 1 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import httpx

from inspector.certificates.dataintegrity import ProofError, jcs, verify_proof
from inspector.certificates.keys import KeySet, RevokedKeyError, UnknownKeyError
from inspector.certificates.merkle import leaf_hash, verify_consistency, verify_inclusion
from inspector.certificates.service import log_entry_for
from inspector.certificates.verify import Verdict, VerificationResult, verify_credential
from inspector.cli import CommandError

TIMEOUT = httpx.Timeout(10.0)


def _is_url(ref: str) -> bool:
    return ref.startswith(("http://", "https://"))


def _fetch_json(url: str) -> Any:
    try:
        resp = httpx.get(url, timeout=TIMEOUT, follow_redirects=True, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise CommandError(f"cannot fetch {url}: {exc}") from exc
    if resp.status_code == 404:
        raise CommandError(f"{url}: not found (404) - check the certificate id")
    if resp.status_code != 200:
        raise CommandError(f"{url}: HTTP {resp.status_code}")
    return resp.text


def _read(ref: str) -> str:
    if ref == "-":
        return sys.stdin.read()
    if _is_url(ref):
        return str(_fetch_json(ref))
    path = Path(ref)
    if not path.is_file():
        raise CommandError(f"no such file: {ref}")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CommandError(f"{ref} is not UTF-8 text: {exc}") from exc


def _credential_url(ref: str) -> str:
    """A verify-page URL (``.../c/ID``) is turned into its JSON form."""
    path = ref.split("?", 1)[0].rstrip("/")
    return path if path.endswith(".json") else path + ".json"


def _print(result: VerificationResult, as_json: bool) -> None:
    if as_json:
        print(json.dumps({**result.as_dict(), "exit_code": result.exit_code}, indent=2))
        return
    label = "VALID" if result.ok else result.verdict.value.upper().replace("_", " ")
    print(f"{label}: {result.headline}")
    if result.human_id:
        print(f"  certificate: {result.human_id}  station: {result.station_id}")
    print(f"  {result.message}")
    for check in result.checks:
        print(f"  ok: {check}")


def _handle(args: argparse.Namespace) -> int:
    ref: str = args.source
    source = _credential_url(ref) if _is_url(ref) else ref
    raw = _read(source)
    try:
        credential = json.loads(raw)
    except (json.JSONDecodeError, RecursionError) as exc:
        result = VerificationResult(Verdict.malformed, f"not valid JSON: {exc}")
        _print(result, args.json)
        return result.exit_code
    if not isinstance(credential, dict):
        result = VerificationResult(Verdict.malformed, "the JSON is not an object")
        _print(result, args.json)
        return result.exit_code

    if args.keys:
        keys_raw = _read(args.keys)
    elif args.offline:
        raise CommandError("offline verification needs --keys FILE (save it from the issuer's /issuer URL)")
    else:
        issuer = credential.get("issuer")
        issuer_url = issuer.get("id") if isinstance(issuer, dict) else issuer
        if not isinstance(issuer_url, str) or not _is_url(issuer_url):
            raise CommandError("the credential names no https issuer; pass --keys FILE")
        keys_raw = str(_fetch_json(issuer_url))
    try:
        keys_doc = json.loads(keys_raw)
        keyset = KeySet.from_document(keys_doc, pinned_root=args.root_key)
    except (ValueError, json.JSONDecodeError) as exc:
        raise CommandError(f"issuer key document rejected: {exc}") from exc

    local_lists: dict[str, Any] = {}
    for path in args.status_list or []:
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise CommandError(f"cannot read status list {path}: {exc}") from exc
        local_lists[str(doc.get("id"))] = doc

    def fetch_status(url: str) -> Any:
        if url in local_lists:
            return local_lists[url]
        if args.offline:
            raise OSError(f"{url} not given with --status-list (offline)")
        resp = httpx.get(url, timeout=TIMEOUT)
        resp.raise_for_status()
        return resp.json()

    def fetch_status_safe(url: str) -> Any:
        try:
            return fetch_status(url)
        except httpx.HTTPError as exc:
            raise OSError(str(exc)) from exc

    result = verify_credential(credential, keyset, fetch_status_safe)
    if args.keys and keys_doc.get("updated"):
        result.checks.append(
            f"issuer keys as of {keys_doc['updated']} (key revocations after that are unknown)"
        )
    if result.signature_valid and not args.offline:
        note = _check_logged(credential, keyset)
        if note.startswith("in the transparency log"):
            result.checks.append(note)
        else:
            print(f"warning: {note}")
    _print(result, args.json)
    return result.exit_code


def _log_base(keyset: KeySet) -> str:
    return keyset.issuer_id.rsplit("/issuer", 1)[0]


def _check_logged(credential: dict[str, Any], keyset: KeySet) -> str:
    """Fetch and check the certificate's inclusion proof against a root-signed tree head."""
    human_id = credential.get("credentialSubject", {}).get("human_id")
    try:
        proof = json.loads(str(_fetch_json(f"{_log_base(keyset)}/log/proof/{human_id}")))
        sth = proof["sth"]
        verify_proof(sth, keyset.resolver(allow_root=True))
        leaf = leaf_hash(jcs(log_entry_for(credential)))
        ok = verify_inclusion(
            leaf,
            int(proof["leaf_index"]),
            int(sth["tree_size"]),
            [bytes.fromhex(h) for h in proof["audit_path"]],
            bytes.fromhex(sth["root_hash"]),
        )
    except (
        CommandError,
        ProofError,
        UnknownKeyError,
        RevokedKeyError,
        KeyError,
        ValueError,
        TypeError,
    ) as exc:
        return f"transparency log inclusion not checked: {exc}"
    if not ok:
        return "the transparency log's inclusion proof does NOT match this certificate"
    return f"in the transparency log: entry #{proof['leaf_index']} of {sth['tree_size']}, proof verified"


def _handle_log(args: argparse.Namespace) -> int:
    """Check that the issuer's log only ever grew since a tree head you saved (RFC 9162 consistency)."""
    base = args.base_url.rstrip("/")
    keys_raw = _read(args.keys) if args.keys else str(_fetch_json(f"{base}/issuer"))
    try:
        keyset = KeySet.from_document(json.loads(keys_raw), pinned_root=args.root_key)
    except (ValueError, json.JSONDecodeError) as exc:
        raise CommandError(f"issuer key document rejected: {exc}") from exc
    root_only = keyset.resolver(allow_root=True)
    current = json.loads(str(_fetch_json(f"{base}/log/sth")))
    try:
        verify_proof(current, root_only)
    except (ProofError, UnknownKeyError, RevokedKeyError) as exc:
        print(f"BAD TREE HEAD: the log's current tree head is not signed by the issuer: {exc}")
        return 4
    print(
        f"current tree head: size {current['tree_size']}, root {current['root_hash']}, {current['timestamp']}"
    )
    code = 0
    if args.trusted_sth:
        try:
            saved = json.loads(Path(args.trusted_sth).read_text(encoding="utf-8"))
            verify_proof(saved, root_only)
        except (OSError, json.JSONDecodeError, ProofError, UnknownKeyError, RevokedKeyError) as exc:
            raise CommandError(f"saved tree head unusable: {exc}") from exc
        first, second = int(saved["tree_size"]), int(current["tree_size"])
        if first > second:
            print(f"INCONSISTENT: the log shrank from {first} to {second} entries")
            return 4
        body = json.loads(str(_fetch_json(f"{base}/log/consistency?first={first}&second={second}")))
        ok = verify_consistency(
            first,
            second,
            bytes.fromhex(saved["root_hash"]),
            bytes.fromhex(current["root_hash"]),
            [bytes.fromhex(h) for h in body["proof"]],
        )
        if ok:
            print(f"CONSISTENT: the log of {second} entries extends your saved head of {first} entries")
        else:
            print(f"INCONSISTENT: the log was rewritten since your saved head of {first} entries")
            code = 4
    if args.save and code == 0:
        Path(args.save).write_text(json.dumps(current, indent=2) + "\n", encoding="utf-8")
        print(f"saved the current tree head to {args.save}")
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
        "--root-key", metavar="z6Mk...", help="pin the issuer's root public key (publicKeyMultibase)"
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
