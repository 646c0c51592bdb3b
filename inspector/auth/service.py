"""Users, password checks and tokens. Tokens are random and stored only as SHA-256."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlmodel import Session, select

from inspector.auth.tables import ApiToken, User

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


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
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt_hex), dklen=32, **_SCRYPT)
    return hmac.compare_digest(digest.hex(), digest_hex)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    session: Session, username: str, role: Role | str, password: str = "", display_name: str = ""
) -> User:
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
    user = User(
        username=username,
        display_name=display_name or username,
        role=role.value,
        password_hash=hash_password(password) if password else "",
        created_at=_now(),
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


def authenticate_password(session: Session, username: str, password: str) -> User | None:
    user = get_user(session, username)
    if user is None or user.disabled or not user.password_hash:
        return None
    return user if verify_password(password, user.password_hash) else None


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
