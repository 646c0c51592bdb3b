"""The one root of every request a package refuses for a reason its caller can act on.

The station's ``StationError``, the platform's upload and enrolment refusals, the warranty's
``WarrantyError`` and the certificates' lookups all derive from ``Refused``, so the web layer
answers them in one place (``inspector.web.refused``, registered by ``create_app``): the status,
a stable ``code`` for programs, the English ``detail`` and the reader's words in ``message``.
The domain raises; it never builds an HTTP answer itself.
"""

from __future__ import annotations

from inspector.i18n import AppLocale


class Refused(Exception):
    """A refused request: ``str()`` is the English reason (the API's ``detail``, logs, the CLI)."""

    status: int = 400
    code: str = "refused"

    def reason(self, locale: AppLocale) -> str:
        """The reason in the reader's language; English where a package has no translation of it."""
        return str(self)

    def headers(self) -> dict[str, str]:
        """Headers the answer carries (``Retry-After`` on a 429)."""
        return {}
