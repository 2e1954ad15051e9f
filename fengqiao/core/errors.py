"""Domain errors: pages show them as messages, the API as JSON with a status."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the action; `code` is stable, `message` is for people."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, fields: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}


class ValidationFailed(DomainError):
    """Input that breaks a rule, with per-field messages."""

    status = 422
    code = "validation_error"


class IllegalTransition(DomainError):
    """A state change that the transition table does not allow."""

    status = 409
    code = "illegal_transition"


class Conflict(DomainError):
    """Someone else changed the record first."""

    status = 409
    code = "conflict"
