"""Access control. Deny by default: a staff view names the roles it admits and is reached through an
establishment it is scoped to; a contact view shows only the contact's own records.

Every view in the project declares how it is reached (``kinship_access``): "public", "contact", "staff" or
"terminal". An architecture test walks the URL configuration and fails on any view that declares nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect

from kinship.core.roles import Role

type ViewFunction = Callable[..., HttpResponseBase]


def mark[View: ViewFunction](access: str, roles: Iterable[Role] = ()) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        view.kinship_access = access  # type: ignore[attr-defined]
        view.kinship_roles = frozenset(roles)  # type: ignore[attr-defined]
        return view

    return decorate


def public[View: ViewFunction](view: View) -> View:
    """Reachable without signing in (start, sign-in, sign-up, static pages)."""
    return mark("public")(view)


def _staff_gate(request: HttpRequest) -> HttpResponseBase | None:
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not getattr(user, "is_staff_member", False) or not user.is_active:
        raise PermissionDenied
    return None


def staff_required(*roles: Role) -> Callable[[ViewFunction], ViewFunction]:
    """A staff view scoped to the establishment named by the ``establishment`` (code) URL argument.

    Refuses (403) anyone who is not staff, or who holds none of ``roles`` at that establishment. On success the
    establishment is set on ``request.establishment`` and passed to the view as ``establishment``; the roles the
    user holds there are on ``request.staff_roles``.
    """
    if not roles:
        raise ValueError("A staff view must name the roles it admits.")
    allowed = frozenset(roles)

    def decorate(view: ViewFunction) -> ViewFunction:
        @wraps(view)
        def wrapper(request: HttpRequest, establishment: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
            from kinship.establishments.models import Establishment

            gate = _staff_gate(request)
            if gate is not None:
                return gate
            place = get_object_or_404(Establishment, code=establishment)
            held = request.user.roles_at(place)  # type: ignore[union-attr]
            if not held & allowed:
                raise PermissionDenied
            request.establishment = place  # type: ignore[attr-defined]
            request.staff_roles = held  # type: ignore[attr-defined]
            return view(request, *args, establishment=place, **kwargs)

        return mark("staff", allowed)(wrapper)

    return decorate


def staff_any_establishment(view: ViewFunction) -> ViewFunction:
    """A staff view that is not about one establishment (the staff home, which lists the user's own)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        gate = _staff_gate(request)
        if gate is not None:
            return gate
        return view(request, *args, **kwargs)

    return mark("staff", Role)(wrapper)


def contact_required(*, terms: bool = True) -> Callable[[ViewFunction], ViewFunction]:
    """A contact's own page. With ``terms`` (the default for booking and joining pages), the contact must have
    accepted the current terms and conditions (PF 4.15) and is sent to accept them first."""

    def decorate(view: ViewFunction) -> ViewFunction:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not getattr(user, "is_contact", False) or not user.is_active:
                raise PermissionDenied
            if user.email_verified_at is None:
                return redirect("accounts:verify-email-sent")
            if terms:
                from kinship.accounts.services import contact_must_accept_terms

                if contact_must_accept_terms(user):
                    return redirect(
                        f"{_url('accounts:terms')}?{urlencode({'next': request.get_full_path()}, safe='/')}"
                    )
            return view(request, *args, **kwargs)

        return mark("contact")(wrapper)

    return decorate


def _url(name: str) -> str:
    from django.urls import reverse

    return reverse(name)
