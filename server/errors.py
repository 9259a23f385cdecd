"""Domain errors: an HTTP status, a stable machine-readable code, and a message for people.

Operations raise these; one middleware (server.middleware) renders them as
``application/problem+json`` (RFC 9457) for the API and as an error page for browsers.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    code = "bad_request"
    title = "Bad request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> None:
        # With ``params``, ``message`` is a template marked with N_ ("%(day)s has passed"):
        # the API gets it filled in English, a page in its reader's language (error_words).
        self.template = message
        self.params = params or {}
        self.message = message % self.params if params else message
        super().__init__(self.message)
        if code is not None:
            self.code = code
        self.errors = errors or []
        self.headers = headers or {}

    def problem(self, instance: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "code": self.code,
            "detail": self.message,
            "instance": instance,
        }
        if self.errors:
            body["errors"] = self.errors
        return body


class BadRequest(DomainError):
    pass


class InvalidInput(DomainError):
    status = 422
    code = "invalid_input"
    title = "Invalid input"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"
    title = "Sign-in required"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"
    title = "Not found"


class MethodNotAllowed(DomainError):
    status = 405
    code = "method_not_allowed"
    title = "Method not allowed"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "Conflict"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"
    title = "Request body too large"


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"
    title = "Unsupported media type"


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"
    title = "Too many requests"


class Unavailable(DomainError):
    status = 503
    code = "unavailable"
    title = "Service unavailable"


class Gone(DomainError):
    status = 410
    code = "gone"
    title = "No longer valid"


class InternalError(DomainError):
    status = 500
    code = "internal_error"
    title = "Internal error"
