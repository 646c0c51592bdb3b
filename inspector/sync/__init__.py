"""A station's sync with its platform: enrolment, the outbox, the pusher that drains it.

Runs on the station. ``wire`` is the protocol both sides speak (the platform imports it too).

    enrol(engine, settings, platform_url, code) -> Enrolment      # enrolment.py; EnrolmentFailed
    issue_for_platform(session, request, settings, enrolment)    # issuing.py: sign + queue, one commit
    Pusher(engine, settings, on_sent=...).start() / .stop()       # pusher.py
    backlog(session, station_id), on_platform(session, station_id, human_id)   # outbox.py
    publication(session, station_id, human_id), refused_items(session, station_id)   # outbox.py
    GET /api/station/sync                                         # routes.py
"""
