"""Warranty errors carry the HTTP status the web layer answers with, so CLI, API and pages
all refuse the same things with the same words.

The words are a ``Message``: ``message`` is its English text (the API, the CLI), ``text`` the
message itself, which a page renders in its reader's language. Raise with the catalogue's
message id marked for extraction and its values: ``NotFound(N_("there is no claim %(ref)s"), ref=r)``.
"""

from __future__ import annotations

from inspector.i18n import AppLocale
from inspector.refusal import Refused
from warranty.messages import Message


class WarrantyError(Refused):
    status = 400
    code = "warranty_refused"

    def __init__(self, message: str, **values: object) -> None:
        self.text = Message(message, values)
        self.message = str(self.text)
        super().__init__(self.message)

    def reason(self, locale: AppLocale) -> str:
        return self.text.render(locale, None)


class NotFound(WarrantyError):
    status = 404
    code = "not_found"


class Forbidden(WarrantyError):
    status = 403
    code = "forbidden"


class Conflict(WarrantyError):
    """Refused because of the claim's or certificate's current state (illegal transition,
    expired window, revoked certificate, another open claim, someone else acted first)."""

    status = 409
    code = "conflict"


class Invalid(WarrantyError):
    status = 422
    code = "invalid"


class TooLarge(WarrantyError):
    status = 413
    code = "too_large"


class TooManyAttempts(WarrantyError):
    """Refused by an attempt limit; ``retry_after_s`` says when to try again."""

    status = 429
    code = "too_many_attempts"

    def __init__(self, message: str, retry_after_s: int, **values: object) -> None:
        super().__init__(message, **values)
        self.retry_after_s = retry_after_s

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


class Unavailable(WarrantyError):
    """Refused because something the request needs is down (disk full, store not writable)."""

    status = 503
    code = "unavailable"
