"""The JSON API, version 1 (django-ninja), mounted at /api/v1/ with its OpenAPI schema at /api/v1/openapi.json.

Browser clients use their Django session with the CSRF token (``X-CSRFToken``) on every unsafe request, exactly
as the pages do. No interactive docs page: ninja's loads its scripts from a CDN, which the CSP forbids (and the
service's network may not reach); the schema is the documentation, for any OpenAPI viewer.
"""

from __future__ import annotations

from ninja import NinjaAPI

from . import contact, errors, staff

api = NinjaAPI(
    title="Kinship API",
    version="1",
    description=(
        "Slots, booking requests, bookings and cancellations for secure social video calls, with the same "
        "permissions as the pages. Every refusal is a 4xx answer listing its reasons with their policy "
        'citations: {"problems": [{"rule_id", "code", "message", "field"}]}.'
    ),
    urls_namespace="api",
    docs_url=None,
    openapi_url="/openapi.json",
)
errors.install(api)
api.add_router("/", contact.router)
api.add_router("/staff/", staff.router)
