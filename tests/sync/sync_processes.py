"""Real station and platform processes for the sync tests, and what the tests do to them.

Each server is ``python -m inspector serve`` in its own process group, so ``kill()`` (SIGKILL)
takes it down like a power cut; ``start()`` again brings it back on the same port and data.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import Engine
from sqlmodel import Session

from inspector.auth import Role, create_user, issue_token
from inspector.certificates.service import CertificateRequest, find_row
from inspector.certificates.testing import sample_request
from inspector.config import Settings
from inspector.db import make_engine, migrate, session_scope
from inspector.photostore import FileSystemPhotoStore
from inspector.platform.enrolment import make_code
from inspector.sync.enrolment import current_enrolment, enrol
from inspector.sync.issuing import issue_for_platform
from inspector.sync.wire import SignedRequest

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 90.0
PHONE_CHECKS = ["check_buttons", "check_speaker", "check_cameras", "check_touch"]


def wait_until(what: str, predicate: Callable[[], Any], timeout: float = WAIT_S, every: float = 0.2) -> Any:
    """Poll ``predicate`` until it returns something true; fail saying ``what`` did not happen."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(every)


def cli(*args: str, env: dict[str, str] | None = None) -> str:
    """Run ``python -m inspector ARGS`` and return what it printed (fails with its output)."""
    done = subprocess.run(
        [sys.executable, "-m", "inspector", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"inspector {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


class ServeProcess:
    """``inspector serve`` with fixed arguments; ``ready`` is a path that answers 200 once it is up."""

    def __init__(self, args: list[str], env: dict[str, str], port: int, log: Path, ready: str) -> None:
        self.args, self.env, self.port, self.log, self.ready = args, env, port, log, ready
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = WAIT_S) -> ServeProcess:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        env.pop("DATABASE_URL", None)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "inspector", "serve", *self.args, "--port", str(self.port)],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"inspector serve exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                if httpx.get(self.base + self.ready, timeout=2.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.kill()
        raise AssertionError(f"inspector serve did not come up:\n{self.tail()}")

    def kill(self) -> None:
        """SIGKILL to the whole process group, as a power cut would."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else "(no output)"


def init_platform_keys(data_dir: Path, database_url: str) -> None:
    """``inspector keys init --role platform``: the step an operator takes before a platform starts."""
    cli("keys", "init", "--role", "platform", "--data-dir", str(data_dir), "--database-url", database_url)


def platform_process(data_dir: Path, database_url: str, port: int, workers: int = 1) -> ServeProcess:
    """A platform with its keys made (``init_platform_keys``), ready to start."""
    init_platform_keys(data_dir, database_url)
    args = ["--role", "platform", "--data-dir", str(data_dir), "--database-url", database_url]
    args += ["--workers", str(workers)] if workers > 1 else []
    return ServeProcess(args, {}, port, data_dir.parent / f"platform-{port}.log", "/healthz")


def station_process(data_dir: Path, station_id: str, port: int) -> ServeProcess:
    """A simulated station; it retries an unreachable platform at least every second."""
    env = {"INSPECTOR_STATION_ID": station_id, "INSPECTOR_SYNC_MAX_BACKOFF_S": "1"}
    args = ["--simulate", "--data-dir", str(data_dir)]
    return ServeProcess(args, env, port, data_dir.parent / f"station-{station_id}.log", "/api/station/live")


def station_settings(data_dir: Path, station_id: str) -> Settings:
    return Settings(data_dir=data_dir, station_id=station_id)


def station_engine(data_dir: Path) -> Engine:
    url = f"sqlite:///{data_dir / 'inspector.db'}"
    data_dir.mkdir(parents=True, exist_ok=True)
    migrate(url)
    return make_engine(url)


def enrol_in_process(
    platform: ServeProcess, platform_engine: Engine, data_dir: Path, station_id: str
) -> Engine:
    """Enrol a station data directory with the running platform (a code, then the real HTTP call)."""
    with session_scope(platform_engine) as session:
        code = make_code(session, station_id).code
    engine = station_engine(data_dir)
    enrol(engine, station_settings(data_dir, station_id), platform.base, code)
    return engine


def issue(
    engine: Engine,
    data_dir: Path,
    station_id: str,
    *,
    photos: int = 2,
    photo_bytes: int = 50_000,
    **extra: Any,
) -> tuple[str, list[str]]:
    """Issue a certificate on an enrolled station as an inspection would: photos stored, then
    signed for the platform and queued in one commit. Its id and its photos' digests."""
    store = FileSystemPhotoStore(data_dir / "photos")
    digests = [store.put(os.urandom(photo_bytes)) for _ in range(photos)]
    request: CertificateRequest = sample_request(
        station_id=station_id,
        photos=[{"sha256": d, "role": f"side-{i}"} for i, d in enumerate(digests)],
        **extra,
    )
    settings = station_settings(data_dir, station_id)
    with Session(engine) as session:
        enrolment = current_enrolment(session, station_id)
        assert enrolment is not None
        issued = issue_for_platform(session, request, settings, enrolment)
        session.commit()
    return issued.human_id, digests


def signed_put(
    base: str,
    path: str,
    body: bytes,
    *,
    station_id: str,
    key: str,
    private: Ed25519PrivateKey,
    content_sha256: str | None = None,
) -> tuple[httpx.Response, dict[str, str]]:
    """A signed upload as a station makes it; also its headers, to send them again."""
    digest = content_sha256 or hashlib.sha256(body).hexdigest()
    headers = SignedRequest.new("PUT", path, station_id, key, digest).headers(private)
    return httpx.put(base + path, content=body, headers=headers, timeout=30), headers


def operator_auth(engine: Engine, name: str = "night-op") -> dict[str, str]:
    """An operator of the station whose database this is, and the headers of its API token."""
    return user_auth(engine, name, Role.operator)


def user_auth(engine: Engine, name: str, role: Role) -> dict[str, str]:
    """A user with ``role`` in the database behind ``engine``, and the headers of its API token."""
    with session_scope(engine) as s:
        token = issue_token(s, create_user(s, name, role, f"pw-{name}"), name="test")
    return {"Authorization": f"Bearer {token}"}


def inspect_phone(base: str, auth: dict[str, str]) -> dict[str, Any]:
    """A whole phone inspection through the station's API, the operator passing every check."""
    with httpx.Client(base_url=base, headers=auth, timeout=30) as c:
        r = c.post("/api/station/inspections", json={"kind": "phone"})
        assert r.status_code == 201, r.text
        iid = r.json()["id"]
        for key in PHONE_CHECKS:
            waiting = wait_until(
                f"the check {key}",
                lambda: (
                    (v := c.get(f"/api/station/inspections/{iid}").json())["status"] == "waiting_operator"
                    and v
                ),
            )
            review = next(s for s in waiting["steps"] if s["key"] == "review")
            if review["status"] == "waiting":  # the grader marked something: confirm it all
                found = review["result"]["findings"]
                decisions = [
                    {"finding": f["id"], "decision": "reject" if f.get("suspected") else "confirm"}
                    for f in found
                ]
                assert c.post(
                    f"/api/station/inspections/{iid}/steps/review/answer", json={"decisions": decisions}
                ).is_success
                wait_until(
                    f"the check {key}",
                    lambda: c.get(f"/api/station/inspections/{iid}").json()["status"] == "waiting_operator",
                )
            assert c.post(
                f"/api/station/inspections/{iid}/steps/{key}/answer", json={"passed": True}
            ).is_success
        view: dict[str, Any] = wait_until(
            "the certificate",
            lambda: (v := c.get(f"/api/station/inspections/{iid}").json())["status"] == "completed" and v,
        )
    return view


def tamper_certificate(engine: Engine, human_id: str) -> None:
    """Change what the station signed, as a broken disk or a meddler would (the signature stays)."""
    with Session(engine) as s:
        row = find_row(s, human_id)
        assert row is not None
        credential = json.loads(row.credential)
        credential["credentialSubject"]["grade"]["grade"] = "A+"
        row.credential = json.dumps(credential)
        s.add(row)
        s.commit()
