"""The app behind a TestClient, with a user of each role: what the web-edge tests drive."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from inspector.certificates.testing import issue_sample_certificate
from inspector.config import Settings
from inspector.db import session_scope


@dataclass
class Edge:
    client: TestClient
    engine: Engine
    settings: Settings
    tokens: dict[str, str]

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def issue(self, kind: str = "phone") -> str:
        """A signed certificate of ``kind``; its human id."""
        with session_scope(self.engine) as s:
            human_id: str = issue_sample_certificate(s, self.settings, kind=kind).human_id  # type: ignore[arg-type]
        return human_id
