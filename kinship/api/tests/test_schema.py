"""The OpenAPI schema is generated and public; there is no docs page pulling scripts from a CDN."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_openapi_schema(client: Client) -> None:
    answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    schema = answer.json()
    assert schema["info"]["version"] == "1"
    paths = schema["paths"]
    for path in (
        "/api/v1/me",
        "/api/v1/slots",
        "/api/v1/booking-requests",
        "/api/v1/bookings",
        "/api/v1/bookings/{reference}",
        "/api/v1/bookings/{reference}/cancellation",
        "/api/v1/staff/{establishment}/slots",
        "/api/v1/staff/{establishment}/booking-requests",
        "/api/v1/staff/{establishment}/bookings",
        "/api/v1/staff/{establishment}/bookings/{reference}",
        "/api/v1/staff/{establishment}/bookings/{reference}/approval",
        "/api/v1/staff/{establishment}/bookings/{reference}/rejection",
        "/api/v1/staff/{establishment}/bookings/{reference}/cancellation",
    ):
        assert path in paths, path
    refusal = paths["/api/v1/booking-requests"]["post"]["responses"]["409"]
    assert "ProblemsOut" in str(refusal)


def test_no_docs_page(client: Client) -> None:
    assert client.get("/api/v1/docs").status_code == 404
