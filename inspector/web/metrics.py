"""``/metrics`` in the Prometheus text format: what this process served, and what the database holds.

Request counts and latencies are this process's own (with several workers, scrape each one, or
sum them in Prometheus). Everything else is read from the database when scraped, so every worker
reports the same figures: each component contributes a collector, listed once in
``COLLECTOR_MODULES`` (a module with ``collector(app) -> prometheus_client.registry.Collector``).

Scrapes come from the machine itself (a local agent) or carry a supervisor's bearer token.
"""

from __future__ import annotations

import importlib
import time
from ipaddress import ip_address

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, status
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from inspector.auth import Role, authenticate_token
from inspector.web.deps import SessionDep

COLLECTOR_MODULES: list[str] = [
    "inspector.station.metrics",
    "inspector.certificates.metrics",
    "warranty.metrics",
]

router = APIRouter(tags=["health"])


class RequestMetrics:
    """Counts requests and times them by route template (``/c/{human_id}``, not each id)."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = Counter(
            "inspector_http_requests",
            "HTTP requests answered, by method, route and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "inspector_http_request_duration_seconds",
            "Time to answer an HTTP request (until its first byte), by route.",
            ["route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        code = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal code
            if message["type"] == "http.response.start":
                code = int(message["status"])
                route = _route_of(scope)
                self.latency.labels(route).observe(time.perf_counter() - start)
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.requests.labels(scope["method"], _route_of(scope), str(code)).inc()


def _route_of(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


def install_metrics(app: FastAPI) -> None:
    """Give ``app`` its own registry (several apps in one process never mix their counts)."""
    registry = CollectorRegistry()
    for name in COLLECTOR_MODULES:
        registry.register(importlib.import_module(name).collector(app))
    app.state.metrics_registry = registry
    app.add_middleware(RequestMetrics, registry=registry)


def _from_this_machine(request: Request) -> bool:
    """The direct peer is loopback and no proxy forwarded the request (behind a proxy on this
    machine every client would look local: those scrapes need a token)."""
    peer = request.scope.get("client")
    if not peer or "x-forwarded-for" in request.headers or "forwarded" in request.headers:
        return False
    try:
        return ip_address(peer[0]).is_loopback
    except ValueError:  # not an address (a Unix socket, a test transport)
        return False


def _may_scrape(request: Request, session: SessionDep) -> None:
    if _from_this_machine(request):
        return
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    user = authenticate_token(session, token) if token else None
    if user is None or user.role not in (Role.supervisor.value, Role.admin.value):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "metrics are for this machine or a supervisor's token (Authorization: Bearer ...)",
        )


@router.get(
    "/metrics",
    response_class=Response,
    dependencies=[Depends(_may_scrape)],
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}},
        403: {"description": "Not this machine, no token"},
    },
)
def metrics(request: Request) -> Response:
    """The Prometheus exposition of this process and the station's database."""
    registry: CollectorRegistry = request.app.state.metrics_registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
