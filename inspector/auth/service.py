"""Users, password checks and tokens. Tokens are random and stored only as SHA-256.

Passwords are Argon2id PHC strings (``$argon2id$v=19$m=...,t=...,p=...$salt$hash``): the
parameters travel with each hash, so raising them later only needs a new ``PasswordHasher``;
older hashes (and the legacy ``scrypt$salt$digest`` form, N=2^14) still verify and are
replaced on the user's next successful sign-in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from inspector.auth.sellers import SellerError, existing_seller
from inspector.auth.tables import ApiToken, User

# argon2-cffi's defaults are RFC 9106's second recommended profile (Argon2id, t=3, 64 MiB, p=4),
# above OWASP's minimum (19 MiB, t=2).
_HASHER = PasswordHasher()
_LEGACY_SCRYPT = {"n": 2**14, "r": 8, "p": 1}  # read-only: verifies hashes written before Argon2


class Role(StrEnum):
    operator = "operator"
    staff = "staff"
    supervisor = "supervisor"
    admin = "admin"


class AuthError(ValueError):
    """Bad user input to the auth layer (duplicate user, unknown role, weak password)."""


def _now() -> datetime:
    return datetime.now(UTC)


def hash_password(password: str) -> str:
    """An Argon2id PHC string with its own salt and parameters."""
    return _HASHER.hash(password)


def _verify_legacy_scrypt(password: str, stored: str) -> bool:
    try:
        _scheme, salt_hex, digest_hex = stored.split("$")
        salt = bytes.fromhex(salt_hex)
    except ValueError:
        return False
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_LEGACY_SCRYPT)
    return hmac.compare_digest(digest.hex(), digest_hex)


def verify_password(password: str, stored: str) -> bool:
    """Does ``password`` match ``stored`` (Argon2 PHC string, or a legacy ``scrypt$`` hash)?"""
    if stored.startswith("scrypt$"):
        return _verify_legacy_scrypt(password, stored)
    if not stored.startswith("$argon2"):
        return False
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(stored: str) -> bool:
    """True for legacy scrypt hashes and Argon2 hashes weaker than the current parameters."""
    if not stored.startswith("$argon2"):
        return True
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    session: Session,
    username: str,
    role: Role | str,
    password: str = "",
    display_name: str = "",
    seller_id: str | None = None,
) -> User:
    """A new user; with ``seller_id`` they work for that seller and see its stations' data only."""
    try:
        role = Role(role)
    except ValueError as exc:
        raise AuthError(f"unknown role {role!r}; use one of {', '.join(r.value for r in Role)}") from exc
    username = username.strip()
    if not username or len(username) > 64:
        raise AuthError("username must be 1-64 characters")
    if session.exec(select(User).where(User.username == username)).first():
        raise AuthError(f"user {username!r} already exists")
    if password and len(password) < 8:
        raise AuthError("password must be at least 8 characters")
    if seller_id is not None:
        try:
            existing_seller(session, seller_id)
        except SellerError as exc:
            raise AuthError(str(exc)) from exc
    user = User(
        username=username,
        display_name=display_name or username,
        role=role.value,
        password_hash=hash_password(password) if password else "",
        created_at=_now(),
        seller_id=seller_id,
    )
    session.add(user)
    session.flush()
    return user


@cache
def _dummy_hash() -> str:
    """A hash of a random password, verified when there is no such user (made once, on first need)."""
    return hash_password(secrets.token_urlsafe(16))


def get_user(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


def authenticate_password(session: Session, username: str, password: str) -> User | None:
    """The user if the password is right; a hash in an older scheme is upgraded on the way.

    The upgraded hash is flushed in the caller's transaction (committed with the new session).
    """
    user = get_user(session, username)
    if user is None or user.disabled or not user.password_hash:
        verify_password(password, _dummy_hash())  # same work as a real check: no user-name oracle by timing
        return None
    if not verify_password(password, user.password_hash):
        return None
    if password_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.add(user)
        session.flush()
    return user


def issue_token(
    session: Session, user: User, name: str = "", kind: str = "api", ttl: timedelta | None = None
) -> str:
    """Create a token and return it in clear, once; only its hash is stored."""
    assert user.id is not None
    token = secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user.id,
            token_hash=_token_hash(token),
            kind=kind,
            name=name,
            created_at=_now(),
            expires_at=_now() + ttl if ttl else None,
        )
    )
    session.flush()
    return token


def authenticate_token(session: Session, token: str) -> User | None:
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == _token_hash(token))).first()
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at < _now():
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled:
        return None
    return user


def revoke_token(session: Session, token: str) -> bool:
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == _token_hash(token))).first()
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = _now()
    session.add(row)
    return True


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(User.username)).all())


def set_password(session: Session, user: User, password: str) -> None:
    """A new password; every browser session of the user ends (a reset is often after a leak)."""
    if len(password) < 8:
        raise AuthError("password must be at least 8 characters")
    user.password_hash = hash_password(password)
    session.add(user)
    revoke_user_tokens(session, user, kind="session")


def set_disabled(session: Session, user: User, disabled: bool) -> None:
    """Disabled users cannot sign in, and their tokens stop working at once."""
    user.disabled = disabled
    session.add(user)


def revoke_user_tokens(session: Session, user: User, name: str | None = None, kind: str | None = None) -> int:
    """Revoke a user's live tokens (all, or those with this label or kind); returns how many."""
    query = select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))  # type: ignore[union-attr]
    if name is not None:
        query = query.where(ApiToken.name == name)
    if kind is not None:
        query = query.where(ApiToken.kind == kind)
    rows = session.exec(query).all()
    for row in rows:
        row.revoked_at = _now()
        session.add(row)
    return len(rows)
