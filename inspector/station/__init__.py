"""The live inspection station: pipeline, persistence, API, event stream, console and overlay.

    from inspector.station.service import StationService
    from inspector.station.hardware import build_hardware
    station = StationService(engine, settings, build_hardware(settings)); station.start()
    iid = station.start_inspection("phone", "alice")      # steps run in a worker thread
    station.answer(iid, "check_buttons", "alice", passed=True)
    station.get(iid)                                      # every step: status, result, timing, photos

Flows are data (``flows.py``); device/grader/certifier needs are the protocols in ``ports.py``;
HTTP surface in ``routes.py`` (``/api/station/...``, ``/station/console``, ``/station/overlay``).
"""
