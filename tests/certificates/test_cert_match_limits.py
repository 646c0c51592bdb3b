"""Finding 1: a certified phone's IMEI cannot be recovered through its public pages or match form.

Nothing public carries a digit of an identifier; the match form's attempts are counted in the
database (so they survive restarts and are shared by every worker); junk ids create no
counters; and an attacker who uses up a certificate's ceiling does not lock out the buyer who
gives the sale's order reference. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from inspector.certificates import IssuedCertificate, humanid
from inspector.certificates.matching import HIDDEN_IDS, PER_CLIENT, PER_CLIENT_CERT, SHOWN_LAST_DIGITS
from inspector.certificates.testing import SAMPLE_IMEIS, SAMPLE_SERIAL, issue_sample_certificate
from inspector.config import Settings
from inspector.db import session_scope
from inspector.ratelimit import attempt_table
from warranty.service import Actor, record_sale

ROOT = Path(__file__).resolve().parents[2]
WRONG = "490154203237518"  # a valid-looking IMEI (Luhn holds) that is not the sample phone's
ORDER_REF = "DY-6731 0042 9981"


def _client(app: FastAPI, address: str) -> TestClient:
    return TestClient(app, client=(address, 40000), raise_server_exceptions=False)


def _post(
    client: TestClient | httpx.Client, human_id: str, value: str, order_ref: str = ""
) -> httpx.Response:
    return client.post(f"/c/{human_id}/match", data={"value": value, "order_ref": order_ref})


def _answer(resp: httpx.Response) -> str:
    found = re.search(r'data-match="([a-z_]+)"', resp.text)
    return found.group(1) if found else f"<none: {resp.status_code}>"


def _windows(identifier: str, size: int = 4) -> set[str]:
    return {identifier[i : i + size] for i in range(len(identifier) - size + 1)}


def _item_section(html: str) -> str:
    start = html.index("<h2>Item</h2>")
    return html[start : html.index("</section>", start)]


# ------------------------------------------------------------------ nothing to guess from


def test_no_digit_of_the_imei_appears_in_the_public_page_or_json_of_a_new_certificate(
    client: TestClient, issued: IssuedCertificate
) -> None:
    """Page, credential JSON and label carry no 4 consecutive characters of an IMEI or serial."""
    page = client.get(f"/c/{issued.human_id}")
    assert page.status_code == 200
    item = _item_section(page.text)
    assert "recorded, not shown" in item and "*#06#" in item
    credential = client.get(f"/c/{issued.human_id}.json").json()
    identity = credential["credentialSubject"]["identity"]
    shown = json.dumps({k: v for k, v in identity.items() if k != "identity_hashes"})
    label = client.get(f"/c/{issued.human_id}/label").text
    for identifier in [*SAMPLE_IMEIS, SAMPLE_SERIAL]:
        for piece in _windows(identifier):
            assert piece not in item, piece
            assert piece not in shown, piece
            assert piece not in label, piece
    assert not any("masked" in key for key in identity)


def test_old_certificate_keeps_its_signed_digits_but_the_page_hides_them(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    """A certificate signed with last-4 digits still verifies, its page hides them, its ceiling is small."""
    with session_scope(engine) as session:
        old = issue_sample_certificate(
            session,
            settings,
            identity={
                "make": "Samsung",
                "model": "Galaxy S21",
                "imeis": list(SAMPLE_IMEIS),
                "imeis_masked": ["•" * 11 + i[-4:] for i in SAMPLE_IMEIS],  # as signed before the fix
            },
        )
    assert client.get(f"/c/{old.human_id}.json").json()["credentialSubject"]["identity"]["imeis_masked"]
    assert client.get(f"/c/{old.human_id}/verify.json").json()["verdict"] == "valid"
    assert "3809" not in _item_section(client.get(f"/c/{old.human_id}").text)

    limit = SHOWN_LAST_DIGITS.public.limit
    for n in range(limit):
        assert _answer(_post(_client(client.app, f"198.51.100.{n + 1}"), old.human_id, WRONG)) == "no"
    refused = _post(_client(client.app, "198.51.100.99"), old.human_id, SAMPLE_IMEIS[0])
    assert refused.status_code == 429 and _answer(refused) == "limited"
    assert "order reference" in refused.text


# ------------------------------------------------------------------ counted in the database


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _server(settings: Settings, tmp_path: Path) -> Iterator[httpx.Client]:
    """A separate ``uvicorn`` process serving ``create_app()`` on this test's database."""
    port = _free_port()
    env = {
        **os.environ,
        "INSPECTOR_DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": settings.resolved_database_url,
        "INSPECTOR_PUBLIC_BASE_URL": settings.public_base_url,
    }
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "inspector.web.app:create_app", "--port", str(port)]
    proc = subprocess.Popen(
        cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30) as http:
            for _ in range(600):  # up to a minute to import and migrate on a busy machine
                if proc.poll() is not None:
                    raise RuntimeError(f"server exited: {proc.stderr.read() if proc.stderr else ''}")
                try:
                    if http.get("/issuer").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            else:
                raise RuntimeError("server did not start")
            yield http
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_match_attempts_survive_a_restart(
    settings: Settings, issued: IssuedCertificate, tmp_path: Path
) -> None:
    """Wrong tries made before a server restart still count after it (new process, same database)."""
    limit = PER_CLIENT_CERT.limit
    with _server(settings, tmp_path) as first:
        answers = [_answer(_post(first, issued.human_id, WRONG)) for _ in range(limit)]
    assert answers == ["no"] * limit
    with _server(settings, tmp_path) as restarted:
        after = _post(restarted, issued.human_id, SAMPLE_IMEIS[0])
    assert after.status_code == 429 and _answer(after) == "limited"
    assert int(after.headers["retry-after"]) > 0 and "try again in about" in after.text


def test_match_attempts_are_counted_across_two_app_instances(
    settings: Settings, issued: IssuedCertificate, tmp_path: Path
) -> None:
    """Two server processes on one database share one count: alternating between them buys nothing."""
    limit = PER_CLIENT_CERT.limit
    with _server(settings, tmp_path) as a, _server(settings, tmp_path) as b:
        answers = [_answer(_post((a, b)[n % 2], issued.human_id, WRONG)) for n in range(limit)]
        refused_a = _post(a, issued.human_id, SAMPLE_IMEIS[0])
        refused_b = _post(b, issued.human_id, SAMPLE_IMEIS[0])
    assert answers == ["no"] * limit
    assert refused_a.status_code == refused_b.status_code == 429


def _rows(engine: Engine, scope: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(attempt_table).where(attempt_table.c.scope == scope)
            ).scalar_one()
        )


def test_junk_ids_do_not_reset_anything(
    client: TestClient, issued: IssuedCertificate, engine: Engine
) -> None:
    """Thousands of posts to unknown ids neither clear a client's count nor create any counter per id.

    The old in-memory limiter was cleared whole past 10,000 keys; here unknown ids never get a
    counter at all (asserted on the table), so no number of them can reset anything.
    """
    limited = _client(client.app, "203.0.113.50")
    for _ in range(PER_CLIENT_CERT.limit):
        assert _answer(_post(limited, issued.human_id, WRONG)) == "no"
    assert _post(limited, issued.human_id, SAMPLE_IMEIS[0]).status_code == 429
    per_cert_rows = _rows(engine, PER_CLIENT_CERT.scope), _rows(engine, HIDDEN_IDS.public.scope)

    junk_clients = [_client(client.app, f"192.0.2.{n}") for n in range(1, 11)]
    for n in range(500):
        junk = humanid.new_human_id() if n % 2 else f"JUNK{n:06d}"  # well-formed unknown, or malformed
        resp = _post(junk_clients[n % len(junk_clients)], junk, WRONG)
        assert resp.status_code == 404, resp.status_code

    assert (_rows(engine, PER_CLIENT_CERT.scope), _rows(engine, HIDDEN_IDS.public.scope)) == per_cert_rows
    assert _rows(engine, PER_CLIENT.scope) <= 2 * (
        1 + len(junk_clients)
    )  # per client (2 windows), not per id
    still = _post(limited, issued.human_id, SAMPLE_IMEIS[0])
    assert still.status_code == 429 and _answer(still) == "limited"


# ------------------------------------------------------------------ the buyer is not locked out


def test_attacker_on_other_clients_does_not_lock_out_the_buyer_who_gives_the_order_reference(
    client: TestClient, issued: IssuedCertificate, engine: Engine
) -> None:
    """Once attackers use up a certificate's ceiling, the buyer with the order reference is answered."""
    with session_scope(engine) as session:
        record_sale(
            session,
            Actor("desk", "staff"),
            cert_human_id=issued.human_id,
            order_ref=ORDER_REF,
            price_minor=329_900,
            currency="CNY",
        )
    ceiling = HIDDEN_IDS.public.limit
    attackers = [_client(client.app, f"198.51.100.{n}") for n in range(1, 20)]
    tries = 0
    for attacker in attackers:  # each attacker stays under its own per-client limit
        for _ in range(PER_CLIENT_CERT.limit - 1):
            if tries < ceiling:
                assert _answer(_post(attacker, issued.human_id, f"49015420323{tries:04d}")) == "no"
                tries += 1
    assert tries == ceiling
    attacker_again = _post(attackers[-1], issued.human_id, SAMPLE_IMEIS[0])
    assert attacker_again.status_code == 429 and _answer(attacker_again) == "limited"
    wrong_ref = _post(attackers[-1], issued.human_id, SAMPLE_IMEIS[0], order_ref="DY-0000 0000 0000")
    assert wrong_ref.status_code == 429 and 'data-order-ref="wrong"' in wrong_ref.text

    buyer = _client(client.app, "203.0.113.7")
    without_ref = _post(buyer, issued.human_id, SAMPLE_IMEIS[0])
    assert without_ref.status_code == 429
    assert "type your order reference" in without_ref.text and "try again in about" in without_ref.text
    typo = _post(buyer, issued.human_id, SAMPLE_IMEIS[0][:-1] + "0", order_ref=ORDER_REF.lower())
    assert typo.status_code == 200 and _answer(typo) == "no"
    right = _post(buyer, issued.human_id, SAMPLE_IMEIS[1], order_ref=ORDER_REF.replace(" ", ""))
    assert right.status_code == 200 and _answer(right) == "yes"
