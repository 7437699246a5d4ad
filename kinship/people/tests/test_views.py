"""People pages end to end: lists without N+1 queries, audited record views, forms, the link-request queue."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from kinship.audit.models import AuditEvent
from kinship.core.roles import Role
from kinship.factories import (
    CompactRecordFactory,
    CompactTextFactory,
    ContactFactory,
    ContactLinkFactory,
    EstablishmentFactory,
    IrcFactory,
    ResidentFactory,
    RiskAssessmentFactory,
    StaffFactory,
)
from kinship.people.models import (
    CompactKind,
    ContactLink,
    LinkRequest,
    LinkRequestStatus,
    LinkStatus,
    Resident,
)
from kinship.testing import sign_in_with_2fa

pytestmark = pytest.mark.django_db


@pytest.fixture
def place():
    return EstablishmentFactory()


@pytest.fixture
def clerk(client, place):
    user = StaffFactory(roles=[(place, Role.BOOKING_CLERK)])
    sign_in_with_2fa(client, user)
    return user


def _populate(place, residents: int) -> None:
    for _number in range(residents):
        resident = ResidentFactory(establishment=place)
        ContactLinkFactory(resident=resident)
        CompactRecordFactory(resident=resident)
        RiskAssessmentFactory(resident=resident)


# --- Residents list ------------------------------------------------------------------------------------------------


def test_the_residents_list_makes_the_same_few_queries_however_many_there_are(
    client, place, clerk, django_assert_max_num_queries
):
    _populate(place, 3)
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("people:residents", args=[place.code]))
    _populate(place, 30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("people:residents", args=[place.code]))
    assert response.status_code == 200
    assert "33 people held here" in response.content.decode()


def test_the_residents_list_is_paginated(client, place, clerk):
    _populate(place, 27)
    first = client.get(reverse("people:residents", args=[place.code])).content.decode()
    assert "Page 1 of 2" in first
    assert 'rel="next"' in first
    second = client.get(reverse("people:residents", args=[place.code]), {"page": 2}).content.decode()
    assert 'rel="prev"' in second
    assert second.count('class="govuk-table__row"') == 1 + 2  # the header row and two people


def test_searching_by_name_or_identifier(client, place, clerk):
    ResidentFactory(establishment=place, first_name="Maria", last_name="Lopez", identifier="A1111AA")
    ResidentFactory(establishment=place, first_name="John", last_name="Brown", identifier="B2222BB")
    ResidentFactory(establishment=EstablishmentFactory(), first_name="Maria", last_name="Elsewhere")
    url = reverse("people:residents", args=[place.code])
    by_name = client.get(url, {"q": "maria"}).content.decode()
    assert "Lopez" in by_name
    assert "Brown" not in by_name
    assert "Elsewhere" not in by_name
    by_number = client.get(url, {"q": "b2222bb"}).content.decode()
    assert "Brown" in by_number
    assert "Lopez" not in by_number
    nothing = client.get(url, {"q": "nobody"}).content.decode()
    assert "There is no one held here matching" in nothing


# --- A resident's record -------------------------------------------------------------------------------------------


def test_reading_a_record_is_audited_and_its_queries_do_not_grow(
    client, place, clerk, django_assert_max_num_queries
):
    resident = ResidentFactory(establishment=place, e_list=True, support_needs=["physical"])
    ContactLinkFactory(resident=resident)
    CompactRecordFactory(resident=resident)
    url = reverse("people:resident", args=[place.code, resident.pk])
    with django_assert_max_num_queries(25) as few:
        response = client.get(url)
    for _ in range(10):
        ContactLinkFactory(resident=resident)
        CompactRecordFactory(resident=resident)
        RiskAssessmentFactory(resident=resident)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)
    page = response.content.decode()
    assert "Physical disability or mobility need" in page
    assert "PF 4.22" in page
    assert "PF 4.16" in page
    assert "DSO 14" in page
    assert "DSO 18" in page
    assert "PF 4.13" in page
    events = AuditEvent.objects.filter(action="resident_viewed", subject_id=str(resident.pk), actor=clerk)
    assert events.count() == 2
    assert {event.establishment_code for event in events} == {place.code}


def test_a_resident_elsewhere_is_not_found_from_here(client, place, clerk):
    other = ResidentFactory()
    assert client.get(reverse("people:resident", args=[place.code, other.pk])).status_code == 404
    assert not AuditEvent.objects.filter(action="resident_viewed").exists()


def test_a_reader_who_may_not_edit_sees_no_change_links(client, place):
    sign_in_with_2fa(client, StaffFactory(roles=[(place, Role.SUPERVISING_OFFICER)]))
    resident = ResidentFactory(establishment=place)
    page = client.get(reverse("people:resident", args=[place.code, resident.pk])).content.decode()
    assert reverse("people:resident-edit", args=[place.code, resident.pk]) not in page


RESIDENT_FORM = {
    "identifier": "c3333cc",
    "first_name": "Sam",
    "last_name": "Taylor",
    "date_of_birth_day": "3",
    "date_of_birth_month": "4",
    "date_of_birth_year": "1985",
    "language": "English",
    "support_needs": ["physical", "technical"],
    "pprc": "on",
    "ethnicity": "Mixed",
}


def test_adding_a_resident_through_the_form(client, place, clerk):
    form = client.get(reverse("people:resident-add", args=[place.code])).content.decode()
    assert 'type="checkbox" value="learning_or_cognitive"' in form
    assert "used only for fairness reports" in form
    response = client.post(reverse("people:resident-add", args=[place.code]), RESIDENT_FORM)
    resident = Resident.objects.get(identifier="C3333CC")
    assert response["Location"] == reverse("people:resident", args=[place.code, resident.pk])
    assert resident.support_needs == ["physical", "technical"]
    assert resident.pprc
    assert not resident.e_list
    assert resident.date_of_birth == date(1985, 4, 3)
    assert AuditEvent.objects.filter(action="resident_created", actor=clerk).exists()


def test_the_resident_form_explains_what_is_missing_and_keeps_what_was_entered(client, place, clerk):
    response = client.post(
        reverse("people:resident-add", args=[place.code]),
        {**RESIDENT_FORM, "first_name": "", "date_of_birth_day": "31", "date_of_birth_month": "2"},
    )
    page = response.content.decode()
    assert "Enter their first name" in page
    assert "Enter a real date" in page
    assert 'value="Taylor"' in page
    assert 'value="physical" checked' in page


def test_editing_a_resident(client, place, clerk):
    resident = ResidentFactory(establishment=place)
    client.post(
        reverse("people:resident-edit", args=[place.code, resident.pk]),
        {**RESIDENT_FORM, "identifier": resident.identifier, "e_list": "on"},
    )
    resident.refresh_from_db()
    assert resident.e_list
    assert AuditEvent.objects.get(action="resident_changed").after["e_list"] is True


# --- Compacts and risk assessments through the pages -------------------------------------------------------------


def test_recording_a_compact_offers_the_texts_for_the_profile(client, clerk):
    irc = IrcFactory()
    sign_in_with_2fa(client, StaffFactory(roles=[(irc, Role.BOOKING_CLERK)]))
    resident = ResidentFactory(establishment=irc, language="Arabic")
    prison_text = CompactTextFactory(kind=CompactKind.PRISON, version="9")
    irc_text = CompactTextFactory(kind=CompactKind.IRC, version="3", language="Arabic")
    url = reverse("people:compact-add", args=[irc.code, resident.pk])
    page = client.get(url).content.decode()
    assert str(irc_text.pk) in page
    assert str(prison_text.pk) not in page
    assert 'value="Arabic"' in page
    response = client.post(
        url, {"text": str(irc_text.pk), "outcome": "signed", "language": "Arabic", "interpreter_used": "yes"}
    )
    assert response.status_code == 302
    record = resident.compacts.get()
    assert record.interpreter_used
    assert record.text == irc_text
    refused = client.post(
        url,
        {"text": str(prison_text.pk), "outcome": "signed", "language": "Arabic", "interpreter_used": "no"},
    )
    assert refused.status_code == 200


def test_adding_a_compact_text(client, place):
    sign_in_with_2fa(client, StaffFactory(roles=[(place, Role.GOVERNOR)]))
    client.post(
        reverse("people:compact-text-add", args=[place.code]),
        {"kind": "prison", "version": "4", "language": "Welsh", "body": "Rheolau"},
    )
    page = client.get(reverse("people:compact-texts", args=[place.code])).content.decode()
    assert "Welsh" in page


def test_recording_a_risk_assessment(client, place, clerk):
    resident = ResidentFactory(establishment=place)
    url = reverse("people:risk-assessment-add", args=[place.code, resident.pk])
    assert "individual" not in client.get(url).content.decode()
    client.post(url, {"kind": "eligibility", "outcome": "refuse", "rationale": "Recent threats"})
    assert resident.risk_assessments.get().outcome == "refuse"


# --- Contacts and links through the pages ------------------------------------------------------------------------


def test_approving_a_pending_contact_through_the_page(client, place, clerk):
    link = ContactLinkFactory(
        resident=ResidentFactory(establishment=place), status=LinkStatus.PENDING, source=""
    )
    url = reverse("people:link-decide", args=[place.code, link.pk])
    missing = client.post(url, {"decision": "approve", "reason": "Checked"})
    assert "PF 4.12: Select the approved list" in missing.content.decode()
    client.post(url, {"decision": "approve", "reason": "Checked", "source": "phone_list"})
    link.refresh_from_db()
    assert link.status == LinkStatus.APPROVED
    assert link.status_changed_by == clerk


def test_rejecting_needs_no_list(client, place, clerk):
    link = ContactLinkFactory(
        resident=ResidentFactory(establishment=place), status=LinkStatus.PENDING, source=""
    )
    client.post(
        reverse("people:link-decide", args=[place.code, link.pk]), {"decision": "reject", "reason": "No"}
    )
    link.refresh_from_db()
    assert link.status == LinkStatus.REJECTED


def test_a_contacts_page_shows_only_their_links_here(client, place, clerk):
    contact = ContactFactory()
    ContactLinkFactory(contact=contact, resident=ResidentFactory(establishment=place, last_name="Here"))
    ContactLinkFactory(contact=contact, resident=ResidentFactory(last_name="Faraway"))
    page = client.get(reverse("people:contact", args=[place.code, contact.pk])).content.decode()
    assert "Here" in page
    assert "Faraway" not in page
    stranger = ContactFactory()
    assert client.get(reverse("people:contact", args=[place.code, stranger.pk])).status_code == 404


# --- The link-request queue ---------------------------------------------------------------------------------------


def _request(place, **details) -> LinkRequest:
    return LinkRequest.objects.create(
        **{
            "contact": ContactFactory(),
            "establishment": place,
            "resident_first_name": "Alex",
            "resident_last_name": "Smith",
            "resident_date_of_birth": date(1990, 5, 17),
            "relationship": "Father",
            **details,
        }
    )


def test_the_queue_shows_candidates_beside_each_request_in_few_queries(
    client, place, clerk, django_assert_max_num_queries
):
    ResidentFactory(establishment=place, first_name="ALEX", last_name="smith", identifier="M1000MM")
    _request(place)
    with django_assert_max_num_queries(14) as few:
        response = client.get(reverse("people:link-requests", args=[place.code]))
    assert "M1000MM" in response.content.decode()
    for number in range(10):
        ResidentFactory(
            establishment=place, first_name=f"Kim{number}", last_name="Lee", date_of_birth=date(1991, 1, 1)
        )
        _request(
            place,
            resident_first_name=f"kim{number}",
            resident_last_name="LEE",
            resident_date_of_birth=date(1991, 1, 1),
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("people:link-requests", args=[place.code])).content.decode()
    assert "Kim9 Lee" in page
    assert not ContactLink.objects.exists()


def test_matching_a_request_through_the_page(client, place, clerk):
    resident = ResidentFactory(establishment=place, first_name="Alex", last_name="Smith")
    ResidentFactory(establishment=place, first_name="Alex", last_name="Smith", identifier="N2000NN")
    request = _request(place)
    url = reverse("people:link-request", args=[place.code, request.pk])
    page = client.get(url).content.decode()
    assert page.count('name="resident"') == 2
    missing = client.post(url, {"decision": "match"}).content.decode()
    assert "Select the person in custody" in missing
    assert "PF 4.12: Select the approved list" in missing
    response = client.post(url, {"decision": "match", "resident": str(resident.pk), "source": "visits_list"})
    assert response.status_code == 302
    link = ContactLink.objects.get()
    assert (link.resident, link.contact, link.status, link.source) == (
        resident,
        request.contact,
        LinkStatus.APPROVED,
        "visits_list",
    )
    assert client.get(url).status_code == 404  # decided: no longer in the queue


def test_a_resident_who_does_not_match_cannot_be_chosen(client, place, clerk):
    ResidentFactory(establishment=place, first_name="Alex", last_name="Smith")
    stranger = ResidentFactory(establishment=place, first_name="Pat", last_name="Jones")
    request = _request(place)
    response = client.post(
        reverse("people:link-request", args=[place.code, request.pk]),
        {"decision": "match", "resident": str(stranger.pk), "source": "phone_list"},
    )
    assert response.status_code == 200
    assert not ContactLink.objects.exists()


def test_marking_a_request_as_not_matched_through_the_page(client, place, clerk):
    request = _request(place)
    url = reverse("people:link-request", args=[place.code, request.pk])
    assert "No one held here has this name" in client.get(url).content.decode()
    assert (
        "Enter why the request cannot be matched"
        in client.post(url, {"decision": "not_matched"}).content.decode()
    )
    client.post(url, {"decision": "not_matched", "reason": "Not held here"})
    request.refresh_from_db()
    assert request.status == LinkRequestStatus.NOT_MATCHED
    decided = client.get(reverse("people:link-requests", args=[place.code]), {"status": "not_matched"})
    assert "Not held here" in decided.content.decode()


def test_requests_at_another_establishment_are_not_in_this_queue(client, place, clerk):
    other = _request(EstablishmentFactory(), resident_first_name="Faraway")
    assert "Faraway" not in client.get(reverse("people:link-requests", args=[place.code])).content.decode()
    assert client.get(reverse("people:link-request", args=[place.code, other.pk])).status_code == 404
