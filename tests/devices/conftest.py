"""Fixtures shared by the device tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devices.phone import PhoneSimulator


@pytest.fixture
def phone(request: pytest.FixtureRequest) -> Iterator[PhoneSimulator]:
    """A running simulated phone; the profile name comes from indirect parametrization
    (default ``galaxy-s21``)."""
    sim = PhoneSimulator(getattr(request, "param", "galaxy-s21"))
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()
