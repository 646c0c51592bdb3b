"""The operator actions' transition table: what each action may start from, as the console relies on."""

from __future__ import annotations

import pytest

from inspector.station.states import InspectionStatus, OperatorAction, after, allowed


@pytest.mark.parametrize("action", list(OperatorAction))
def test_a_finished_or_aborted_inspection_accepts_no_action(action: OperatorAction) -> None:
    """Proves: once completed or aborted, nothing the operator does changes the inspection (its
    certificate and record stay as issued)."""
    for status in (InspectionStatus.completed, InspectionStatus.aborted):
        assert not allowed(action, status)


def test_only_an_interrupted_inspection_resumes_and_only_a_waiting_one_is_answered() -> None:
    """Proves: resume is for interrupted inspections only, and answer/finish only while the
    inspection waits for the operator; abort works from any unfinished state."""
    resumable = [s for s in InspectionStatus if allowed(OperatorAction.resume, s)]
    assert resumable == [InspectionStatus.interrupted]
    for action in (OperatorAction.answer, OperatorAction.finish):
        assert [s for s in InspectionStatus if allowed(action, s)] == [InspectionStatus.waiting_operator]
        assert after(action) is InspectionStatus.running
    assert {s for s in InspectionStatus if allowed(OperatorAction.abort, s)} == {
        InspectionStatus.running,
        InspectionStatus.waiting_operator,
        InspectionStatus.interrupted,
    }
    assert after(OperatorAction.abort) is InspectionStatus.aborted
