"""``/readyz``: may this process take traffic? Each check says what is wrong in words.

``/healthz`` (``inspector.web.availability``) answers whether the process runs; a load balancer
or a service manager asks ``/readyz`` whether it can do its job: the database answers, its
schema is at the newest migration, the signing keys load, and a station has the hardware it
was configured with.
"""

from __future__ import annotations

from enum import StrEnum

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from inspector.certificates.keys import signing_key_problem
from inspector.config import ServerRole, Settings
from inspector.db import TRANSIENT_DATABASE_ERRORS, alembic_config

router = APIRouter(tags=["health"])


class CheckState(StrEnum):
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"  # could not be checked because an earlier check failed


class Check(BaseModel):
    name: str
    state: CheckState
    detail: str = ""


class Readiness(BaseModel):
    ready: bool = Field(description="True when every check passed.")
    checks: list[Check]


def _database(engine: Engine) -> Check:
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except TRANSIENT_DATABASE_ERRORS:
        return Check(name="database", state=CheckState.FAILED, detail="the database does not answer")
    return Check(name="database", state=CheckState.OK)


def _migrations(engine: Engine) -> Check:
    url = engine.url.render_as_string(hide_password=False)
    script = ScriptDirectory.from_config(alembic_config(url))
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
    try:
        # Every revision the database has, with those its heads depend on from other branches
        # (alembic keeps only the topmost of a dependency in its version table).
        applied = {rev.revision for rev in script.iterate_revisions(current, "base") if rev is not None}
    except RevisionError:
        return Check(
            name="migrations",
            state=CheckState.FAILED,
            detail=f"the schema is at a migration this version does not know ({', '.join(current)}); "
            "is a newer version writing to this database?",
        )
    behind = len(set(script.get_heads()) - applied)
    if behind:
        return Check(
            name="migrations",
            state=CheckState.FAILED,
            detail=f"the schema is not at the newest migration ({behind} branch(es) behind); "
            "run 'inspector db upgrade' or restart the service",
        )
    return Check(name="migrations", state=CheckState.OK)


def _keys(engine: Engine, settings: Settings) -> Check:
    with Session(engine) as session:
        problem = signing_key_problem(session, settings, settings.station_id)
    if problem:
        return Check(name="signing_keys", state=CheckState.FAILED, detail=problem)
    return Check(name="signing_keys", state=CheckState.OK)


def _hardware(request: Request, settings: Settings) -> Check:
    if settings.role is ServerRole.PLATFORM:
        return Check(name="hardware", state=CheckState.OK, detail="none needed: this is the platform")
    station = getattr(request.app.state, "station", None)
    missing = dict(station.hw.missing) if station is not None else {}
    if missing:
        listed = "; ".join(f"{name}: {why}" for name, why in sorted(missing.items()))
        return Check(name="hardware", state=CheckState.FAILED, detail=listed)
    detail = "simulated" if settings.simulate else ""
    return Check(name="hardware", state=CheckState.OK, detail=detail)


@router.get(
    "/readyz",
    responses={503: {"model": Readiness, "description": "Not ready: the failed checks say why"}},
)
def readyz(request: Request) -> JSONResponse:
    """Ready to serve: database, schema, signing keys and (on a station) its hardware."""
    engine: Engine = request.app.state.engine
    settings: Settings = request.app.state.settings
    checks = [_database(engine), _hardware(request, settings)]
    names = ("migrations", "signing_keys")
    if checks[0].state is CheckState.OK:
        try:
            checks += [_migrations(engine), _keys(engine, settings)]
        except TRANSIENT_DATABASE_ERRORS:
            checks += [
                Check(name=n, state=CheckState.FAILED, detail="the database stopped answering") for n in names
            ]
    else:
        checks += [Check(name=n, state=CheckState.SKIPPED, detail="needs the database") for n in names]
    ready = all(c.state is CheckState.OK for c in checks)
    body = Readiness(ready=ready, checks=checks)
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if ready else 503)
