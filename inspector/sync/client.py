"""Signed uploads to the platform, and what each answer means for the station.

Three outcomes besides success, because the station reacts differently to each: the platform
cannot be reached or is not answering properly (try again later), the platform refuses this
station (nothing can go until someone acts), the platform refuses this one item (keep it here,
go on with the next).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import TypeVar

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import BaseModel, ValidationError

from inspector.photostore import PhotoReader
from inspector.sync.tables import Enrolment, Problem
from inspector.sync.wire import (
    CERTIFICATE_PATH,
    PHOTO_PATH,
    CertificateReceipt,
    PhotoReceipt,
    Refusal,
    RefusalOut,
    SignedRequest,
)

TIMEOUT = httpx.Timeout(30.0, connect=5.0)
Answer = TypeVar("Answer", bound=BaseModel)


class PlatformUnreachable(Exception):
    """No usable answer (down, network, 5xx, 429, an answer that is not the protocol's)."""

    def __init__(self, detail: str, problem: Problem = Problem.ERROR_ANSWER) -> None:
        super().__init__(detail)
        self.problem = problem


class StationRefused(Exception):
    """The platform refuses everything from this station now (revoked key, bad clock, ...)."""

    def __init__(self, refusal: Refusal, detail: str) -> None:
        super().__init__(detail)
        self.refusal = refusal


class ItemRefused(Exception):
    """The platform refuses this item for good (a conflict, a tampered or foreign certificate)."""

    def __init__(self, refusal: Refusal | None, detail: str) -> None:
        super().__init__(detail)
        self.refusal = refusal


class PlatformClient:
    """One connection pool to the platform, signing every request with the enrolled key."""

    def __init__(self, enrolment: Enrolment, private_key: Ed25519PrivateKey) -> None:
        self.enrolment = enrolment
        self._key = private_key
        self._http = httpx.Client(base_url=enrolment.platform_url, timeout=TIMEOUT)

    def close(self) -> None:
        self._http.close()

    def _signed(self, method: str, path: str, content_sha256: str) -> dict[str, str]:
        request = SignedRequest.new(
            method, path, self.enrolment.station_id, self.enrolment.key_fingerprint, content_sha256
        )
        return request.headers(self._key)

    def put_photo(self, photo: PhotoReader) -> PhotoReceipt:
        """Stream one photo from the store, chunk by chunk (never whole in memory)."""
        url = PHOTO_PATH.format(sha256=photo.digest)
        headers = {
            **self._signed("PUT", url, photo.digest),
            "Content-Type": "application/octet-stream",
            "Content-Length": str(photo.size),
        }
        return self._send("PUT", url, headers, iter(photo), PhotoReceipt)

    def put_certificate(self, human_id: str, body: bytes) -> CertificateReceipt:
        url = CERTIFICATE_PATH.format(human_id=human_id)
        headers = {
            **self._signed("PUT", url, hashlib.sha256(body).hexdigest()),
            "Content-Type": "application/json",
        }
        return self._send("PUT", url, headers, body, CertificateReceipt)

    def _send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        content: bytes | Iterator[bytes],
        answer: type[Answer],
    ) -> Answer:
        try:
            response = self._http.request(method, url, headers=headers, content=content)
        except httpx.HTTPError as exc:
            problem = Problem.TIMEOUT if isinstance(exc, httpx.TimeoutException) else Problem.NO_CONNECTION
            raise PlatformUnreachable(
                f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__, problem
            ) from exc
        if response.status_code == 200:
            try:
                return answer.model_validate(response.json())
            except (ValueError, ValidationError) as exc:
                raise PlatformUnreachable(f"the platform's answer is not the sync protocol's: {exc}") from exc
        if response.status_code >= 500 or response.status_code in (404, 408, 429):
            raise PlatformUnreachable(f"the platform answered HTTP {response.status_code}")
        try:
            refusal = RefusalOut.model_validate(response.json())
        except (ValueError, ValidationError):
            raise PlatformUnreachable(f"the platform answered HTTP {response.status_code}") from None
        try:
            kind: Refusal | None = Refusal(refusal.error)
        except ValueError:
            kind = None
        if kind is Refusal.REPLAYED:  # a fresh nonce next time: not this station's fault
            raise PlatformUnreachable(refusal.detail)
        if kind is not None and kind.stops_the_station:
            raise StationRefused(kind, refusal.detail)
        raise ItemRefused(kind, refusal.detail)
