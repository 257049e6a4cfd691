"""HTTP refusals, and the status each of videoqa's errors maps to. Every error body is {"error": message}:
one line that says what is wrong and what to do."""

from __future__ import annotations

from videoqa.errors import (
    BudgetExceededError,
    ModelServerError,
    ModelUnavailableError,
    QueryError,
    StoreError,
    VideoInputError,
    VideoNotFoundError,
    VideoNotIndexedError,
    VideoQAError,
)


class HttpRefusal(VideoQAError):
    """A request the server refuses; `status` is the HTTP status to answer with."""

    status = 400


class Invalid(HttpRefusal):
    status = 400


class Unauthorized(HttpRefusal):
    status = 401


class Forbidden(HttpRefusal):
    status = 403


class NotFound(HttpRefusal):
    status = 404


class TooLarge(HttpRefusal):
    status = 413


# Most specific first: the first class the error is an instance of decides.
_STATUS: list[tuple[type[VideoQAError], int]] = [
    (VideoNotFoundError, 404),
    (VideoNotIndexedError, 404),
    (VideoInputError, 422),
    (QueryError, 400),
    (BudgetExceededError, 429),
    (ModelUnavailableError, 503),
    (ModelServerError, 502),
    (StoreError, 500),
]


def status_of(exc: VideoQAError) -> int:
    if isinstance(exc, HttpRefusal):
        return exc.status
    return next((status for kind, status in _STATUS if isinstance(exc, kind)), 500)
