"""Two staff acting on the same claim at once: exactly one wins, the other gets a clear conflict.
Real threads, real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session
from wty_helpers import STAFF, SUPERVISOR, buyer_claim, make_cert, sell

from inspector.auth.tenancy import EVERYTHING
from warranty.errors import Conflict, WarrantyError
from warranty.service import Actor, events, get_claim, open_claim, transition


def _all_at_once(n: int, work: Callable[[int, threading.Barrier], None]) -> None:
    """Run ``work(i, barrier)`` in ``n`` threads that meet at the barrier; fail if one hangs."""
    barrier = threading.Barrier(n, timeout=30)
    threads = [threading.Thread(target=work, args=(i, barrier)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
        assert not t.is_alive(), "a thread hung"


def _race(engine: Engine, jobs: list[tuple[Actor, str, dict[str, object]]], ref: str) -> list[object]:
    """Run each job in its own thread and session; all read the claim, then all write at once."""
    results: list[object] = [None] * len(jobs)

    def run(i: int, barrier: threading.Barrier) -> None:
        actor, action, kw = jobs[i]
        with Session(engine) as s:
            try:
                version = get_claim(
                    s, ref, EVERYTHING
                ).version  # both staff have the page open at this version
                s.rollback()
                barrier.wait()
                transition(s, ref, action, actor, expected_version=version, **kw)  # type: ignore[arg-type]
                s.commit()
                results[i] = "ok"
            except WarrantyError as exc:
                s.rollback()
                results[i] = exc

    _all_at_once(len(jobs), run)
    return results


def _claim(engine: Engine) -> str:
    cert = make_cert()
    sell(engine, cert)
    return buyer_claim(engine, cert.human_id)[0]


@pytest.mark.parametrize("rounds", [3])
def test_two_staff_deciding_at_once_exactly_one_wins(engine: Engine, rounds: int) -> None:
    """Accept vs deny on the same submitted claim, repeated: one succeeds, the other gets 409."""
    for _ in range(rounds):
        ref = _claim(engine)
        results = _race(
            engine,
            [(STAFF, "accept", {}), (SUPERVISOR, "deny", {"reason_code": "water", "note": "wet"})],
            ref,
        )
        assert results.count("ok") == 1, results
        loser = next(r for r in results if r != "ok")
        assert isinstance(loser, Conflict) and loser.status == 409
        assert "someone else" in loser.message
        with Session(engine) as s:
            claim = get_claim(s, ref, EVERYTHING)
            assert claim.version == 2 and claim.state in ("awaiting_item", "denied")
            assert len(events(s, claim)) == 2  # open + exactly one transition in the audit log


def test_same_action_twice_at_once_is_applied_once(engine: Engine) -> None:
    """Two staff clicking 'accept' together: one accept in the log, the other told it already moved."""
    ref = _claim(engine)
    results = _race(engine, [(STAFF, "accept", {}), (SUPERVISOR, "accept", {})], ref)
    assert sorted(map(str, results)).count("ok") == 1
    with Session(engine) as s:
        assert [e.action for e in events(s, get_claim(s, ref, EVERYTHING))] == ["open", "accept"]


def test_concurrent_claims_on_one_certificate_only_one_opens(engine: Engine) -> None:
    """Two buyers' submissions for the same certificate at the same instant: one claim, one conflict."""
    cert = make_cert()
    sell(engine, cert)
    results: list[object] = [None, None]

    def run(i: int, barrier: threading.Barrier) -> None:
        with Session(engine) as s:
            try:
                barrier.wait()
                open_claim(
                    s,
                    Actor.buyer(),
                    cert_human_id=cert.human_id,
                    order_ref="ORD-1001",
                    problem="functional_fault",
                )
                s.commit()
                results[i] = "ok"
            except WarrantyError as exc:
                s.rollback()
                results[i] = exc

    _all_at_once(2, run)
    assert results.count("ok") == 1, results
    assert any(isinstance(r, Conflict) for r in results)


def test_two_staff_clicking_at_once_over_http(engine: Engine, database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Two signed-in staff submit different decisions from the same page version at the same time:
    one gets the redirect (done), the other a 409 page saying someone else changed the claim."""
    from fastapi.testclient import TestClient
    from wty_helpers import add_user

    from inspector.config import Settings
    from inspector.web.app import create_app

    app = create_app(Settings(data_dir=tmp_path, database_url=database_url), engine=engine)
    tokens = [add_user(engine, "anna", "staff"), add_user(engine, "ben", "supervisor")]
    forms = [
        {"action": "accept", "version": "1"},
        {"action": "deny", "version": "1", "reason_code": "water", "note": "corrosion"},
    ]
    for _ in range(2):
        ref = _claim(engine)
        codes: list[int] = [0, 0]
        texts: list[str] = ["", ""]

        def click(
            i: int,
            barrier: threading.Barrier,
            ref: str = ref,
            codes: list[int] = codes,
            texts: list[str] = texts,
        ) -> None:
            with TestClient(app) as c:
                barrier.wait()
                r = c.post(
                    f"/staff/claims/{ref}/act",
                    data=forms[i],
                    headers={"Authorization": f"Bearer {tokens[i]}"},
                    follow_redirects=False,
                )
                codes[i], texts[i] = r.status_code, r.text

        _all_at_once(2, click)
        assert sorted(codes) == [303, 409], codes
        assert "changed by someone else" in texts[codes.index(409)]
