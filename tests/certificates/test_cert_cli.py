"""The certificate commands as an operator and a buyer run them: ``inspector keys`` and ``inspector verify``.

Every case runs the real command line (``inspector.cli.main``, or a subprocess where a traceback
would only show on the terminal) against real databases and a real uvicorn server on loopback.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser import LiveServer, free_port
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from inspector.certificates import IssuedCertificate
from inspector.certificates.keys import KeySet
from inspector.certificates.merkle import MerkleTree, leaf_hash, verify_consistency, verify_inclusion
from inspector.certificates.service import status_list_credential
from inspector.certificates.tables import Certificate, LogLeaf, SigningKey
from inspector.certificates.testing import issue_sample_certificate
from inspector.certificates.verify import Verdict, verify_credential
from inspector.cli import main
from inspector.config import Settings
from inspector.db import session_scope

CliEnv = Callable[..., None]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``inspector ARGV`` in this process; return (exit code, stdout, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _station_key(engine: Engine, station: str) -> str:
    with session_scope(engine) as session:
        row = session.exec(
            select(SigningKey).where(
                SigningKey.station_id == station,
                SigningKey.retired_at.is_(None),  # type: ignore[union-attr]
                SigningKey.revoked_at.is_(None),  # type: ignore[union-attr]
            )
        ).one()
        return row.fingerprint


# --- inspector keys ------------------------------------------------------------------------------


def test_keys_rotate_register_and_revoke_print_their_result_and_exit_0(
    engine: Engine, settings: Settings, cli_env: CliEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    """rotate, register and revoke commit and then print what they did (no DetachedInstanceError)."""
    cli_env(data_dir=settings.data_dir, database_url=settings.database_url)
    assert _run(capsys, "keys", "init")[0] == 0
    first = _station_key(engine, "station-1")

    code, out, err = _run(capsys, "keys", "rotate", "station-1")
    rotated = _station_key(engine, "station-1")
    assert (code, err) == (0, "") and rotated != first
    assert f"station station-1 now signs with {rotated}" in out

    code, out, err = _run(capsys, "keys", "register", "station-2")
    registered = _station_key(engine, "station-2")
    assert (code, err) == (0, "")
    assert f"registered and certified key {registered} for station station-2" in out

    code, out, err = _run(capsys, "keys", "revoke", rotated, "--reason", "laptop stolen")
    assert (code, err) == (0, "")
    assert f"revoked {rotated} (station station-1)" in out
    with session_scope(engine) as session:
        row = session.exec(select(SigningKey).where(SigningKey.fingerprint == rotated)).one()
        assert row.revoked_at is not None and row.revoke_reason == "laptop stolen"


def test_a_retried_revoke_says_already_revoked(
    engine: Engine, settings: Settings, cli_env: CliEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    """An operator who runs revoke again is told the key is already revoked (exit 0), nothing changes."""
    cli_env(data_dir=settings.data_dir, database_url=settings.database_url)
    assert _run(capsys, "keys", "init")[0] == 0
    key = _station_key(engine, "station-1")
    assert _run(capsys, "keys", "revoke", key, "--reason", "stolen")[0] == 0
    code, out, err = _run(capsys, "keys", "revoke", key, "--reason", "stolen, again")
    assert (code, err) == (0, "")
    assert "already revoked" in out and "(stolen)" in out and "nothing changed" in out
    with session_scope(engine) as session:
        row = session.exec(select(SigningKey).where(SigningKey.fingerprint == key)).one()
        assert row.revoke_reason == "stolen"


def test_files_the_admin_commands_cannot_write_are_a_clear_error(
    settings: Settings,
    issued: IssuedCertificate,
    tmp_path: Path,
    cli_env: CliEnv,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """keys export, certificates export-status and label into an unwritable place: one line, exit 1."""
    cli_env(data_dir=settings.data_dir, database_url=settings.database_url)
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    cases = [
        (
            ["keys", "export", "-o", str(tmp_path / "no" / "keys.json")],
            "cannot write the issuer key document",
        ),
        (["certificates", "export-status", str(a_file)], "cannot write the status lists"),
        (["certificates", "label", issued.human_id, "-o", str(a_file / "x.pdf")], "cannot write the label"),
    ]
    for argv, message in cases:
        code, _, err = _run(capsys, *argv)
        assert code == 1 and err.startswith("inspector: error: ") and message in err, (argv, err)
        assert str(tmp_path) not in err


# --- inspector verify, offline ---------------------------------------------------------------------


@dataclass
class Saved:
    """What a buyer downloads for offline verification."""

    credential: Path
    keys: Path
    lists: list[str]  # --status-list FILE arguments
    text: str  # the credential as served


@pytest.fixture
def saved(client: TestClient, issued: IssuedCertificate, tmp_path: Path) -> Saved:
    cred = tmp_path / "cert.json"
    text = client.get(f"/c/{issued.human_id}.json").text
    cred.write_text(text)
    keys = tmp_path / "keys.json"
    keys.write_text(client.get("/issuer").text)
    lists: list[str] = []
    for purpose in ("revocation", "suspension"):
        path = tmp_path / f"{purpose}.json"
        path.write_text(client.get(f"/status/{purpose}/1").text)
        lists += ["--status-list", str(path)]
    return Saved(cred, keys, lists, text)


def _offline(saved: Saved, source: Path, *extra: str) -> list[str]:
    return ["verify", str(source), "--keys", str(saved.keys), "--offline", *saved.lists, *extra]


def test_duplicate_member_names_are_malformed_not_valid(
    saved: Saved, tmp_path: Path, cli_env: CliEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tampered grade placed before the signed one (duplicate JSON name) is 'malformed', not VALID."""
    cli_env(public_base_url="http://testserver")
    assert '"grade":"B"' in saved.text
    forged = tmp_path / "forged.json"
    forged.write_text(saved.text.replace('"grade":"B"', '"grade":"A","grade":"B"', 1))
    assert json.loads(forged.read_text())["credentialSubject"]["grade"]["grade"] == "B"  # last one wins
    code, out, _ = _run(capsys, *_offline(saved, forged))
    assert code == 3
    assert out.startswith("MALFORMED") and "duplicate member name 'grade'" in out
    assert _run(capsys, *_offline(saved, saved.credential))[0] == 0


def test_the_platform_refuses_a_stored_credential_with_duplicate_names(
    client: TestClient, engine: Engine, issued: IssuedCertificate
) -> None:
    """An insider's duplicate name in a stored credential makes the platform's own verdict 'malformed'."""
    with session_scope(engine) as session:
        row = session.exec(select(Certificate).where(Certificate.human_id == issued.human_id)).one()
        assert '"grade": "B"' in row.credential  # stored as json.dumps writes it
        row.credential = row.credential.replace('"grade": "B"', '"grade": "A", "grade": "B"', 1)
        session.add(row)
    body = client.get(f"/c/{issued.human_id}/verify.json").json()
    assert body["verdict"] == "malformed" and "duplicate member name" in body["message"]


def test_text_from_a_certificate_cannot_drive_the_terminal(
    saved: Saved, tmp_path: Path, cli_env: CliEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    """Escape sequences in a (forged) certificate are printed as '?', so they cannot fake a VALID screen."""
    cli_env(public_base_url="http://testserver")
    doc = json.loads(saved.text)
    doc["credentialSubject"]["human_id"] = "\x1b[2J\x1b[HVALID"
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(doc))
    code, out, _ = _run(capsys, *_offline(saved, forged))
    assert code == 4 and out.startswith("TAMPERED")
    assert "\x1b" not in out and "certificate: ?[2J?[HVALID" in out


def test_a_non_utf8_certificate_file_is_malformed(
    saved: Saved, tmp_path: Path, cli_env: CliEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    """A certificate file that is not UTF-8 gives the 'malformed' verdict (exit 3), not a usage error."""
    cli_env(public_base_url="http://testserver")
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes(
        saved.text.encode("utf-8").replace(b'"grade":"B"', b'"grade":"\xe9"')
    )  # Latin-1 e-acute
    code, out, err = _run(capsys, *_offline(saved, latin1))
    assert (code, err) == (3, "")
    assert out.startswith("MALFORMED") and "not UTF-8" in out


def test_offline_verification_shows_the_date_of_each_status_list(
    saved: Saved, cli_env: CliEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    """Offline, the buyer sees when each saved status list was signed (later revocations are unknown)."""
    cli_env(public_base_url="http://testserver")
    code, out, _ = _run(capsys, *_offline(saved, saved.credential))
    assert code == 0
    files = saved.lists[1::2]
    for purpose, path in zip(("revocation", "suspension"), files, strict=True):
        signed = str(json.loads(Path(path).read_text())["validFrom"])  # e.g. 2026-12-06T14:03:07Z
        shown = signed.replace("T", " ").removesuffix("Z")
        assert f"ok: not on the signed {purpose} list dated {shown} UTC" in out


def test_offline_verification_pins_this_platforms_issuer(
    saved: Saved, cli_env: CliEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another issuer's certificate and keys are refused (exit 5) unless trusted by --issuer; the
    issuer, how it is trusted and its root key are always printed."""
    cli_env(public_base_url="https://inspector.example")
    code, out, _ = _run(capsys, *_offline(saved, saved.credential))
    assert code == 5 and out.startswith("UNKNOWN KEY")
    assert "not by the trusted issuer https://inspector.example/issuer" in out and "--issuer" in out
    assert "issuer: http://testserver/issuer (NOT trusted" in out

    root = KeySet.from_document(json.loads(saved.keys.read_text())).root.fingerprint
    code, out, _ = _run(capsys, *_offline(saved, saved.credential, "--issuer", "http://testserver"))
    assert code == 0 and out.startswith("VALID")
    assert "trusted with --issuer; this platform's issuer is https://inspector.example/issuer" in out
    assert f"issuer root key: {root}" in out

    assert _run(capsys, *_offline(saved, saved.credential, "--root-key", root))[0] == 0
    code, out, _ = _run(capsys, *_offline(saved, saved.credential, "--root-key", "z6MkWrongRoot"))
    assert code == 5 and "not the pinned root key z6MkWrongRoot" in out

    cli_env(public_base_url="http://testserver")
    code, out, _ = _run(capsys, *_offline(saved, saved.credential))
    assert code == 0 and "issuer: http://testserver/issuer (this platform's issuer" in out


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing file", "the certificate file does not exist"),
        ("directory", "the certificate file cannot be read"),
        ("keys not JSON", "the issuer key document (--keys) is not usable: not valid JSON"),
        ("keys duplicate", "the issuer key document (--keys) is not usable: duplicate member name"),
        ("keys not a document", "issuer key document rejected"),
        ("status list not a list", "a --status-list file is not a status list credential"),
        ("offline without keys", "offline verification needs --keys FILE"),
        ("issuer not a URL", "an issuer must be an http(s) URL"),
    ],
)
def test_verify_usage_errors_are_one_clear_line_with_exit_1(
    saved: Saved,
    tmp_path: Path,
    cli_env: CliEnv,
    capsys: pytest.CaptureFixture[str],
    case: str,
    message: str,
) -> None:
    """Each usage error of `inspector verify` prints one clear line (no path, no traceback), exit 1."""
    cli_env(public_base_url="http://testserver")
    bad = tmp_path / "bad.json"
    keys_text = saved.keys.read_text()
    argv = _offline(saved, saved.credential)
    if case == "missing file":
        argv = _offline(saved, tmp_path / "nope.json")
    elif case == "directory":
        argv = _offline(saved, tmp_path)
    elif case == "keys not JSON":
        bad.write_text(keys_text[:-30])
        argv[argv.index("--keys") + 1] = str(bad)
    elif case == "keys duplicate":
        bad.write_text(keys_text.replace('"name":', '"name":"x","name":', 1))
        argv[argv.index("--keys") + 1] = str(bad)
    elif case == "keys not a document":
        bad.write_text("[1, 2]")
        argv[argv.index("--keys") + 1] = str(bad)
    elif case == "status list not a list":
        bad.write_text("{}")
        argv += ["--status-list", str(bad)]
    elif case == "offline without keys":
        argv = ["verify", str(saved.credential), "--offline"]
    elif case == "issuer not a URL":
        argv += ["--issuer", "ftp://testserver"]
    code, out, err = _run(capsys, *argv)
    assert code == 1 and out == ""
    assert err.startswith("inspector: error: ") and message in err and err.count("\n") == 1
    assert str(tmp_path) not in err and "Traceback" not in err


def test_i_json_documents_are_refused_everywhere_they_are_read() -> None:
    """What RFC 8785 cannot sign faithfully is refused on reading: duplicates, big numbers, surrogates."""
    from inspector.certificates.encoding import NotIJSONError, loads_ijson

    refused = [
        b'{"a":{"b":1,"b":2}}',
        b"\xff\xfe{}",
        b"[1e400]",
        b"[NaN]",
        b"[9007199254740992]",
        b'["\\ud800"]',
        b'{"\\udc00":1}',
        b"[" * 200_000,
    ]
    for data in refused:
        with pytest.raises(NotIJSONError):
            loads_ijson(data)
    assert loads_ijson(b'{"a":[-9007199254740991,1.5,"\\ud83d\\ude00"]}') == {
        "a": [-9007199254740991, 1.5, "\U0001f600"]
    }


# --- Merkle proofs and status lists -----------------------------------------------------------------


def test_merkle_verifiers_refuse_hashes_that_are_not_32_bytes() -> None:
    """A proof whose elements shift bytes between a node's halves (48- and 16-byte 'hashes') fails."""
    leaves = [leaf_hash(b"first"), leaf_hash(b"second")]
    root = MerkleTree(leaves).root()
    assert verify_inclusion(leaves[1], 1, 2, [leaves[0]], root)
    shifted_sibling, shifted_leaf = leaves[0] + leaves[1][:16], leaves[1][16:]
    assert not verify_inclusion(shifted_leaf, 1, 2, [shifted_sibling], root)
    assert not verify_inclusion(b"x" * 31, 0, 1, [], b"x" * 31)
    assert not verify_consistency(2, 2, b"short", b"short", [])
    assert not verify_consistency(1, 2, leaves[0], root, [leaves[1] + b"\0"])
    assert verify_consistency(1, 2, leaves[0], root, [leaves[1]])


def test_a_status_list_other_than_the_one_named_is_not_trusted(
    engine: Engine, settings: Settings, issued: IssuedCertificate
) -> None:
    """A signed status list for another list number, swapped in by a proxy, gives 'status unavailable'."""
    with session_scope(engine) as session:
        keys = KeySet.from_db(session, settings)
        lists = {p: status_list_credential(session, settings, p, 2) for p in ("revocation", "suspension")}
        honest = {p: status_list_credential(session, settings, p, 1) for p in ("revocation", "suspension")}
    swapped = verify_credential(issued.credential, keys, lambda url: lists[url.split("/")[-2]])
    assert swapped.verdict is Verdict.status_unavailable
    assert "not the one the certificate names" in swapped.message
    good = verify_credential(issued.credential, keys, lambda url: honest[url.split("/")[-2]])
    assert good.verdict is Verdict.valid


# --- inspector verify, online --------------------------------------------------------------------


@dataclass
class Platforms:
    """Two independent platforms on loopback: ours and one whose certificates we must not trust."""

    ours: str
    ours_cert: str
    ours_root: str
    other: str
    other_cert: str


@pytest.fixture(scope="module")
def platforms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platforms]:
    ours, other = LiveServer(tmp_path_factory.mktemp("ours")), LiveServer(tmp_path_factory.mktemp("other"))
    certs = []
    for server in (ours, other):
        with session_scope(server.engine) as session:
            certs.append(issue_sample_certificate(session, server.settings).human_id)
    with session_scope(ours.engine) as session:
        root = KeySet.from_db(session, ours.settings).root.fingerprint
    with ours.running() as ours_url, other.running() as other_url:
        yield Platforms(ours_url, certs[0], root, other_url, certs[1])


def test_online_verify_trusts_only_the_pinned_issuer_and_prints_it(
    platforms: Platforms, cli_env: CliEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    """Online, a certificate from another platform is refused (exit 5) with its issuer named; ours is
    VALID with our issuer and root key printed; --issuer trusts another explicitly and says so."""
    cli_env(public_base_url=platforms.ours)
    code, out, _ = _run(capsys, "verify", f"{platforms.ours}/c/{platforms.ours_cert}")
    assert code == 0 and out.startswith("VALID")
    assert f"issuer: {platforms.ours}/issuer (this platform's issuer" in out
    assert f"issuer root key: {platforms.ours_root}" in out

    code, out, _ = _run(capsys, "verify", f"{platforms.other}/c/{platforms.other_cert}")
    assert code == 5 and out.startswith("UNKNOWN KEY")
    assert f"issued by '{platforms.other}/issuer', not by the trusted issuer {platforms.ours}/issuer" in out

    code, out, _ = _run(
        capsys, "verify", f"{platforms.other}/c/{platforms.other_cert}", "--issuer", platforms.other
    )
    assert code == 0 and f"trusted with --issuer; this platform's issuer is {platforms.ours}/issuer" in out

    code, out, _ = _run(
        capsys, "verify", f"{platforms.other}/c/{platforms.other_cert}", "--root-key", platforms.ours_root
    )
    assert code == 5 and f"not the pinned root key {platforms.ours_root}" in out

    code, out, _ = _run(capsys, "verify", f"{platforms.ours}/c/{platforms.ours_cert}", "--json")
    body = json.loads(out)
    assert body["verdict"] == "valid" and body["root_key"] == platforms.ours_root
    assert body["issuer"] == f"{platforms.ours}/issuer"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", "the URL has no certificate path"),
        ("/", "the URL has no certificate path"),
        ("/issuer", "the URL has no certificate path"),
        ("/c/ZZZZZZZZZZ", "the certificate was not found (HTTP 404)"),
    ],
)
def test_verify_of_a_url_without_a_certificate_is_a_clear_error(
    platforms: Platforms,
    cli_env: CliEnv,
    capsys: pytest.CaptureFixture[str],
    path: str,
    message: str,
) -> None:
    """`inspector verify http://host:port[/...]` without a certificate id says what to give, exit 1."""
    cli_env(public_base_url=platforms.ours)
    code, out, err = _run(capsys, "verify", f"{platforms.ours}{path}")
    assert (code, out) == (1, "")
    assert err.startswith("inspector: error: ") and message in err and "Traceback" not in err


def test_verify_of_a_bare_host_url_in_a_real_process_has_no_traceback(
    platforms: Platforms, tmp_path: Path
) -> None:
    """The installed command, run as a buyer would, answers a bare host URL and a dead port clearly."""
    env = {"INSPECTOR_PUBLIC_BASE_URL": platforms.ours, "INSPECTOR_DATA_DIR": str(tmp_path), "PATH": ""}
    dead = f"http://127.0.0.1:{free_port()}"
    cases = [
        (platforms.ours, "the URL has no certificate path"),
        (f"{dead}/c/ZZZZZZZZZZ", "the certificate could not be fetched: cannot connect to the server"),
        ("http://host:8000.json/c/X", "not a valid URL"),
    ]
    for url, message in cases:
        proc = subprocess.run(
            [sys.executable, "-m", "inspector", "verify", url],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 1, (url, proc.stderr)
        assert proc.stderr.startswith("inspector: error: ") and message in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_a_certificate_missing_from_the_issuers_log_is_not_valid_online(
    tmp_path: Path, cli_env: CliEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    """A correctly signed certificate that the issuer's own transparency log does not hold may be
    shown to this buyer alone (a split view): online verification says NOT LOGGED and exits 10
    instead of VALID with a warning."""
    server = LiveServer(tmp_path)
    with session_scope(server.engine) as session:
        issue_sample_certificate(session, server.settings)
        hidden = issue_sample_certificate(session, server.settings).human_id
    with session_scope(server.engine) as session:  # the issuer "forgets" to log the newest one
        leaf = session.exec(select(LogLeaf).where(LogLeaf.human_id == hidden)).one()
        session.delete(leaf)
    with server.running() as base:
        cli_env(public_base_url=base)
        code, out, _ = _run(capsys, "verify", f"{base}/c/{hidden}")
    assert code == 10 and out.startswith("NOT LOGGED")
    assert f"certificate {hidden} is not in the issuer's transparency log" in out
