"""System checks: outside development, messages must really be sent (a missing key would only log them)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.compatibility)
def notify_configured(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    if getattr(settings, "DEVELOPMENT", False):
        return []
    problems: list[checks.CheckMessage] = []
    if not settings.NOTIFY_API_KEY:
        problems.append(
            checks.Warning(
                "NOTIFY_API_KEY is empty: messages to families are written to the log and not sent.",
                hint="Set NOTIFY_API_KEY (and the template ids) from GOV.UK Notify.",
                id="kinship.notifications.W001",
            )
        )
    elif not (settings.NOTIFY_EMAIL_TEMPLATE_ID and settings.NOTIFY_SMS_TEMPLATE_ID):
        problems.append(
            checks.Error(
                "NOTIFY_EMAIL_TEMPLATE_ID and NOTIFY_SMS_TEMPLATE_ID must be set when NOTIFY_API_KEY is.",
                id="kinship.notifications.E001",
            )
        )
    return problems
