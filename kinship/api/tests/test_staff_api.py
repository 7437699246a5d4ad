"""The staff endpoints: the role at the establishment, the second factor, and every refusal a 4xx."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from kinship.bookings.models import AllowanceEntry, Booking, BookingStatus, LedgerReason
from kinship.bookings.tests.conftest import Party
from kinship.core.roles import Role
from kinship.factories import EstablishmentFactory, StaffFactory, staff_with

from .conftest import future_slot

pytestmark = pytest.mark.django_db


def staff_book(client: Client, party: Party, **extra: Any) -> Any:
    body = {
        "slot_id": str(party.slot.pk),
        "resident_id": str(party.resident.pk),
        "lead_contact_id": str(party.contact.pk),
        **extra,
    }
    return client.post(
        f"/api/v1/staff/{party.establishment.code}/booking-requests", body, content_type="application/json"
    )


def post(client: Client, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(url, body or {}, content_type="application/json")


def test_book_on_behalf_list_approve(clerk_client: Client, party: Party) -> None:
    created = staff_book(clerk_client, party)
    assert created.status_code == 201, created.json()
    assert created.json()["requested_by"] == "staff"
    reference = created.json()["reference"]
    code = party.establishment.code

    listed = clerk_client.get(f"/api/v1/staff/{code}/bookings", {"status": "requested"}).json()
    assert [row["reference"] for row in listed] == [reference]
    assert clerk_client.get(f"/api/v1/staff/{code}/bookings/{reference}").status_code == 200

    approved = post(clerk_client, f"/api/v1/staff/{code}/bookings/{reference}/approval")
    assert approved.status_code == 200, approved.json()
    assert approved.json()["status"] == BookingStatus.APPROVED
    again = post(clerk_client, f"/api/v1/staff/{code}/bookings/{reference}/approval")
    assert again.status_code == 409
    assert again.json()["problems"][0]["code"] == "booking.not_requested"


def test_reject_needs_a_reason_and_gives_minutes_back(clerk_client: Client, party: Party) -> None:
    reference = staff_book(clerk_client, party).json()["reference"]
    url = f"/api/v1/staff/{party.establishment.code}/bookings/{reference}/rejection"
    assert post(clerk_client, url, {"reason": "made_up"}).status_code == 422
    unexplained = post(clerk_client, url, {"reason": "other"})
    assert unexplained.status_code == 422
    assert unexplained.json()["problems"][0]["code"] == "rejection.explain"
    rejected = post(clerk_client, url, {"reason": "no_staff", "text": "Short of officers"})
    assert rejected.status_code == 200
    assert rejected.json()["rejection_reason"] == "no_staff"
    assert AllowanceEntry.objects.filter(reason=LedgerReason.REQUEST_REJECTED).count() == 1


def test_establishment_cancels(clerk_client: Client, party: Party) -> None:
    reference = staff_book(clerk_client, party).json()["reference"]
    code = party.establishment.code
    post(clerk_client, f"/api/v1/staff/{code}/bookings/{reference}/approval")
    url = f"/api/v1/staff/{code}/bookings/{reference}/cancellation"
    assert post(clerk_client, url, {"reason": " "}).status_code == 422
    cancelled = post(clerk_client, url, {"reason": "Lockdown"})
    assert cancelled.status_code == 200, cancelled.json()
    assert cancelled.json()["cancelled_by"] == "establishment"
    assert Booking.objects.get(reference=reference).status == BookingStatus.CANCELLED


def test_slots_for_staff(clerk_client: Client, party: Party) -> None:
    answer = clerk_client.get(f"/api/v1/staff/{party.establishment.code}/slots", {"channel": "contact"})
    assert answer.status_code == 200
    assert [row["id"] for row in answer.json()] == [str(party.slot.pk)]
    assert (
        clerk_client.get(f"/api/v1/staff/{party.establishment.code}/slots", {"channel": "x"}).status_code
        == 422
    )
    naive = clerk_client.get(f"/api/v1/staff/{party.establishment.code}/slots", {"start": "2027-01-01T10:00"})
    assert naive.status_code == 422


def test_a_role_that_may_read_may_not_decide(party: Party, signed_in: Callable[..., Client]) -> None:
    officer = signed_in(staff_with(Role.SUPERVISING_OFFICER, party.establishment))
    code = party.establishment.code
    assert officer.get(f"/api/v1/staff/{code}/bookings").status_code == 200
    refused = staff_book(officer, party)
    assert refused.status_code == 403
    assert refused.json()["problems"][0]["code"] == "access.role"


def test_a_role_elsewhere_gives_nothing_here(party: Party, signed_in: Callable[..., Client]) -> None:
    other = signed_in(staff_with(Role.BOOKING_CLERK, EstablishmentFactory()))
    code = party.establishment.code
    assert other.get(f"/api/v1/staff/{code}/bookings").status_code == 403
    assert staff_book(other, party).status_code == 403
    assert other.get("/api/v1/staff/NOPE/bookings").status_code == 404


def test_monitoring_officer_cannot_read_bookings(party: Party, signed_in: Callable[..., Client]) -> None:
    monitor = signed_in(staff_with(Role.MONITORING_OFFICER, party.establishment))
    assert monitor.get(f"/api/v1/staff/{party.establishment.code}/bookings").status_code == 403


def test_contacts_and_anonymous_are_refused(contact_client: Client, client: Client, party: Party) -> None:
    code = party.establishment.code
    assert contact_client.get(f"/api/v1/staff/{code}/bookings").status_code == 403
    assert client.get(f"/api/v1/staff/{code}/bookings").status_code == 401


def test_staff_without_the_second_factor_never_reach_the_api(party: Party, client: Client) -> None:
    user = StaffFactory(roles=[(party.establishment, Role.BOOKING_CLERK)])
    client.force_login(user)
    answer = client.get(f"/api/v1/staff/{party.establishment.code}/bookings")
    assert answer.status_code == 302  # the two-factor middleware sends them to the second factor first
    assert "two-factor" in answer["Location"] or "2fa" in answer["Location"]


def test_unknown_references_and_other_establishments_bookings(
    clerk_client: Client, party: Party, signed_in: Callable[..., Client]
) -> None:
    code = party.establishment.code
    assert clerk_client.get(f"/api/v1/staff/{code}/bookings/NOTAREF").status_code == 404
    reference = staff_book(clerk_client, party).json()["reference"]
    elsewhere = EstablishmentFactory()
    other = signed_in(staff_with(Role.BOOKING_CLERK, elsewhere))
    # Their role is real, but the booking is not at their establishment.
    assert other.get(f"/api/v1/staff/{elsewhere.code}/bookings/{reference}").status_code == 404
    unknown_slot = staff_book(clerk_client, party, slot_id="00000000-0000-0000-0000-000000000000")
    assert unknown_slot.status_code == 404
    unknown_contact = staff_book(
        clerk_client, party, participant_ids=["00000000-0000-0000-0000-000000000001"]
    )
    assert unknown_contact.status_code == 404


def test_staff_book_falls_back_to_an_alternative(clerk_client: Client, party: Party) -> None:
    party.slot.capacity = 0
    party.slot.save()
    second = future_slot(party.establishment, days=4)
    created = staff_book(clerk_client, party, alternative_slot_ids=[str(second.pk)])
    assert created.status_code == 201, created.json()
    assert created.json()["slot"]["id"] == str(second.pk)
    assert created.json()["preference_used"] == 2
