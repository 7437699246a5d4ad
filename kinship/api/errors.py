"""Every refusal as a 4xx JSON body listing its reasons: ``{"problems": [{"rule_id", "code", "message",
"field"}]}`` — the same reasons, with the same citations, that the pages show in their error summary."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from kinship import policy
from kinship.bookings.errors import BookingRefused, Problem, problems_from

logger = logging.getLogger(__name__)

#: Booking's own reasons that mean "the record is not in a state for this": 409 Conflict when they are all
#: there is to say. Any other reason makes it 422 (the request cannot be met as it stands).
CONFLICTS = frozenset(
    {
        "slot.full",
        "slot.started",
        "hold.expired",
        "hold.not_yours",
        "resident.already_booked",
        "booking.not_requested",
        "booking.not_active",
        "booking.not_approved",
        "review.closed",
    }
)


class ApiProblem(Exception):
    """A refusal the API makes itself (not signed in as the right person, record not found)."""

    def __init__(self, status: int, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.problem = Problem(rule_id="", code=code, text=message, field=field)


def problems_body(problems: Any) -> dict[str, list[dict[str, str | None]]]:
    return {"problems": [problem.as_json() for problem in problems]}


def refusal_status(refused: BookingRefused) -> int:
    return 409 if refused.codes <= CONFLICTS else 422


def _validation_problems(errors: list[dict[str, Any]]) -> list[Problem]:
    found = []
    for error in errors:
        # ninja's locations start with where the value came from ("body", "query", "path").
        location = [str(part) for part in error.get("loc", ())]
        field = ".".join(location[1:] if len(location) > 1 else location) or None
        found.append(
            Problem(
                rule_id="",
                code=f"invalid.{error.get('type', 'value')}",
                text=f"{field}: {error.get('msg', 'Invalid value')}" if field else str(error.get("msg")),
                field=field,
            )
        )
    return found or [Problem(rule_id="", code="invalid.value", text="The request is not valid.")]


def install(api: NinjaAPI) -> None:
    def answer(request: HttpRequest, status: int, problems: Any) -> HttpResponse:
        return api.create_response(request, problems_body(problems), status=status)

    @api.exception_handler(ApiProblem)
    def api_problem(request: HttpRequest, exc: ApiProblem) -> HttpResponse:
        return answer(request, exc.status, [exc.problem])

    @api.exception_handler(BookingRefused)
    def booking_refused(request: HttpRequest, exc: BookingRefused) -> HttpResponse:
        return answer(request, refusal_status(exc), exc.problems)

    @api.exception_handler(policy.PolicyRefusal)
    def policy_refused(request: HttpRequest, exc: policy.PolicyRefusal) -> HttpResponse:
        return answer(request, 422, problems_from(exc.decision))

    @api.exception_handler(ValidationError)
    def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return answer(request, 422, _validation_problems(exc.errors))

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return answer(request, 401, [Problem("", "auth.required", "Sign in to use this.")])

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        # ninja raises these itself, e.g. 403 "CSRF check Failed" for a cookie session without the token.
        code = "csrf.failed" if "CSRF" in exc.message else f"http.{exc.status_code}"
        message = "The request did not carry a valid CSRF token." if code == "csrf.failed" else exc.message
        return answer(request, exc.status_code, [Problem("", code, message)])

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        return answer(request, 404, [Problem("", "not_found", "Not found.")])

    @api.exception_handler(ObjectDoesNotExist)
    def missing(request: HttpRequest, exc: Exception) -> HttpResponse:
        return answer(request, 404, [Problem("", "not_found", "Not found.")])

    @api.exception_handler(PermissionDenied)
    def forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
        return answer(request, 403, [Problem("", "access.denied", "You cannot do this.")])

    @api.exception_handler(Exception)
    def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        # A fault of ours, not a refusal: logged with its traceback, answered without one.
        logger.exception("API error on %s %s", request.method, request.path)
        return answer(request, 500, [Problem("", "server.error", "Something went wrong. Try again later.")])
