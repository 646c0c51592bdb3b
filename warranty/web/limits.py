"""Attempt limits of the buyer's public claim form and API, counted in the database.

A buyer proves a claim with a certificate id (printed, public) and an order reference (known
to the buyer). Without a limit the reference can be guessed; so every anonymous attempt that
names one is counted per client address and per certificate before it is checked. The windows
are short so that a buyer who knows the reference is kept out for minutes at most, even when
someone else is guessing against the same certificate, and the message says how long.

Photos are stored only for a claim that passed every check, and count against a quota per
client and per certificate: checked before the claim opens, spent once it has.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine

from inspector.i18n import N_
from inspector.ratelimit import AttemptLimiter, Decision
from warranty.errors import TooManyAttempts
from warranty.messages import Message

ORDER_REF_PER_CLIENT = AttemptLimiter("claim-order-ref-client", limit=10, window=timedelta(minutes=15))
ORDER_REF_PER_CERTIFICATE = AttemptLimiter("claim-order-ref-cert", limit=10, window=timedelta(minutes=15))
PHOTOS_PER_CLIENT = AttemptLimiter("claim-photos-client", limit=24, window=timedelta(hours=1))
PHOTOS_PER_CERTIFICATE = AttemptLimiter("claim-photos-cert", limit=12, window=timedelta(days=1))


def _cert_key(cert_id: str) -> str:
    return cert_id.strip().upper()


def _wait(decision: Decision) -> Message:
    minutes = decision.retry_after_minutes
    if minutes >= 120:
        return Message(N_("%(num)s hours"), {"num": round(minutes / 60)})
    return Message(N_("1 minute")) if minutes == 1 else Message(N_("%(num)s minutes"), {"num": minutes})


def count_order_ref_attempt(engine: Engine, client: str, cert_id: str) -> None:
    """Count one anonymous attempt with an order reference; 429 when over a limit (not counted)."""
    by_client = ORDER_REF_PER_CLIENT.hit(engine, client)
    if not by_client.allowed:
        raise TooManyAttempts(
            N_("too many attempts from your connection; try again in %(wait)s"),
            by_client.retry_after_s,
            wait=_wait(by_client),
        )
    by_cert = ORDER_REF_PER_CERTIFICATE.hit(engine, _cert_key(cert_id))
    if not by_cert.allowed:
        raise TooManyAttempts(
            N_(
                "too many attempts for this certificate; try again in %(wait)s, "
                "or ask the seller's support to open the claim for you"
            ),
            by_cert.retry_after_s,
            wait=_wait(by_cert),
        )


def check_photo_quota(engine: Engine, client: str, cert_id: str, count: int) -> None:
    """429 when ``count`` more photos would exceed the client's or the certificate's quota."""
    if count == 0:
        return
    for limiter, key, used_up, too_few in (
        (
            PHOTOS_PER_CLIENT,
            client,
            N_(
                "too many photos were uploaded from your connection; send the claim without photos "
                "or try again in %(wait)s"
            ),
            N_(
                "only %(remaining)s more photos may be uploaded from your connection for now; "
                "send fewer photos"
            ),
        ),
        (
            PHOTOS_PER_CERTIFICATE,
            _cert_key(cert_id),
            N_(
                "too many photos were uploaded for this certificate; send the claim without photos "
                "or try again in %(wait)s"
            ),
            N_(
                "only %(remaining)s more photos may be uploaded for this certificate for now; "
                "send fewer photos"
            ),
        ),
    ):
        decision = limiter.peek(engine, key)
        if not decision.allowed:
            raise TooManyAttempts(used_up, decision.retry_after_s, wait=_wait(decision))
        if decision.remaining < count:
            raise TooManyAttempts(too_few, 60, remaining=decision.remaining)


def spend_photo_quota(engine: Engine, client: str, cert_id: str, count: int) -> None:
    """Count ``count`` stored photos against both quotas (after the claim committed)."""
    if count:
        PHOTOS_PER_CLIENT.hit(engine, client, cost=count)
        PHOTOS_PER_CERTIFICATE.hit(engine, _cert_key(cert_id), cost=count)
