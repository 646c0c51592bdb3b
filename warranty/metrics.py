"""Warranty figures for ``/metrics``: claims by state (open ones are what staff must work on)."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func
from sqlmodel import Session, select

from inspector.db import TRANSIENT_DATABASE_ERRORS
from warranty.service import STATES
from warranty.tables import Claim


class ClaimCollector(Collector):
    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        try:
            with Session(self.app.state.engine) as s:
                counts = dict(s.exec(select(Claim.state, func.count()).group_by(Claim.state)).all())
        except TRANSIENT_DATABASE_ERRORS:
            return  # inspector_database_up says why
        by_state = GaugeMetricFamily("inspector_claims", "Warranty claims by state.", labels=["state"])
        for state in STATES:
            by_state.add_metric([state], counts.get(state, 0))
        yield by_state
        open_ = GaugeMetricFamily("inspector_claims_open", "Warranty claims not closed yet.")
        open_.add_metric([], sum(n for state, n in counts.items() if state != "closed"))
        yield open_


def collector(app: FastAPI) -> Collector:
    return ClaimCollector(app)
