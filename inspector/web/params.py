"""Bounded parameter types for the routers: numbers the database can hold, text it can store.

An id of 2**31 or an offset of 2**63 is a valid ``int`` to Python and an error to the database
(PostgreSQL ``INTEGER`` holds 32 bits, SQLite and ``BIGINT`` 64), which surfaced as a 500.
Routers declare their path and query numbers with these aliases, so FastAPI refuses an
out-of-range value with a 422 that names the bound, and ``/docs`` shows it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path, Query
from pydantic import AfterValidator

# PostgreSQL INTEGER: row ids, versions, list numbers, tree sizes, weights in mg.
MAX_INT32 = 2**31 - 1
# PostgreSQL BIGINT and SQLite INTEGER: money in minor units, offsets.
MAX_INT64 = 2**63 - 1

RowId = Annotated[int, Path(ge=1, le=MAX_INT32, description="A row id (1 to 2147483647).")]
"""A numeric id in the path: an inspection, a claim's row."""

OptionalRowIdQuery = Annotated[
    int | None, Query(ge=1, le=MAX_INT32, description="A row id (1 to 2147483647).")
]
"""A numeric id in the query string that may be left out."""

Offset = Annotated[int, Query(ge=0, le=MAX_INT32, description="Rows to skip (0 to 2147483647).")]
"""How many rows a list skips."""


def unstorable_text(value: str) -> str | None:
    """Why ``value`` is not text every database stores as given (NUL: PostgreSQL refuses it;
    lone surrogates: not Unicode), or None when it is fine."""
    if "\x00" in value:
        return "text must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "text must be valid Unicode (no lone surrogates)"
    return None


def _storable_text(value: str) -> str:
    reason = unstorable_text(value)
    if reason:
        raise ValueError(reason)
    return value


SafeStr = Annotated[str, AfterValidator(_storable_text)]
"""A text parameter (form field, query value) that any database can store."""

FormText = Annotated[str, AfterValidator(_storable_text), Form()]
"""A form field of text (``name: FormText`` or ``name: FormText = "default"``). Spelled as one
``Annotated`` on purpose: FastAPI drops an alias's validators when ``= Form(...)`` is the default."""
