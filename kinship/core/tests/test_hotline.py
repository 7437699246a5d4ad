"""PF 4.19: the safer custody hotline of each establishment the contact deals with is on every page, once."""

from __future__ import annotations

import pytest
from django.test import Client

from kinship.factories import ContactFactory, ContactLinkFactory, EstablishmentFactory, ResidentFactory

pytestmark = pytest.mark.django_db


def test_each_linked_establishments_hotline_is_shown_once(client: Client) -> None:
    prison = EstablishmentFactory(name="HMP North", safer_custody_hotline="0800 111 2222")
    other = EstablishmentFactory(name="HMP South", safer_custody_hotline="0800 333 4444")
    contact = ContactFactory()
    for resident in (ResidentFactory(establishment=prison), ResidentFactory(establishment=prison)):
        ContactLinkFactory(contact=contact, resident=resident)
    ContactLinkFactory(contact=contact, resident=ResidentFactory(establishment=other))
    ContactLinkFactory(contact=contact, resident=ResidentFactory(), status="removed")
    client.force_login(contact.user)
    page = client.get("/privacy/").content.decode()
    assert page.count("0800 111 2222") == 1
    assert page.count("0800 333 4444") == 1
    assert "Worried about someone in custody?" in page


def test_no_hotline_block_for_people_not_linked_anywhere(client: Client) -> None:
    assert "Worried about someone in custody?" not in client.get("/privacy/").content.decode()
