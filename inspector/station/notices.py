"""What the stream audience is told when an inspection or a check stops.

The reason recorded for the operator is free text: an operator's abort note, a driver's message,
an exception with a file path or SQL in it. The public live view and event stream show none of
it, only one of these fixed notices: a stable code (for a translation table or a styled badge)
and a plain English message, which pages translate.
"""

from __future__ import annotations

from enum import StrEnum

from inspector.i18n import N_
from inspector.station.states import InspectionStatus


class PublicNotice(StrEnum):
    """Why the inspection on air stopped or a check did not finish, as the audience may see it."""

    aborted = "aborted"
    interrupted = "interrupted"
    check_error = "check_error"

    @property
    def message(self) -> str:
        return _MESSAGES[self]


_MESSAGES = {
    PublicNotice.aborted: N_("The inspection was stopped by the station."),
    PublicNotice.interrupted: N_("The inspection is paused; the station will resume it."),
    PublicNotice.check_error: N_("This check could not finish."),
}


def inspection_notice(status: str, error: str | None) -> PublicNotice | None:
    """The notice for an inspection in ``status`` with an internal ``error`` (None: nothing to say)."""
    if status == InspectionStatus.aborted:
        return PublicNotice.aborted
    if status == InspectionStatus.interrupted or error:
        return PublicNotice.interrupted
    return None


def step_notice(error: str | None) -> PublicNotice | None:
    """The notice for a step whose internal ``error`` is set."""
    return PublicNotice.check_error if error else None
