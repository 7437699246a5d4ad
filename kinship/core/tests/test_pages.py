"""The public pages every service needs, and GOV.UK-style error pages."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/", "Video calls with someone in custody"),
        ("/accessibility/", "Accessibility statement"),
        ("/privacy/", "Privacy notice"),
        ("/cookies/", "Cookies"),
    ],
)
def test_public_pages(client: Client, path: str, heading: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert heading in response.content.decode()
    assert 'href="#main-content"' in response.content.decode()  # skip link


def test_not_found_is_a_govuk_page(client: Client) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert "govuk-heading-l" in response.content.decode()


@override_settings(DEBUG=False)
def test_server_error_page_renders_without_a_database(rf, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    from kinship.core import views

    with django_assert_num_queries(0):
        response = views.server_error(rf.get("/"))
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in response.content.decode()


def test_permission_denied_and_bad_request_pages(rf) -> None:  # type: ignore[no-untyped-def]
    from kinship.core import views

    request = rf.get("/")
    request.user = AnonymousUser()
    assert views.permission_denied(request).status_code == 403
    assert views.bad_request(request).status_code == 400
