"""The start page, the pages every service must have (accessibility, privacy, cookies) and the error pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string

from kinship.core.permissions import public


@public
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_authenticated and getattr(user, "is_staff_member", False):
        return redirect("establishments:mine")
    if user.is_authenticated and getattr(user, "is_contact", False):
        return redirect("accounts:contact-home")
    return render(request, "core/start.html")


@public
def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "core/accessibility.html")


@public
def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "core/privacy.html")


@public
def cookies(request: HttpRequest) -> HttpResponse:
    return render(request, "core/cookies.html")


_ERRORS: dict[int, tuple[str, list[str]]] = {
    400: ("Sorry, there is a problem with your request", ["Check what you entered and try again."]),
    403: (
        "You do not have permission to see this page",
        ["If you think you should, ask your local system administrator to check your roles."],
    ),
    404: (
        "Page not found",
        [
            "If you typed the web address, check it is correct.",
            "If you pasted the web address, check you copied the entire address.",
        ],
    ),
    500: (
        "Sorry, there is a problem with the service",
        ["Try again later. Nothing you entered before the problem has been lost."],
    ),
}


def _error(request: HttpRequest, status: int, **context: Any) -> HttpResponse:
    heading, paragraphs = _ERRORS[status]
    return render(request, "errors/error.html", {"heading": heading, "paragraphs": paragraphs}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    # No request context: the database may be what failed, and the page must still render.
    heading, paragraphs = _ERRORS[500]
    html = render_to_string(
        "errors/error.html",
        {"heading": heading, "paragraphs": paragraphs, "service_name": "Kinship video calls"},
    )
    return HttpResponse(html, status=500)
