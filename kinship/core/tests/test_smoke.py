import pytest

from kinship.factories import EstablishmentFactory


@pytest.mark.django_db
def test_start_page_renders(client):
    response = client.get("/")
    assert response.status_code == 200 or response.status_code == 302


@pytest.mark.django_db
def test_factory_builds_an_establishment():
    assert EstablishmentFactory().code.startswith("EX")
