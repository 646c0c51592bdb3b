"""Warranty pages and API: the buyer's claim form and status page, the staff console, reports.

One router per audience: ``buyer`` (public pages behind the secret link), ``staff`` (console),
``stations`` (the staff's stations), ``reports`` (supervisors), ``api`` (JSON). ``routing`` turns
the service's refusals into the error page or JSON in one place; ``forms`` reads uploads;
``rendering`` holds shared views. Every rule is enforced in ``warranty.service``.
"""

from __future__ import annotations

from fastapi import APIRouter

from warranty.web import api, buyer, reports, staff, stations

router = APIRouter()
for _part in (buyer, staff, stations, reports, api):
    router.include_router(_part.router)

__all__ = ["router"]
