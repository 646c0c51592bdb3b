"""The OpenAPI schema against what the server answers: schemathesis, in process, as four identities.

Every operation gets generated requests (bounded: ``EXAMPLES`` each) as an anonymous visitor, an
operator, staff and a supervisor, on a fresh SQLite database holding an issued certificate, its
sale and an open claim. Checks: no 5xx; every status, content type and JSON body as the schema
declares. Run on demand and in CI (``-m slow``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from scratch_db import scratch_postgres_database

from devices.camera.simulated import SimulatedCamera
from inspector.auth import Role, create_user, issue_token
from inspector.certificates.testing import issue_sample_certificate
from inspector.config import Settings
from inspector.db import make_engine, migrate, session_scope
from inspector.station.hardware import CameraAdapter
from inspector.station.ports import StationHardware
from inspector.station.service import StationService
from inspector.web.app import create_app
from warranty.service import Actor, open_claim, record_sale

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("SCHEMA_EXAMPLES", "25"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# An endless event stream: a generated request would never finish (its test is in tests/station).
ENDLESS = "/api/station/events"


@contextmanager
def _database(root: Path) -> Iterator[str]:
    """A fresh SQLite file, or (``SCHEMA_DB=postgresql``) a fresh PostgreSQL database."""
    if os.environ.get("SCHEMA_DB", "sqlite") != "postgresql":
        yield f"sqlite:///{root / 'schema.db'}"
        return
    admin_url = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    with scratch_postgres_database(admin_url, "t_schema") as url:
        yield url


@pytest.fixture(scope="module")
def app_and_tokens(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, str]]]:
    root: Path = tmp_path_factory.mktemp("schema")
    with _database(root) as url:
        yield from _app_and_tokens(root, url)


def _app_and_tokens(root: Path, url: str) -> Iterator[tuple[Any, dict[str, str]]]:
    migrate(url)
    engine = make_engine(url)
    settings_ = Settings(data_dir=root / "data", database_url=url, public_base_url="http://testserver")
    tokens: dict[str, str] = {}
    with session_scope(engine) as s:
        for role in (Role.operator, Role.staff, Role.supervisor):
            tokens[role.value] = issue_token(s, create_user(s, f"{role.value}1", role, f"pw-{role.value}-1"))
    with session_scope(engine) as s:
        phone = issue_sample_certificate(s, settings_).human_id
        issue_sample_certificate(s, settings_, kind="jewelry")
    staff = Actor("staff1", "staff")
    with session_scope(engine) as s:
        record_sale(
            s,
            staff,
            cert_human_id=phone,
            order_ref="LIVE-1",
            price_minor=129900,
            currency="CNY",
            sold_at=datetime.now(UTC),
        )
    with session_scope(engine) as s:
        open_claim(s, Actor.buyer(), cert_human_id=phone, order_ref="LIVE-1", problem="functional_fault")
    app = create_app(settings_, engine=engine)
    # A station with its (simulated) camera: without one the preview is a deliberate 503, which
    # not_a_server_error cannot tell from a fault.
    camera = CameraAdapter(SimulatedCamera())
    app.state.station = StationService(engine, settings_, StationHardware(camera=camera))
    yield app, tokens
    camera.close()
    engine.dispose()


def _failures(app: Any, tokens: dict[str, str], who: str) -> list[str]:
    """Run every operation's generated cases as ``who``; one line per operation that failed."""
    headers = {"Authorization": f"Bearer {tokens[who]}"} if who in tokens else {}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).exclude(path=ENDLESS)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        cases = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
            GenerationMode.NEGATIVE
        )

        @BOUNDED
        @given(cases)
        def run(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS, allow_redirects=False)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis failures or any error: go on
            failures.append(f"{operation.label}: {_summary(exc)}")
    return failures


def _oneline(text: object) -> str:
    return " ".join(str(text).split())[:200]


def _summary(exc: BaseException) -> str:
    """What failed and the curl line that reproduces it, without the whole response body."""
    subs = exc.exceptions if isinstance(exc, BaseExceptionGroup) else (exc,)
    titles = [f"{getattr(s, 'title', type(s).__name__)} ({_oneline(getattr(s, 'message', s))})" for s in subs]
    what = "; ".join(titles)
    curl = re.search(r"curl .*", str(exc))
    return f"{what}\n    {curl.group(0)[:400] if curl else ''}"


BOUNDED = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
    derandomize=os.environ.get("SCHEMA_SEED", "fixed") == "fixed",
)


@pytest.mark.parametrize("who", ["anonymous", "operator", "staff", "supervisor"])
def test_api_answers_as_its_schema_says(app_and_tokens: tuple[Any, dict[str, str]], who: str) -> None:
    """As each identity: no 5xx, and every status, content type and body as the schema declares."""
    app, tokens = app_and_tokens
    failures = _failures(app, tokens, who)
    assert not failures, f"{len(failures)} operations failed as {who}:\n" + "\n\n".join(failures)
