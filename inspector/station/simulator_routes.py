"""Debug-only hook: pull and re-plug a simulated cable of a running station from outside its process.

The simulators live inside ``inspector serve`` (ptys, ADB over TCP), so a fault campaign
(``bench/faults.py``) has no other way to pull the rig, balance or phone cable in the middle of a
step. ``create_app`` registers this router only when ``settings.simulate`` is on; it needs an
operator, answers 404 when the station runs no simulation, and stays out of the OpenAPI schema.
"""

from __future__ import annotations

from enum import StrEnum

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

from inspector.auth import OperatorDep
from inspector.station.routes import StationDep

router = APIRouter(tags=["simulator"], include_in_schema=False)


class SimulatedDevice(StrEnum):
    """A simulated device with a cable that can be pulled."""

    rig = "rig"
    scale = "scale"
    phone = "phone"


class CableAction(StrEnum):
    unplug = "unplug"
    replug = "replug"


class CableState(BaseModel):
    device: SimulatedDevice
    plugged: bool


@router.post("/api/station/simulator/{device}/{action}")
def cable(
    device: SimulatedDevice,
    action: CableAction,
    _user: OperatorDep,
    station: StationDep,
) -> CableState:
    """Pull (``unplug``) or plug back (``replug``) the cable of a simulated device."""
    sim = station.hw.simulation
    target = getattr(sim, device.value, None) if sim is not None else None
    if target is None:
        raise HTTPException(404, f"this station has no simulated {device.value}")
    if action is CableAction.unplug:
        target.unplug()
    elif not getattr(target, "plugged", False):  # the rig power-cycles on replug: only when pulled
        target.replug()
    return CableState(device=device, plugged=action is CableAction.replug)
