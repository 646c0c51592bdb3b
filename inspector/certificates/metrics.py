"""Certificate figures for ``/metrics``: how many this station issued, revoked and suspended."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func
from sqlmodel import Session, col, select

from inspector.certificates.tables import Certificate
from inspector.db import TRANSIENT_DATABASE_ERRORS


class CertificateCollector(Collector):
    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        station_id = self.app.state.settings.station_id
        mine = Certificate.station_id == station_id
        try:
            with Session(self.app.state.engine) as s:
                issued = s.exec(select(func.count()).where(mine)).one()
                revoked = s.exec(
                    select(func.count()).where(mine, col(Certificate.revoked_at).is_not(None))
                ).one()
                suspended = s.exec(
                    select(func.count()).where(
                        mine,
                        col(Certificate.suspended_at).is_not(None),
                        col(Certificate.revoked_at).is_(None),
                    )
                ).one()
        except TRANSIENT_DATABASE_ERRORS:
            return  # inspector_database_up says why
        total = CounterMetricFamily("inspector_certificates_issued", "Certificates this station issued.")
        total.add_metric([], issued)
        yield total
        status = GaugeMetricFamily(
            "inspector_certificates_withdrawn",
            "This station's certificates now revoked or suspended.",
            labels=["status"],
        )
        status.add_metric(["revoked"], revoked)
        status.add_metric(["suspended"], suspended)
        yield status


def collector(app: FastAPI) -> Collector:
    return CertificateCollector(app)
