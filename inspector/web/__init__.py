"""The station's web service: app factory, shared dependencies, templates and static files."""
