"""Auth signal receivers: every sign-in, failed sign-in and sign-out is written to the audit log.

They only hand over to the services; connected once in AccountsConfig.ready()."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.http import HttpRequest

from . import services


def on_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    services.sign_in_record(user=user)


def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Django has already replaced the password in ``credentials`` with stars; only the address is read.
    email = str(credentials.get(settings.AXES_USERNAME_FORM_FIELD) or credentials.get("email") or "")
    services.sign_in_failed_record(email=email, locked_out=bool(getattr(request, "axes_locked_out", False)))


def on_logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    services.sign_out_record(user=user)


def connect() -> None:
    user_logged_in.connect(on_logged_in, dispatch_uid="kinship.accounts.audit_logged_in")
    user_login_failed.connect(on_login_failed, dispatch_uid="kinship.accounts.audit_login_failed")
    user_logged_out.connect(on_logged_out, dispatch_uid="kinship.accounts.audit_logged_out")
