"""The database-backed attempt limiter behind the public forms (IMEI match, order reference, sign-in)."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine

from inspector.db import make_engine
from inspector.ratelimit import AttemptLimiter, attempt_table


class Clock:
    def __init__(self, t: float = 1_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_limit_refuses_the_attempt_after_the_last_allowed_one(engine: Engine) -> None:
    """Five attempts pass, the sixth is refused with a wait, and remaining counts down."""
    limiter = AttemptLimiter("t-basic", 5, timedelta(hours=1), clock=Clock())
    decisions = [limiter.hit(engine, "203.0.113.9") for _ in range(6)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert [d.remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
    assert 0 < decisions[5].retry_after_s <= 3600
    assert decisions[5].retry_after_minutes >= 1


def test_attempts_survive_a_restart_and_are_shared_by_workers(database_url: str, engine: Engine) -> None:
    """A second engine on the same database (a restart, or another worker) sees the same count."""
    clock = Clock()
    limiter = AttemptLimiter("t-shared", 3, timedelta(minutes=10), clock=clock)
    assert limiter.hit(engine, "k").allowed
    assert limiter.hit(engine, "k").allowed
    other = make_engine(database_url)
    try:
        again = AttemptLimiter("t-shared", 3, timedelta(minutes=10), clock=clock)
        assert again.hit(other, "k").allowed
        assert not again.hit(other, "k").allowed
        assert not limiter.hit(engine, "k").allowed
    finally:
        other.dispose()


def test_refused_attempts_do_not_extend_the_wait_and_the_window_slides(engine: Engine) -> None:
    """Hammering while refused changes nothing; attempts come back as the old ones slide out."""
    clock = Clock(3_600_000.0)  # the start of a fixed window
    limiter = AttemptLimiter("t-slide", 4, timedelta(hours=1), clock=clock)
    for _ in range(4):
        assert limiter.hit(engine, "k").allowed
    first_refusal = limiter.hit(engine, "k")
    for _ in range(50):
        assert not limiter.hit(engine, "k").allowed
    assert limiter.peek(engine, "k").retry_after_s == first_refusal.retry_after_s
    clock.t += first_refusal.retry_after_s
    assert limiter.hit(engine, "k").allowed
    assert not limiter.hit(engine, "k").allowed
    clock.t += 2 * 3600  # both windows gone
    assert all(limiter.hit(engine, "k").allowed for _ in range(4))


def test_keys_and_scopes_are_independent_and_stored_hashed(engine: Engine) -> None:
    """One client's attempts do not count against another's, and no key is stored in clear."""
    a = AttemptLimiter("t-a", 1, timedelta(minutes=1), clock=Clock())
    b = AttemptLimiter("t-b", 1, timedelta(minutes=1), clock=Clock())
    assert a.hit(engine, "198.51.100.7").allowed
    assert not a.hit(engine, "198.51.100.7").allowed
    assert a.hit(engine, "198.51.100.8").allowed
    assert b.hit(engine, "198.51.100.7").allowed
    with engine.connect() as conn:
        stored = conn.execute(select(attempt_table.c.key_hash)).scalars().all()
    assert stored and not any("198.51.100" in k for k in stored)


def test_reset_forgets_a_key(engine: Engine) -> None:
    """After a success (e.g. a right password) the key starts again from zero."""
    limiter = AttemptLimiter("t-reset", 2, timedelta(minutes=5), clock=Clock())
    limiter.hit(engine, "u")
    limiter.hit(engine, "u")
    assert not limiter.peek(engine, "u").allowed
    limiter.reset(engine, "u")
    assert limiter.peek(engine, "u").allowed


def test_concurrent_attempts_never_exceed_the_limit(engine: Engine) -> None:
    """Eight threads racing for ten slots get exactly ten (the count is one locked row update)."""
    limiter = AttemptLimiter("t-race", 10, timedelta(hours=1), clock=Clock())
    allowed: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(5):
            ok = limiter.hit(engine, "same").allowed
            with lock:
                allowed.append(ok)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(allowed) == 10
