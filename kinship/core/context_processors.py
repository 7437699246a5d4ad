"""Template context every page needs: the service name, and the safer custody hotline of the establishment the
page is about or the contact is linked to (PF 4.19)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def kinship(request: HttpRequest) -> dict[str, Any]:
    establishment = getattr(request, "establishment", None)
    hotlines: list[tuple[str, str]] = []
    if establishment is not None and establishment.safer_custody_hotline:
        hotlines = [(establishment.name, establishment.safer_custody_hotline)]
    else:
        user = getattr(request, "user", None)
        contact = getattr(user, "contact", None) if user is not None and user.is_authenticated else None
        if contact is not None:
            hotlines = [
                (name, hotline)
                for name, hotline in contact.links.filter(status="approved")
                .exclude(resident__establishment__safer_custody_hotline="")
                .values_list(
                    "resident__establishment__name", "resident__establishment__safer_custody_hotline"
                )
                # Clear the links' ordering, or DISTINCT would keep one row per link, not per establishment.
                .order_by("resident__establishment__name")
                .distinct()
            ]
    return {"service_name": "Kinship video calls", "safer_custody_hotlines": hotlines}
