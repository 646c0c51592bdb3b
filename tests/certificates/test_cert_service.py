"""Certificates through the database, the web pages and the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select
from test_cert_merkle import ref_mth, ref_path, ref_subproof

from inspector.auth import Role, create_user, issue_token
from inspector.certificates import (
    CertificateError,
    IssuedCertificate,
    get_certificate,
    identity_matches,
    revoke_certificate,
    suspend_certificate,
)
from inspector.certificates.dataintegrity import jcs
from inspector.certificates.keys import KeySet, keys_dir, revoke_key, rotate_station_key
from inspector.certificates.merkle import verify_consistency, verify_inclusion
from inspector.certificates.service import log_entry_for
from inspector.certificates.tables import LogLeaf
from inspector.certificates.testing import SAMPLE_IMEIS, SAMPLE_SERIAL, issue_sample_certificate
from inspector.cli import main
from inspector.config import Settings
from inspector.db import session_scope

BASE = "http://testserver"  # the public_base_url of the ``settings`` fixture


def _cli_verify(client: TestClient, human_id: str, tmp_path: Path, *extra: str) -> int:
    """Save what a buyer would download, then verify offline with the CLI."""
    cred = tmp_path / "cert.json"
    cred.write_text(client.get(f"/c/{human_id}.json").text)
    keys = tmp_path / "keys.json"
    keys.write_text(client.get("/issuer").text)
    lists = []
    for purpose in ("revocation", "suspension"):
        p = tmp_path / f"{purpose}.json"
        p.write_text(client.get(f"/status/{purpose}/1").text)
        lists += ["--status-list", str(p)]
    return main(["verify", str(cred), "--keys", str(keys), "--offline", "--issuer", BASE, *lists, *extra])


def test_issue_lookup_and_identity_match(engine: Engine, settings: Settings) -> None:
    """An issued certificate is found by id (any case), and only the real IMEI/serial match."""
    with session_scope(engine) as session:
        issued = issue_sample_certificate(session, settings)
    with session_scope(engine) as session:
        record = get_certificate(session, issued.human_id.lower())
        assert record is not None and record.human_id == issued.human_id
        assert record.status == "valid" and record.key_status == "active"
        assert record.issued_at.tzinfo is not None
        assert record.item_kind == "phone" and record.warranty["days"] == 180
        assert identity_matches(session, issued.human_id, SAMPLE_IMEIS[1])
        assert identity_matches(session, issued.human_id, "3569 3803-5643 809")
        assert identity_matches(session, issued.human_id, SAMPLE_SERIAL.lower())
        assert not identity_matches(session, issued.human_id, "356938035643800")
        assert not identity_matches(session, issued.human_id, "")
        assert get_certificate(session, "0000000000") is None


def test_issuing_is_idempotent_per_inspection(engine: Engine, settings: Settings) -> None:
    """A pipeline retrying after a crash gets the same certificate, not a second one."""
    from inspector.certificates import issue_certificate
    from inspector.certificates.testing import sample_request

    req = sample_request()
    with session_scope(engine) as session:
        first = issue_certificate(session, req, settings=settings)
    with session_scope(engine) as session:
        again = issue_certificate(session, req, settings=settings)
    assert again.human_id == first.human_id and again.credential == first.credential


def test_concurrent_issuing_keeps_the_log_append_only(engine: Engine, settings: Settings) -> None:
    """Stations issuing at the same moment get distinct, contiguous log entries and one STH per size."""
    import threading

    from inspector.certificates.service import signed_tree_head

    errors: list[BaseException] = []
    ids: list[str] = []

    def worker(station: str) -> None:
        try:
            for _ in range(3):
                with session_scope(engine) as session:
                    ids.append(issue_sample_certificate(session, settings, station_id=station).human_id)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    with session_scope(engine) as session:  # keys first, so threads only race on the log
        for st in ("s1", "s2", "s3"):
            issue_sample_certificate(session, settings, station_id=st)
    threads = [threading.Thread(target=worker, args=(st,)) for st in ("s1", "s2", "s3")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    with session_scope(engine) as session:
        records = [get_certificate(session, i) for i in ids]
        indices = sorted(r.log_index for r in records if r is not None)  # type: ignore[misc]
        assert indices == list(range(3, 12))
        sth = signed_tree_head(session)
        assert sth is not None and sth["tree_size"] == 12
        rows = session.exec(select(LogLeaf).order_by(LogLeaf.idx)).all()  # type: ignore[arg-type]
        leaves = [jcs(json.loads(r.entry)) for r in rows]
        assert [r.idx for r in rows] == list(range(12))
        for size in range(1, 13):
            head = signed_tree_head(session, size)
            assert head is not None and bytes.fromhex(head["root_hash"]) == ref_mth(leaves[:size])
        for r in records:
            assert r is not None and r.log_index is not None
            assert leaves[r.log_index] == jcs(log_entry_for(r.credential))


def test_verify_page_shows_valid_certificate(client: TestClient, issued: IssuedCertificate) -> None:
    """The buyer's page says the signature is valid and shows item, grade, checks and warranty."""
    page = client.get(f"/c/{issued.human_id}")
    assert page.status_code == 200
    assert 'data-verdict="valid"' in page.text
    assert "Genuine certificate" in page.text
    assert "Galaxy S21" in page.text and "2 scratches, 18 mm in total, on the back" in page.text
    assert "3809" not in page.text and SAMPLE_IMEIS[0] not in page.text
    assert "Days left" in page.text
    assert (
        "entry number 1 of 1 in the public transparency log, and the log&#39;s proof checks out" in page.text
    )


def test_identity_form_says_match_or_not(client: TestClient, issued: IssuedCertificate) -> None:
    """Typing the item's IMEI gives 'matches', another one 'does not match'."""
    yes = client.post(f"/c/{issued.human_id}/match", data={"value": SAMPLE_IMEIS[0]})
    assert 'data-match="yes"' in yes.text
    no = client.post(f"/c/{issued.human_id}/match", data={"value": "111111111111111"})
    assert 'data-match="no"' in no.text


def test_identity_hashes_are_keyed(engine: Engine, settings: Settings, issued: IssuedCertificate) -> None:
    """A leaked credential's salt is not enough to test IMEI guesses: hashes use the issuer's key."""
    import hashlib

    from inspector.certificates.encoding import b64url_decode, b64url_encode

    hashes = issued.credential["credentialSubject"]["identity"]["identity_hashes"]
    unkeyed = hashlib.scrypt(
        SAMPLE_IMEIS[0].encode(), salt=b64url_decode(hashes["salt"]), n=2**14, r=8, p=1, dklen=32
    )
    assert b64url_encode(unkeyed) not in hashes["imeis"]
    with session_scope(engine) as session:
        assert identity_matches(session, issued.human_id, SAMPLE_IMEIS[0])


@pytest.mark.parametrize("ref", ["ZZZZZZZZZZ", "not-an-id", "0" * 10, "%3Cscript%3E"])
def test_unknown_id_is_a_friendly_404(client: TestClient, ref: str) -> None:
    """Unknown or mistyped ids give a helpful 404 page, never a stack trace."""
    resp = client.get(f"/c/{ref}")
    assert resp.status_code == 404
    assert "Certificate not found" in resp.text
    assert "Traceback" not in resp.text and "<script>" not in resp.text
    js = client.get(f"/c/{ref}.json")
    assert js.status_code == 404 and js.json()["error"] == "not_found"


HOSTILE_PATHS = [
    "/status/revocation/99999999999",
    "/status/other/1",
    "/log/sth/99999999999",
    "/log/sth/0",
    "/log/proof/ZZZZZZZZZZ?tree_size=99999999999",
    "/log/consistency?first=1&second=99999999999",
    "/log/consistency?first=x&second=1",
    "/c/" + "A" * 5000,
    "/c/" + "A" * 300 + ".json",
]


def test_hostile_urls_get_client_errors(client: TestClient, issued: IssuedCertificate) -> None:
    """Out-of-range numbers and junk in public URLs answer 4xx, never a server error."""
    for path in HOSTILE_PATHS:
        resp = client.get(path)
        assert 400 <= resp.status_code < 500, (path, resp.status_code)
    long_value = client.post(f"/c/{issued.human_id}/match", data={"value": "1" * 10_000})
    assert long_value.status_code == 200 and 'data-match="no"' in long_value.text


def test_json_round_trip_verifies_with_cli(
    client: TestClient, issued: IssuedCertificate, tmp_path: Path
) -> None:
    """The downloaded credential verifies offline with the CLI: exit 0."""
    assert client.get(f"/c/{issued.human_id}.json").json() == issued.credential
    assert _cli_verify(client, issued.human_id, tmp_path) == 0


def test_cli_verdicts_for_tampered_and_malformed(
    client: TestClient, issued: IssuedCertificate, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A changed byte gives exit 4 'tampered'; broken JSON gives exit 3 'malformed'."""
    keys = tmp_path / "keys.json"
    keys.write_text(client.get("/issuer").text)
    text = client.get(f"/c/{issued.human_id}.json").text
    bad = tmp_path / "tampered.json"
    bad.write_text(text.replace('"grade":"B"', '"grade":"A"'))
    assert main(["verify", str(bad), "--keys", str(keys), "--offline", "--issuer", BASE]) == 4
    assert "TAMPERED" in capsys.readouterr().out
    broken = tmp_path / "broken.json"
    broken.write_text(text[:-20])
    assert main(["verify", str(broken), "--keys", str(keys), "--offline", "--issuer", BASE]) == 3
    assert "MALFORMED" in capsys.readouterr().out
    assert main(["verify", str(tmp_path / "missing.json"), "--keys", str(keys)]) == 1


def test_revoked_certificate(
    client: TestClient, engine: Engine, issued: IssuedCertificate, tmp_path: Path
) -> None:
    """Revocation sets the status list bit: page, JSON and CLI (exit 7) all say revoked."""
    with session_scope(engine) as session:
        revoke_certificate(session, issued.human_id, "item found misgraded")
    page = client.get(f"/c/{issued.human_id}")
    assert 'data-verdict="revoked"' in page.text and "item found misgraded" in page.text
    assert client.get(f"/c/{issued.human_id}/verify.json").json()["verdict"] == "revoked"
    assert _cli_verify(client, issued.human_id, tmp_path) == 7
    with session_scope(engine) as session, pytest.raises(CertificateError, match="final"):
        suspend_certificate(session, issued.human_id, "again")


def test_suspension_and_reinstatement_via_admin_api(
    client: TestClient, engine: Engine, issued: IssuedCertificate, tmp_path: Path
) -> None:
    """A supervisor suspends (exit 8, warning on the page) and reinstates (valid again); buyers cannot."""
    with session_scope(engine) as session:
        user = create_user(session, "sup", Role.supervisor, "supervisor-pass")
        token = issue_token(session, user)
    url = f"/api/certificates/{issued.human_id}"
    assert client.post(f"{url}/suspend", json={"reason": "x"}).status_code == 401
    auth = {"Authorization": f"Bearer {token}"}
    assert client.post(f"{url}/suspend", json={"reason": "buyer dispute"}, headers=auth).json()["status"] == (
        "suspended"
    )
    assert 'data-verdict="suspended"' in client.get(f"/c/{issued.human_id}").text
    assert _cli_verify(client, issued.human_id, tmp_path) == 8
    assert client.post(f"{url}/reinstate", json={}, headers=auth).json()["status"] == "valid"
    assert _cli_verify(client, issued.human_id, tmp_path) == 0
    assert client.post(f"{url}/explode", json={}, headers=auth).status_code == 404


def test_revoked_key_and_rotation(
    client: TestClient, engine: Engine, settings: Settings, issued: IssuedCertificate, tmp_path: Path
) -> None:
    """After rotation old certificates stay valid (new signatures by the old key do not); after
    revoking the old key its certificates show 'key revoked'."""
    with session_scope(engine) as session:
        old_fp = (
            get_certificate(session, issued.human_id).credential["proof"]["verificationMethod"].split("#")[1]
        )  # type: ignore[union-attr]
        new_key = rotate_station_key(session, settings, "station-1")
        new_fp = new_key.fingerprint
    assert _cli_verify(client, issued.human_id, tmp_path) == 0
    with session_scope(engine) as session:
        fresh = issue_sample_certificate(session, settings)
    assert fresh.credential["proof"]["verificationMethod"].endswith(new_fp)
    # the retired key signing something new after the rotation is not trusted
    from cryptography.hazmat.primitives import serialization

    from inspector.certificates.dataintegrity import add_proof

    old_private = serialization.load_pem_private_key(
        (keys_dir(settings) / f"station-{old_fp}.pem").read_bytes(), password=None
    )
    late = add_proof(
        {k: v for k, v in issued.credential.items() if k != "proof"},
        old_private,  # type: ignore[arg-type]
        issued.credential["proof"]["verificationMethod"],
        created=datetime.now(UTC) + timedelta(hours=1),  # e.g. a stolen old laptop, used later
    )
    late_file = tmp_path / "late.json"
    late_file.write_text(json.dumps(late))
    (tmp_path / "k.json").write_text(client.get("/issuer").text)
    late_args = ["--keys", str(tmp_path / "k.json"), "--offline", "--issuer", BASE]
    assert main(["verify", str(late_file), *late_args]) == 5
    with session_scope(engine) as session:
        revoke_key(session, old_fp, "laptop stolen")
        assert get_certificate(session, issued.human_id).key_status == "revoked"  # type: ignore[union-attr]
    assert 'data-verdict="key_revoked"' in client.get(f"/c/{issued.human_id}").text
    assert _cli_verify(client, issued.human_id, tmp_path) == 6
    assert _cli_verify(client, fresh.human_id, tmp_path) == 0


def test_private_keys_are_0600_and_never_served(
    client: TestClient, settings: Settings, issued: IssuedCertificate
) -> None:
    """Key files are owner-only; no response (issuer document, credential) contains private key bytes."""
    files = list(keys_dir(settings).glob("*.pem"))
    assert len(files) == 2
    served = client.get("/issuer").text + client.get(f"/c/{issued.human_id}.json").text
    for f in files:
        assert stat.S_IMODE(os.stat(f).st_mode) == 0o600
        body = "".join(f.read_text().splitlines()[1:-1])
        assert body not in served
    assert stat.S_IMODE(os.stat(keys_dir(settings)).st_mode) == 0o700


def test_transparency_log_proofs_against_reference(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    """Served STHs are root-signed; inclusion and consistency proofs match the independent RFC 6962 code."""
    with session_scope(engine) as session:
        creds = [issue_sample_certificate(session, settings).credential for _ in range(7)]
    leaves = [jcs(log_entry_for(c)) for c in creds]
    with session_scope(engine) as session:
        keys = KeySet.from_db(session, settings)
    from inspector.certificates.dataintegrity import verify_proof

    sth = client.get("/log/sth").json()
    verify_proof(sth, keys.resolver(allow_root=True))
    assert sth["tree_size"] == 7 and bytes.fromhex(sth["root_hash"]) == ref_mth(leaves)
    for i, cred in enumerate(creds):
        hid = cred["credentialSubject"]["human_id"]
        for size in (i + 1, 7):
            proof = client.get(f"/log/proof/{hid}", params={"tree_size": size}).json()
            path = [bytes.fromhex(h) for h in proof["audit_path"]]
            assert path == ref_path(i, leaves[:size])
            root = bytes.fromhex(proof["sth"]["root_hash"])
            assert root == ref_mth(leaves[:size])
            from inspector.certificates.merkle import leaf_hash

            assert verify_inclusion(leaf_hash(leaves[i]), i, size, path, root)
    for first in range(1, 8):
        body = client.get("/log/consistency", params={"first": first, "second": 7}).json()
        proof = [bytes.fromhex(h) for h in body["proof"]]
        assert proof == ref_subproof(first, leaves, True)
        first_root = bytes.fromhex(body["first_sth"]["root_hash"])
        assert verify_consistency(first, 7, first_root, ref_mth(leaves), proof)
    assert client.get("/log/consistency", params={"first": 5, "second": 9}).status_code == 400
    assert client.get("/log/proof/ZZZZZZZZZZ").status_code == 404


def test_label_pdf_and_qr(client: TestClient, issued: IssuedCertificate) -> None:
    """The parcel label is a PDF and an HTML print page, both carrying the QR code."""
    pdf = client.get(f"/c/{issued.human_id}/label.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    html = client.get(f"/c/{issued.human_id}/label")
    assert "<svg" in html.text and "@page" in html.text
    assert client.get(f"/c/{issued.human_id}/qr.svg").headers["content-type"].startswith("image/svg")


def test_admin_cli_keys_and_certificates(
    engine: Engine,
    settings: Settings,
    issued: IssuedCertificate,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Admins list keys, export the issuer document, and revoke a certificate from the command line."""
    from inspector.config import get_settings

    monkeypatch.setenv("INSPECTOR_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("INSPECTOR_DATABASE_URL", str(settings.database_url))
    monkeypatch.setenv("INSPECTOR_PUBLIC_BASE_URL", settings.public_base_url)
    get_settings.cache_clear()
    try:
        assert main(["keys", "list"]) == 0
        out = capsys.readouterr().out
        assert "station-1" in out and "BEGIN" not in out
        assert main(["certificates", "revoke", issued.human_id, "--reason", "misgraded"]) == 0
        assert main(["certificates", "show", issued.human_id]) == 0
        assert "verdict: revoked" in capsys.readouterr().out
        assert main(["certificates", "revoke", "ZZZZZZZZZZ", "--reason", "x"]) == 1
        assert main(["keys", "revoke", "z6Mnope", "--reason", "x"]) == 1
        assert main(["keys", "export", "-o", str(settings.data_dir / "keys.json")]) == 0
        assert main(["certificates", "export-status", str(settings.data_dir / "status")]) == 0
        cred = settings.data_dir / "cert.json"
        cred.write_text(json.dumps(issued.credential))
        lists = sorted((settings.data_dir / "status").glob("*.json"))
        assert len(lists) == 2
        args = ["verify", str(cred), "--keys", str(settings.data_dir / "keys.json"), "--offline"]
        assert main([*args, *(a for p in lists for a in ("--status-list", str(p)))]) == 7
    finally:
        get_settings.cache_clear()
    assert json.loads(json.dumps(issued.credential))
