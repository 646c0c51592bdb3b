"""How a request that fails validation is refused: which field, what is wrong, never the input.

FastAPI's default 422 body repeats each offending value (``input``) and the validator's
context, so a 1 MB string comes back as a 1 MB error and whatever a client sent is reflected
to whoever reads the error. This handler keeps the same shape (``detail``: a list of ``loc``,
``msg``, ``type``) without ``input`` and ``ctx``; a location part that is not one of our field
names (an unknown key the client made up) becomes ``(unknown field)``; at most ``MAX_PROBLEMS``
problems are listed.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

MAX_PROBLEMS = 20
MAX_LOC_CHARS = 64
UNKNOWN_FIELD = "(unknown field)"
# Names of our fields; anything else in a location came from the request and is not repeated.
_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,47}$")
MAX_MSG_CHARS = 200


class FieldProblem(BaseModel):
    """One thing wrong with the request: where (``loc``), what (``msg``) and its kind (``type``)."""

    loc: list[str | int]
    msg: str
    type: str


class ValidationRefusal(BaseModel):
    """The 422 body: the problems found, never the values sent."""

    detail: list[FieldProblem]


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _loc(loc: Any, error_type: str) -> list[str | int]:
    """Where the problem is; a key the client made up (an unknown field) is not repeated."""
    parts: list[str | int] = [
        p if isinstance(p, int) else str(p) for p in (loc if isinstance(loc, list | tuple) else [loc])
    ]
    if error_type == "extra_forbidden" and parts:
        parts[-1] = UNKNOWN_FIELD
    return [p if isinstance(p, int) or _FIELD_NAME.match(p) else UNKNOWN_FIELD for p in parts]


def problems_of(exc: RequestValidationError) -> ValidationRefusal:
    """The refusal for ``exc``: each error's place, message and type, and nothing it was given."""
    errors = list(exc.errors())
    problems = [
        FieldProblem(
            loc=_loc(err.get("loc", ()), str(err.get("type", ""))),
            msg=_short(str(err.get("msg", "invalid value")), MAX_MSG_CHARS),
            type=_short(str(err.get("type", "value_error")), MAX_LOC_CHARS),
        )
        for err in errors[:MAX_PROBLEMS]
    ]
    if len(errors) > MAX_PROBLEMS:
        more = f"and {len(errors) - MAX_PROBLEMS} more problems"
        problems.append(FieldProblem(loc=[], msg=more, type="too_many_errors"))
    return ValidationRefusal(detail=problems)


async def validation_refused(request: Request, exc: Exception) -> JSONResponse:
    """Exception handler for ``RequestValidationError`` (registered by ``create_app``)."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(problems_of(exc).model_dump(), status_code=422)
