"""Small display helpers for account pages."""

from __future__ import annotations

from datetime import timedelta

from django import template

register = template.Library()


@register.filter
def in_minutes(value: timedelta | None) -> str:
    """A wait as people say it: "30 minutes", "1 hour", "1 hour 30 minutes"."""
    if not value:
        return ""
    total = max(1, round(value.total_seconds() / 60))
    hours, minutes = divmod(total, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts)
