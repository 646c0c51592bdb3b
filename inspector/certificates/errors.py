"""The root of every refusal in ``inspector.certificates``: a caller that only needs to know that the
certificate side said no (and why, in its message) catches this one class."""

from __future__ import annotations


class CertificatesError(ValueError):
    """A certificate, proof, key or encoding that cannot be used; the message says why."""
