"""The one error type every layer raises; the HTTP, WebSocket and SMTP edges translate it."""

from __future__ import annotations


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after  # seconds, sent as Retry-After (429)

    def as_json(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.message}}


def bad_request(code: str, message: str) -> ApiError:
    return ApiError(400, code, message)


def invalid(field: str, message: str) -> ApiError:
    return ApiError(422, "invalid_field", f"{field}: {message}")


def not_found(what: str = "room") -> ApiError:
    return ApiError(404, f"{what}_not_found", f"No such {what}.")


def forbidden(code: str, message: str) -> ApiError:
    return ApiError(403, code, message)


def conflict(code: str, message: str) -> ApiError:
    return ApiError(409, code, message)
