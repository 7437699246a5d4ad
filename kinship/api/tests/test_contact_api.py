"""The contact's endpoints: their own bookings only, every refusal a 4xx with its reasons."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret
from django.test import Client

from kinship.bookings.models import Booking, BookingStatus, CancelledBy
from kinship.bookings.tests.conftest import Party
from kinship.bookings.tests.factories import approved_contact, eligible_resident
from kinship.factories import ContactFactory, EstablishmentFactory
from kinship.people.models import CompactRecord

from .conftest import future_slot

pytestmark = pytest.mark.django_db


def book(client: Client, party: Party, **extra: Any) -> Any:
    body = {"slot_id": str(party.slot.pk), "resident_id": str(party.resident.pk), **extra}
    return client.post("/api/v1/booking-requests", body, content_type="application/json")


def test_me_needs_a_session(client: Client) -> None:
    answer = client.get("/api/v1/me")
    assert answer.status_code == 401
    assert answer.json()["problems"][0]["code"] == "auth.required"


def test_me(contact_client: Client, party: Party) -> None:
    answer = contact_client.get("/api/v1/me")
    assert answer.status_code == 200
    assert answer.json()["email"] == party.contact.user.email


def test_slots_for_an_establishment_where_someone_is_linked(contact_client: Client, party: Party) -> None:
    answer = contact_client.get("/api/v1/slots", {"establishment": party.establishment.code})
    assert answer.status_code == 200
    assert [row["id"] for row in answer.json()] == [str(party.slot.pk)]
    assert answer.json()[0]["places_left"] == 2


def test_no_slots_where_nobody_is_linked(contact_client: Client) -> None:
    elsewhere = EstablishmentFactory()
    future_slot(elsewhere)
    answer = contact_client.get("/api/v1/slots", {"establishment": elsewhere.code})
    assert answer.status_code == 404
    assert contact_client.get("/api/v1/slots").status_code == 422  # establishment is required


def test_request_a_call_then_see_and_cancel_it(contact_client: Client, party: Party) -> None:
    answer = book(contact_client, party)
    assert answer.status_code == 201, answer.json()
    created = answer.json()
    assert created["status"] == BookingStatus.REQUESTED
    assert created["establishment"]["safer_custody_hotline"] == party.establishment.safer_custody_hotline
    assert any(note["code"] == "allowance.minutes_left" for note in created["notes"])
    reference = created["reference"]

    listed = contact_client.get("/api/v1/bookings").json()
    assert [row["reference"] for row in listed] == [reference]
    assert contact_client.get(f"/api/v1/bookings/{reference}").json()["status"] == "requested"

    cancelled = contact_client.post(
        f"/api/v1/bookings/{reference}/cancellation",
        {"reason": "We are away"},
        content_type="application/json",
    )
    assert cancelled.status_code == 200, cancelled.json()
    assert cancelled.json()["status"] == BookingStatus.CANCELLED
    assert Booking.objects.get(reference=reference).cancelled_by == CancelledBy.CONTACT


def test_every_policy_reason_comes_back_with_its_citation(contact_client: Client, party: Party) -> None:
    CompactRecord.objects.filter(resident=party.resident).delete()
    answer = book(contact_client, party)
    assert answer.status_code == 422
    problems = answer.json()["problems"]
    assert {"rule_id", "code", "message"} <= set(problems[0])
    assert any(problem["rule_id"] == "PF 4.9" for problem in problems)


def test_a_full_slot_is_a_conflict(contact_client: Client, party: Party) -> None:
    party.slot.capacity = 0
    party.slot.save()
    answer = book(contact_client, party)
    assert answer.status_code == 409
    assert [problem["code"] for problem in answer.json()["problems"]] == ["slot.full"]


def test_malformed_input_and_unknown_ids_are_4xx(contact_client: Client, party: Party) -> None:
    bad_json = contact_client.post("/api/v1/booking-requests", "{not json", content_type="application/json")
    assert bad_json.status_code in {400, 422}
    assert "problems" in bad_json.json()
    not_uuid = book(contact_client, party, slot_id="nope")
    assert not_uuid.status_code == 422
    assert not_uuid.json()["problems"][0]["field"] == "data.slot_id"
    unknown = contact_client.post(
        "/api/v1/booking-requests",
        {"slot_id": "00000000-0000-0000-0000-000000000000", "resident_id": str(party.resident.pk)},
        content_type="application/json",
    )
    assert unknown.status_code == 404
    assert contact_client.get("/api/v1/bookings/ZZZZZZZZ").status_code == 404
    stranger = ContactFactory()
    assert book(contact_client, party, participant_ids=[str(stranger.pk)]).status_code == 422


def test_another_contacts_booking_is_not_found(
    contact_client: Client, party: Party, signed_in: Callable[..., Client]
) -> None:
    reference = book(contact_client, party).json()["reference"]
    other = approved_contact(eligible_resident(party.establishment))
    intruder = signed_in(other.user)
    assert intruder.get(f"/api/v1/bookings/{reference}").status_code == 404
    assert intruder.get("/api/v1/bookings").json() == []
    answer = intruder.post(
        f"/api/v1/bookings/{reference}/cancellation", {"reason": "x"}, content_type="application/json"
    )
    assert answer.status_code == 404
    # Nor can they request a call for someone they are not linked to.
    assert book(intruder, party).status_code == 404


def test_a_participant_sees_but_cannot_cancel(
    contact_client: Client, party: Party, signed_in: Callable[..., Client]
) -> None:
    sister = approved_contact(party.resident)
    reference = book(contact_client, party, participant_ids=[str(sister.pk)]).json()["reference"]
    client = signed_in(sister.user)
    assert client.get(f"/api/v1/bookings/{reference}").status_code == 200
    answer = client.post(
        f"/api/v1/bookings/{reference}/cancellation", {"reason": "x"}, content_type="application/json"
    )
    assert answer.status_code == 403


def test_staff_cannot_use_contact_endpoints(clerk_client: Client) -> None:
    answer = clerk_client.get("/api/v1/me")
    assert answer.status_code == 403
    assert answer.json()["problems"][0]["code"] == "access.contacts_only"


def test_unsafe_requests_need_the_csrf_token(party: Party, signed_in: Callable[..., Client]) -> None:
    client = signed_in(party.contact.user, csrf=True)
    assert client.get("/api/v1/me").status_code == 200  # safe methods need no token
    refused = book(client, party)
    assert refused.status_code == 403
    assert refused.json()["problems"][0]["code"] == "csrf.failed"
    # A browser gets the cookie from any page; the client sends it back with the token in the header.
    secret = _get_new_csrf_string()
    client.cookies["csrftoken"] = secret
    accepted = client.post(
        "/api/v1/booking-requests",
        {"slot_id": str(party.slot.pk), "resident_id": str(party.resident.pk)},
        content_type="application/json",
        headers={"X-CSRFToken": _mask_cipher_secret(secret)},
    )
    assert accepted.status_code == 201, accepted.json()


def test_alternatives_are_booked_when_the_first_choice_is_full(contact_client: Client, party: Party) -> None:
    party.slot.capacity = 0
    party.slot.save()
    second = future_slot(party.establishment, days=4)
    third = future_slot(party.establishment, days=5)
    answer = book(contact_client, party, alternative_slot_ids=[str(second.pk), str(third.pk)])
    assert answer.status_code == 201
    body = answer.json()
    assert body["slot"]["id"] == str(second.pk)
    assert body["preference_used"] == 2
    booking = Booking.objects.get(reference=body["reference"])
    assert list(booking.preferences.values_list("rank", flat=True)) == [2, 3]


def test_the_first_choice_is_booked_when_it_has_a_place(contact_client: Client, party: Party) -> None:
    second = future_slot(party.establishment, days=4)
    answer = book(contact_client, party, alternative_slot_ids=[str(second.pk)])
    assert answer.status_code == 201
    assert answer.json()["slot"]["id"] == str(party.slot.pk)
    assert answer.json()["preference_used"] == 1


def test_bad_alternatives_are_422_with_problems(contact_client: Client, party: Party) -> None:
    slots = [future_slot(party.establishment, days=day) for day in (4, 5, 6)]
    too_many = book(contact_client, party, alternative_slot_ids=[str(slot.pk) for slot in slots])
    assert too_many.status_code == 422
    assert too_many.json()["problems"][0]["field"] == "data.alternative_slot_ids"
    repeated = book(contact_client, party, alternative_slot_ids=[str(party.slot.pk)])
    assert repeated.status_code == 422
    assert [problem["code"] for problem in repeated.json()["problems"]] == ["preferences.repeated"]
    elsewhere = future_slot(EstablishmentFactory(), days=4)
    unknown = book(contact_client, party, alternative_slot_ids=[str(elsewhere.pk)])
    assert unknown.status_code == 422
    assert unknown.json()["problems"][0]["code"] == "preferences.unknown"
    assert not Booking.objects.exists()


def test_every_choice_full_is_a_conflict_listing_each(contact_client: Client, party: Party) -> None:
    party.slot.capacity = 0
    party.slot.save()
    second = future_slot(party.establishment, days=4, capacity=0)
    answer = book(contact_client, party, alternative_slot_ids=[str(second.pk)])
    assert answer.status_code == 409
    messages = [problem["message"] for problem in answer.json()["problems"]]
    assert [message.split(":")[1].strip() for message in messages] == ["First choice", "Second choice"]
