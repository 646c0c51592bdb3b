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

``record_reinspection(session, claim_ref, reinspection, actor) -> Claim``
    The inspection pipeline reports a re-inspection of a returned item (``Reinspection``:
    inspection_id, certificate_human_id, grade, photos [sha256], defects [dicts]). Also
    available as ``POST /api/warranty/claims/{ref}/reinspection``.
    ``find_open_claim(session, human_id)`` finds the claim a returned item belongs to.
"""

from warranty.coverage import Coverage, UnknownCertificate, coverage_for
from warranty.plans import Plan, PlanError, all_plans, default_plan_for, get_plan

__all__ = [
    "Coverage",
    "Plan",
    "PlanError",
    "UnknownCertificate",
    "all_plans",
    "coverage_for",
    "default_plan_for",
    "get_plan",
]
