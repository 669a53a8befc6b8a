# Generated from openapi.yaml version 2.4.0. Do not edit.
"""The exceptions raised by the API functions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import httpx

from .retrying import retry_after_seconds


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
        response: the httpx.Response, when the error came from one.

    `CallApiError.from_response` builds the subclass of the status: Unauthorized (401),
    Forbidden (403), NotFound (404), Conflict (409), PayloadTooLarge (413),
    UnsupportedMediaType (415), RateLimited (429), ServerError (5xx).
    """

    status: int
    code: int | None
    message: str
    errors: list[ErrorDetail]
    content: bytes
    response: httpx.Response | None

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: int | None = None,
        errors: list[ErrorDetail] | None = None,
        content: bytes = b"",
        response: httpx.Response | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.errors = list(errors or [])
        self.content = content
        self.response = response
        details = "".join(f"; {error.field}: {error.message}" for error in self.errors)
        super().__init__(f"{status} {message}{details}")

    @classmethod
    def from_response(
        cls, status: int, content: bytes, response: httpx.Response | None = None
    ) -> CallApiError:
        """Build the exception from an answer's status and body, whatever the body holds;
        called on CallApiError itself, it builds the subclass of the status."""
        kind = error_class(status) if cls is CallApiError else cls
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
            return kind(
                status,
                payload["message"],
                code=code if isinstance(code, int) and not isinstance(code, bool) else None,
                errors=errors,
                content=content,
                response=response,
            )
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown status"
        text = content.decode(errors="replace").strip()
        message = f"Unexpected answer ({reason})" + (f": {text[:500]}" if text else "")
        return kind(status, message, content=content, response=response)


class Unauthorized(CallApiError):
    """401: the signature, the bot or the timestamp was refused."""


class Forbidden(CallApiError):
    """403: the bot is not in the team of the path."""


class NotFound(CallApiError):
    """404: no such operation or team."""


class Conflict(CallApiError):
    """409: the thread's state does not allow the operation (e.g. no active call)."""


class PayloadTooLarge(CallApiError):
    """413: the body is larger than the server takes."""


class UnsupportedMediaType(CallApiError):
    """415: the body was not sent as JSON."""


class RateLimited(CallApiError):
    """429: too many requests. `retry_after`: the seconds the server asked to wait (its
    `Retry-After`, in seconds or as an HTTP date), or None when it named no usable wait."""

    @property
    def retry_after(self) -> float | None:
        if self.response is None:
            return None
        return retry_after_seconds(self.response.headers.get("Retry-After"))


class ServerError(CallApiError):
    """5xx: the server failed, or is busy (503) or behind a gateway that failed."""


#: The subclass of each status a caller may want to tell apart.
ERRORS_BY_STATUS: dict[int, type[CallApiError]] = {
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    429: RateLimited,
}


def error_class(status: int) -> type[CallApiError]:
    """The CallApiError subclass of an HTTP status (CallApiError itself for the others)."""
    if 500 <= status <= 599:
        return ServerError
    return ERRORS_BY_STATUS.get(status, CallApiError)


class UnexpectedStatus(CallApiError):
    """Raised by the `*_detailed` functions for a status the API does not document, when
    `Client.raise_on_unexpected_status` is True."""

    def __init__(self, status_code: int, content: bytes) -> None:
        parsed = CallApiError.from_response(status_code, content)
        super().__init__(
            status_code, parsed.message, code=parsed.code, errors=parsed.errors, content=content
        )
        self.status_code = status_code


__all__ = [
    "CallApiError",
    "Conflict",
    "ErrorDetail",
    "Forbidden",
    "NotFound",
    "PayloadTooLarge",
    "RateLimited",
    "ServerError",
    "Unauthorized",
    "UnexpectedStatus",
    "UnsupportedMediaType",
    "error_class",
]
