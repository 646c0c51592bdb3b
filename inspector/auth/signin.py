"""Password sign-in that resists guessing: attempt limits in the database and no user-name oracle.

Limits (``inspector.ratelimit``, counted in the database so restarts and workers share them):

* per client and user name: a few tries, then that client waits; the person at another desk (or
  the real user on their own machine) is not affected;
* per client (failures only): one client spraying many user names is slowed down;
* per user name, from everywhere (failures only): a slower cap against guessing spread over many addresses. It
  can lock a real user out, but only for its window, never for good.

A successful sign-in clears the client's count for that user. Every attempt that reaches the
password check costs one password hash, whether the user exists or not (an unknown, disabled or
password-less user is checked against a dummy hash in ``authenticate_password``), so the
answer time does not say which user names exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from inspector.auth.service import authenticate_password
from inspector.auth.tables import User
from inspector.ratelimit import AttemptLimiter, Decision

PER_CLIENT_AND_USER = AttemptLimiter("signin-client-user", limit=5, window=timedelta(minutes=15))
PER_CLIENT = AttemptLimiter("signin-client", limit=30, window=timedelta(minutes=15))
PER_USER = AttemptLimiter("signin-user", limit=50, window=timedelta(hours=1))


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    refused: Decision | None = None  # set when a limit refused the attempt before any check

    @property
    def retry_after_s(self) -> int:
        return self.refused.retry_after_s if self.refused else 0


def _name_key(username: str) -> str:
    return username.strip().casefold()


def sign_in(engine: Engine, session: Session, client: str, username: str, password: str) -> SignInResult:
    """Check the limits, then the password. Every attempt counts for its client and user name
    (cleared by a success); only failures count for the client alone and the user name alone, so
    colleagues signing in behind one address do not use each other's budget."""
    name = _name_key(username)
    pair = f"{client}\0{name}"
    decision = PER_CLIENT_AND_USER.hit(engine, pair)
    if not decision.allowed:
        return SignInResult(None, refused=decision)
    for limiter, key in ((PER_CLIENT, client), (PER_USER, name)):
        decision = limiter.peek(engine, key)
        if not decision.allowed:
            return SignInResult(None, refused=decision)
    user = authenticate_password(session, username, password)
    if user is not None:
        PER_CLIENT_AND_USER.reset(engine, pair)
    else:
        PER_CLIENT.hit(engine, client)
        PER_USER.hit(engine, name)
    return SignInResult(user)
