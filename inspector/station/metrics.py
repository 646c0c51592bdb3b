"""This station's figures for ``/metrics``: inspections by state, step durations, device links."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric, SummaryMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func
from sqlmodel import Session, col, select

from inspector.db import TRANSIENT_DATABASE_ERRORS
from inspector.station.states import InspectionStatus
from inspector.station.tables import Inspection, InspectionStep

INSPECTION_STATES = tuple(InspectionStatus)


class StationCollector(Collector):
    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        yield from self._devices()
        station_id = self.app.state.settings.station_id
        try:
            with Session(self.app.state.engine) as s:
                states = dict(
                    s.exec(
                        select(Inspection.status, func.count())
                        .where(Inspection.station_id == station_id)
                        .group_by(Inspection.status)
                    ).all()
                )
                steps = s.exec(
                    select(InspectionStep.key, func.count(), func.sum(InspectionStep.duration_ms))
                    .join(Inspection, col(Inspection.id) == col(InspectionStep.inspection_id))
                    .where(Inspection.station_id == station_id, col(InspectionStep.duration_ms).is_not(None))
                    .group_by(InspectionStep.key)
                ).all()
        except TRANSIENT_DATABASE_ERRORS:
            yield _database_up(False)
            return
        yield _database_up(True)
        by_state = GaugeMetricFamily(
            "inspector_inspections", "This station's inspections by state.", labels=["state"]
        )
        for state in sorted({*INSPECTION_STATES, *states}):
            by_state.add_metric([state], states.get(state, 0))
        yield by_state
        durations = SummaryMetricFamily(
            "inspector_step_duration_seconds", "Time each inspection step took, by step.", labels=["step"]
        )
        for key, count, total_ms in steps:
            durations.add_metric([key], count_value=count, sum_value=(total_ms or 0) / 1000)
        yield durations

    def _devices(self) -> Iterator[Metric]:
        station: Any = getattr(self.app.state, "station", None)
        family = CounterMetricFamily(
            "inspector_device_link_events",
            "Counters of the serial links to the rig and the balance since the service started.",
            labels=["device", "event"],
        )
        for name in ("rig", "scale"):
            device = getattr(station.hw, name, None) if station is not None else None
            counters = getattr(device, "counters", None)
            if callable(counters):
                for event, value in sorted(counters().items()):
                    family.add_metric([name, event], value)
        yield family


def _database_up(up: bool) -> Metric:
    gauge = GaugeMetricFamily("inspector_database_up", "1 when the last scrape could read the database.")
    gauge.add_metric([], 1 if up else 0)
    return gauge


def collector(app: FastAPI) -> Collector:
    return StationCollector(app)
