"""Coverage plans, claims and their workflow, the staff console and reports.

Functions other components call (stable API):

``coverage_for(session, human_id, now=None) -> Coverage``
    The warranty of certificate ``human_id`` as of ``now``: ``plan`` (a ``Plan``), ``basis``
    ("sale" when a sale is recorded, else "issue"), ``start``/``end`` (aware UTC datetimes),
    ``days_left``, ``active`` (inside the window and the certificate is valid),
    ``inactive_reason``, ``exclusions`` (code/text pairs to show the buyer),
    ``return_window_end``/``return_window_open``, ``public_dict()`` (JSON-safe, no buyer data).
    Raises ``UnknownCertificate`` for an unknown id. Used by the certificate verify page; link
    buyers to ``/claims/new?cert=<human_id>`` to open a claim.

``default_plan_for(item_kind) -> Plan``
    The default plan for "phone" or "jewelry" (``plan.plan_id``, ``plan.days``, ...); the
    pipeline puts ``plan_id`` into the credential when it issues a certificate.

``find_open_claim(session, human_id, scope) -> Claim | None``
    The open claim of a certificate: a station re-inspecting a returned item (new certificate
    with ``supersedes=<original id>``) finds the claim it belongs to with the original id.
    ``scope`` (``inspector.auth.tenancy``) limits it to the stations a user may see; a station
    passes ``EVERYTHING``.

``record_reinspection(session, claim_ref, reinspection, actor, expected_version=None) -> Claim``
    Report the re-inspection of a received item (claim state "received" -> "reinspected").
    ``reinspection`` is a ``Reinspection`` or a dict: inspection_id, certificate_human_id (the
    new certificate), grade, photos (sha256 list, in the photo store), defects (dicts with
    ``kind``, optional ``region``, ``photo`` index, ``bbox`` [x, y, w, h] as permille integers
    or 0..1 fractions, and a measurement such as ``length_um``), weight_mg, notes.
    ``actor`` is ``Actor(username, role)`` (operator, staff or supervisor; ``Actor.of(user)``
    also carries the user's seller scope, and a claim outside it is not found). Raises
    ``warranty.errors.Conflict`` (wrong state / stale version), ``Invalid`` or ``Forbidden``;
    the caller commits. Same over HTTP: ``POST /api/warranty/claims/{ref}/reinspection``
    with a Bearer token (JSON body = those fields, optional ``version``).
"""

from warranty.coverage import Coverage, UnknownCertificate, coverage_for
from warranty.evidence import Defect, Reinspection
from warranty.plans import Plan, PlanError, all_plans, default_plan_for, get_plan
from warranty.service import Actor, find_open_claim, record_reinspection

__all__ = [
    "Actor",
    "Coverage",
    "Defect",
    "Plan",
    "PlanError",
    "Reinspection",
    "UnknownCertificate",
    "all_plans",
    "coverage_for",
    "default_plan_for",
    "find_open_claim",
    "get_plan",
    "record_reinspection",
]
