# Generated from openapi.yaml version 2.3.0. Do not edit.
"""The exceptions raised by the API functions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any


@dataclass(frozen=True)
class ErrorDetail:
    """One field the server names as wrong (an item of the envelope's `errors`)."""

    field: str
    message: str


class CallApiError(Exception):
    """The server answered with an error envelope or an unexpected status.

    Attributes:
        status: the HTTP status of the answer.
        code: the envelope's `code` (equal to the status), or None when the answer was not an
            error envelope.
        message: the envelope's `message`, or a description of the unexpected answer.
        errors: the envelope's `errors`, one ErrorDetail per field named as wrong.
        content: the raw body of the answer.
    """

    status: int
    code: int | None
    message: str
    errors: list[ErrorDetail]
    content: bytes

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: int | None = None,
        errors: list[ErrorDetail] | None = None,
        content: bytes = b"",
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.errors = list(errors or [])
        self.content = content
        details = "".join(f"; {error.field}: {error.message}" for error in self.errors)
        super().__init__(f"{status} {message}{details}")

    @classmethod
    def from_response(cls, status: int, content: bytes) -> CallApiError:
        """Build the exception from an answer's status and body, whatever the body holds."""
        payload: Any
        try:
            payload = json.loads(content)
        except ValueError:
            payload = None
        if isinstance(payload, dict) and isinstance(payload.get("message"), str):
            code = payload.get("code")
            raw_errors = payload.get("errors")
            errors = [
                ErrorDetail(field=str(item.get("field", "")), message=str(item.get("message", "")))
                for item in (raw_errors if isinstance(raw_errors, list) else [])
                if isinstance(item, dict)
            ]
            return cls(
                status,
                payload["message"],
                code=code if isinstance(code, int) and not isinstance(code, bool) else None,
                errors=errors,
                content=content,
            )
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown status"
        text = content.decode(errors="replace").strip()
        message = f"Unexpected answer ({reason})" + (f": {text[:500]}" if text else "")
        return cls(status, message, content=content)


class UnexpectedStatus(CallApiError):
    """Raised by the `*_detailed` functions for a status the API does not document, when
    `Client.raise_on_unexpected_status` is True."""

    def __init__(self, status_code: int, content: bytes) -> None:
        parsed = CallApiError.from_response(status_code, content)
        super().__init__(
            status_code, parsed.message, code=parsed.code, errors=parsed.errors, content=content
        )
        self.status_code = status_code


__all__ = ["CallApiError", "ErrorDetail", "UnexpectedStatus"]
