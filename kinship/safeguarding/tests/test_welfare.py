"""Wellbeing follow-ups (PF 4.17, PF 4.18), the risk inputs' history (PF 4.9, DSO 14, PF 4.16, PF 4.22) and the
welfare pages: forms, errors, list query counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kinship.audit.models import AuditEvent
from kinship.core.roles import Role
from kinship.factories import (
    ContactLinkFactory,
    EstablishmentFactory,
    IrcFactory,
    ResidentFactory,
    staff_with,
)
from kinship.people import services as people_services
from kinship.safeguarding import services_welfare as services
from kinship.safeguarding.models import Incident, IncidentStatus, WellbeingFollowUp

from .test_incidents import booking_for

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 3, 10, 14, 0, tzinfo=UTC)


@pytest.fixture
def prison():
    return EstablishmentFactory()


@pytest.fixture
def resident(prison):
    return ResidentFactory(establishment=prison, location="B wing")


@pytest.fixture
def clerk(prison):
    return staff_with(Role.BOOKING_CLERK, prison)


# --- Services ------------------------------------------------------------------------------------------------------


def test_any_member_of_staff_records_a_concern_which_opens_a_follow_up_for_the_wing(prison, resident, clerk):
    booking = booking_for(resident)
    follow_up = services.wellbeing_concern_record(
        resident=resident,
        observation="Very upset",
        actor=clerk,
        booking=booking,
        acct_referral_noted=True,
        now=NOW,
    )
    assert follow_up.location == "B wing"
    assert follow_up.is_open
    assert follow_up.due_at == NOW + timedelta(hours=services.WELLBEING_FOLLOW_UP_HOURS)
    event = AuditEvent.objects.get(action="wellbeing_concern_recorded")
    assert event.policy_ids == ["PF 4.17", "PF 4.18"]
    assert event.after["acct_referral_noted"] is True


def test_an_empty_observation_is_refused_with_its_citation(resident, clerk):
    with pytest.raises(ValidationError) as refused:
        services.wellbeing_concern_record(resident=resident, observation=" ", actor=clerk)
    assert refused.value.message_dict["observation"][0].startswith("PF 4.17")
    assert not WellbeingFollowUp.objects.exists()


def test_a_concern_can_be_recorded_in_immigration_detention_too():
    irc = IrcFactory()
    detainee = ResidentFactory(establishment=irc)
    follow_up = services.wellbeing_concern_record(
        resident=detainee, observation="Withdrawn", actor=staff_with(Role.SUPERVISING_OFFICER, irc)
    )
    assert follow_up.establishment == irc
    with pytest.raises(ValidationError):
        services.wellbeing_concern_record(
            resident=detainee, observation="", actor=staff_with(Role.SECURITY, irc)
        )


def test_closing_needs_an_outcome_and_an_acct_decision(prison, resident, clerk):
    follow_up = services.wellbeing_concern_record(resident=resident, observation="Upset", actor=clerk)
    governor = staff_with(Role.GOVERNOR, prison)
    with pytest.raises(ValidationError) as refused:
        services.wellbeing_follow_up_close(follow_up=follow_up, outcome="", acct_opened=None, actor=governor)
    assert set(refused.value.message_dict) == {"outcome", "acct_opened"}
    assert all("PF 4.18" in messages[0] for messages in refused.value.message_dict.values())
    closed = services.wellbeing_follow_up_close(
        follow_up=follow_up, outcome="Seen by the chaplain", acct_opened=True, actor=governor, now=NOW
    )
    assert closed.closed_at == NOW
    assert closed.acct_opened is True
    assert closed.closed_by == governor
    assert AuditEvent.objects.get(action="wellbeing_follow_up_closed").policy_ids == ["PF 4.18"]
    with pytest.raises(ValidationError):
        services.wellbeing_follow_up_close(
            follow_up=closed, outcome="Again", acct_opened=False, actor=governor
        )


# --- Pages ---------------------------------------------------------------------------------------------------------


def test_recording_a_concern_through_the_page(staff_client, prison, resident, clerk):
    client = staff_client(clerk)
    url = reverse("safeguarding-welfare:wellbeing-new", args=[prison.code])
    response = client.post(url, {"identifier": resident.identifier.lower(), "observation": "Tearful"})
    follow_up = WellbeingFollowUp.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("safeguarding-welfare:wellbeing", args=[prison.code, follow_up.pk])
    assert follow_up.recorded_by == clerk


def test_the_concern_form_shows_its_errors(staff_client, prison, clerk):
    client = staff_client(clerk)
    url = reverse("safeguarding-welfare:wellbeing-new", args=[prison.code])
    response = client.post(url, {"identifier": "NOBODY", "booking_reference": "", "observation": ""})
    body = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in body
    assert "PF 4.17: Enter what you saw" in body
    assert not WellbeingFollowUp.objects.exists()


def test_a_person_elsewhere_cannot_be_named(staff_client, prison, clerk):
    stranger = ResidentFactory(establishment=EstablishmentFactory())
    response = staff_client(clerk).post(
        reverse("safeguarding-welfare:wellbeing-new", args=[prison.code]),
        {"identifier": stranger.identifier, "observation": "Upset"},
    )
    assert "There is nobody here with this prison number" in response.content.decode()


def test_a_booking_clerk_can_read_but_not_close(staff_client, prison, resident, clerk):
    follow_up = services.wellbeing_concern_record(resident=resident, observation="Upset", actor=clerk)
    client = staff_client(staff_with(Role.BOOKING_CLERK, prison))
    url = reverse("safeguarding-welfare:wellbeing", args=[prison.code, follow_up.pk])
    assert client.post(url, {"outcome": "x", "acct_opened": "no"}).status_code == 403
    officer = staff_with(Role.SUPERVISING_OFFICER, prison)
    response = staff_client(officer).post(url, {"outcome": "Talked it through", "acct_opened": "no"})
    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.acct_opened is False
    assert follow_up.closed_by == officer


def test_the_wing_list_shows_only_open_follow_ups_of_the_chosen_wing(staff_client, prison, resident, clerk):
    other = ResidentFactory(establishment=prison, location="C wing")
    services.wellbeing_concern_record(resident=resident, observation="Upset", actor=clerk)
    services.wellbeing_concern_record(resident=other, observation="Upset", actor=clerk)
    client = staff_client(clerk)
    url = reverse("safeguarding-welfare:wellbeing-list", args=[prison.code])
    body = client.get(url, {"location": "b wing"}).content.decode()
    assert resident.identifier in body
    assert other.identifier not in body


def test_reporting_an_incident_through_the_page(staff_client, prison, resident):
    officer = staff_with(Role.SUPERVISING_OFFICER, prison)
    client = staff_client(officer)
    url = reverse("safeguarding-welfare:incident-new", args=[prison.code])
    response = client.post(
        url, {"identifier": resident.identifier, "reason": "recording_the_call", "details": "Phone up"}
    )
    incident = Incident.objects.get()
    # A supervising officer reports but does not read security's records: back to the form, with a message.
    assert response["Location"] == url
    assert incident.police_referral is True


def test_security_updates_an_incident_through_the_page(staff_client, prison, resident):
    incident = services.incident_create(
        establishment=prison,
        resident=resident,
        reason="dress",
        details="Vest",
        actor=staff_with(Role.SUPERVISING_OFFICER, prison),
    )
    client = staff_client(staff_with(Role.SECURITY, prison))
    url = reverse("safeguarding-welfare:incident-update", args=[prison.code, incident.pk])
    response = client.post(url, {"status": "referred_to_police"})
    assert "Enter the police reference" in response.content.decode()
    response = client.post(url, {"status": "under_investigation", "note": "Checking", "ban_considered": "on"})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.UNDER_INVESTIGATION
    assert incident.ban_considered
    detail = client.get(
        reverse("safeguarding-welfare:incident", args=[prison.code, incident.pk])
    ).content.decode()
    assert "Checking" in detail
    assert "Under investigation" in detail


def test_the_risk_page_shows_who_changed_each_input_and_when(staff_client, prison, resident):
    governor = staff_with(Role.GOVERNOR, prison, first_name="Gail", last_name="Governor")
    people_services.resident_update(resident=resident, actor=governor, e_list=True, pprc=True)
    people_services.risk_assessment_record(
        resident=resident,
        actor=governor,
        kind="eligibility",
        outcome="allow",
        rationale="Fine",
        review_date=None,
    )
    link = ContactLinkFactory(resident=resident)
    people_services.contact_link_update(
        link=link,
        actor=governor,
        relationship="Son",
        source="phone_list",
        child_contact_approved=True,
        banned=False,
    )
    body = (
        staff_client(governor)
        .get(reverse("safeguarding-welfare:risk-history", args=[prison.code, resident.pk]))
        .content.decode()
    )
    for text in (
        "On the escape list (E-list)",
        "Person posing a risk to children",
        "Eligibility risk assessment",
        f"On the approved child-contact list: {link.contact.full_name}",
        governor.email,
    ):
        assert text in body, text


@pytest.mark.parametrize("name", ["safeguarding-welfare:incidents", "safeguarding-welfare:wellbeing-list"])
def test_lists_cost_the_same_queries_however_long(
    staff_client, prison, clerk, name, django_assert_max_num_queries
):
    governor = staff_with(Role.GOVERNOR, prison)
    client = staff_client(governor)
    url = reverse(name, args=[prison.code])

    def add(count):
        for _ in range(count):
            person = ResidentFactory(establishment=prison)
            services.wellbeing_concern_record(resident=person, observation="Upset", actor=clerk)
            services.incident_create(
                establishment=prison, resident=person, reason="dress", details="Vest", actor=clerk
            )

    add(2)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    add(10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200
