"""The states an inspection and its steps pass through, and which of them are still in progress.

Members are named as their stored values (the database column is text, and a driver may store an
enum by its name): ``InspectionStatus.running == "running"``.
"""

from __future__ import annotations

from enum import StrEnum


class InspectionStatus(StrEnum):
    """Where an inspection is."""

    running = "running"
    """A step is being worked on."""
    waiting_operator = "waiting_operator"
    """A step waits for the operator's answer."""
    interrupted = "interrupted"
    """A step failed or the station restarted: the operator may resume it."""
    completed = "completed"
    """Every step is done; the result is recorded."""
    aborted = "aborted"
    """The operator stopped it; nothing more happens."""

    @property
    def active(self) -> bool:
        """The station is working on it or waiting for the operator: one per station at a time."""
        return self in (InspectionStatus.running, InspectionStatus.waiting_operator)

    @property
    def terminal(self) -> bool:
        """Nothing can change it any more."""
        return self in (InspectionStatus.completed, InspectionStatus.aborted)


class StepStatus(StrEnum):
    """Where one step of an inspection is."""

    pending = "pending"
    running = "running"
    waiting = "waiting"
    """Waits for the operator's answer."""
    passed = "passed"
    warning = "warning"
    """Done, with something the buyer should know."""
    failed = "failed"
    """Done: the item failed this check."""
    error = "error"
    """The check could not finish (a device, a crash); the inspection is interrupted."""
    skipped = "skipped"

    @property
    def done(self) -> bool:
        """The step has its outcome and is not run again on resume."""
        return self in (StepStatus.passed, StepStatus.warning, StepStatus.failed, StepStatus.skipped)


ACTIVE = tuple(s for s in InspectionStatus if s.active)
TERMINAL = tuple(s for s in InspectionStatus if s.terminal)
DONE_STEP = tuple(s for s in StepStatus if s.done)


class OperatorAction(StrEnum):
    """What the operator (or the rig's button, or the API) can do to an inspection under way."""

    answer = "answer"
    finish = "finish"
    abort = "abort"
    resume = "resume"


# Which statuses each operator action may start from, and the status it leads to: the one place that
# says, for example, that only an interrupted inspection can be resumed.
OPERATOR_TRANSITIONS: dict[OperatorAction, tuple[frozenset[InspectionStatus], InspectionStatus]] = {
    OperatorAction.answer: (frozenset({InspectionStatus.waiting_operator}), InspectionStatus.running),
    OperatorAction.finish: (frozenset({InspectionStatus.waiting_operator}), InspectionStatus.running),
    OperatorAction.abort: (
        frozenset(s for s in InspectionStatus if not s.terminal),
        InspectionStatus.aborted,
    ),
    OperatorAction.resume: (frozenset({InspectionStatus.interrupted}), InspectionStatus.running),
}


def allowed(action: OperatorAction, status: str) -> bool:
    """May ``action`` start from an inspection in ``status``?"""
    return status in OPERATOR_TRANSITIONS[action][0]


def after(action: OperatorAction) -> InspectionStatus:
    """The status ``action`` leaves the inspection in."""
    return OPERATOR_TRANSITIONS[action][1]
