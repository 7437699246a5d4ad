"""Staff must complete TOTP two-factor authentication before any other page, the back office included."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

# Paths a half-signed-in member of staff may still reach: the two-factor pages themselves, signing out,
# static assets and the public pages in the footer.
_OPEN_PREFIXES = ("/static/", "/accessibility/", "/privacy/", "/cookies/")


class StaffTwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            settings.KINSHIP_REQUIRE_STAFF_2FA
            and user.is_authenticated
            and getattr(user, "is_staff_member", False)
            and not user.is_verified()  # type: ignore[attr-defined]
            and not self._open(request.path)
        ):
            return redirect(
                f"{reverse('accounts:two-factor')}?{urlencode({'next': request.get_full_path()}, safe='/')}"
            )
        return self.get_response(request)

    @staticmethod
    def _open(path: str) -> bool:
        open_paths = {
            reverse("accounts:two-factor"),
            reverse("accounts:two-factor-setup"),
            reverse("accounts:sign-out"),
        }
        return path in open_paths or path.startswith(_OPEN_PREFIXES)
