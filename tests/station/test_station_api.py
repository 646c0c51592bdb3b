"""End-to-end inspections through the HTTP API and the live event stream, on simulated devices."""

from __future__ import annotations

import httpx
from station_helpers import EventCollector, Station, make_user

from inspector.auth import Role
from inspector.auth.tenancy import EVERYTHING

PHONE_CHECKS = ["check_buttons", "check_speaker", "check_cameras", "check_touch"]
PHONE_AUTOMATIC = ["connect", "identity", "battery", "lock", "light", "photo_screen", "photo_back", "grade"]


def test_phone_inspection_end_to_end(station: Station) -> None:
    """An operator inspects a phone over the API: automatic checks run live on the event stream,
    the four operator checks are recorded with who/when, and the result carries a certificate URL."""
    events = station.events()
    iid = station.start_phone()
    station.pass_review(iid)
    with station.client() as c:
        for key in PHONE_CHECKS:
            events.wait_for(lambda e, k=key: e["type"] == "step.waiting" and e["step"] == k)
            r = c.post(
                f"/api/station/inspections/{iid}/steps/{key}/answer", json={"passed": key != "check_touch"}
            )
            assert r.status_code == 200, r.text
        events.wait_for(lambda e: e["type"] == "inspection.completed" and e["inspection_id"] == iid)
        view = c.get(f"/api/station/inspections/{iid}").json()

    assert view["status"] == "completed" and view["item_kind"] == "phone"
    steps = {s["key"]: s for s in view["steps"]}
    for key in PHONE_AUTOMATIC:
        started = [e for e in events.events if e["type"] == "step.started" and e["step"] == key]
        finished = [e for e in events.events if e["type"] == "step.finished" and e["step"] == key]
        assert started and finished, f"no live events for {key}"
        assert steps[key]["duration_ms"] is not None
    assert steps["identity"]["status"] == "passed"
    ident = view["identity"]
    assert ident["model"] and ident["imeis"] and ident["storage_gb"]
    assert steps["check_touch"]["status"] == "failed" and steps["check_buttons"]["status"] == "passed"
    assert steps["check_buttons"]["answered_by"].startswith("op") and steps["check_buttons"]["answered_at"]
    assert view["verdict"] == "fail"  # the touch check failed
    assert view["certificate_url"] and view["certificate_id"] in view["certificate_url"]
    # photos are content-addressed and served
    photos = steps["photo_screen"]["photos"] + steps["photo_back"]["photos"]
    assert {p["side"] for p in photos} == {"screen", "back"}
    r = httpx.get(f"{station.base}/photos/{photos[0]['sha256']}", timeout=10)
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/")
    # the public stream never carries the full IMEI
    for e in events.events:
        snap = e.get("inspection") or {}
        assert ident["imeis"][0] not in str(snap)
    # the certificate is verifiable on its public page
    r = httpx.get(view["certificate_url"], timeout=10)
    assert r.status_code == 200
    # a viewer reconnecting with Last-Event-ID gets what it missed, in order
    first = events.events[0]["id"]
    replay = EventCollector(f"{station.base}/api/station/events", headers={"Last-Event-ID": str(first)})
    try:
        done = replay.wait_for(lambda e: e["type"] == "inspection.completed")
        ids = [e["id"] for e in replay.events]
        assert ids == sorted(ids) and ids[0] == first + 1 and done["inspection_id"] == iid
    finally:
        replay.close()


def test_jewelry_inspection_with_declaration_and_reinspection(station: Station) -> None:
    """Jewelry: the balance's stable weight (g and ct), photos at four angles, declared metal is
    validated, and a re-inspection of the certified item is linked to its certificate."""
    events = station.events()
    station.sim.put_jewelry(mg=5_432, seed=2)
    with station.client() as c:
        iid = c.post("/api/station/inspections", json={"kind": "jewelry"}).json()["id"]
        station.pass_review(iid)
        events.wait_for(lambda e: e["type"] == "step.waiting" and e["step"] == "declare")
        r = c.post(
            f"/api/station/inspections/{iid}/steps/declare/answer", json={"fields": {"metal": "unobtanium"}}
        )
        assert r.status_code == 422 and "Metal must be one of" in r.json()["detail"]
        r = c.post(
            f"/api/station/inspections/{iid}/steps/declare/answer", json={"fields": {"hallmark": "750"}}
        )
        assert r.status_code == 422 and "required" in r.json()["detail"]
        r = c.post(
            f"/api/station/inspections/{iid}/steps/declare/answer",
            json={"fields": {"metal": "gold", "hallmark": "750", "stones": "1 diamond"}},
        )
        assert r.status_code == 200
        view = station.wait_status(iid, "completed", "interrupted")
        assert view["status"] == "completed", view["error"]
        steps = {s["key"]: s for s in view["steps"]}
        assert steps["weigh"]["result"]["weight_mg"] == 5_432
        # A piece is weighed in grams; carats stay in the result, for stones (not in the summary).
        assert steps["weigh"]["summary"] == "5.432 g" and steps["weigh"]["result"]["carats"] == "27.160"
        assert [p["angle"] for p in steps["photos"]["photos"]] == [0, 90, 180, 270]
        assert view["identity"]["declared"]["metal"] == "gold"
        cert = view["certificate_id"]
        assert cert

        station.sim.put_jewelry(mg=5_432 + 300, seed=2)  # what comes back is 0.3 g heavier
        again = c.post("/api/station/inspections", json={"kind": "jewelry", "supersedes": cert}).json()
        station.pass_review(again["id"])
        events.wait_for(
            lambda e: (
                e["type"] == "step.waiting" and e["step"] == "declare" and e["inspection_id"] == again["id"]
            )
        )
        c.post(
            f"/api/station/inspections/{again['id']}/steps/declare/answer", json={"fields": {"metal": "gold"}}
        )
        second = station.wait_status(again["id"], "completed", "interrupted")
        assert second["supersedes"] == cert and second["certificate_id"] not in (None, cert)
        weigh = second["steps"][0]
        assert weigh["status"] == "failed" and f"+300 mg against certificate {cert}" in weigh["summary"]
        assert second["verdict"] == "fail"
        listed = c.get("/api/station/inspections", params={"kind": "jewelry"}).json()
        assert [i["id"] for i in listed] == [again["id"], iid]


def test_cable_pulled_mid_inspection_then_resume(station: Station) -> None:
    """The rig's USB cable is pulled mid-inspection: the inspection stops with a clear error at the
    light-box step (earlier steps kept), and after replugging it resumes from that step and completes."""
    events = station.events()
    station.sim.put_phone(seed=1)
    station.sim.rig.unplug()
    with station.client() as c:
        iid = c.post("/api/station/inspections", json={"kind": "phone", "auto_finish": True}).json()["id"]
        view = station.wait_status(iid, "interrupted")
        events.wait_for(lambda e: e["type"] == "inspection.interrupted" and e["inspection_id"] == iid)
        steps = {s["key"]: s for s in view["steps"]}
        assert "rig" in view["error"].lower() and "Light box" in view["error"]
        assert steps["light"]["status"] == "error" and steps["light"]["error"]
        assert all(steps[k]["status"] == "passed" for k in ("connect", "identity", "battery", "lock"))
        assert steps["photo_screen"]["status"] == "pending"

        station.sim.rig.replug()
        r = c.post(f"/api/station/inspections/{iid}/resume")
        assert r.status_code == 200, r.text
        station.pass_review(iid)
        for key in PHONE_CHECKS:
            station.wait_status(iid, "waiting_operator")
            assert (
                c.post(
                    f"/api/station/inspections/{iid}/steps/{key}/answer", json={"passed": True}
                ).status_code
                == 200
            )
        view = station.wait_status(iid, "completed")
    steps = {s["key"]: s for s in view["steps"]}
    assert steps["connect"]["attempts"] == 1  # not re-run
    assert steps["light"]["attempts"] == 2 and steps["light"]["status"] == "passed"
    assert view["verdict"] == "pass" and view["error"] is None


def test_phone_unplugged_is_clear_and_abortable(station: Station) -> None:
    """With the phone's cable out, the inspection stops at 'connect' with the reason; the operator
    can abort it, and an aborted inspection can be neither resumed nor answered."""
    station.sim.phone.unplug()
    with station.client() as c:
        iid = c.post("/api/station/inspections", json={"kind": "phone"}).json()["id"]
        view = station.wait_status(iid, "interrupted")
        assert view["steps"][0]["status"] == "error" and "phone" in view["error"].lower()
        r = c.post(f"/api/station/inspections/{iid}/abort", json={"reason": "no cable"})
        assert r.status_code == 200 and r.json()["status"] == "aborted" and "no cable" in r.json()["error"]
        assert c.post(f"/api/station/inspections/{iid}/resume").status_code == 409
        r = c.post(f"/api/station/inspections/{iid}/steps/check_buttons/answer", json={"passed": True})
        assert r.status_code == 409


def test_viewers_cannot_drive_the_station(station: Station) -> None:
    """The overlay, live view and event stream are public; starting, answering, listing and the
    camera need an operator (401 anonymous, 403 for other roles); the console asks to sign in."""
    staff = make_user(station.engine, "staffer", Role.staff)
    with httpx.Client(base_url=station.base, timeout=10) as anon:
        assert anon.get("/station/overlay").status_code == 200
        assert anon.get("/api/station/live").status_code == 200
        assert anon.get("/").status_code == 200
        assert anon.get("/docs").status_code == 200
        assert anon.post("/api/station/inspections", json={"kind": "phone"}).status_code == 401
        assert anon.get("/api/station/inspections").status_code == 401
        assert anon.get("/api/station/camera.jpg").status_code == 401
        r = anon.get("/station/console", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/auth/login")
        r = anon.post(
            "/api/station/inspections", json={"kind": "phone"}, headers={"Authorization": f"Bearer {staff}"}
        )
        assert r.status_code == 403
    with station.client() as c:
        r = c.get("/api/station/camera.jpg")
        assert r.status_code == 200 and r.content[:2] == b"\xff\xd8"
        assert c.post("/api/station/inspections", json={"kind": "car"}).status_code == 422
        assert c.get("/api/station/inspections/999999").status_code == 404


def test_rig_start_button_starts_the_armed_inspection(station: Station) -> None:
    """Pressing the rig's start button starts an inspection of the kind the console armed."""
    events = station.events()
    with station.client() as c:
        assert c.post("/api/station/arm", json={"kind": "jewelry"}).status_code == 200
        station.sim.rig.press_button()
        ev = events.wait_for(lambda e: e["type"] == "inspection.started")
        iid = ev["inspection_id"]
        view = c.get(f"/api/station/inspections/{iid}").json()
        assert view["item_kind"] == "jewelry" and view["started_by"] == "rig_button"
        events.wait_for(lambda e: e["type"] == "step.waiting" and e["inspection_id"] == iid)
        # a second press while it runs is ignored, with the reason on the stream
        station.sim.rig.press_button()
        events.wait_for(lambda e: e["type"] == "button.ignored")
        station.pass_review(iid)  # the grader may mark something on the piece: the operator agrees
        station.wait_status(iid, "waiting_operator")
        c.post(f"/api/station/inspections/{iid}/steps/declare/answer", json={"fields": {"metal": "silver"}})
        events.wait_for(lambda e: e["type"] == "step.waiting" and e["step"] == "result")
        assert station.wait_status(iid, "waiting_operator")["steps"][-1]["status"] == "waiting"
        assert c.post(f"/api/station/inspections/{iid}/finish").status_code == 200
        assert station.wait_status(iid, "completed")["certificate_id"]


def test_reinspection_of_a_returned_item_updates_its_warranty_claim(station: Station) -> None:
    """A returned item whose claim is at 'received' is re-inspected with its certificate id: the new
    inspection is linked to the certificate and the claim moves to 're-inspected' with the result;
    an unknown certificate id is refused before anything starts."""
    from sqlmodel import Session

    from warranty.service import Actor, get_claim, open_claim, transition

    station.sim.put_jewelry(mg=4_200, seed=4)
    declare = {"fields": {"metal": "silver"}}
    with station.client() as c:
        iid = c.post("/api/station/inspections", json={"kind": "jewelry"}).json()["id"]
        station.pass_review(iid)
        station.wait_status(iid, "waiting_operator")
        c.post(f"/api/station/inspections/{iid}/steps/declare/answer", json=declare)
        cert = station.wait_status(iid, "completed")["certificate_id"]

        staff = Actor("staffer", "staff")
        with Session(station.engine) as s:
            claim, _secret = open_claim(s, staff, cert_human_id=cert, problem="weight_material")
            transition(s, claim.ref, "accept", staff)
            transition(s, claim.ref, "receive", staff, weight_mg=4_200)
            s.commit()
            ref = claim.ref

        r = c.post("/api/station/inspections", json={"kind": "jewelry", "supersedes": "NOSUCHCERT"})
        assert r.status_code == 422 and "NOSUCHCERT" in r.json()["detail"]
        again = c.post(
            "/api/station/inspections", json={"kind": "jewelry", "supersedes": cert.lower()}
        ).json()
        station.pass_review(again["id"])
        station.wait_status(again["id"], "waiting_operator")
        c.post(f"/api/station/inspections/{again['id']}/steps/declare/answer", json=declare)
        view = station.wait_status(again["id"], "completed")
    assert view["supersedes"] == cert
    assert f"matches certificate {cert}" in view["steps"][0]["summary"]
    result = view["steps"][-1]["result"]
    assert result["warranty_claim"] == f"recorded on claim {ref}"
    with Session(station.engine) as s:
        assert get_claim(s, ref, EVERYTHING).state == "reinspected"
