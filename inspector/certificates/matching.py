"""The buyer's "does the item in my hand match?" check, and how often anyone may ask it.

The match form is an oracle for the item's IMEI, so every answer is paid for with attempts
counted in the database (``inspector.ratelimit``: they survive restarts and hold across
workers). Three kinds of limit, each aimed at a different attacker:

* per client and certificate (small): a buyer's typos, not a search;
* per client over all certificates, well-formed unknown ids included: bounds one client's
  enumeration across certificates (unknown ids never create a counter of their own; ids
  whose check symbol is wrong are refused before any database work);
* per certificate, on FAILED answers only, from every client together: makes searching one
  item's 10^6 serial numbers (the model gives the TAC, Luhn the last digit) take decades.

There is deliberately no platform-wide ceiling: a few clients could use it up every day and
pause the check for every buyer at once.

A lock-out must not hurt the buyer: whoever gives the order reference of the certificate's
sale is counted on a separate per-certificate ceiling that nobody without that reference can
use up. Certificates signed before identifiers were fully hidden show the last four digits
in their (signed, unchangeable) JSON, which leaves 100 candidates: they get much smaller
ceilings.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy.engine import Engine
from sqlmodel import Session

from inspector.certificates import humanid
from inspector.certificates.identity import IdentityKeyError, shows_digits
from inspector.certificates.service import CertificateRecord, get_certificate, identity_matches
from inspector.config import Settings
from inspector.i18n import AppLocale, translate, translate_plural
from inspector.ratelimit import AttemptLimiter, Decision

MAX_VALUE_CHARS = 64  # no IMEI or serial is longer; never hash unbounded input

# (session, certificate human id, order reference typed by the buyer) -> is it that sale's?
OrderRefCheck = Callable[[Session, str, str], bool]


def no_sales(_session: Session, _human_id: str, _order_ref: str) -> bool:
    """The order-reference check of an app without a sales register: nothing is proven."""
    return False


PER_CLIENT = AttemptLimiter(scope="cert-match-client", limit=20, window=timedelta(hours=1))
PER_CLIENT_CERT = AttemptLimiter(scope="cert-match-client-cert", limit=5, window=timedelta(hours=1))


@dataclass(frozen=True)
class Ceilings:
    """Failed answers allowed per certificate: for anyone, and for holders of the order reference."""

    public: AttemptLimiter
    owner: AttemptLimiter


HIDDEN_IDS = Ceilings(
    public=AttemptLimiter(scope="cert-match-fail", limit=10, window=timedelta(days=1)),
    owner=AttemptLimiter(scope="cert-match-fail-owner", limit=20, window=timedelta(days=1)),
)
SHOWN_LAST_DIGITS = Ceilings(  # older certificates: last 4 digits signed into the JSON
    public=AttemptLimiter(scope="cert-match-fail-legacy", limit=3, window=timedelta(days=30)),
    owner=AttemptLimiter(scope="cert-match-fail-legacy-owner", limit=5, window=timedelta(days=7)),
)


class MatchState(StrEnum):
    """What the match form answers."""

    yes = "yes"  # the typed identifier is the certified item's
    no = "no"  # it is not
    empty = "empty"  # nothing typed
    limited = "limited"  # this client asked too often
    limited_cert = "limited_cert"  # too many wrong answers on this certificate (from anyone)
    unavailable = "unavailable"  # the check cannot run here now (identity key missing)


class OrderRefState(StrEnum):
    not_given = "not_given"
    matches = "matches"
    wrong = "wrong"


@dataclass(frozen=True)
class MatchAnswer:
    state: MatchState
    order_ref: OrderRefState = OrderRefState.not_given
    retry_after_s: int = 0

    def retry_in(self, locale: AppLocale = AppLocale.EN) -> str:
        """When to try again, in plain words."""
        return in_words(self.retry_after_s, locale)


def in_words(seconds: int, locale: AppLocale = AppLocale.EN) -> str:
    """'in about 5 minutes', 'in about 3 hours', 'in about 2 days' (in ``locale``)."""
    if seconds <= 90:
        return translate(locale, "in a minute or two")
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return translate_plural(locale, "in about %(num)s minute", "in about %(num)s minutes", minutes)
    hours = math.ceil(seconds / 3600)
    if hours < 48:
        return translate_plural(locale, "in about %(num)s hour", "in about %(num)s hours", hours)
    days = math.ceil(seconds / 86400)
    return translate_plural(locale, "in about %(num)s day", "in about %(num)s days", days)


def _refused(state: MatchState, decision: Decision, order_ref: OrderRefState) -> MatchAnswer:
    return MatchAnswer(state, order_ref, decision.retry_after_s)


def check_match(
    engine: Engine,
    session: Session,
    settings: Settings,
    *,
    ref: str,
    value: str,
    order_ref: str,
    client: str,
    order_ref_matches: OrderRefCheck,
) -> tuple[CertificateRecord | None, MatchAnswer]:
    """Answer one match-form post, counting it; the record is None for an unknown certificate."""
    value = value[:MAX_VALUE_CHARS]
    order_ref = order_ref.strip()[:MAX_VALUE_CHARS]
    if not value.strip():
        return get_certificate(session, ref), MatchAnswer(MatchState.empty)
    if humanid.normalize(ref) is None:  # cannot be any certificate: no database work, nothing learnt
        return None, MatchAnswer(MatchState.no)
    per_client = PER_CLIENT.hit(engine, client)
    record = get_certificate(session, ref)
    if record is None:
        return None, MatchAnswer(MatchState.no)
    if not per_client.allowed:
        return record, _refused(MatchState.limited, per_client, OrderRefState.not_given)
    per_pair = PER_CLIENT_CERT.hit(engine, f"{client}\0{record.human_id}")
    if not per_pair.allowed:
        return record, _refused(MatchState.limited, per_pair, OrderRefState.not_given)

    identity = record.credential.get("credentialSubject", {}).get("identity", {})
    ceilings = SHOWN_LAST_DIGITS if shows_digits(identity) else HIDDEN_IDS
    ref_state = OrderRefState.not_given
    if order_ref:
        owner = order_ref_matches(session, record.human_id, order_ref)
        ref_state = OrderRefState.matches if owner else OrderRefState.wrong
    ceiling = ceilings.owner if ref_state is OrderRefState.matches else ceilings.public
    room = ceiling.peek(engine, record.human_id)
    if not room.allowed:
        return record, _refused(MatchState.limited_cert, room, ref_state)

    try:
        ok = identity_matches(session, record.human_id, value, settings)
    except IdentityKeyError:
        session.rollback()
        return record, MatchAnswer(MatchState.unavailable, ref_state)
    session.commit()  # the first check may record the identity key's fingerprint; free SQLite's lock
    if not ok or ref_state is OrderRefState.wrong:
        ceiling.hit(engine, record.human_id)
    return record, MatchAnswer(MatchState.yes if ok else MatchState.no, ref_state)
