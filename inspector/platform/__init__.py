"""The platform's side of many stations: enrolment with one-time codes, and taking their uploads.

Runs with ``--role platform``. The issuer root key lives here only; stations sign with keys it
certified (``enrolment.py``), send photos and certificates with signed requests (``uploads.py``),
and every certificate is logged on arrival (``inspector.certificates.received``). Staff follow
what changes in any worker process on the event stream (``live.py``, fed by ``inspector.eventbus``).

    make_code(session, station_id) -> NewCode (.code shown once)     # enrolment.py
    enrol(session, settings, EnrolIn) -> EnrolGrant                   # enrolment.py
    POST /api/platform/enrol, PUT /api/platform/photos/{sha256}, PUT /api/platform/certificates/{id}
    GET /api/platform/events (staff; server-sent events)                   # live.py
"""
