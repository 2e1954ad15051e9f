"""Building blocks for API schemas: clean text, the error body, the error responses."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field


def _clean_text(value: str) -> str:
    # A NUL is refused by PostgreSQL and a lone surrogate cannot be stored as UTF-8:
    # refuse both here, as a 422, instead of letting the database raise a 500.
    if "\x00" in value:
        raise ValueError("不能包含空字符（\\x00）")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("包含无效的 Unicode 字符") from None
    return value


CleanStr = Annotated[str, AfterValidator(_clean_text)]
"""A string that the database can store: no NUL, no lone surrogates."""

# Ids are 64-bit keys; anything larger cannot name a row.
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]


class ErrorOut(BaseModel):
    """Every API error: a stable code, a message for people, per-field messages."""

    code: str
    message: str
    fields: dict[str, list[str]]


def error_responses(*statuses: int) -> dict[int, Any]:
    """Return the OpenAPI `response` entries for the given error statuses."""
    return dict.fromkeys(statuses, ErrorOut)
