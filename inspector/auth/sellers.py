"""Sellers (tenants) on a shared platform: the records an admin adds and people and stations name.

A seller's id is a short slug (``acme``, ``jade-house``) that commands and logs show; its name
is what its staff see at the top of their pages.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from inspector.auth.tables import Seller

_SELLER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


class SellerError(ValueError):
    """Bad seller input: a malformed id, a duplicate, a seller that does not exist."""


def check_seller_id(seller_id: str) -> str:
    if not _SELLER_ID.match(seller_id):
        raise SellerError(
            f"a seller id is 1-32 lower-case letters, digits or dashes, starting with a letter or digit "
            f"(got {seller_id!r})"
        )
    return seller_id


def add_seller(session: Session, seller_id: str, name: str) -> Seller:
    check_seller_id(seller_id)
    name = name.strip()
    if not 1 <= len(name) <= 128:
        raise SellerError("a seller's name is 1-128 characters")
    if session.get(Seller, seller_id) is not None:
        raise SellerError(f"seller {seller_id!r} already exists")
    seller = Seller(id=seller_id, name=name, created_at=datetime.now(UTC))
    session.add(seller)
    session.flush()
    return seller


def existing_seller(session: Session, seller_id: str) -> Seller:
    """The seller ``seller_id``, or a ``SellerError`` that says how to find the right one."""
    seller = session.get(Seller, seller_id)
    if seller is None:
        raise SellerError(
            f"there is no seller {seller_id!r}; 'inspector platform sellers list' shows them, "
            "'inspector platform sellers add' adds one"
        )
    return seller


def list_sellers(session: Session) -> list[Seller]:
    return list(session.exec(select(Seller).order_by(col(Seller.id))).all())
