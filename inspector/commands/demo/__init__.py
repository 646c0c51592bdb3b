"""``inspector demo``: a platform, a station enrolled with it, two inspections, then both servers.

What it shows: a phone and a piece of jewelry inspected on simulated hardware through the
station's own HTTP API (the same calls the console makes), each step printed with its timing as
it happens, the certificates issued and sent to the platform, where buyers verify them, and the
console, overlay, verify pages and staff console left running for a person to try.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from inspector.cli import CommandError
from inspector.commands.demo.platform_process import (
    DemoPlatform,
    choose_port,
    enrol_station,
    enrolled_platform,
    port_free,
)
from inspector.commands.serve import add_common, settings_from_args, wait_until_stopped
from inspector.config import Settings
from inspector.logsetup import configure_from_args
from inspector.station.flows import REVIEW
from inspector.station.review import agreeing_answer
from inspector.station.states import InspectionStatus

ICON = {"passed": "✔", "warning": "!", "failed": "✘", "skipped": "-", "error": "⚠"}
DEMO_OPERATOR = "operator"
PUBLISH_WAIT_S = 60.0  # the pusher sends at once; this only bounds a platform that went away


def _ensure_operator(running: Any) -> tuple[str, str | None]:
    """The demo operator and a fresh API token; the password is printed only when newly created."""
    from inspector.auth import Role, create_user, get_user, issue_token
    from inspector.db import session_scope

    password = None
    with session_scope(running.engine) as s:
        user = get_user(s, DEMO_OPERATOR)
        if user is None:
            password = secrets.token_urlsafe(9)
            user = create_user(s, DEMO_OPERATOR, Role.operator, password, "Demo operator")
        token = issue_token(s, user, name="demo")
    return token, password


def _ensure_people(engine: Engine) -> dict[str, str]:
    """Staff and supervisor accounts for the warranty console; passwords printed only when new."""
    from inspector.auth import Role, create_user, get_user
    from inspector.db import session_scope

    created: dict[str, str] = {}
    with session_scope(engine) as s:
        for name, role in (("staff", Role.staff), ("supervisor", Role.supervisor)):
            if get_user(s, name) is None:
                created[name] = secrets.token_urlsafe(9)
                create_user(s, name, role, created[name], f"Demo {name}")
    return created


def _record_demo_sale(engine: Engine, human_id: str) -> str:
    """Sell the demo phone so its warranty runs from a sale and a buyer can open a claim."""
    from inspector.db import session_scope
    from warranty.service import Actor, record_sale

    order_ref = f"DEMO-{human_id}"
    with session_scope(engine) as s:
        record_sale(
            s,
            Actor("demo", "staff"),
            cert_human_id=human_id,
            order_ref=order_ref,
            price_minor=19_900,
            currency="EUR",
            buyer_contact="buyer@example.invalid",
        )
    return order_ref


class Progress:
    """Prints the live events of the station as terminal lines."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.watch: int | None = None
        self.result: dict[str, Any] | None = None

    def __call__(self, ev: dict[str, Any]) -> None:
        snap = ev.get("inspection") or {}
        if self.watch is not None and ev.get("inspection_id") != self.watch:
            return
        steps = {s["key"]: s for s in snap.get("steps", [])}
        step = steps.get(ev.get("step") or "")
        if ev["type"] == "step.finished" and step:
            ms = step.get("duration_ms")
            t = f"{ms / 1000:6.2f} s" if ms is not None else "       "
            who = "  (operator)" if step.get("operator") else ""
            icon = ICON.get(step["status"], "?")
            print(f"  {icon} {t}  {step['label']:<40} {step.get('summary') or ''}{who}", flush=True)
        elif ev["type"] == "inspection.interrupted":
            print(f"  ⚠ interrupted: {snap.get('error')}", flush=True)
            self.result = snap
            self.done.set()
        elif ev["type"] in ("inspection.completed", "inspection.aborted"):
            self.result = snap
            self.done.set()


def _default_answer(step: dict[str, Any]) -> dict[str, Any]:
    """The demo operator passes every check and agrees with the grader: every defect it counted
    confirmed, every possible one it did not count rejected."""
    if step["action"] == REVIEW:
        return agreeing_answer(step)
    return {"passed": True}


def _run_inspection(
    client: httpx.Client, progress: Progress, kind: str, answers: dict[str, dict[str, Any]], title: str
) -> dict[str, Any]:
    print(f"\n{title}", flush=True)
    progress.done.clear()
    progress.result = None
    t0 = time.monotonic()
    r = client.post("/api/station/inspections", json={"kind": kind})
    if r.status_code != 201:
        raise CommandError(f"could not start the {kind} inspection: {r.text}")
    iid = r.json()["id"]
    progress.watch = iid
    deadline = time.monotonic() + 120
    while not progress.done.is_set():
        if time.monotonic() > deadline:
            raise CommandError(f"{kind} inspection {iid} did not finish within 120 s")
        view = client.get(f"/api/station/inspections/{iid}").json()
        waiting = [s for s in view["steps"] if s["status"] == "waiting"]
        if view["status"] == "waiting_operator" and waiting:
            key = waiting[0]["key"]
            client.post(
                f"/api/station/inspections/{iid}/steps/{key}/answer",
                json=answers.get(key) or _default_answer(waiting[0]),
            )
        progress.done.wait(0.05)
    view = client.get(f"/api/station/inspections/{iid}").json()
    wall = time.monotonic() - t0
    grade = view.get("grade") or "not graded"
    print(
        f"  => {view['status']}, verdict {view.get('verdict')}, grade {grade}, {wall:.1f} s wall time",
        flush=True,
    )
    for reason in view.get("grade_reasons") or []:
        print(f"     reason: {reason}")
    if view.get("certificate_url"):
        print(f"     certificate: {view['certificate_url']}", flush=True)
    return dict(view)


def _wait_published(client: httpx.Client, views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The inspections again once the platform has their certificates (at most ``PUBLISH_WAIT_S``)."""
    started = time.monotonic()
    deadline = started + PUBLISH_WAIT_S
    while True:
        views = [client.get(f"/api/station/inspections/{v['id']}").json() for v in views]
        if all(v.get("certificate_publication") != "waiting" for v in views):  # taken, or refused for good
            took = time.monotonic() - started
            refused = [v for v in views if v.get("certificate_publication") == "refused"]
            if not refused:
                print(f"\nCertificates on the platform {took:.1f} s after the last one was issued")
            for v in refused:
                why = v.get("certificate_refusal")
                print(f"\nThe platform refused certificate {v['certificate_id']}: {why}")
            return views
        if time.monotonic() > deadline:
            why = client.get("/api/station/sync").json().get("last_error") or "no error reported"
            print(f"\nThe platform does not have every certificate yet ({why}); the station keeps sending")
            return views
        time.sleep(0.1)


def _demo(args: argparse.Namespace) -> int:
    from inspector.station.runtime import free_port

    data_dir = Path(args.data_dir if args.data_dir is not None else "var/demo")
    args.data_dir = str(data_dir / "station")
    configure_from_args(args)
    settings = settings_from_args(args)
    port = settings.port
    if args.port is None and not port_free(settings.host, port):
        port = free_port(settings.host)
        print(f"port {settings.port} is busy; using {port}")
    settings = settings.model_copy(
        update={"simulate": True, "port": port, "public_base_url": f"http://{settings.host}:{port}"}
    )
    print(f"Demo data in {data_dir.resolve()}: station/ and platform/", flush=True)
    enrolled_with = enrolled_platform(settings)
    platform_port = choose_port(settings.host, port, enrolled_with)
    platform = DemoPlatform(data_dir / "platform", settings.host, platform_port)
    print(f"Starting the platform (SQLite) on {platform.base_url} ...", flush=True)
    platform.start()
    try:
        if enrolled_with is None:
            enrol_station(settings, platform)
            print(f"  enrolled station {settings.station_id} with the platform (a one-time code, used once)")
        else:
            print(f"  station {settings.station_id} is enrolled with it since an earlier run")
        return _run_station(args, settings, platform)
    finally:
        platform.stop()


def _run_station(args: argparse.Namespace, settings: Settings, platform: DemoPlatform) -> int:
    from inspector.station.runtime import RunningStation

    print("Starting the station on simulated hardware ...", flush=True)
    try:
        running = RunningStation(settings, port=settings.port).start()
    except Exception as exc:  # show the reason, not a traceback
        raise CommandError(f"could not start the station: {exc}") from exc
    platform_engine = platform.engine()
    try:
        assert running.hardware is not None and running.station is not None
        for name, why in running.hardware.missing.items():
            print(f"  note: {name} unavailable: {why}")
        token, password = _ensure_operator(running)
        for left in running.station.list_inspections(limit=20):
            if left.status.active or left.status is InspectionStatus.interrupted:
                running.station.abort(left.id, DEMO_OPERATOR, "left over from an earlier demo run")
                print(f"  aborted inspection {left.id} left over from an earlier demo run")
        sim = running.hardware.simulation
        progress = Progress()
        running.station.bus.add_listener(progress)
        with httpx.Client(
            base_url=running.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30.0
        ) as client:
            sim.put_phone(seed=args.seed, defects=("scratch",))
            phone = _run_inspection(
                client,
                progress,
                "phone",
                {},
                "Phone inspection (simulated Pixel over ADB, "
                "rig and camera on ptys; operator checks answered by the demo):",
            )
            sim.put_jewelry(mg=5_432, seed=args.seed + 1)
            jewel = _run_inspection(
                client,
                progress,
                "jewelry",
                {"declare": {"fields": {"metal": "gold", "hallmark": "750", "stones": "1 diamond"}}},
                "Jewelry inspection (MT-SICS balance on a pty, turntable photos):",
            )
            phone, jewel = _wait_published(client, [phone, jewel])
        running.station.bus.remove_listener(progress)
        base, there = running.base_url, platform.base_url
        people = _ensure_people(platform_engine)
        sale = None
        if phone.get("certificate_on_platform"):  # sold where buyers and staff find it
            sale = (phone["certificate_id"], _record_demo_sale(platform_engine, phone["certificate_id"]))
        print("\nThe station is running:")
        # The token rides in the URL fragment, which browsers never send (no logs, no Referer).
        print(f"  operator console  {base}/auth/login?next=/station/console#token={token}")
        print(f"  stream overlay    {base}/station/overlay   (OBS browser source, 1920x1080)")
        print(f"  API docs          {base}/docs")
        print(f"\nThe platform is running (log: {platform.log.resolve()}):")
        print(f"  home              {there}/")
        for view in (phone, jewel):
            if view.get("certificate_url"):
                print(f"  certificate       {view['certificate_url']}  ({view['item_kind']}, verify page)")
        print(f"  staff console     {there}/staff/claims   (supervisor reports: {there}/staff/reports)")
        if sale:
            print(f"  buyer's claim     {there}/claims/new?cert={sale[0]}   (order reference {sale[1]})")
        print()
        if password:
            print(f"  sign in as '{DEMO_OPERATOR}' with password {password} (shown once; station)")
        for name, pw in people.items():
            print(f"  sign in as '{name}' with password {pw} (shown once; platform)")
        if not password or len(people) < 2:
            print(
                "  accounts made by an earlier demo keep their passwords; set a new one with\n"
                f"    inspector users passwd operator --generate --data-dir {running.settings.data_dir}\n"
                f"    inspector users passwd NAME --generate --data-dir {platform.data_dir}"
                "   (NAME: staff or supervisor)"
            )
        ok = all(v["status"] == "completed" for v in (phone, jewel))
        if args.no_wait:
            return 0 if ok else 1
        wait_until_stopped("Ctrl-C stops the demo.")
        return 0
    finally:
        platform_engine.dispose()
        running.stop()
        sys.stdout.flush()


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="run a platform and a station on simulated hardware: a phone and a jewelry inspection, "
        "then the web UI",
        description="Start a platform and a station on simulated devices, each with SQLite in the data "
        "directory (default var/demo: station/ and platform/), the station enrolled with the platform on "
        "the first run. Run a phone and a jewelry inspection end to end printing each step with its "
        "timing, send the certificates to the platform, then keep both servers up and print the console, "
        "overlay, API docs, verify page and staff console URLs. No hardware, network or account needed. "
        "--port is the station's; the platform takes the next one (the same again on later runs).",
    )
    add_common(p)
    p.add_argument("--seed", type=int, default=7, help="which simulated items to render (default 7)")
    p.add_argument("--no-wait", action="store_true", help="exit after the two inspections (for scripts)")
    # The demo's own lines are what a first-time user reads: the services' log says only problems.
    p.set_defaults(handler=_demo, log_level="warning")
